"""Imports of communication data: upload a file, follow its run, undo it. Administrators only.

The upload (the raw request body, or the first file of a ``multipart/form-data`` body) is
streamed to a temporary file, refused with 413 as soon as it passes
``KITH_IMPORT_MAX_BYTES``; the import then runs in a background thread, and the answer is
202 with the run, whose ``stats`` show its progress until it is ``done`` or ``failed``.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from kith.actions import interactions
from kith.api.deps import MAX_ID, AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import ErrorResponse
from kith.app import App
from kith.domain.errors import invalid
from kith.domain.models import Viewer

log = logging.getLogger(__name__)

router = APIRouter(prefix="/imports", tags=["imports"], responses=ERROR_RESPONSES)

RunId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
ImportKind = Literal["email", "slack", "edges"]
_HEADERS_MAX = 16 * 1024
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


class ImportRunOut(BaseModel):
    """One import run: what, from where, how far, and how it ended."""

    id: int
    kind: ImportKind
    source: str = Field(description="The uploaded file's name, or the paths the command line read.")
    status: Literal["running", "done", "failed", "undone"]
    started_at: datetime
    finished_at: datetime | None
    stats: dict[str, Any] = Field(
        description="Counts so far (saved every second while running: bytes_read of bytes_total, "
        "records...), and when done interactions_new, people_discovered, ties_external..."
    )
    error: str = Field(description="Why it failed, naming the file and line or message.")
    created_by: int | None


_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "The file, as the raw body (any content type but multipart: application/octet-stream, "
            "text/csv, application/zip...) or as the first file of a multipart/form-data body: an "
            "mbox file or a zip of a Maildir or of mbox files (email), a Slack export zip (slack), "
            "a CSV edge list (edges). At most KITH_IMPORT_MAX_BYTES (2 GiB by default)."
        ),
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@dataclass
class Upload:
    path: Path
    name: str
    kind: ImportKind


async def receive(
    request: Request,
    app: AppDep,
    viewer: ViewerDep,
    kind: Annotated[ImportKind, Query(description="What the file is.")],
    name: Annotated[
        str | None, Query(max_length=200, description="The file's name, for the run (default: the upload's).")
    ] = None,
) -> Upload:
    """The request's file on disk, once the caller may import (nothing is read before)."""
    await run_in_threadpool(interactions.check_may_start_import, app, viewer)
    limit = app.settings.import_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, _too_large(limit))
    content_type = request.headers.get("content-type", "")
    parts = _FirstFile.for_content_type(content_type)
    handle, raw_path = tempfile.mkstemp(prefix="kith-import-")
    path = Path(raw_path)
    try:
        size = 0
        with os.fdopen(handle, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, _too_large(limit))
                data = parts.feed(chunk) if parts else chunk
                if data:
                    await run_in_threadpool(f.write, data)
        if parts is not None:
            parts.finish()
        if size == 0:
            raise invalid("body", "is empty; send the file as the request body")
        label = _label(name or (parts.filename if parts else None), kind)
        suffixed = path.with_name(path.name + _suffix(label))
        path.rename(suffixed)
        return Upload(suffixed, label, kind)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _too_large(limit: int) -> str:
    return f"the file is larger than {limit:,} bytes (KITH_IMPORT_MAX_BYTES); import it with the command line"


def _label(name: str | None, kind: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = " ".join("".join(c if c.isprintable() else " " for c in base).split())[:200]
    return base or {"email": "upload.mbox", "slack": "slack-export.zip", "edges": "edges.csv"}[kind]


def _suffix(label: str) -> str:
    """The name's extension, so that a ``.zip`` upload is read as an archive."""
    found = _SUFFIX.fullmatch(Path(label).suffix)
    return found.group(0).lower() if found else ""


class _FirstFile:
    """The first file of a ``multipart/form-data`` stream, handed over as it arrives."""

    def __init__(self, boundary: bytes) -> None:
        self.delimiter = b"\r\n--" + boundary
        self.buf = b"\r\n"  # the first boundary has no line break before it
        self.state = "preamble"  # preamble, part, headers, data, skip, done
        self.filename: str | None = None
        self.found = False

    @classmethod
    def for_content_type(cls, content_type: str) -> _FirstFile | None:
        if not content_type.lower().startswith("multipart/form-data"):
            return None
        match = re.search(r'boundary="?([^";]{1,200})"?', content_type)
        if match is None:
            raise invalid("body", "multipart/form-data without a boundary")
        return cls(match.group(1).encode("latin-1", "replace"))

    def feed(self, chunk: bytes) -> bytes:
        self.buf += chunk
        out: list[bytes] = []
        while self._step(out):
            pass
        return b"".join(out)

    def finish(self) -> None:
        if not self.found:
            raise invalid("file", "the multipart body holds no file; send it in a part named file")
        if self.state == "data":
            raise invalid("file", "the multipart body ends in the middle of the file")

    def _step(self, out: list[bytes]) -> bool:
        """Advance as far as the buffer allows; True while there is more to do."""
        keep = len(self.delimiter)
        if self.state in ("preamble", "skip"):
            at = self.buf.find(self.delimiter)
            if at < 0:
                self.buf = self.buf[-keep:]
                return False
            self.buf = self.buf[at + keep :]
            self.state = "part"
        if self.state == "part":
            if len(self.buf) < 2:
                return False
            if self.buf.startswith(b"--"):
                self.state, self.buf = "done", b""
                return False
            end = self.buf.find(b"\r\n")
            if end < 0:
                return False
            self.buf, self.state = self.buf[end + 2 :], "headers"
        if self.state == "headers":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > _HEADERS_MAX:
                    raise invalid("body", "a multipart part's headers are too long")
                return False
            headers = BytesHeaderParser().parsebytes(self.buf[: end + 2])
            self.buf = self.buf[end + 4 :]
            filename = headers.get_filename()
            if filename is not None and not self.found:
                self.found, self.filename, self.state = True, str(filename), "data"
            else:
                self.state = "skip"
            return True
        if self.state == "data":
            at = self.buf.find(self.delimiter)
            if at < 0:
                cut = len(self.buf) - (keep - 1)  # what cannot be the start of a delimiter
                if cut > 0:
                    out.append(self.buf[:cut])
                    self.buf = self.buf[cut:]
                return False
            out.append(self.buf[:at])
            self.buf = self.buf[at:]
            self.state = "skip"
            return True
        return False


@router.post(
    "",
    status_code=202,
    openapi_extra=_REQUEST_BODY,
    response_model=ImportRunOut,
    responses={
        413: {"model": ErrorResponse, "description": "The file is larger than KITH_IMPORT_MAX_BYTES."},
        409: {"model": ErrorResponse, "description": "Another import is still running."},
    },
)
def start_import(
    app: AppDep,
    viewer: ViewerDep,
    upload: Annotated[Upload, Depends(receive)],
    at: Annotated[
        str | None,
        Query(max_length=40, description="edges: ISO 8601 time of rows without one (default: now)."),
    ] = None,
    broadcast: Annotated[
        int | None, Query(ge=1, le=100_000, description="email: recipients above which mail is a broadcast.")
    ] = None,
) -> JSONResponse:
    """Administrators import mail, a Slack export or an edge list; it runs in the background.

    Answers 202 with the run; follow it with ``GET /imports/{id}``. A corrupt file fails
    the run (its ``error`` names the file and line or message) and writes nothing.
    """
    try:
        default_at = _moment(at)
        run_id = interactions.check_start_import(app, viewer, upload.kind, upload.name)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    threading.Thread(
        target=_work,
        args=(app, viewer, upload, run_id, broadcast, default_at),
        name=f"kith-import-{run_id}",
        daemon=True,
    ).start()
    run = interactions.get_run(app, viewer, run_id)
    return JSONResponse(
        jsonable_encoder(run), status_code=202, headers={"Location": f"/api/v1/imports/{run_id}"}
    )


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise invalid("at", "must be an ISO 8601 time, such as 2025-02-03T09:00:00Z") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _work(
    app: App,
    viewer: Viewer,
    upload: Upload,
    run_id: int,
    broadcast: int | None,
    default_at: datetime | None,
) -> None:
    try:
        interactions.check_import(
            app,
            viewer,
            upload.kind,
            [upload.path],
            [upload.name],
            run_id=run_id,
            broadcast=broadcast,
            default_at=default_at,
        )
    except interactions.ImportFailed as failure:  # recorded on the run: bad input, not ours
        log.info("import run %s failed: %s", run_id, failure)
    except Exception:  # recorded on the run as failed; the log has the details
        log.warning("import run %s failed", run_id, exc_info=True)
    finally:
        upload.path.unlink(missing_ok=True)


@router.get("", response_model=list[ImportRunOut])
def list_imports(app: AppDep, viewer: ViewerDep) -> list[dict[str, Any]]:
    """Import runs, newest first (the last 100)."""
    return interactions.list_runs(app, viewer)


@router.get("/{run_id}", response_model=ImportRunOut)
def get_import(app: AppDep, viewer: ViewerDep, run_id: RunId) -> dict[str, Any]:
    """One import run; while it runs, ``stats`` shows how far it has got."""
    return interactions.get_run(app, viewer, run_id)


@router.delete("/{run_id}", response_model=ImportRunOut)
def undo_import(app: AppDep, viewer: ViewerDep, run_id: RunId) -> dict[str, Any]:
    """Undo a run: remove its interactions and the people only it discovered. The run stays,
    ``undone``. A run still running is a conflict."""
    interactions.undo(app, viewer, run_id)
    return interactions.get_run(app, viewer, run_id)
