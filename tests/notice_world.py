"""Helpers shared by the tests of notifications, catch-up, digests and feeds."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient
from tests.conftest import Actor

from kith.actions.events import list_since
from kith.app import App

API = "/api/v1"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def call(client: TestClient, actor: Actor, method: str, path: str, body: Any = None, **params: Any) -> Any:
    return client.request(method, API + path, json=body, headers=actor.headers, params=params or None)


def new_space(client: TestClient, owner: Actor, name: str, **fields: Any) -> int:
    space_id: int = ok(call(client, owner, "POST", "/spaces", {"name": name, **fields}), 201)["id"]
    return space_id


def add_member(client: TestClient, owner: Actor, space: int, *people: Actor) -> None:
    for person in people:
        body = {"person_id": person.id, "role": "member"}
        ok(call(client, owner, "POST", f"/spaces/{space}/members", body), 201)


def set_level(client: TestClient, person: Actor, space: int, level: str) -> None:
    ok(call(client, person, "PUT", f"/spaces/{space}/notification-level", {"notification_level": level}))


def new_topic(
    client: TestClient, author: Actor, space: int, title: str, body: str, **fields: Any
) -> tuple[int, int]:
    created = ok(
        call(client, author, "POST", f"/spaces/{space}/topics", {"title": title, "body": body, **fields}), 201
    )
    return created["topic"]["id"], created["post"]["id"]


def reply(client: TestClient, author: Actor, topic: int, body: str, **fields: Any) -> int:
    post_id: int = ok(call(client, author, "POST", f"/topics/{topic}/posts", {"body": body, **fields}), 201)[
        "id"
    ]
    return post_id


def live_notices(app: App, person_id: int) -> list[dict[str, Any]]:
    """The payloads of the ``notification.created`` events meant for ``person_id``."""
    return [
        e.payload
        for e in list_since(app, 0)
        if e.type == "notification.created" and e.audience_id == person_id
    ]


def notifications_of(client: TestClient, person: Actor, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(call(client, person, "GET", "/notifications", **params))["items"]
    return items
