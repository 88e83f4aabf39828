"""Dependencies: the container, the signed-in viewer, common parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from kith.actions import auth
from kith.app import App
from kith.domain.errors import Unauthorized
from kith.domain.models import Viewer

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login.")

P = ParamSpec("P")
R = TypeVar("R")


# Dependencies that do no I/O are ``async``: FastAPI runs a sync one on a worker thread,
# and each hop to the thread pool and back costs more than the work itself.
async def get_app(request: Request) -> App:
    app: App = request.app.state.kith
    return app


async def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("sign in first: send Authorization: Bearer <token>")
    return credentials.credentials


READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_viewer(request: Request, token: Annotated[str, Depends(get_token)]) -> Viewer:
    # The app from the request rather than a dependency of its own: each dependency costs
    # FastAPI work on every request, and this one is on every request.
    app: App = request.app.state.kith
    if len(token) > 256:
        raise Unauthorized("sign in first: the token is missing, expired or revoked")
    viewer = await call(app, auth.access_viewer, app, token)
    if request.method not in READS:
        # Doing something is being here: presence notes it in memory, written with its next flush.
        app.presence.active(viewer.id, app.clock())
    return viewer


async def call(app: App, action: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a short synchronous action from an ``async`` route or dependency.

    On SQLite the action is a few hundred microseconds of work in this process (no network,
    one writer at a time), so it runs right here on the event loop's thread, as a sync
    handler does in Litestar with ``sync_to_thread=False``. On a worker thread it would cost
    more than it does: the thread and the event loop pass the interpreter lock back and forth
    at every call into SQLite, about 28 context switches per post created, a third of the
    server's CPU time (see docs/performance.md). When a worker thread of this process holds
    the write lock (a long import, say), the action goes to the thread pool rather than block
    the loop behind it; so does everything on PostgreSQL, where a query waits on the network.
    Only the hot paths run this way: the bearer-token lookup here, and creating a post
    through :mod:`kith.api.groupcommit`, which places its batches by the same rule. Long
    actions stay in plain ``def`` routes, which FastAPI runs on the thread pool.
    """
    if app.db.is_sqlite and not app.db.writer_busy():
        return action(*args, **kwargs)
    return await run_in_threadpool(action, *args, **kwargs)


AppDep = Annotated[App, Depends(get_app)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
TokenDep = Annotated[str, Depends(get_token)]

MAX_ID = 2_147_483_647
SpaceId = Annotated[int, Path(ge=1, le=MAX_ID)]
TopicId = Annotated[int, Path(ge=1, le=MAX_ID)]
PostId = Annotated[int, Path(ge=1, le=MAX_ID)]
PersonId = Annotated[int, Path(ge=1, le=MAX_ID)]
