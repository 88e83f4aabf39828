"""A space's tools beyond topics: its facts (list, write, edit, review), similar earlier
questions while a question is typed, and sending a new topic later."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.actions import facts, scheduled, similar, spaces, web_pages
from kith.app import App
from kith.domain import facts as fact_rules
from kith.domain.errors import InvalidInput, invalid
from kith.domain.models import Viewer
from kith.web import render as rendering
from kith.web.forms import ON, Flag, Short, Text, _htmx
from kith.web.pages import _id
from kith.web.render import WebRoute, render
from kith.web.session import AppDep, CsrfDep, SignedDep

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _go(request: Request, location: str) -> Response:
    if _htmx(request):
        return Response(status_code=204, headers={**rendering.SECURITY_HEADERS, "HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def facts_context(app: App, viewer: Viewer, space_id: int, membership: Any, archived: bool) -> dict[str, Any]:
    """The facts panel of a space page: facts, owners, who may change what, today."""
    found = facts.list_facts(app, viewer, facts.FactQuery(space_id=space_id, limit=50)).items
    return {
        "facts": found,
        "fact_owners": web_pages.get_people(app, viewer, {f.owner_id for f in found}),
        "can_write_fact": fact_rules.can_create_fact(membership, space_archived=archived),
        "can_change": {f.id for f in found if fact_rules.can_change_fact(viewer, membership, f)},
        "today": facts.today_of(app),
    }


def send_later_context(app: App, viewer: Viewer, space_id: int) -> dict[str, Any]:
    """The suggested time to send (the quarter hour most members are within working hours),
    in the viewer's own time zone for the form."""
    suggestion = scheduled.suggest_send_time(app, viewer, space_id)
    local = suggestion.at.astimezone(ZoneInfo(viewer.person.timezone))
    return {"send_time": suggestion, "send_local": local.strftime("%Y-%m-%dT%H:%M")}


@router.post("/spaces/{space_id}/facts")
def create_fact(
    request: Request,
    app: AppDep,
    signed: CsrfDep,
    space_id: int,
    title: Short = "",
    body: Text = "",
    source_url: Annotated[str, Form(max_length=2000)] = "",
    review_by: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    fact = facts.check_create_fact(
        app,
        signed.viewer,
        _id(space_id),
        title=title,
        body=body,
        source_url=source_url,
        review_by=review_by or None,
    )
    return _go(request, f"/spaces/{space_id}#fact-{fact.id}")


@router.get("/facts/{fact_id}/edit")
def edit_fact_page(request: Request, app: AppDep, signed: SignedDep, fact_id: int) -> HTMLResponse:
    viewer = signed.viewer
    fact = facts.get_fact(app, viewer, _id(fact_id))
    view = spaces.get_space(app, viewer, fact.space_id)
    return render(request, "fact_edit.html", {"fact": fact, "space": view.space})


@router.post("/facts/{fact_id}/edit")
def edit_fact(
    request: Request,
    app: AppDep,
    signed: CsrfDep,
    fact_id: int,
    title: Annotated[str | None, Form(max_length=300)] = None,
    body: Annotated[str | None, Form(max_length=20_000)] = None,
    source_url: Annotated[str | None, Form(max_length=2000)] = None,
    review_by: Annotated[str | None, Form(max_length=20)] = None,
    note: Short = "",
) -> Response:
    """Fields the form did not send stay as they are."""
    fact = facts.check_edit_fact(
        app,
        signed.viewer,
        _id(fact_id),
        title=title,
        body=body,
        source_url=source_url,
        review_by=review_by or None,
        note=note,
    )
    return _go(request, f"/spaces/{fact.space_id}#fact-{fact.id}")


@router.post("/facts/{fact_id}/review")
def review_fact(request: Request, app: AppDep, signed: CsrfDep, fact_id: int) -> Response:
    fact = facts.check_review_fact(app, signed.viewer, _id(fact_id))
    return _go(request, f"/spaces/{fact.space_id}#fact-{fact.id}")


@router.get("/spaces/{space_id}/similar")
def similar_hints(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    space_id: int,
    title: Annotated[str, Query(max_length=300)] = "",
    body: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """Earlier topics and facts like the question being typed, in spaces the viewer reads."""
    spaces.get_space(app, signed.viewer, _id(space_id))
    text = f"{title}\n{body}".strip()
    items = []
    if len(text) >= 8:
        try:
            items = similar.list_similar(app, signed.viewer, text, limit=5)
        except InvalidInput:
            items = []
    return render(request, "_similar.html", {"items": items})


@router.post("/spaces/{space_id}/scheduled")
def schedule_topic(
    request: Request,
    app: AppDep,
    signed: CsrfDep,
    space_id: int,
    title: Short = "",
    body: Text = "",
    is_question: Flag = "",
    urgent: Flag = "",
    send_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Start a topic later: ``send_at`` is the author's local time (``datetime-local``)."""
    viewer = signed.viewer
    try:
        local = datetime.fromisoformat(send_at)
    except ValueError:
        raise invalid("send_at", "pick a date and time") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(viewer.person.timezone))
    scheduled.check_schedule_post(
        app,
        viewer,
        scheduled.ScheduleInput(
            space_id=_id(space_id),
            body=body,
            send_at=local,
            title=title,
            is_question=is_question in ON,
            urgent=urgent in ON,
        ),
    )
    return _go(request, f"/spaces/{space_id}?scheduled=1")
