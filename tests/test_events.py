"""The event log: every change appends an event in its transaction; the hub hears it after commit."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.conftest import Factory

from kith.actions import topics as topics_actions
from kith.actions.events import emit, list_since
from kith.app import App
from kith.domain.errors import Conflict
from kith.domain.models import Event
from kith.storage.tables import notifications

API = "/api/v1"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def stored(app: App, after: int = 0) -> list[Event]:
    return list_since(app, after)


def last_id(app: App) -> int:
    events = stored(app)
    return events[-1].id if events else 0


@dataclass
class Listener:
    """Records what the hub hands over, and whether each event was committed by then."""

    app: App
    received: list[Event] = field(default_factory=list)
    uncommitted: list[int] = field(default_factory=list)

    def __call__(self, events: Sequence[Event]) -> None:
        committed = {e.id for e in stored(self.app, events[0].id - 1)}
        self.uncommitted.extend(e.id for e in events if e.id not in committed)
        self.received.extend(events)


@pytest.fixture
def listener(app: App) -> Iterator[Listener]:
    heard = Listener(app)
    unsubscribe = app.hub.subscribe(heard)
    yield heard
    unsubscribe()


def run_a_day(client: TestClient, make: Factory) -> None:
    """One of everything a person does, plus refusals and repeats that change nothing."""
    ana, bo = make.person("Ana"), make.person("Bo")
    a, b = ana.headers, bo.headers
    sid = ok(client.post(f"{API}/spaces", json={"name": "Voices"}, headers=a), 201)["id"]
    ok(client.post(f"{API}/spaces/{sid}/join", headers=b))
    ok(client.post(f"{API}/spaces/{sid}/join", headers=b))  # already a member: nothing new
    created = ok(
        client.post(f"{API}/spaces/{sid}/topics", json={"title": "Q", "body": "Why?"}, headers=a), 201
    )
    tid, first = created["topic"]["id"], created["post"]["id"]
    answer = ok(
        client.post(f"{API}/topics/{tid}/posts", json={"body": f"@{ana.person.handle} because"}, headers=b),
        201,
    )
    ok(client.patch(f"{API}/posts/{first}", json={"body": "Why, though?"}, headers=a))
    ok(client.patch(f"{API}/posts/{first}", json={"body": "Why, though?"}, headers=a))  # unchanged
    ok(client.post(f"{API}/posts/{first}/reactions", json={"emoji": "eyes"}, headers=b))
    ok(client.post(f"{API}/posts/{first}/reactions", json={"emoji": "eyes"}, headers=b))  # idempotent
    ok(client.delete(f"{API}/posts/{first}/reactions/eyes", headers=b))
    ok(client.delete(f"{API}/posts/{first}/reactions/eyes", headers=b))  # already gone
    ok(client.post(f"{API}/topics/{tid}/resolve", json={"resolved": True}, headers=a))
    ok(client.post(f"{API}/topics/{tid}/resolve", json={"resolved": True}, headers=a))  # already
    ok(client.post(f"{API}/topics/{tid}/accept", json={"post_id": answer["id"]}, headers=a))
    ok(client.patch(f"{API}/spaces/{sid}", json={"description": "What customers say"}, headers=a))
    ok(client.put(f"{API}/spaces/{sid}/notification-level", json={"notification_level": "mute"}, headers=b))
    ok(client.delete(f"{API}/posts/{answer['id']}", headers=b))
    ok(client.patch(f"{API}/me", json={"timezone": "Asia/Tokyo"}, headers=b))
    assert client.post(f"{API}/spaces/{sid}/leave", headers=b).status_code == 204
    ok(client.post(f"{API}/spaces/{sid}/archive", headers=a))
    ok(client.post(f"{API}/spaces/{sid}/archive", headers=a))  # already archived
    # Refusals: none of these may leave a trace.
    assert client.post(f"{API}/spaces", json={"name": "Voices"}, headers=a).status_code == 409
    assert client.post(f"{API}/spaces/{sid}/leave", headers=a).status_code == 409
    assert client.post(f"{API}/topics/{tid}/posts", json={"body": "late"}, headers=a).status_code == 403
    assert client.patch(f"{API}/me", json={"timezone": "Nowhere/Else"}, headers=a).status_code == 422
    # Reads never write events.
    client.get(f"{API}/spaces", headers=a)
    client.get(f"{API}/topics/{tid}/posts", headers=a)
    client.get(f"{API}/posts/{first}/history", headers=a)


EXPECTED = Counter(
    {
        "space.created": 1,
        "member.added": 2,  # the owner, then Bo joining
        "topic.created": 1,
        "post.created": 2,
        "post.edited": 1,
        "reaction.added": 1,
        "reaction.removed": 1,
        "topic.updated": 2,  # resolved, then the accepted answer
        "space.updated": 3,  # the description, then the member count (Bo joins, Bo leaves)
        "member.updated": 1,
        "post.deleted": 1,
        "person.updated": 1,
        "member.removed": 1,
        "space.archived": 1,
    }
)


def test_every_change_appends_one_event_with_increasing_ids(
    app: App, client: TestClient, make: Factory
) -> None:
    make.admin  # noqa: B018 - the administrator's own creation is not part of the day
    before = last_id(app)
    run_a_day(client, make)
    events = stored(app, before)
    counted = Counter(e.type for e in events)
    counted.pop("person.created")  # Ana and Bo, made through actions by the factory
    # Bo's reply mentions Ana: she is told live within her working hours (an event for her
    # alone), or the notification is held for her digest (no event) outside them.
    with app.db.read() as conn:
        told = conn.execute(sa.select(notifications.c.held)).scalars().all()
    assert len(told) == 1
    assert counted.pop("notification.created", 0) == (0 if told[0] else 1)
    assert counted == EXPECTED
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))
    assert all(later > earlier for earlier, later in itertools.pairwise(ids))


def test_the_hub_hears_each_committed_event_once(
    app: App, client: TestClient, make: Factory, listener: Listener
) -> None:
    run_a_day(client, make)
    events = stored(app)
    assert [e.id for e in listener.received] == [e.id for e in events]
    assert listener.uncommitted == []
    by_id = {e.id: e for e in events}
    for heard in listener.received:
        same = by_id[heard.id]
        assert (heard.type, heard.space_id, heard.actor_id, heard.payload) == (
            same.type,
            same.space_id,
            same.actor_id,
            same.payload,
        )
    assert app.hub.last_event_id == events[-1].id


def test_a_failed_transaction_leaves_no_event_and_publishes_nothing(
    app: App, make: Factory, listener: Listener
) -> None:
    ana = make.person("Ana")
    before = last_id(app)
    listener.received.clear()

    def change_then_fail() -> None:
        with app.db.transaction() as tx:
            emit(app, tx, "space.updated", space_id=None, actor_id=ana.id, payload={"n": 1})
            emit(app, tx, "space.updated", space_id=None, actor_id=ana.id, payload={"n": 2})
            raise Conflict("changed my mind")

    with pytest.raises(Conflict):
        change_then_fail()
    assert stored(app, before) == []
    assert listener.received == []
    # The log carries on from where it was.
    with app.db.transaction() as tx:
        emit(app, tx, "space.updated", space_id=None, actor_id=ana.id, payload={"n": 3})
    (event,) = stored(app, before)
    assert event.payload == {"n": 3}
    assert [e.id for e in listener.received] == [event.id]


def test_an_action_failing_half_way_rolls_its_events_back(
    app: App, client: TestClient, make: Factory, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = make.person("Ana")
    sid = ok(client.post(f"{API}/spaces", json={"name": "Voices"}, headers=ana.headers), 201)["id"]
    before = last_id(app)
    listener.received.clear()
    real_insert_post = topics_actions.insert_post

    def insert_then_clash(*args: Any, **kwargs: Any) -> Any:
        # topic.created and post.created are in the log by now; then the action fails.
        real_insert_post(*args, **kwargs)
        raise Conflict("a clash discovered at the last moment")

    monkeypatch.setattr(topics_actions, "insert_post", insert_then_clash)
    response = client.post(
        f"{API}/spaces/{sid}/topics", json={"title": "T", "body": "B"}, headers=ana.headers
    )
    assert response.status_code == 409, response.text
    assert stored(app, before) == []
    assert listener.received == []
    assert ok(client.get(f"{API}/spaces/{sid}/topics", headers=ana.headers))["items"] == []
    # The same request without the clash goes through, with both events.
    monkeypatch.undo()
    ok(client.post(f"{API}/spaces/{sid}/topics", json={"title": "T", "body": "B"}, headers=ana.headers), 201)
    assert [e.type for e in stored(app, before)] == ["topic.created", "post.created"]
    assert [e.type for e in listener.received] == ["topic.created", "post.created"]


def test_a_failing_listener_harms_neither_the_action_nor_other_listeners(
    app: App, client: TestClient, make: Factory, listener: Listener
) -> None:
    def broken(_events: Sequence[Event]) -> None:
        raise RuntimeError("listener bug")

    unsubscribe = app.hub.subscribe(broken)
    try:
        ana = make.person("Ana")
        response = client.post(f"{API}/spaces", json={"name": "Voices"}, headers=ana.headers)
    finally:
        unsubscribe()
    assert response.status_code == 201
    assert "space.created" in [e.type for e in listener.received]


def test_post_events_carry_the_api_shape_plus_mentions(
    app: App, client: TestClient, make: Factory, listener: Listener
) -> None:
    ana, bo = make.person("Ana"), make.person("Bo")
    sid = ok(client.post(f"{API}/spaces", json={"name": "Voices"}, headers=ana.headers), 201)["id"]
    ok(client.post(f"{API}/spaces/{sid}/join", headers=bo.headers))
    created = ok(
        client.post(
            f"{API}/spaces/{sid}/topics",
            json={"title": "Q", "body": f"Hey @{bo.person.handle} and @space"},
            headers=ana.headers,
        ),
        201,
    )
    tid = created["topic"]["id"]
    reply = ok(
        client.post(
            f"{API}/topics/{tid}/posts",
            json={
                "body": f"**Yes** @{ana.person.email} @{bo.person.handle}",
                "reply_to_id": created["post"]["id"],
            },
            headers=bo.headers,
        ),
        201,
    )
    ok(client.post(f"{API}/posts/{reply['id']}/reactions", json={"emoji": "tada"}, headers=ana.headers))
    edited = ok(client.patch(f"{API}/posts/{reply['id']}", json={"body": "Yes, plainly"}, headers=bo.headers))
    deleted = ok(client.delete(f"{API}/posts/{reply['id']}", headers=bo.headers))

    events = {(e.type, e.payload.get("id")): e for e in stored(app)}
    first = events[("post.created", created["post"]["id"])]
    second = events[("post.created", reply["id"])]
    assert first.payload == {**created["post"], "mentions": [bo.id], "mentions_space": True}
    assert second.payload == {**reply, "mentions": [ana.id], "mentions_space": False}
    assert events[("post.edited", reply["id"])].payload == {**edited, "mentions": [], "mentions_space": False}
    assert events[("post.deleted", reply["id"])].payload == deleted
    assert events[("topic.created", tid)].space_id == sid
    # What the hub handed over is what was stored, and what a fresh read returns.
    heard = {(e.type, e.payload.get("id")): e.payload for e in listener.received}
    assert heard[("post.created", created["post"]["id"])] == first.payload
    snapshot = ok(client.get(f"{API}/posts/{created['post']['id']}", headers=ana.headers))
    assert {k: v for k, v in first.payload.items() if not k.startswith("mentions")} == snapshot
