"""Posts in a topic, their history and reactions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from kith.actions import posts
from kith.api.deps import AppDep, PostId, TopicId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.groupcommit import GroupCommit
from kith.api.schemas import (
    HistoryOut,
    PostCreate,
    PostEdit,
    PostOut,
    PostPage,
    ReactionIn,
    VersionOut,
)
from kith.app import App
from kith.domain import views
from kith.domain.models import Post

router = APIRouter(tags=["posts"], responses=ERROR_RESPONSES)


def post_out(post: Post) -> PostOut:
    return PostOut(**views.post(post))


@router.get("/topics/{topic_id}/posts")
def list_posts(
    app: AppDep,
    viewer: ViewerDep,
    topic_id: TopicId,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> PostPage:
    """Posts of a topic, oldest first."""
    page = posts.list_posts(app, viewer, topic_id, cursor=cursor, limit=limit)
    return PostPage(items=[post_out(p) for p in page.items], next_cursor=page.next_cursor)


@router.post("/topics/{topic_id}/posts", status_code=201, response_model=PostOut)
async def create_post(
    request: Request, viewer: ViewerDep, topic_id: TopicId, body: PostCreate
) -> JSONResponse:
    """Reply in a topic. Markdown; @handle, @e-mail, @space and @awake mention.

    With ``correction_of_id`` the post corrects an earlier post of the space, and everyone
    who saw that post is told."""
    # The hot path. The Markdown is rendered here, before the action joins a group commit
    # (kith.api.groupcommit) whose transaction it would otherwise hold up; and views.post
    # is PostOut's shape already, so the response is not validated a second time. The app
    # and its group commit come from the request, not as dependencies (FastAPI's work on
    # each dependency is a measurable share of this route's cost).
    app: App = request.app.state.kith
    writes: GroupCommit = request.app.state.writes
    prepared = posts.prepare_body(body.body)
    post = await writes.run(
        posts.check_create_post,
        app,
        viewer,
        topic_id,
        prepared,
        reply_to_id=body.reply_to_id,
        urgent=body.urgent,
        correction_of_id=body.correction_of_id,
    )
    return JSONResponse(views.post(post), status_code=201)


@router.get("/posts/{post_id}")
def get_post(app: AppDep, viewer: ViewerDep, post_id: PostId) -> PostOut:
    return post_out(posts.get_post(app, viewer, post_id))


@router.patch("/posts/{post_id}")
def edit_post(app: AppDep, viewer: ViewerDep, post_id: PostId, body: PostEdit) -> PostOut:
    """The author edits a post; the earlier version is kept."""
    return post_out(posts.check_edit_post(app, viewer, post_id, body.body))


@router.delete("/posts/{post_id}")
def delete_post(app: AppDep, viewer: ViewerDep, post_id: PostId) -> PostOut:
    return post_out(posts.check_delete_post(app, viewer, post_id))


@router.get("/posts/{post_id}/history")
def post_history(app: AppDep, viewer: ViewerDep, post_id: PostId) -> HistoryOut:
    """The post and its earlier versions, oldest first."""
    post, versions = posts.get_history(app, viewer, post_id)
    return HistoryOut(
        post=post_out(post),
        versions=[
            VersionOut(
                version=v.version,
                source=v.source,
                html=v.html,
                editor_id=v.editor_id,
                created_at=v.created_at.isoformat(),
            )
            for v in versions
        ],
    )


@router.post("/posts/{post_id}/reactions")
def add_reaction(app: AppDep, viewer: ViewerDep, post_id: PostId, body: ReactionIn) -> PostOut:
    return post_out(posts.check_react(app, viewer, post_id, body.emoji, add=True))


@router.delete("/posts/{post_id}/reactions/{emoji}")
def remove_reaction(
    app: AppDep,
    viewer: ViewerDep,
    post_id: PostId,
    emoji: Annotated[str, Path(min_length=1, max_length=66)],
) -> PostOut:
    return post_out(posts.check_react(app, viewer, post_id, emoji, add=False))
