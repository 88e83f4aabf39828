"""Signing in and out, and the signed-in person's own profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from kith.actions import auth, people, posts
from kith.api.deps import AppDep, TokenDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import (
    ErrorResponse,
    LoginIn,
    MentionOut,
    MentionPage,
    MeOut,
    MeUpdate,
    TokenOut,
)
from kith.domain import views

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)


@router.post(
    "/auth/login",
    responses={429: {"model": ErrorResponse, "description": "Too many failed sign-ins."}},
)
def login(app: AppDep, body: LoginIn) -> TokenOut:
    """Exchange an e-mail address and password for a bearer token."""
    session = auth.check_login(app, body.email, body.password)
    return TokenOut(
        token=session.token, expires_at=session.expires_at.isoformat(), person_id=session.viewer.id
    )


@router.post("/auth/logout", status_code=204)
def logout(app: AppDep, viewer: ViewerDep, token: TokenDep) -> Response:
    """Revoke the token this request carries."""
    auth.do_logout(app, token)
    return Response(status_code=204)


@router.get("/me")
def me(app: AppDep, viewer: ViewerDep) -> MeOut:
    return MeOut(**views.person(viewer.person), role=viewer.role.value)


@router.patch("/me")
def update_me(app: AppDep, viewer: ViewerDep, body: MeUpdate) -> MeOut:
    """Change one's display name, time zone and working hours."""
    person = auth.check_update_me(app, viewer, **body.model_dump(exclude_unset=True))
    return MeOut(**views.person(person), role=people.get_role(app, person.id).value)


@router.get("/me/mentions")
def my_mentions(
    app: AppDep,
    viewer: ViewerDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MentionPage:
    """Posts that mention me, newest first."""
    page = posts.list_mentions(app, viewer, cursor=cursor, limit=limit)
    items = [
        MentionOut(
            post_id=m.post_id,
            topic_id=m.topic_id,
            space_id=m.space_id,
            author_id=m.author_id,
            created_at=m.created_at.isoformat(),
            kind="space" if m.kind == "space" else "person",
        )
        for m in page.items
    ]
    return MentionPage(items=items, next_cursor=page.next_cursor)
