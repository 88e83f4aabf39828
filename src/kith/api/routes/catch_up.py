"""Catch-up: what changed since my last visit, ranked, each item saying why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import catch_up
from kith.api.deps import AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import CatchUpItemOut, CatchUpOut, CaughtUpOut
from kith.domain import views
from kith.domain.catch_up import view
from kith.domain.errors import invalid

router = APIRouter(tags=["catch-up"], responses=ERROR_RESPONSES)


SINCE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"


@router.get("/catch-up")
def get_catch_up(
    app: AppDep,
    viewer: ViewerDep,
    since: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=SINCE,
            examples=["2026-03-02T09:00:00Z"],
            description="ISO 8601, with a zone.",
        ),
    ] = None,
) -> CatchUpOut:
    """What changed since ``since`` (default: my last visit, else 24 hours ago), ranked."""
    found = catch_up.get_catch_up(app, viewer, _moment(since) if since is not None else None)
    return CatchUpOut(
        since=found.since.isoformat(),
        until=found.until.isoformat(),
        items=[CatchUpItemOut(**view(item)) for item in found.items],
    )


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise invalid("since", "must be a date and time like 2026-03-02T09:00:00Z") from None


@router.post("/catch-up/done")
def catch_up_done(app: AppDep, viewer: ViewerDep) -> CaughtUpOut:
    """Mark now as my last visit: the next catch-up starts from here."""
    return CaughtUpOut(caught_up_at=views.iso(catch_up.do_catch_up_done(app, viewer)) or "")
