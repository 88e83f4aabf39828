"""Corrections in a space, with how many of those told have seen them since."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kith.actions import corrections
from kith.api.deps import AppDep, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import CorrectionOut, CorrectionPage
from kith.domain import views

router = APIRouter(tags=["facts"], responses=ERROR_RESPONSES)


@router.get("/spaces/{space_id}/corrections")
def list_corrections(
    app: AppDep,
    viewer: ViewerDep,
    space_id: SpaceId,
    kind: Literal["fact", "post"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CorrectionPage:
    """Corrections of facts and posts, newest first: how many people who saw the earlier
    version were told (``recipients``) and how many have seen the correction since."""
    page = corrections.list_corrections(app, viewer, space_id, kind=kind, cursor=cursor, limit=limit)
    return CorrectionPage(
        items=[CorrectionOut(**views.correction(c)) for c in page.items], next_cursor=page.next_cursor
    )
