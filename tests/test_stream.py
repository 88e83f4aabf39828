"""The event stream over WebSocket and SSE: delivery, visibility, resume without gaps."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from tests.conftest import Actor, Factory


def _space(client: TestClient, owner: Actor, name: str, visibility: str = "public") -> int:
    made = client.post("/api/v1/spaces", json={"name": name, "visibility": visibility}, headers=owner.headers)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _topic(client: TestClient, author: Actor, space_id: int, title: str) -> dict[str, Any]:
    made = client.post(
        f"/api/v1/spaces/{space_id}/topics", json={"title": title, "body": title}, headers=author.headers
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _until_live(ws: WebSocketTestSession) -> list[dict[str, Any]]:
    """Read frames until the server says the stream is live; return the replayed events."""
    events: list[dict[str, Any]] = []
    while True:
        frame = json.loads(ws.receive_text())
        if frame["type"] == "live":
            return events
        events.extend(frame["events"])


def _at_least(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    """Read frames until ``count`` events have come (they may arrive in one frame or more)."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        events += _next_events(ws)
    return events


def _next_events(ws: WebSocketTestSession) -> list[dict[str, Any]]:
    frame = json.loads(ws.receive_text())
    assert frame["type"] == "events", frame
    return list(frame["events"])


def test_a_member_receives_a_post_live(client: TestClient, make: Factory) -> None:
    owner, member = make.person("Owner"), make.person("Member")
    space_id = _space(client, owner, "Live")
    client.post(f"/api/v1/spaces/{space_id}/join", headers=member.headers)
    with client.websocket_connect("/api/v1/stream", headers=member.headers) as ws:
        _until_live(ws)
        created = _topic(client, owner, space_id, "Fresh news")
        received = _at_least(ws, 2)
    assert [e["type"] for e in received] == ["topic.created", "post.created"]
    assert received[1]["payload"]["id"] == created["post"]["id"]
    assert received[0]["id"] < received[1]["id"]


def test_first_message_authentication_and_refusal(client: TestClient, make: Factory) -> None:
    member = make.person("Member")
    with client.websocket_connect("/api/v1/stream") as ws:
        ws.send_text(json.dumps({"type": "auth", "token": member.token}))
        _until_live(ws)
    with client.websocket_connect("/api/v1/stream") as ws:
        ws.send_text(json.dumps({"type": "auth", "token": "not-a-token"}))
        message = ws.receive()
    assert message["type"] == "websocket.close"
    assert message["code"] == 4001


def test_private_space_events_reach_members_only(client: TestClient, make: Factory) -> None:
    owner, outsider = make.person("Owner"), make.person("Outsider")
    private_id = _space(client, owner, "Secret", "private")
    public_id = _space(client, owner, "Open")
    client.post(f"/api/v1/spaces/{public_id}/join", headers=outsider.headers)
    with client.websocket_connect("/api/v1/stream", headers=outsider.headers) as ws:
        _until_live(ws)
        _topic(client, owner, private_id, "Hidden plans")
        _topic(client, owner, public_id, "Open news")
        received = _at_least(ws, 2)
    assert {e["space_id"] for e in received} == {public_id}
    assert "Hidden plans" not in json.dumps(received)


def test_removal_stops_delivery_and_joining_starts_it(client: TestClient, make: Factory) -> None:
    owner, member = make.person("Owner"), make.person("Member")
    space_id = _space(client, owner, "Team", "private")
    with client.websocket_connect("/api/v1/stream", headers=member.headers) as ws:
        _until_live(ws)
        client.post(
            f"/api/v1/spaces/{space_id}/members", json={"person_id": member.id}, headers=owner.headers
        )
        added = _next_events(ws)
        assert [e["type"] for e in added] == ["member.added"]
        _topic(client, owner, space_id, "While a member")
        _at_least(ws, 2)
        client.delete(f"/api/v1/spaces/{space_id}/members/{member.id}", headers=owner.headers)
        removed = _next_events(ws)
        assert [e["type"] for e in removed] == ["member.removed"]
        _topic(client, owner, space_id, "After removal")
        # A public space's event proves the stream is alive and that nothing came between.
        public_id = _space(client, owner, "Marker")
        after = _next_events(ws)
    assert [e["type"] for e in after] == ["space.created"]
    assert after[0]["space_id"] == public_id


def test_resume_replays_exactly_what_was_missed(client: TestClient, make: Factory) -> None:
    owner, member = make.person("Owner"), make.person("Member")
    space_id = _space(client, owner, "Resume")
    client.post(f"/api/v1/spaces/{space_id}/join", headers=member.headers)
    with client.websocket_connect("/api/v1/stream", headers=member.headers) as ws:
        _until_live(ws)
        topic = _topic(client, owner, space_id, "Before the drop")
        first = _at_least(ws, 2)
    last_seen = first[-1]["id"]
    topic_id = topic["topic"]["id"]
    missed = [
        client.post(f"/api/v1/topics/{topic_id}/posts", json={"body": f"missed {i}"}, headers=owner.headers)
        for i in range(5)
    ]
    with client.websocket_connect(f"/api/v1/stream?since={last_seen}", headers=member.headers) as ws:
        replayed = _until_live(ws)
        client.post(f"/api/v1/topics/{topic_id}/posts", json={"body": "live again"}, headers=owner.headers)
        live = _next_events(ws)
    ids = [e["id"] for e in replayed + live]
    assert ids == sorted(set(ids)), "no duplicate, in order"
    assert [e["payload"]["id"] for e in replayed] == [m.json()["id"] for m in missed]
    assert live[0]["payload"]["source"] == "live again"


def test_read_pointer_and_unread_counts(client: TestClient, make: Factory) -> None:
    owner, member = make.person("Owner"), make.person("Member")
    space_id = _space(client, owner, "Unread")
    client.post(f"/api/v1/spaces/{space_id}/join", headers=member.headers)
    topic = _topic(client, owner, space_id, "One")
    reply = client.post(
        f"/api/v1/topics/{topic['topic']['id']}/posts", json={"body": "two"}, headers=owner.headers
    ).json()

    def unread() -> int:
        listed = client.get("/api/v1/spaces", headers=member.headers).json()
        return int(next(s["unread_count"] for s in listed if s["id"] == space_id))

    assert unread() == 2
    with client.websocket_connect("/api/v1/stream", headers=member.headers) as ws:
        _until_live(ws)
        marked = client.post(
            f"/api/v1/spaces/{space_id}/read", json={"post_id": topic["post"]["id"]}, headers=member.headers
        )
        assert marked.json() == {
            "space_id": space_id,
            "last_read_post_id": topic["post"]["id"],
            "unread_count": 1,
        }
        event = _next_events(ws)[0]
    assert event["type"] == "read.updated"
    assert event["payload"]["unread_count"] == 1
    assert unread() == 1
    client.post(f"/api/v1/spaces/{space_id}/read", json={}, headers=member.headers)
    assert unread() == 0
    # The pointer never moves back.
    back = client.post(f"/api/v1/spaces/{space_id}/read", json={"post_id": 1}, headers=member.headers)
    assert back.json()["last_read_post_id"] == reply["id"]


def test_seen_receipts_once_per_person_and_private_to_the_author(client: TestClient, make: Factory) -> None:
    author, reader, other = make.person("Author"), make.person("Reader"), make.person("Other")
    space_id = _space(client, author, "Receipts")
    for person in (reader, other):
        client.post(f"/api/v1/spaces/{space_id}/join", headers=person.headers)
    post_id = _topic(client, author, space_id, "Seen?")["post"]["id"]
    with client.websocket_connect("/api/v1/stream", headers=author.headers) as ws:
        _until_live(ws)
        first = client.post("/api/v1/seen", json={"post_ids": [post_id, post_id]}, headers=reader.headers)
        again = client.post("/api/v1/seen", json={"post_ids": [post_id]}, headers=reader.headers)
        receipt = _next_events(ws)[0]
    assert first.json() == {"newly_seen": [post_id]}
    assert again.json() == {"newly_seen": []}
    assert receipt["type"] == "receipts.added"
    assert receipt["payload"]["seen"] == [{"post_id": post_id, "seen_count": 1}]
    for_author = client.get(f"/api/v1/posts/{post_id}/seen", headers=author.headers).json()
    for_other = client.get(f"/api/v1/posts/{post_id}/seen", headers=other.headers).json()
    assert for_author["seen_count"] == for_other["seen_count"] == 1
    assert for_author["member_count"] == 3
    assert [s["person_id"] for s in for_author["seen_by"]] == [reader.id]
    assert for_other["seen_by"] is None
    # Own posts and unreadable posts are ignored without saying which.
    assert client.post("/api/v1/seen", json={"post_ids": [post_id]}, headers=author.headers).json() == {
        "newly_seen": []
    }
