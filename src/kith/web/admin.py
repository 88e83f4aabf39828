"""Administration: people (search, role), imports (roster; mail and Slack with progress),
analysis runs (their changes; start one). Administrators only, except that analysts may
see and start analysis runs, as the API allows."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.actions import analysis, analysis_views, interactions, people, roster
from kith.actions.people import PersonInput
from kith.app import App
from kith.domain.errors import Forbidden, invalid
from kith.domain.models import Role, Viewer
from kith.web.pages import _id
from kith.web.render import WebRoute, render
from kith.web.session import AppDep, CsrfDep, SignedDep

log = logging.getLogger(__name__)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

UPLOAD_KINDS = {"email": "E-mail (mbox, or a zip of a Maildir or mbox files)", "slack": "Slack export (zip)"}


def _admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise Forbidden("administration is for administrators")


def _back(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


@router.get("/admin")
def admin_home(signed: SignedDep) -> Response:
    _admin(signed.viewer)
    return _back("/admin/people")


@router.get("/admin/people")
def people_page(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    _admin(viewer)
    page = people.list_people(app, viewer, query=q or None, include_inactive=True, cursor=cursor, limit=50)
    roles = {p.id: people.get_role(app, p.id).value for p in page.items}
    return render(
        request,
        "admin_people.html",
        {
            "active": "admin",
            "section": "people",
            "q": q,
            "items": page.items,
            "roles": roles,
            "role_choices": [r.value for r in Role],
            "next_cursor": page.next_cursor,
        },
    )


@router.post("/admin/people/{person_id}/role")
def set_role(
    app: AppDep, signed: CsrfDep, person_id: int, role: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    _admin(signed.viewer)
    try:
        chosen = Role(role)
    except ValueError:
        raise invalid("role", f"must be one of: {', '.join(r.value for r in Role)}") from None
    people.check_update_person(app, signed.viewer, _id(person_id), PersonInput(role=chosen))
    return _back(f"/admin/people#person-{person_id}")


def _imports_context(app: App, viewer: Viewer) -> dict[str, Any]:
    runs = interactions.list_runs(app, viewer)
    return {"runs": runs, "running": any(r["status"] == "running" for r in runs)}


@router.get("/admin/imports")
def imports_page(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    roster_done: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    _admin(viewer)
    context = {
        "active": "admin",
        "section": "imports",
        "kinds": UPLOAD_KINDS,
        "roster_done": roster_done,
        **_imports_context(app, viewer),
    }
    template = "_import_runs.html" if request.headers.get("hx-request") == "true" else "admin_imports.html"
    return render(request, template, context)


@router.post("/admin/imports/roster")
async def import_roster(
    request: Request, app: AppDep, signed: CsrfDep, file: Annotated[UploadFile, File()]
) -> Response:
    _admin(signed.viewer)
    data = await file.read(app.settings.import_max_bytes + 1)
    if len(data) > app.settings.import_max_bytes:
        raise invalid("file", "is larger than KITH_IMPORT_MAX_BYTES")
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(roster.check_import_roster, app, signed.viewer, data)
    text = f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    return _back(f"/admin/imports?roster_done={text}")


@router.post("/admin/imports/upload")
def upload_import(
    app: AppDep,
    signed: CsrfDep,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Mail or a Slack export: saved to a temporary file, imported in the background; the
    imports page follows its progress (``stats``) by polling."""
    viewer = signed.viewer
    _admin(viewer)
    if kind not in UPLOAD_KINDS:
        raise invalid("kind", "must be email or slack")
    interactions.check_may_start_import(app, viewer)
    name = Path(file.filename or f"upload-{kind}").name
    fd, temp = tempfile.mkstemp(prefix="kith-web-import-", suffix=Path(name).suffix[:9])
    path = Path(temp)
    try:
        with open(fd, "wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        if path.stat().st_size > app.settings.import_max_bytes:
            raise invalid("file", "is larger than KITH_IMPORT_MAX_BYTES")
        run_id = interactions.check_start_import(app, viewer, kind, name)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    threading.Thread(
        target=_import,
        args=(app, viewer, kind, path, name, run_id),
        name=f"kith-web-import-{run_id}",
        daemon=True,
    ).start()
    return _back("/admin/imports")


def _import(app: App, viewer: Viewer, kind: str, path: Path, name: str, run_id: int) -> None:
    try:
        interactions.check_import(app, viewer, kind, [path], [name], run_id=run_id)
    except interactions.ImportFailed as failure:  # recorded on the run: bad input, not ours
        log.info("import run %s failed: %s", run_id, failure)
    except Exception:  # recorded on the run as failed; the log has the details
        log.warning("import run %s failed", run_id, exc_info=True)
    finally:
        path.unlink(missing_ok=True)


@router.get("/admin/analysis")
def analysis_runs(request: Request, app: AppDep, signed: SignedDep) -> HTMLResponse:
    viewer = signed.viewer
    analysis.require_analyst(viewer)
    runs = analysis_views.list_runs(app, viewer)
    latest = next((r for r in runs if r["status"] == "done"), None)
    changed = []
    if latest is not None:
        found = analysis_views.list_communities(app, viewer, latest["id"])
        changed = [c for c in found["communities"] if c["change"] != "continued"]
    context = {
        "active": "admin" if viewer.is_admin else "analysis",
        "section": "analysis",
        "runs": runs,
        "latest": latest,
        "changed": changed,
        "running": any(r["status"] == "running" for r in runs),
    }
    template = "_analysis_runs.html" if request.headers.get("hx-request") == "true" else "admin_analysis.html"
    return render(request, template, context)


@router.post("/admin/analysis/runs")
def start_analysis(app: AppDep, signed: CsrfDep) -> Response:
    viewer = signed.viewer
    run_id = analysis.check_start(app, viewer, analysis.AnalysisParams())

    def work() -> None:
        try:
            analysis.do_complete(app, run_id)
        except Exception:  # recorded on the run as failed; the log has the details
            log.warning("analysis run %s failed", run_id, exc_info=True)

    threading.Thread(target=work, name=f"kith-web-analysis-{run_id}", daemon=True).start()
    return _back("/admin/analysis")
