"""Presence: online, idle, away and offline from real connections, coalesced per space."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import websockets
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from tests.conftest import FAST_HASHER, Actor, Factory
from tests.live import serving
from tests.movable_clock import Timed, clocked_app, timed_app
from websockets.sync.client import connect

from kith.actions import events, presence
from kith.app import App, build_app, utc_now
from kith.storage import presence as presence_store

QUIET = {"presence_flush_seconds": 60.0}  # the tests flush by hand


def _space(client: TestClient, owner: Actor, name: str, visibility: str = "public") -> int:
    made = client.post("/api/v1/spaces", json={"name": name, "visibility": visibility}, headers=owner.headers)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _join(client: TestClient, space_id: int, *actors: Actor) -> None:
    for actor in actors:
        assert client.post(f"/api/v1/spaces/{space_id}/join", headers=actor.headers).status_code in (200, 201)


def _add(client: TestClient, owner: Actor, space_id: int, *actors: Actor) -> None:
    for actor in actors:
        added = client.post(
            f"/api/v1/spaces/{space_id}/members", json={"person_id": actor.id}, headers=owner.headers
        )
        assert added.status_code in (200, 201), added.text


def _statuses(client: TestClient, viewer: Actor, space_id: int) -> dict[int, str]:
    got = client.get(f"/api/v1/presence?space={space_id}", headers=viewer.headers)
    assert got.status_code == 200, got.text
    return {p["person_id"]: p["status"] for p in got.json()["people"]}


def _until_live(ws: WebSocketTestSession) -> None:
    while json.loads(ws.receive_text())["type"] != "live":
        pass


def _presence_events(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while len(found) < count:
        frame = json.loads(ws.receive_text())
        found += [e for e in frame["events"] if e["type"] == "presence.changed"]
    return found


def _logged_presence(app: App, space_id: int | None = None) -> list[Any]:
    return [
        e
        for e in events.list_since(app, 0, limit=10_000)
        if e.type == "presence.changed" and (space_id is None or e.space_id == space_id)
    ]


# the basics, through a real stream


def test_connecting_and_leaving_publish_presence_to_the_space(database_url: str) -> None:
    with timed_app(database_url, **QUIET) as t:
        owner, ana, outsider = t.make.person("Owner"), t.make.person("Ana"), t.make.person("Outsider")
        private_id = _space(t.client, owner, "Backroom", "private")
        _add(t.client, owner, private_id, ana)
        assert _statuses(t.client, owner, private_id) == {owner.id: "offline", ana.id: "offline"}

        with (
            t.client.websocket_connect("/api/v1/stream", headers=owner.headers) as watching,
            t.client.websocket_connect("/api/v1/stream", headers=outsider.headers) as outside,
        ):
            _until_live(watching)
            _until_live(outside)
            presence.flush(t.app)  # the owner's and the outsider's connections
            with t.client.websocket_connect("/api/v1/stream", headers=ana.headers) as ws:
                _until_live(ws)
                presence.flush(t.app)
                assert _statuses(t.client, owner, private_id)[ana.id] == "online"
                events = _presence_events(watching, 2)
                assert events[-1]["space_id"] == private_id
                assert events[-1]["payload"]["people"] == [
                    {"person_id": ana.id, "status": "online", "away": False, "since": t.clock.now.isoformat()}
                ]
            t.clock.advance(seconds=5)
            deadline = time.monotonic() + 5
            while t.app.presence.local_people().get(ana.id) and time.monotonic() < deadline:
                time.sleep(0.01)
            presence.flush(t.app)
            gone = _presence_events(watching, 1)
            assert gone[0]["payload"]["people"][0]["status"] == "offline"
            assert _statuses(t.client, owner, private_id)[ana.id] == "offline"
            # The outsider's stream carries nothing of the private space: a post they may see
            # arrives, and it is the first thing they receive.
            open_id = _space(t.client, owner, "Open hall")
            _join(t.client, open_id, outsider)
            frame = json.loads(outside.receive_text())
            assert all(e["space_id"] != private_id for e in frame["events"]), frame


def test_presence_of_a_private_space_is_for_those_who_may_read_it(client: TestClient, make: Factory) -> None:
    owner, outsider = make.person("Owner"), make.person("Outsider")
    private_id = _space(client, owner, "Backroom", "private")
    refused = client.get(f"/api/v1/presence?space={private_id}", headers=outsider.headers)
    missing = client.get("/api/v1/presence?space=999999", headers=outsider.headers)
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["error"]["message"].replace(str(private_id), "N") == missing.json()["error"][
        "message"
    ].replace("999999", "N")
    public_id = _space(client, owner, "Open")
    assert _statuses(client, outsider, public_id) == {owner.id: "offline"}


def test_presence_request_errors_name_the_field(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana")
    neither = client.get("/api/v1/presence", headers=ana.headers)
    assert neither.status_code == 422
    assert "space" in neither.json()["error"]["fields"]
    both = client.get(f"/api/v1/presence?space=1&person={ana.id}", headers=ana.headers)
    assert both.status_code == 422
    bad = client.get("/api/v1/presence?person=abc", headers=ana.headers)
    assert bad.status_code == 422
    assert "person" in json.dumps(bad.json()["error"]["fields"])
    assert client.get("/api/v1/presence?person=1").status_code == 401
    wrong = client.put("/api/v1/presence/me", json={"away": "yes"}, headers=ana.headers)
    assert wrong.status_code == 422
    assert "away" in wrong.json()["error"]["fields"]


def test_local_time_and_working_hours(database_url: str) -> None:
    with timed_app(database_url, **QUIET) as t:
        # 09:00 UTC on a Monday is 18:00 in Tokyo (after hours) and 10:00 in Berlin.
        tokyo = t.make.person("Kenji", timezone="Asia/Tokyo")
        berlin = t.make.person("Greta", timezone="Europe/Berlin")
        got = t.client.get(f"/api/v1/presence?person={tokyo.id}&person={berlin.id}", headers=tokyo.headers)
        assert got.status_code == 200, got.text
        people = {p["person_id"]: p for p in got.json()["people"]}
        assert people[tokyo.id]["local_time"].startswith("2026-03-02T18:00:00+09:00")
        assert people[tokyo.id]["working_now"] is False
        assert people[berlin.id]["local_time"].startswith("2026-03-02T10:00:00+01:00")
        assert people[berlin.id]["working_now"] is True
        assert people[berlin.id]["timezone"] == "Europe/Berlin"


# idle, away, activity


def test_idle_after_quiet_and_online_again_on_activity(database_url: str) -> None:
    with timed_app(database_url, presence_idle_seconds=300, **QUIET) as t:
        owner, ana = t.make.person("Owner"), t.make.person("Ana")
        space_id = _space(t.client, owner, "Floor")
        _join(t.client, space_id, ana)
        with t.client.websocket_connect("/api/v1/stream", headers=ana.headers) as ws:
            _until_live(ws)
            presence.flush(t.app)
            assert _statuses(t.client, owner, space_id)[ana.id] == "online"
            _pass_time(t, 299)
            assert presence.flush(t.app) == []
            _pass_time(t, 2)
            changed = presence.flush(t.app)
            assert [(s.person_id, s.status) for s in changed] == [(ana.id, "idle")]
            ws.send_text(json.dumps({"type": "active"}))
            _wait_for(lambda: bool(presence.flush(t.app)))  # the message is read in the server's loop
            assert _statuses(t.client, owner, space_id)[ana.id] == "online"
            # Posting is activity too.
            _pass_time(t, 301)
            presence.flush(t.app)
            assert _statuses(t.client, owner, space_id)[ana.id] == "idle"
            topic = t.client.post(
                f"/api/v1/spaces/{space_id}/topics", json={"title": "Hi", "body": "Hi"}, headers=ana.headers
            )
            reply = t.client.post(
                f"/api/v1/topics/{topic.json()['topic']['id']}/posts",
                json={"body": "me again"},
                headers=ana.headers,
            )
            assert reply.status_code == 201
            presence.flush(t.app)
            assert _statuses(t.client, owner, space_id)[ana.id] == "online"


def test_away_is_kept_until_cleared(database_url: str) -> None:
    with timed_app(database_url, **QUIET) as t:
        owner, ana = t.make.person("Owner"), t.make.person("Ana")
        space_id = _space(t.client, owner, "Floor")
        _join(t.client, space_id, ana)
        away = t.client.put("/api/v1/presence/me", json={"away": True}, headers=ana.headers)
        assert away.status_code == 200, away.text
        assert away.json()["status"] == "offline"
        assert away.json()["away"] is True
        with t.client.websocket_connect("/api/v1/stream", headers=ana.headers) as ws:
            _until_live(ws)
            presence.flush(t.app)
            assert _statuses(t.client, owner, space_id)[ana.id] == "away"
            back = t.client.put("/api/v1/presence/me", json={"away": False}, headers=ana.headers)
            assert back.json()["status"] == "online"
            assert back.json()["away"] is False
        events = _logged_presence(t.app, space_id)
        assert [e.payload["people"][0]["status"] for e in events] == ["away", "online"]


# coalescing


def test_a_reconnect_storm_is_one_event_per_space(database_url: str) -> None:
    """1,000 connects and disconnects between two flushes: one write, one event per space."""
    with timed_app(database_url, **QUIET) as t:
        owner = t.make.person("Owner")
        people = [t.make.person(f"P{i}") for i in range(40)]
        first, second = _space(t.client, owner, "One"), _space(t.client, owner, "Two")
        _join(t.client, first, *people)
        _join(t.client, second, *people[:10])
        tracker = t.app.presence
        for round_ in range(25):
            for person in people:
                tracker.connected(person.id, t.clock.now)
                if round_ < 24:
                    tracker.disconnected(person.id)
        presence.flush(t.app)
        events = _logged_presence(t.app)
        assert sorted(e.space_id for e in events) == [first, second]
        by_space = {e.space_id: e.payload["people"] for e in events}
        assert sorted(p["person_id"] for p in by_space[first]) == sorted(p.id for p in people)
        assert sorted(p["person_id"] for p in by_space[second]) == sorted(p.id for p in people[:10])
        assert {p["status"] for p in by_space[first]} == {"online"}
        assert presence.flush(t.app) == []  # nothing new: no write, no event


def test_real_connections_are_coalesced_per_flush(database_url: str) -> None:
    """Many real WebSocket connections at once: per space, presence events come at most one per
    flush interval, and together they say everyone is online."""
    with clocked_app(database_url, utc_now, presence_flush_seconds=0.5) as app:
        make = Factory(app)
        owner = make.person("Owner")
        people = [make.person(f"P{i}") for i in range(30)]
        with serving(app) as url, _Http(url) as http:
            space_id = http.space(owner, "Storm")
            for person in people:
                http.join(person, space_id)
            asyncio.run(_storm(url, [p.token for p in people], per_person=5))
            _wait_for(lambda: _all_online(app, space_id, people), timeout=10)
        events = _logged_presence(app, space_id)
        times = sorted({e.created_at for e in events})
        assert len(times) == len(events), "two presence events of one space in one flush"
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= timedelta(seconds=0.45) for gap in gaps), gaps
        assert len(events) <= 10  # 150 connections, a handful of batches
        seen: dict[int, list[str]] = {}
        for event in events:
            for change in event.payload["people"]:
                seen.setdefault(change["person_id"], []).append(change["status"])
        # Each person came online once and went offline once (the sockets closed).
        assert all(seen[p.id] == ["online", "offline"] for p in people), seen


async def _storm(url: str, tokens: list[str], *, per_person: int) -> None:
    ws_url = url.replace("http://", "ws://") + "/api/v1/stream"
    sockets = []
    try:
        for _ in range(per_person):
            for token in tokens:
                sockets.append(
                    await websockets.connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"})
                )
        for ws in sockets:
            while json.loads(await ws.recv())["type"] != "live":
                pass
        await asyncio.sleep(1.5)  # stay connected over a few flushes
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


def _all_online(app: App, space_id: int, people: list[Actor]) -> bool:
    with app.db.read() as conn:
        states = presence_store.states(conn, [p.id for p in people])
    return all(states.get(p.id) is not None and states[p.id].status == "online" for p in people)


# several processes, and a crashed one


def test_a_person_stays_online_while_any_process_holds_a_connection(database_url: str) -> None:
    with timed_app(database_url, **QUIET) as t:
        other = build_app(t.app.settings, clock=t.clock, hasher=FAST_HASHER)
        try:
            owner, ana = t.make.person("Owner"), t.make.person("Ana")
            space_id = _space(t.client, owner, "Floor")
            _join(t.client, space_id, ana)
            t.app.presence.connected(ana.id, t.clock.now)
            other.presence.connected(ana.id, t.clock.now)
            presence.flush(t.app)
            presence.flush(other)
            assert _statuses(t.client, owner, space_id)[ana.id] == "online"
            t.app.presence.disconnected(ana.id)
            assert presence.flush(t.app) == []
            assert _statuses(t.client, owner, space_id)[ana.id] == "online"
            other.presence.disconnected(ana.id)
            assert [s.status for s in presence.flush(other)] == ["offline"]
        finally:
            other.close()


def test_a_crashed_process_s_people_go_offline_after_the_ttl(database_url: str) -> None:
    with timed_app(database_url, presence_ttl_seconds=90, **QUIET) as t:
        crashed = build_app(t.app.settings, clock=t.clock, hasher=FAST_HASHER)
        try:
            owner, ana, bo = t.make.person("Owner"), t.make.person("Ana"), t.make.person("Bo")
            space_id = _space(t.client, owner, "Floor")
            _join(t.client, space_id, ana, bo)
            crashed.presence.connected(ana.id, t.clock.now)
            t.app.presence.connected(bo.id, t.clock.now)
            presence.flush(crashed)
            presence.flush(t.app)
            # The crashed process renews nothing; the live one renews its rows as it sweeps.
            t.clock.advance(seconds=60)
            assert presence.sweep(t.app) == []
            t.clock.advance(seconds=40)
            gone = presence.sweep(t.app)
            assert [(s.person_id, s.status) for s in gone] == [(ana.id, "offline")]
            statuses = _statuses(t.client, owner, space_id)
            assert statuses[ana.id] == "offline"
            assert statuses[bo.id] in ("online", "idle")
        finally:
            crashed.close()


def test_a_stopping_server_takes_its_people_offline(database_url: str) -> None:
    with clocked_app(database_url, utc_now, presence_flush_seconds=0.2) as app:
        make = Factory(app)
        owner, ana = make.person("Owner"), make.person("Ana")
        server = serving(app)
        url = server.__enter__()
        with _Http(url) as http:
            space_id = http.space(owner, "Floor")
            http.join(ana, space_id)
        stream_url = url.replace("http://", "ws://") + "/api/v1/stream"
        with connect(stream_url, additional_headers={"Authorization": f"Bearer {ana.token}"}) as ws:
            while json.loads(ws.recv(timeout=5))["type"] != "live":
                pass
            _wait_for(lambda: _all_online(app, space_id, [ana]))
            server.__exit__(None, None, None)  # the server stops with the connection open
        with app.db.read() as conn:
            assert presence_store.states(conn, [ana.id])[ana.id].status == "offline"
            assert presence_store.connected(conn, [ana.id], datetime.now(UTC) - timedelta(hours=1)) == set()


# the stream's own sign-out rules


def test_deactivating_a_person_closes_their_stream(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana")
    with client.websocket_connect("/api/v1/stream", headers=ana.headers) as ws:
        _until_live(ws)
        done = client.patch(f"/api/v1/people/{ana.id}", json={"active": False}, headers=make.admin.headers)
        assert done.status_code == 200, done.text
        message = _until_closed(ws)
    assert message["code"] == 4009
    assert "deactivated" in message["reason"]


def test_a_signed_out_token_s_stream_closes_at_the_next_check(database_url: str) -> None:
    with timed_app(database_url, stream_recheck_seconds=0.2, **QUIET) as t:
        ana = t.make.person("Ana")
        with t.client.websocket_connect("/api/v1/stream", headers=ana.headers) as ws:
            _until_live(ws)
            assert t.client.post("/api/v1/auth/logout", headers=ana.headers).status_code == 204
            message = _until_closed(ws)
        assert message["code"] == 4009


def test_an_unknown_client_message_closes_with_4400(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana")
    with client.websocket_connect("/api/v1/stream", headers=ana.headers) as ws:
        _until_live(ws)
        ws.send_text(json.dumps({"type": "shout"}))
        message = _until_closed(ws)
    assert message["code"] == 4400


def _pass_time(t: Timed, seconds: int) -> None:
    """Move the clock as the server lives through it: renewing its connections as it goes."""
    step = t.app.settings.presence_ttl_seconds // 3
    while seconds > 0:
        t.clock.advance(seconds=min(step, seconds))
        seconds -= step
        presence.sweep(t.app)


def _until_closed(ws: WebSocketTestSession) -> dict[str, Any]:
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return dict(message)


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class _Http:
    """A few REST calls against a live server."""

    def __init__(self, url: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=url, timeout=10)

    def __enter__(self) -> _Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def space(self, owner: Actor, name: str) -> int:
        made = self.http.post("/api/v1/spaces", json={"name": name}, headers=owner.headers)
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    def join(self, actor: Actor, space_id: int) -> None:
        assert self.http.post(f"/api/v1/spaces/{space_id}/join", headers=actor.headers).status_code in (
            200,
            201,
        )
