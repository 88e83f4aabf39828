"""What is one's own: the catch-up (done), invitations (accept, decline), notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.actions import catch_up, invitations, notify, web_pages
from kith.web.pages import _id
from kith.web.render import WebRoute, render
from kith.web.session import AppDep, CsrfDep, SignedDep

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _back(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


@router.post("/catch-up/done")
def catch_up_done(app: AppDep, signed: CsrfDep) -> Response:
    catch_up.do_catch_up_done(app, signed.viewer)
    return _back("/")


@router.post("/invitations/{space_id}/accept")
def accept_invitation(app: AppDep, signed: CsrfDep, space_id: int) -> Response:
    invitations.check_accept(app, signed.viewer, _id(space_id))
    return _back(f"/spaces/{space_id}")


@router.post("/invitations/{space_id}/decline")
def decline_invitation(app: AppDep, signed: CsrfDep, space_id: int) -> Response:
    invitations.check_decline(app, signed.viewer, _id(space_id))
    return _back("/")


@router.get("/notifications")
def notifications_page(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    unread: Annotated[str | None, Query(max_length=4)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    page = notify.list_notifications(app, viewer, unread_only=unread == "1", cursor=cursor, limit=50)
    actors = web_pages.get_people(app, viewer, {n.actor_id for n in page.items if n.actor_id})
    return render(
        request,
        "notifications.html",
        {
            "active": "notifications",
            "items": page.items,
            "next_cursor": page.next_cursor,
            "actors": actors,
            "only_unread": unread == "1",
        },
    )


@router.post("/notifications/read")
def notifications_read(app: AppDep, signed: CsrfDep) -> Response:
    notify.check_mark_read(app, signed.viewer, None)
    return _back("/notifications")
