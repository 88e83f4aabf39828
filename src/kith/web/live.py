"""What the live module talks to: the event stream for browsers, seen receipts, activity,
and @mention suggestions.

The stream is the API's own Server-Sent Events stream (``kith.api.routes.stream``),
reached through the session cookie instead of a bearer header: the browser never holds a
token a script could read. EventSource sends the cookie only to this same origin (the
cookie is SameSite=Lax and HttpOnly), and a request that Fetch Metadata or Origin marks as
coming from another site is refused. See "Browsers" in docs/realtime.md.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kith.actions import people, presence, receipts
from kith.api.routes import stream
from kith.domain.errors import InvalidInput, invalid
from kith.web.render import SECURITY_HEADERS, WebRoute
from kith.web.session import AppDep, CsrfDep, CsrfRefused, SignedDep, same_site

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MAX_BODY = 64_000


@router.get("/live/stream", response_model=None)
async def live_stream(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    since: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> Response:
    """The event stream as Server-Sent Events, for the signed-in browser."""
    if not same_site(request):
        raise CsrfRefused
    # The API's stream reads the bearer token from the request (to re-check it while the
    # stream is open): hand it the session's token the way an API client would send it.
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"authorization", b"cookie")]
    headers.append((b"authorization", f"Bearer {signed.token}".encode()))
    bearer = Request({**request.scope, "headers": headers}, request.receive)
    return await stream.stream_sse(
        request=bearer, app=app, viewer=signed.viewer, since=since, last_event_id=last_event_id
    )


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise invalid("body", "is too large")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise invalid("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object")
    return body


@router.post("/live/seen")
async def seen(request: Request, app: AppDep, signed: CsrfDep) -> Response:
    """The posts that were on the screen: ``{"post_ids": [...]}``."""
    body = await _json_body(request)
    ids = body.get("post_ids")
    if not isinstance(ids, list) or not all(type(i) is int and 0 < i < 2**31 for i in ids):
        raise InvalidInput("post_ids: must be a list of post ids", {"post_ids": "must be a list of post ids"})
    new = await run_in_threadpool(receipts.check_mark_seen, app, signed.viewer, ids)
    return JSONResponse({"new": new}, headers=SECURITY_HEADERS)


@router.post("/live/active")
def active(app: AppDep, signed: CsrfDep) -> Response:
    """The person is doing something (typing, scrolling): they stay online, not idle."""
    presence.mark_active(app, signed.viewer)
    return Response(status_code=204, headers=SECURITY_HEADERS)


@router.get("/live/mentions")
def suggest(app: AppDep, signed: SignedDep, q: Annotated[str, Query(max_length=100)] = "") -> Response:
    """People for @mention autocomplete: handle and name, at most eight."""
    text = q.strip().lstrip("@")
    if not text:
        return JSONResponse([], headers=SECURITY_HEADERS)
    found = people.list_people(app, signed.viewer, query=text, limit=8).items
    items = [{"id": p.id, "handle": p.handle, "name": p.display_name, "title": p.title} for p in found]
    return JSONResponse(items, headers=SECURITY_HEADERS)
