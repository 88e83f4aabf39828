"""The event stream: WebSocket and Server-Sent Events, resumable with ``since``.

Authentication: the ``Authorization: Bearer`` header, or (for browsers, which cannot set
headers on a WebSocket) a first message ``{"type": "auth", "token": "..."}`` within
``AUTH_TIMEOUT`` seconds. Never a token in the URL, where logs would keep it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketState

from kith.actions import auth
from kith.api.deps import AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.app import App
from kith.domain import views
from kith.domain.errors import KithError
from kith.domain.models import Event, Viewer
from kith.realtime.subscriber import Subscriber

log = logging.getLogger(__name__)

router = APIRouter(tags=["stream"])

AUTH_TIMEOUT = 10.0
CLOSE_UNAUTHORIZED = 4001
CLOSE_BAD_REQUEST = 4400
CLOSE_LAGGING = 4008
CLOSE_SIGNED_OUT = 4009
CLOSE_ROLE_CHANGED = 4010
CLOSE_GOING_AWAY = 1001


# Each event is encoded once, however many readers it goes to: the dispatcher offers the
# same ``Event`` object to every stream, so the JSON is kept by the object's identity (the
# object itself kept beside it, so that an id is never reused while cached), for the last
# ``_ENCODED_MAX`` events. Encoding it per reader was a fifth of a delivery's cost.
_ENCODED_MAX = 1024
_encoded: dict[int, tuple[Event, str]] = {}


def _event_json(event: Event) -> str:
    cached = _encoded.get(id(event))
    if cached is not None and cached[0] is event:
        return cached[1]
    text = json.dumps(views.event(event), separators=(",", ":"))
    if len(_encoded) >= _ENCODED_MAX:
        for key in list(itertools.islice(_encoded, _ENCODED_MAX // 4)):
            del _encoded[key]
    _encoded[id(event)] = (event, text)
    return text


def _frame(events: list[Event]) -> str:
    if len(events) == 1:
        return '{"type":"events","events":[' + _event_json(events[0]) + "]}"
    return '{"type":"events","events":[' + ",".join(map(_event_json, events)) + "]}"


@router.websocket("/stream")
async def stream_websocket(websocket: WebSocket, since: int | None = None) -> None:
    """The event stream over WebSocket; see docs/realtime.md for the protocol."""
    app: App = websocket.app.state.kith
    await websocket.accept()
    if since is not None and since < 0:
        await websocket.close(CLOSE_BAD_REQUEST, "since must be an event id")
        return
    signed_in = await _websocket_viewer(app, websocket)
    if signed_in is None:
        await websocket.close(CLOSE_UNAUTHORIZED, "sign in first: send a valid bearer token")
        return
    viewer, token = signed_in
    subscriber, replay = await app.dispatcher.attach(viewer.id, since, is_admin=viewer.is_admin)
    app.presence.connected(viewer.id, app.clock())
    helpers = [
        asyncio.create_task(_receive(app, websocket, subscriber)),
        asyncio.create_task(_recheck(app, token, subscriber)),
    ]
    try:
        async for page in replay:
            await websocket.send_text(_frame(page))
        await websocket.send_text(json.dumps({"type": "live", "last_event_id": subscriber.last_id}))
        await _pump(websocket, subscriber)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for task in helpers:
            task.cancel()
        app.dispatcher.detach(subscriber)
        app.presence.disconnected(viewer.id)
    await _close(websocket, subscriber)


def _bearer(header: str) -> str:
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


async def _websocket_viewer(app: App, websocket: WebSocket) -> tuple[Viewer, str] | None:
    token = _bearer(websocket.headers.get("authorization", ""))
    if not token:
        try:
            first = json.loads(await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT))
        except (TimeoutError, ValueError, WebSocketDisconnect, RuntimeError):
            return None
        token = str(first.get("token", "")) if isinstance(first, dict) and first.get("type") == "auth" else ""
    if not token or len(token) > 256:
        return None
    try:
        return await asyncio.to_thread(auth.access_viewer, app, token), token
    except KithError:
        return None


async def _recheck(app: App, token: str, subscriber: Subscriber) -> None:
    """Now and then, check that the stream's token is still good (signed out elsewhere,
    expired) and that the reader's role is the one the stream was opened with; a
    deactivated account is closed at once by its ``person.updated`` event, and that event
    (which does not say whether the role changed) makes the check come at once."""
    every = app.settings.stream_recheck_seconds
    while not subscriber.done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscriber.role_check.wait(), every * random.uniform(0.9, 1.1))
        subscriber.role_check.clear()
        try:
            viewer = await asyncio.to_thread(auth.access_viewer, app, token)
        except KithError:
            subscriber.close("signed out: the token is no longer valid", kind="signed_out")
        except Exception:  # the database is unreachable for a moment: try again next time
            log.warning("could not re-check a stream's token", exc_info=True)
        else:
            if viewer.is_admin != subscriber.is_admin:
                subscriber.close(
                    "your role changed: load GET /spaces again, then resume with since=<last event id>",
                    kind="role_changed",
                )


async def _pump(websocket: WebSocket, subscriber: Subscriber) -> None:
    while batch := await subscriber.next_batch():
        await websocket.send_text(_frame(batch))


async def _receive(app: App, websocket: WebSocket, subscriber: Subscriber) -> None:
    """Read what the client sends (``{"type": "active"}``: the person is doing something);
    a disconnect ends the stream, and so does a message that is not one of ours."""
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "active":
                app.presence.active(subscriber.person_id, app.clock())
            elif kind != "auth":  # a repeated auth message is harmless
                subscriber.close('unknown message: send {"type": "active"}', kind="bad_request")
                return
    except (WebSocketDisconnect, RuntimeError):
        subscriber.close("client went away")


CLOSE_CODES = {
    "lagging": CLOSE_LAGGING,
    "signed_out": CLOSE_SIGNED_OUT,
    "bad_request": CLOSE_BAD_REQUEST,
    "role_changed": CLOSE_ROLE_CHANGED,
}


async def _close(websocket: WebSocket, subscriber: Subscriber) -> None:
    if websocket.client_state is not WebSocketState.CONNECTED:
        return
    code = CLOSE_CODES.get(subscriber.closed_kind or "", CLOSE_GOING_AWAY)
    with contextlib.suppress(RuntimeError):
        await websocket.close(code, (subscriber.closed_reason or "")[:120])


@router.get(
    "/stream/sse",
    responses={**ERROR_RESPONSES, 200: {"content": {"text/event-stream": {}}, "description": "The stream."}},
    response_model=None,
)
async def stream_sse(
    request: Request,
    app: AppDep,
    viewer: ViewerDep,
    since: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """The event stream as Server-Sent Events; ``Last-Event-ID`` resumes it."""
    if last_event_id is not None and last_event_id.isdigit():
        since = int(last_event_id)
    subscriber, replay = await app.dispatcher.attach(viewer.id, since, is_admin=viewer.is_admin)
    token = _bearer(request.headers.get("authorization", ""))
    return StreamingResponse(
        _sse(app, request, subscriber, replay, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _sse_frames(events: list[Event]) -> str:
    return "".join(f"id: {e.id}\nevent: {e.type}\ndata: {_event_json(e)}\n\n" for e in events)


async def _sse(
    app: App, request: Request, subscriber: Subscriber, replay: AsyncIterator[list[Event]], token: str
) -> AsyncIterator[str]:
    heartbeat = app.settings.stream_heartbeat_seconds
    app.presence.connected(subscriber.person_id, app.clock())
    recheck = asyncio.create_task(_recheck(app, token, subscriber))
    try:
        yield "retry: 2000\n\n"
        async for page in replay:
            yield _sse_frames(page)
        yield f": live at {subscriber.last_id}\n\n"
        while not subscriber.done.is_set():
            try:
                batch = await asyncio.wait_for(subscriber.next_batch(), heartbeat)
            except TimeoutError:
                if await request.is_disconnected():
                    break
                yield ": ping\n\n"
                continue
            if not batch:
                break
            yield _sse_frames(batch)
        if subscriber.overflowed:
            yield f"event: lagging\ndata: {json.dumps({'resume_since': subscriber.last_id})}\n\n"
        elif subscriber.closed_kind == "signed_out":
            yield f"event: signed_out\ndata: {json.dumps({'reason': subscriber.closed_reason})}\n\n"
        elif subscriber.closed_kind == "role_changed":
            yield f"event: role_changed\ndata: {json.dumps({'resume_since': subscriber.last_id})}\n\n"
    finally:
        recheck.cancel()
        app.dispatcher.detach(subscriber)
        app.presence.disconnected(subscriber.person_id)
