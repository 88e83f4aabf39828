"""Information-velocity metrics of a space."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from kith.actions import metrics
from kith.api.deps import AppDep, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import SpaceMetricsOut

router = APIRouter(tags=["metrics"], responses=ERROR_RESPONSES)

DAY = "A UTC day, YYYY-MM-DD."


@router.get("/spaces/{space_id}/metrics", response_model=SpaceMetricsOut)
def get_metrics(
    app: AppDep,
    viewer: ViewerDep,
    space_id: SpaceId,
    from_: Annotated[str | None, Query(alias="from", max_length=40, description=DAY)] = None,
    to: Annotated[str | None, Query(max_length=40, description=DAY)] = None,
    k: Annotated[int, Query(ge=1, le=metrics.MAX_K)] = metrics.DEFAULT_K,
) -> JSONResponse:
    """Time to first reply and to an accepted answer, reach of posts (T50, T90), questions
    unanswered after 24 h, waits caused by time zones, coverage of the UTC day, overdue
    facts and corrections, over the days ``from``..``to`` (default: the last 28, today
    included), computed live. See docs/metrics.md."""
    found = metrics.get_space_metrics(app, viewer, space_id, start=from_, end=to, k=k)
    return JSONResponse(metrics.metrics_json(found))
