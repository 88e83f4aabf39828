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
        added = _at_least(ws, 2)
        # Being added, then the space's new member count (which non-members hear of instead).
        assert [e["type"] for e in added] == ["member.added", "space.updated"]
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


def _types_in(events: list[dict[str, Any]], space_id: int) -> list[str]:
    return [e["type"] for e in events if e["space_id"] == space_id]


def _marker(client: TestClient, owner: Actor, name: str) -> int:
    """A public space everyone hears of: read up to it to know that nothing else came."""
    return _space(client, owner, name)


def _until_space(ws: WebSocketTestSession, space_id: int) -> list[dict[str, Any]]:
    """Read events until one of ``space_id`` (the marker) has come; return them all."""
    events: list[dict[str, Any]] = []
    while not any(e["space_id"] == space_id for e in events):
        events += _next_events(ws)
    return events


def test_an_administrator_hears_of_private_spaces_but_not_their_content(
    client: TestClient, make: Factory
) -> None:
    owner, member, admin = make.person("Owner"), make.person("Member"), make.admin
    with client.websocket_connect("/api/v1/stream", headers=admin.headers) as ws:
        _until_live(ws)
        private_id = _space(client, owner, "Secret", "private")
        client.post(
            f"/api/v1/spaces/{private_id}/members", json={"person_id": member.id}, headers=owner.headers
        )
        client.patch(
            f"/api/v1/spaces/{private_id}", json={"description": "Admins see this"}, headers=owner.headers
        )
        _topic(client, owner, private_id, "Hidden plans")
        client.delete(f"/api/v1/spaces/{private_id}/members/{member.id}", headers=owner.headers)
        client.post(f"/api/v1/spaces/{private_id}/archive", headers=owner.headers)
        received = _until_space(ws, _marker(client, owner, "Marker"))
    # What GET /spaces shows an administrator of the space: the space and its member count,
    # which member events, reaching members only, do not tell a non-member.
    assert _types_in(received, private_id) == [
        "space.created",
        "space.updated",  # two members
        "space.updated",  # the description
        "space.updated",  # one member again
        "space.archived",
    ]
    counts = [e["payload"]["member_count"] for e in received if e["space_id"] == private_id]
    assert counts == [1, 2, 2, 1, 1]
    assert "Hidden plans" not in json.dumps(received)
    listed = client.get("/api/v1/spaces?include_archived=true", headers=admin.headers).json()
    assert next(s for s in listed if s["id"] == private_id)["member_count"] == 1
    # A member who is no administrator hears nothing of a private space they are not in.
    with client.websocket_connect("/api/v1/stream", headers=member.headers) as ws:
        _until_live(ws)
        other_id = _space(client, owner, "Other secret", "private")
        client.patch(
            f"/api/v1/spaces/{other_id}", json={"description": "Not for Member"}, headers=owner.headers
        )
        received = _until_space(ws, _marker(client, owner, "Marker 2"))
    assert _types_in(received, other_id) == []


def test_an_administrator_replays_private_spaces_too(client: TestClient, make: Factory) -> None:
    owner, admin = make.person("Owner"), make.admin
    with client.websocket_connect("/api/v1/stream", headers=admin.headers) as ws:
        _until_live(ws)
        _space(client, owner, "Start")
        since = _next_events(ws)[0]["id"]  # where a client that stopped here resumes
    private_id = _space(client, owner, "Secret", "private")
    _topic(client, owner, private_id, "Hidden plans")
    client.patch(f"/api/v1/spaces/{private_id}", json={"name": "Secret (renamed)"}, headers=owner.headers)
    with client.websocket_connect(f"/api/v1/stream?since={since}", headers=admin.headers) as ws:
        replayed = _until_live(ws)
    assert _types_in(replayed, private_id) == ["space.created", "space.updated"]
    assert "Hidden plans" not in json.dumps(replayed)


def test_a_role_change_ends_the_stream_so_the_client_reloads(client: TestClient, make: Factory) -> None:
    person, admin = make.person("Promoted"), make.admin
    with client.websocket_connect("/api/v1/stream", headers=person.headers) as ws:
        _until_live(ws)
        changed = client.patch(f"/api/v1/people/{person.id}", json={"role": "admin"}, headers=admin.headers)
        assert changed.status_code == 200, changed.text
        while True:
            message = ws.receive()
            if message["type"] == "websocket.close":
                break
            frame = json.loads(message["text"])
            assert [e["type"] for e in frame["events"]] == ["person.updated"]
    assert message["code"] == 4010
    # Resumed, the stream follows the new role: the private spaces' own events come too.
    with client.websocket_connect("/api/v1/stream", headers=person.headers) as ws:
        _until_live(ws)
        private_id = _space(client, admin, "Secret", "private")
        received = _next_events(ws)
    assert _types_in(received, private_id) == ["space.created"]
    # Another change to the person (not their role) leaves the stream open.
    with client.websocket_connect("/api/v1/stream", headers=person.headers) as ws:
        _until_live(ws)
        client.patch(f"/api/v1/people/{person.id}", json={"title": "Boss"}, headers=admin.headers)
        assert [e["type"] for e in _next_events(ws)] == ["person.updated"]
        marker = _marker(client, admin, "Still open")
        assert _types_in(_next_events(ws), marker) == ["space.created"]


def test_a_public_space_turning_private_disappears_for_non_members(client: TestClient, make: Factory) -> None:
    owner, member, outsider = make.person("Owner"), make.person("Member"), make.person("Outsider")
    space_id = _space(client, owner, "Plaza")
    client.post(f"/api/v1/spaces/{space_id}/join", headers=member.headers)
    changes = {"visibility": "private", "name": "Closed room", "description": "members only"}
    with (
        client.websocket_connect("/api/v1/stream", headers=outsider.headers) as out_ws,
        client.websocket_connect("/api/v1/stream", headers=member.headers) as member_ws,
    ):
        _until_live(out_ws)
        _until_live(member_ws)
        assert (
            client.patch(f"/api/v1/spaces/{space_id}", json=changes, headers=owner.headers).status_code == 200
        )
        _topic(client, owner, space_id, "Now private")
        marker = _marker(client, owner, "Marker")
        outside = _until_space(out_ws, marker)
        inside = _until_space(member_ws, marker)
    # The outsider hears that the space went private, and nothing it did not see before.
    gone = [e for e in outside if e["space_id"] == space_id]
    assert [(e["type"], e["payload"]["visibility"], e["payload"]["previous_visibility"]) for e in gone] == [
        ("space.updated", "private", "public")
    ]
    assert gone[0]["payload"]["name"] == "Plaza"
    assert "Closed room" not in json.dumps(outside)
    assert "Now private" not in json.dumps(outside)
    # A member hears both steps and goes on hearing the space.
    updates = [e["payload"] for e in inside if e["type"] == "space.updated"]
    assert [(u["name"], u["visibility"], u.get("previous_visibility")) for u in updates] == [
        ("Plaza", "private", "public"),
        ("Closed room", "private", None),
    ]
    assert _types_in(inside, space_id)[-2:] == ["topic.created", "post.created"]
    # Back to public: everyone hears it, with what it was.
    with client.websocket_connect("/api/v1/stream", headers=outsider.headers) as ws:
        _until_live(ws)
        client.patch(f"/api/v1/spaces/{space_id}", json={"visibility": "public"}, headers=owner.headers)
        back = _next_events(ws)
    assert [(e["payload"]["visibility"], e["payload"]["previous_visibility"]) for e in back] == [
        ("public", "private")
    ]


def test_a_replay_starts_a_private_space_at_the_readers_member_added(
    client: TestClient, make: Factory
) -> None:
    owner, reader = make.person("Owner"), make.person("Reader")
    space_id = _space(client, owner, "Team", "private")
    with client.websocket_connect("/api/v1/stream", headers=reader.headers) as ws:
        _until_live(ws)
        _space(client, owner, "Start")
        since = _next_events(ws)[0]["id"]  # where a client that stopped here resumes
    topic = _topic(client, owner, space_id, "Before the reader")
    client.patch(f"/api/v1/spaces/{space_id}", json={"description": "Before"}, headers=owner.headers)
    client.post(f"/api/v1/spaces/{space_id}/members", json={"person_id": reader.id}, headers=owner.headers)
    client.post(
        f"/api/v1/topics/{topic['topic']['id']}/posts", json={"body": "welcome"}, headers=owner.headers
    )
    with client.websocket_connect(f"/api/v1/stream?since={since}", headers=reader.headers) as ws:
        replayed = _until_live(ws)
    assert _types_in(replayed, space_id) == ["member.added", "space.updated", "post.created"]
    assert "Before the reader" not in json.dumps(replayed)


def test_a_replay_carries_a_private_space_up_to_the_readers_removal(
    client: TestClient, make: Factory
) -> None:
    owner, reader = make.person("Owner"), make.person("Reader")
    space_id = _space(client, owner, "Team", "private")
    client.post(f"/api/v1/spaces/{space_id}/members", json={"person_id": reader.id}, headers=owner.headers)
    with client.websocket_connect("/api/v1/stream", headers=reader.headers) as ws:
        _until_live(ws)
        _space(client, owner, "Start")
        since = _next_events(ws)[0]["id"]  # where a client that stopped here resumes
    topic = _topic(client, owner, space_id, "While a member")
    client.delete(f"/api/v1/spaces/{space_id}/members/{reader.id}", headers=owner.headers)
    client.post(f"/api/v1/topics/{topic['topic']['id']}/posts", json={"body": "after"}, headers=owner.headers)
    # Added again and removed again, all after ``since``: both stretches, nothing between.
    client.post(f"/api/v1/spaces/{space_id}/members", json={"person_id": reader.id}, headers=owner.headers)
    client.patch(f"/api/v1/spaces/{space_id}", json={"description": "Back"}, headers=owner.headers)
    client.delete(f"/api/v1/spaces/{space_id}/members/{reader.id}", headers=owner.headers)
    client.patch(f"/api/v1/spaces/{space_id}", json={"description": "Gone"}, headers=owner.headers)
    with client.websocket_connect(f"/api/v1/stream?since={since}", headers=reader.headers) as ws:
        replayed = _until_live(ws)
        # Live again: nothing of the space, which the reader has left.
        client.patch(f"/api/v1/spaces/{space_id}", json={"description": "Still gone"}, headers=owner.headers)
        marker = _marker(client, owner, "Marker")
        live = _until_space(ws, marker)
    assert _types_in(replayed, space_id) == [
        "topic.created",
        "post.created",
        "member.removed",
        "member.added",
        "space.updated",  # the member count
        "space.updated",  # the description
        "member.removed",
    ]
    assert "after" not in [e["payload"].get("source") for e in replayed]
    assert _types_in(live, space_id) == []


def test_seen_counts_count_sightings_by_members_and_never_fall(client: TestClient, make: Factory) -> None:
    author, reader, visitor = make.person("Author"), make.person("Reader"), make.person("Visitor")
    space_id = _space(client, author, "Receipts")
    client.post(f"/api/v1/spaces/{space_id}/join", headers=reader.headers)
    post_id = _topic(client, author, space_id, "Seen?")["post"]["id"]

    def seen() -> tuple[int, int]:
        body = client.get(f"/api/v1/posts/{post_id}/seen", headers=author.headers).json()
        return body["seen_count"], body["member_count"]

    with client.websocket_connect("/api/v1/stream", headers=author.headers) as ws:
        _until_live(ws)
        client.post("/api/v1/seen", json={"post_ids": [post_id]}, headers=reader.headers)
        assert _next_events(ws)[0]["payload"]["seen"] == [{"post_id": post_id, "seen_count": 1}]
        assert seen() == (1, 2)
        # Leaving does not unsee it: the count stays, and no event is needed.
        client.post(f"/api/v1/spaces/{space_id}/leave", headers=reader.headers)
        assert seen() == (1, 1)
        # Seen from outside the public space: recorded, not counted...
        assert client.post("/api/v1/seen", json={"post_ids": [post_id]}, headers=visitor.headers).json() == {
            "newly_seen": [post_id]
        }
        assert seen() == (1, 1)
        # ...until seen again as a member.
        client.post(f"/api/v1/spaces/{space_id}/join", headers=visitor.headers)
        client.post("/api/v1/seen", json={"post_ids": [post_id]}, headers=visitor.headers)
        events = _until_type(ws, "receipts.added")
    assert events[-1]["payload"]["seen"] == [{"post_id": post_id, "seen_count": 2}]
    assert [e["type"] for e in events].count("receipts.added") == 1
    assert seen() == (2, 2)
    who = client.get(f"/api/v1/posts/{post_id}/seen", headers=author.headers).json()["seen_by"]
    assert [s["person_id"] for s in who] == [reader.id, visitor.id]


def _until_type(ws: WebSocketTestSession, kind: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not any(e["type"] == kind for e in events):
        events += _next_events(ws)
    return events
