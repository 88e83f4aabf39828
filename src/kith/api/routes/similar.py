"""Similar questions: earlier topics and facts like the one being written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import similar
from kith.api.deps import MAX_ID, AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import SimilarItemOut, SimilarOut
from kith.domain import views

router = APIRouter(tags=["similar"], responses=ERROR_RESPONSES)


@router.get("/similar")
def list_similar(
    app: AppDep,
    viewer: ViewerDep,
    q: Annotated[str, Query(min_length=1, max_length=similar.QUERY_MAX, description="Title and body text.")],
    space: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this space.")] = None,
    limit: Annotated[int, Query(ge=1, le=similar.LIMIT_MAX)] = 5,
) -> SimilarOut:
    """The earlier topics and facts most like ``q``, best first, in spaces I may read."""
    found = similar.list_similar(app, viewer, q, space_id=space, limit=limit)
    return SimilarOut(items=[SimilarItemOut(**views.similar_item(item)) for item in found])
