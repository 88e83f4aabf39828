"""Rendering pages: the Jinja2 environment (autoescape on), the page context, error pages,
and the route class that turns domain errors into friendly pages (rule 6)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

import kith
from kith.actions import notify
from kith.domain.errors import Conflict, Forbidden, InvalidInput, KithError, NotFound, RateLimited
from kith.domain.hours import format_days, is_working, local_time
from kith.domain.models import Person, Viewer
from kith.web import charts
from kith.web.session import CsrfRefused, Signed, SignInRequired

log = logging.getLogger(__name__)

# Content Security Policy: scripts, styles and connections from this origin only; images
# in posts may come from the web (Markdown images), nothing may frame the pages.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

EMOJI = {
    "+1": "👍",
    "thumbsup": "👍",
    "heart": "❤️",
    "tada": "🎉",
    "eyes": "👀",
    "white_check_mark": "✅",
    "joy": "😂",
    "pray": "🙏",
    "rocket": "🚀",
    "thinking": "🤔",
    "-1": "👎",
}
QUICK_REACTIONS = ("+1", "heart", "tada", "eyes")


@dataclass(frozen=True, slots=True)
class NavItem:
    """An entry of the main navigation; phase 2 adds the map, dashboards and admin here."""

    key: str
    label: str
    href: str
    # Who sees the entry: everyone, or analysts (and administrators), or administrators.
    who: str = "all"

    def shown_to(self, viewer: Viewer) -> bool:
        if self.who == "admin":
            return viewer.is_admin
        if self.who == "analyst":
            return viewer.role.value in ("analyst", "admin")
        return True


NAV = (
    NavItem("home", "Home", "/"),
    NavItem("search", "Search", "/search"),
    NavItem("map", "Communities", "/map"),
    NavItem("analysis", "Flow", "/analysis", "analyst"),
    NavItem("notifications", "Notifications", "/notifications"),
    NavItem("admin", "Admin", "/admin", "admin"),
)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment (pure, no I/O: safe to share between Apps)."""
    env = Environment(
        loader=PackageLoader("kith.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["emoji"] = lambda name: EMOJI.get(name, f":{name}:")
    env.filters["days"] = format_days
    env.filters["reaction_id"] = lambda name: name.replace("+", "plus").replace("-", "minus")
    env.globals["quick_reactions"] = QUICK_REACTIONS
    env.globals["version"] = kith.__version__
    env.globals["nav"] = NAV
    env.globals["hours"] = charts.hours
    return env


def person_clock(person: Person, now: datetime) -> dict[str, Any]:
    """A person's local time and whether they are within their working hours now."""
    local = local_time(person.timezone, now)
    return {
        "local": local,
        "local_text": local.strftime("%H:%M"),
        "local_day": local.strftime("%a"),
        "working_now": is_working(person.hours, person.timezone, now),
        "hours_text": f"{person.hours.start:%H:%M}–{person.hours.end:%H:%M}",
    }


def when(at: datetime, zone: str) -> str:
    """A time in the viewer's zone, short: ``Tue 14 Jan, 09:05``."""
    return local_time(zone, at).strftime("%a %d %b, %H:%M")


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the signed-in viewer (if any) and its CSRF token."""
    signed: Signed | None = getattr(request.state, "signed", None)
    app = request.app.state.kith
    zone = signed.viewer.person.timezone if signed else "UTC"
    values: dict[str, Any] = {
        "request": request,
        "me": signed.viewer if signed else None,
        "csrf": signed.csrf if signed else "",
        "now": app.clock(),
        "when": lambda at: when(at, zone) if at else "",
        "iso": lambda at: at.isoformat() if at else "",
        "clock_of": lambda person: person_clock(person, app.clock()),
        "is_htmx": request.headers.get("hx-request") == "true",
        "active": "",
        "unread_notices": _unread(app, signed.viewer) if signed else 0,
    }
    values.update(context or {})
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def _unread(app: Any, viewer: Viewer) -> int:
    """The navigation's unread-notification count (one indexed count per page)."""
    try:
        return notify.unread_count(app, viewer)
    except KithError:
        return 0


_STATUS: tuple[tuple[type[KithError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (Forbidden, 403, "Not allowed"),
    (InvalidInput, 422, "Please check what you entered"),
    (Conflict, 409, "That clashes with what is there now"),
    (RateLimited, 429, "Too many attempts"),
)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A friendly page for an error; to htmx, just the message (shown next to the form)."""
    if request.headers.get("hx-request") == "true":
        return render(request, "_error.html", {"title": title, "message": message}, status=status)
    return render(
        request, "error.html", {"title": title, "message": message, "status": status}, status=status
    )


def _for_kith_error(request: Request, exc: KithError) -> HTMLResponse:
    status, title = next(
        ((code, name) for cls, code, name in _STATUS if isinstance(exc, cls)), (400, "Error")
    )
    if isinstance(exc, NotFound):
        # The domain's message may name an id; the page says it plainly either way.
        message = "There is nothing here, or it is not visible to you. Check the link, or go back home."
    else:
        message = exc.message
    return error_page(request, status, title, message)


def _sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/signin?next={quote(target, safe='')}" if request.method == "GET" else "/signin"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


class WebRoute(APIRoute):
    """A route whose errors are pages: sign-in redirects, 403 for a missing CSRF token,
    and a readable page for every domain error and malformed request, never a 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return _sign_in_redirect(request)
            except ClientDisconnect:  # the browser left while sending: nobody to answer
                return Response(status_code=400)
            except CsrfRefused:
                return error_page(
                    request,
                    403,
                    "This form has expired",
                    "The request did not carry this page's security token. Reload the page and try again.",
                )
            except KithError as exc:
                return _for_kith_error(request, exc)
            except RequestValidationError as exc:
                return _for_validation(request, exc)
            except HTTPException as exc:
                return error_page(request, exc.status_code, "Something is not right", str(exc.detail))

        return guarded


def _for_validation(request: Request, exc: RequestValidationError) -> HTMLResponse:
    errors = exc.errors()
    if any(tuple(item.get("loc", ()))[:1] == ("path",) for item in errors):
        return error_page(
            request, 404, "Not found", "There is nothing here. Check the link, or go back home."
        )
    fields = []
    for item in errors:
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "form")]
        fields.append(f"{'.'.join(loc) or 'input'}: {item.get('msg', 'is invalid')}")
    return error_page(request, 422, "Please check what you entered", "; ".join(fields))
