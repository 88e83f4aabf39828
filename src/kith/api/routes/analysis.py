"""Network analysis: runs, communities, silos, flow; one's own place in the network.

Analysts and administrators only, except ``GET /analysis/me``. What is shown follows the
privacy rules in docs/privacy.md (small groups suppressed; person-level results only when
switched on, and logged).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from kith.actions import analysis, analysis_views
from kith.api.deps import MAX_ID, AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import Strict
from kith.domain.errors import invalid

log = logging.getLogger(__name__)

router = APIRouter(prefix="/analysis", tags=["analysis"], responses=ERROR_RESPONSES)

RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
CommunityId = Annotated[int, Path(ge=1, le=MAX_ID)]


class RunIn(Strict):
    since: str | None = Field(
        default=None, max_length=40, description="ISO 8601; default: until minus the window."
    )
    until: str | None = Field(default=None, max_length=40, description="ISO 8601; default: now.")
    half_life_days: float | None = Field(default=None, gt=0, le=3650)
    min_strength: float | None = Field(default=None, ge=0, le=1000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


def _moment(field: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(field, "must be an ISO 8601 date and time, such as 2026-01-31T00:00:00+00:00") from None
    if value.tzinfo is None:
        raise invalid(field, "must say its time zone, such as +00:00 or Z")
    return value


@router.get("/runs")
def list_runs(app: AppDep, viewer: ViewerDep) -> list[dict[str, Any]]:
    """Analysis runs, newest first."""
    return analysis_views.list_runs(app, viewer)


@router.post("/runs", status_code=202, response_model=None)
def start_run(app: AppDep, viewer: ViewerDep, body: RunIn) -> JSONResponse:
    """Start an analysis; it runs in the background. Poll ``GET /analysis/runs/{id}``."""
    params = analysis.AnalysisParams(
        since=_moment("since", body.since),
        until=_moment("until", body.until),
        half_life_days=body.half_life_days,
        min_strength=body.min_strength,
        seed=body.seed,
    )
    run_id = analysis.check_start(app, viewer, params)

    def work() -> None:
        try:
            analysis.do_complete(app, run_id)
        except Exception:  # recorded on the run as failed; the log has the details
            log.warning("analysis run %s failed", run_id, exc_info=True)

    threading.Thread(target=work, name=f"kith-analysis-{run_id}", daemon=True).start()
    return JSONResponse(analysis_views.get_run(app, viewer, run_id), status_code=202)


@router.get("/runs/{run_id}")
def get_run(app: AppDep, viewer: ViewerDep, run_id: RunId) -> dict[str, Any]:
    return analysis_views.get_run(app, viewer, run_id)


@router.get("/runs/{run_id}/communities")
def list_communities(app: AppDep, viewer: ViewerDep, run_id: RunId) -> dict[str, Any]:
    """The run's communities (those of at least KITH_MIN_GROUP_SIZE people), largest first."""
    return analysis_views.list_communities(app, viewer, run_id)


@router.get("/communities/{community_id}")
def get_community(
    app: AppDep,
    viewer: ViewerDep,
    community_id: CommunityId,
    run: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="A run; default: the newest with it.")
    ] = None,
) -> dict[str, Any]:
    """A community: make-up, roles, flow; its members when person-level results are on."""
    return analysis_views.get_community(app, viewer, community_id, run)


@router.get("/runs/{run_id}/silos")
def get_silos(app: AppDep, viewer: ViewerDep, run_id: RunId) -> dict[str, Any]:
    return analysis_views.get_silos(app, viewer, run_id)


@router.get("/runs/{run_id}/flow")
def get_flow(app: AppDep, viewer: ViewerDep, run_id: RunId) -> dict[str, Any]:
    return analysis_views.get_flow(app, viewer, run_id)


@router.get("/me")
def get_me(app: AppDep, viewer: ViewerDep) -> dict[str, Any]:
    """My own place in the newest analysis: community, role, measures."""
    return analysis_views.get_me(app, viewer)


@router.get("/access-log")
def access_log(app: AppDep, viewer: ViewerDep) -> list[dict[str, Any]]:
    """Who looked at person-level results, newest first (administrators)."""
    return analysis_views.access_log(app, viewer)
