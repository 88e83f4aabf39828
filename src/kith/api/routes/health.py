"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kith.actions.health import get_health
from kith.api.deps import AppDep
from kith.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "Not ready."}},
)
def health(app: AppDep) -> HealthOut | JSONResponse:
    """200 when the database answers and its schema is current, 503 otherwise."""
    state = get_health(app)
    body = HealthOut(
        status="ok" if state.ok else "unavailable",
        database=state.database,
        schema_current=state.schema_current,
    )
    if not state.ok:
        return JSONResponse(body.model_dump(), status_code=503)
    return body
