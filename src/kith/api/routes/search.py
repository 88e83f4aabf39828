"""Full-text search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import search
from kith.api.deps import MAX_ID, AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import SearchHitOut, SearchOut

router = APIRouter(tags=["search"], responses=ERROR_RESPONSES)


@router.get("/search")
def search_posts(
    app: AppDep,
    viewer: ViewerDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    space_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> SearchOut:
    """Posts the caller may read, best match first, with highlighted snippets."""
    hits = search.search_posts(app, viewer, q, space_id=space_id, limit=limit, offset=offset)
    return SearchOut(
        query=q,
        items=[
            SearchHitOut(
                post_id=h.post_id,
                topic_id=h.topic_id,
                space_id=h.space_id,
                topic_title=h.topic_title,
                author_id=h.author_id,
                created_at=h.created_at.isoformat(),
                snippet_html=h.snippet_html,
            )
            for h in hits
        ],
    )
