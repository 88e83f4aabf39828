"""Facts (knowledge cards): write, edit, review, archive, list, history, seen."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from kith.actions import facts
from kith.actions.facts import FactQuery
from kith.api.deps import MAX_ID, AppDep, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import (
    FactCreate,
    FactEdit,
    FactHistoryOut,
    FactOut,
    FactPage,
    FactReviewIn,
    FactSeenIn,
    FactSeenOut,
    FactVersionOut,
)
from kith.app import App
from kith.domain import views
from kith.domain.models import Fact, Page

router = APIRouter(tags=["facts"], responses=ERROR_RESPONSES)

FactId = Annotated[int, Path(ge=1, le=MAX_ID)]
Sort = Literal["review_by", "updated"]


def fact_out(app: App, fact: Fact) -> FactOut:
    return FactOut(**views.fact(fact, facts.today_of(app)))


def page_out(app: App, page: Page[Fact]) -> FactPage:
    return FactPage(items=[fact_out(app, f) for f in page.items], next_cursor=page.next_cursor)


@router.get("/spaces/{space_id}/facts")
def list_space_facts(
    app: AppDep,
    viewer: ViewerDep,
    space_id: SpaceId,
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: bool | None = None,
    due_within: Annotated[int | None, Query(ge=0, le=facts.MAX_DUE_WITHIN_DAYS)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    include_archived: bool = False,
    sort: Sort = "review_by",
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FactPage:
    """The space's facts, soonest review first (``sort=updated``: most recently changed).

    ``overdue`` filters on the review-by date having passed; ``due_within=N`` keeps those
    due within N days (overdue ones included); ``q`` searches titles."""
    query = FactQuery(space_id, owner_id, overdue, due_within, q, include_archived, sort, cursor, limit)
    return page_out(app, facts.list_facts(app, viewer, query))


@router.post("/spaces/{space_id}/facts", status_code=201)
def create_fact(app: AppDep, viewer: ViewerDep, space_id: SpaceId, body: FactCreate) -> FactOut:
    """Write a fact; members may. I own it unless ``owner_id`` names another member."""
    return fact_out(app, facts.check_create_fact(app, viewer, space_id, **body.model_dump()))


@router.get("/facts")
def list_facts(
    app: AppDep,
    viewer: ViewerDep,
    space_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: bool | None = None,
    due_within: Annotated[int | None, Query(ge=0, le=facts.MAX_DUE_WITHIN_DAYS)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    include_archived: bool = False,
    sort: Sort = "review_by",
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FactPage:
    """Facts of every space I may read, filtered as on ``/spaces/{id}/facts``
    (``owner_id=<me>&overdue=true``: my facts to review)."""
    query = FactQuery(space_id, owner_id, overdue, due_within, q, include_archived, sort, cursor, limit)
    return page_out(app, facts.list_facts(app, viewer, query))


@router.post("/facts/seen")
def mark_seen(app: AppDep, viewer: ViewerDep, body: FactSeenIn) -> FactSeenOut:
    """Report the facts that were on my screen (as they are now)."""
    return FactSeenOut(newly_seen=facts.check_mark_seen(app, viewer, body.fact_ids))


@router.get("/facts/{fact_id}")
def get_fact(app: AppDep, viewer: ViewerDep, fact_id: FactId) -> FactOut:
    """One fact; fetching it counts as seeing its current version."""
    return fact_out(app, facts.get_fact(app, viewer, fact_id))


@router.patch("/facts/{fact_id}")
def edit_fact(app: AppDep, viewer: ViewerDep, fact_id: FactId, body: FactEdit) -> FactOut:
    """Change a fact (its owner, the space's owners, administrators): a new version. A new
    title, text or source link tells everyone who saw an earlier version."""
    return fact_out(app, facts.check_edit_fact(app, viewer, fact_id, **body.model_dump()))


@router.post("/facts/{fact_id}/review")
def review_fact(app: AppDep, viewer: ViewerDep, fact_id: FactId, body: FactReviewIn) -> FactOut:
    """Mark a fact reviewed, due again on ``review_by``."""
    return fact_out(app, facts.check_review_fact(app, viewer, fact_id, body.review_by))


@router.post("/facts/{fact_id}/archive")
def archive_fact(app: AppDep, viewer: ViewerDep, fact_id: FactId) -> FactOut:
    return fact_out(app, facts.check_archive_fact(app, viewer, fact_id))


@router.get("/facts/{fact_id}/history")
def fact_history(app: AppDep, viewer: ViewerDep, fact_id: FactId) -> FactHistoryOut:
    """Every version of a fact, oldest first, with its editor and note."""
    fact, versions = facts.get_history(app, viewer, fact_id)
    return FactHistoryOut(
        fact=fact_out(app, fact), versions=[FactVersionOut(**views.fact_version(v)) for v in versions]
    )
