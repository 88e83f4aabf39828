"""A Python client for Kith's API and event stream (httpx + websockets).

Tests, benchmarks and the demo's simulated members use it; so can scripts::

    client = KithClient.login("http://127.0.0.1:8000", "ana@example.com", "secret")
    topic = client.create_topic(space_id=1, title="Prices", body="Seen this?")
    async for event in client.stream():
        print(event["id"], event["type"])

``stream()`` resumes by itself: when the connection drops (the server restarts, a proxy
times out, the server closes a lagging stream with 4008) it reconnects with
``since=<last event id>`` and drops any event it has already yielded, so the caller sees
every event it may see exactly once, in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

# Close codes after which reconnecting cannot help.
FINAL_CLOSE_CODES = frozenset({4001, 4009, 4400})


class KithAPIError(Exception):
    """An error answer of the API: its status, code, message and bad fields."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


class StreamClosed(Exception):
    """The server ended the stream for good (signed out, deactivated, bad request)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"stream closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class KithClient:
    """A signed-in session against one Kith server."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = httpx.Client(
            base_url=self.base_url + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
        self.last_event_id: int | None = None
        self._connection: ClientConnection | None = None

    @classmethod
    def login(cls, base_url: str, email: str, password: str, *, timeout: float = 10.0) -> KithClient:
        response = httpx.post(
            base_url.rstrip("/") + "/api/v1/auth/login",
            json={"email": email, "password": password},
            timeout=timeout,
        )
        _raise_for_error(response)
        return cls(base_url, str(response.json()["token"]), timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> KithClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # the REST API

    def request(self, method: str, path: str, json_body: Any = None, **params: Any) -> Any:
        """Call ``/api/v1{path}``; returns the decoded JSON, raises KithAPIError."""
        response = self.http.request(method, path, json=json_body, params=params or None)
        _raise_for_error(response)
        return response.json() if response.content else None

    def me(self) -> dict[str, Any]:
        return dict(self.request("GET", "/me"))

    def spaces(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/spaces"))

    def create_topic(
        self, space_id: int, title: str, body: str, *, is_question: bool = False
    ) -> dict[str, Any]:
        payload = {"title": title, "body": body, "is_question": is_question}
        return dict(self.request("POST", f"/spaces/{space_id}/topics", payload))

    def post(self, topic_id: int, body: str, *, reply_to_id: int | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"body": body}
        if reply_to_id is not None:
            payload["reply_to_id"] = reply_to_id
        return dict(self.request("POST", f"/topics/{topic_id}/posts", payload))

    def mark_seen(self, post_ids: list[int]) -> list[int]:
        return list(self.request("POST", "/seen", {"post_ids": post_ids})["newly_seen"])

    def presence(self, space_id: int) -> list[dict[str, Any]]:
        """The presence of a space's members."""
        return list(self.request("GET", "/presence", space=space_id)["people"])

    def set_away(self, away: bool) -> dict[str, Any]:
        return dict(self.request("PUT", "/presence/me", {"away": away}))

    async def report_active(self) -> None:
        """Tell the server over the open stream that the person is doing something."""
        if self._connection is not None:
            await self._connection.send(json.dumps({"type": "active"}))

    # the event stream

    async def stream(
        self, since: int | None = None, *, retry_delay: float = 0.2
    ) -> AsyncIterator[dict[str, Any]]:
        """Every event this person may see, in id order, each once; resumes on its own."""
        if since is not None:
            self.last_event_id = since
        ws_url = "ws" + self.base_url.removeprefix("http") + "/api/v1/stream"
        delay = retry_delay
        while True:
            url = ws_url if self.last_event_id is None else f"{ws_url}?since={self.last_event_id}"
            try:
                async with connect(url, additional_headers={"Authorization": f"Bearer {self.token}"}) as ws:
                    self._connection = ws
                    delay = retry_delay
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame.get("type") == "live" and self.last_event_id is None:
                            self.last_event_id = int(frame["last_event_id"])
                        for event in frame.get("events", ()):
                            if self.last_event_id is None or event["id"] > self.last_event_id:
                                self.last_event_id = int(event["id"])
                                yield event
            except ConnectionClosed as closed:
                received = closed.rcvd
                if received is not None and received.code in FINAL_CLOSE_CODES:
                    raise StreamClosed(received.code, received.reason) from None
            except InvalidStatus as refused:
                if refused.response.status_code in (401, 403):
                    raise StreamClosed(4001, "the server refused the stream") from None
            except InvalidHandshake:
                pass  # the connection broke during the handshake (a server dying): try again
            except OSError:
                pass  # the server is away; try again shortly
            finally:
                self._connection = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def drop_connection(self) -> None:
        """Cut the current stream's connection (as a network failure would); for tests."""
        if self._connection is not None:
            self._connection.transport.abort()


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        raise KithAPIError(response.status_code, "error", response.text[:200], {}) from None
    raise KithAPIError(response.status_code, error["code"], error["message"], error.get("fields", {}))
