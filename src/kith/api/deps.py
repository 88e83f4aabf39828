"""Dependencies: the container, the signed-in viewer, common parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kith.actions import auth
from kith.app import App
from kith.domain.errors import Unauthorized
from kith.domain.models import Viewer

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login.")


def get_app(request: Request) -> App:
    app: App = request.app.state.kith
    return app


def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("sign in first: send Authorization: Bearer <token>")
    return credentials.credentials


def get_viewer(app: Annotated[App, Depends(get_app)], token: Annotated[str, Depends(get_token)]) -> Viewer:
    if len(token) > 256:
        raise Unauthorized("sign in first: the token is missing, expired or revoked")
    return auth.access_viewer(app, token)


AppDep = Annotated[App, Depends(get_app)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
TokenDep = Annotated[str, Depends(get_token)]

MAX_ID = 2_147_483_647
SpaceId = Annotated[int, Path(ge=1, le=MAX_ID)]
TopicId = Annotated[int, Path(ge=1, le=MAX_ID)]
PostId = Annotated[int, Path(ge=1, le=MAX_ID)]
PersonId = Annotated[int, Path(ge=1, le=MAX_ID)]
