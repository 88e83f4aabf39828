"""The roster import: a CSV file as the raw request body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.exceptions import HTTPException

from kith.actions import roster
from kith.api.deps import AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import ErrorResponse, RosterImportOut

router = APIRouter(tags=["people"], responses=ERROR_RESPONSES)

MAX_BYTES = 20 * 1024 * 1024
_EXAMPLE = (
    "email,name,title,department,location,manager_email,timezone,work_start,work_end,work_days\n"
    "ana@example.com,Ana Silva,Head of Sales,Sales,London,,Europe/London,08:30,17:00,mon-fri\n"
    'ben@example.com,"Okafor, Ben",Account Executive,Sales,Lagos,ana@example.com,Africa/Lagos,,,\n'
)
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The roster as CSV in UTF-8 (a byte-order mark is allowed), at most 20 MB.",
        "content": {"text/csv": {"schema": {"type": "string"}, "example": _EXAMPLE}},
    }
}
_TOO_LARGE = f"the roster is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into several files"


async def csv_body(request: Request) -> bytes:
    """The raw body, refused with 413 as soon as it passes :data:`MAX_BYTES`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise HTTPException(413, _TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise HTTPException(413, _TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/people/import",
    openapi_extra=_REQUEST_BODY,
    responses={
        413: {"model": ErrorResponse, "description": "The file is larger than 20 MB."},
        422: {
            "model": ErrorResponse,
            "description": "Bad lines; `rows` lists every one, nothing was written.",
        },
    },
)
def import_roster(
    app: AppDep, viewer: ViewerDep, body: Annotated[bytes, Depends(csv_body)]
) -> RosterImportOut:
    """Administrators create and update people from a roster CSV: all of it lands, or none.

    Columns: email, name (required), title, department, location, manager_email, timezone,
    work_start, work_end, work_days. Re-importing updates people matched by e-mail and
    never duplicates them.
    """
    result = roster.check_import_roster(app, viewer, body)
    return RosterImportOut(created=result.created, updated=result.updated, unchanged=result.unchanged)
