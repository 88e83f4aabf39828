"""Spaces, topics and posts end to end through the API, with the bad input around them."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.conftest import Actor, Factory
from tests.movable_clock import Timed, timed_app

from kith.actions.events import list_since
from kith.app import App

API = "/api/v1"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape: {"error": {"code", "message", "fields"}}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]  # type: ignore[no-any-return]


def new_space(client: TestClient, owner: Actor, name: str = "Customer Voices", **fields: Any) -> Any:
    return ok(client.post(f"{API}/spaces", json={"name": name, **fields}, headers=owner.headers), 201)


def new_topic(
    client: TestClient, author: Actor, space_id: int, title: str = "Prices", body: str = "Hello", **kw: Any
) -> Any:
    response = client.post(
        f"{API}/spaces/{space_id}/topics", json={"title": title, "body": body, **kw}, headers=author.headers
    )
    return ok(response, 201)


def reply(client: TestClient, author: Actor, topic_id: int, body: str = "A reply", **kw: Any) -> Any:
    response = client.post(
        f"{API}/topics/{topic_id}/posts", json={"body": body, **kw}, headers=author.headers
    )
    return ok(response, 201)


def join(client: TestClient, actor: Actor, space_id: int) -> Any:
    return ok(client.post(f"{API}/spaces/{space_id}/join", headers=actor.headers))


def add_member(client: TestClient, by: Actor, space_id: int, person: Actor, **kw: Any) -> httpx.Response:
    return client.post(
        f"{API}/spaces/{space_id}/members", json={"person_id": person.id, **kw}, headers=by.headers
    )


def cursor(key: list[Any]) -> str:
    """A cursor as the lists encode them, holding ``key``."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def posts_of(client: TestClient, actor: Actor, topic_id: int) -> list[dict[str, Any]]:
    return ok(client.get(f"{API}/topics/{topic_id}/posts", headers=actor.headers))["items"]  # type: ignore[no-any-return]


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url) as timed:
        yield timed


# spaces


def test_create_space(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    space = new_space(client, ana, "  Customer Voices: EMEA!  ", description="What customers say")
    assert space["slug"] == "customer-voices-emea"
    assert space["name"] == "Customer Voices: EMEA!"
    assert (space["kind"], space["visibility"], space["archived"]) == ("community", "public", False)
    assert (space["my_role"], space["member_count"], space["created_by"]) == ("owner", 1, ana.id)
    assert ok(client.get(f"{API}/spaces/{space['id']}", headers=ana.headers)) == space
    members = ok(client.get(f"{API}/spaces/{space['id']}/members", headers=ana.headers))
    assert [(m["person_id"], m["role"]) for m in members] == [(ana.id, "owner")]
    team = new_space(client, ana, "Core Team", slug="core", kind="team", visibility="private")
    assert (team["slug"], team["kind"], team["visibility"]) == ("core", "team", "private")


def test_slug_conflicts_are_409(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    new_space(client, ana, "Customer Voices")
    for body in ({"name": "Customer voices"}, {"name": "Other", "slug": "customer-voices"}):
        error = assert_error(client.post(f"{API}/spaces", json=body, headers=ana.headers), 409, "conflict")
        assert "slug" in error["fields"]
    assert len(ok(client.get(f"{API}/spaces", headers=ana.headers))) == 1


def test_space_validation_names_the_field(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    for body, field in (
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Tab\tand\nnewline"}, "name"),
        ({"name": "!!!"}, "slug"),
        ({"name": "Fine", "slug": "Bad Slug"}, "slug"),
        ({"name": "Fine", "slug": "-edge-"}, "slug"),
        ({"name": "Fine", "slug": "x" * 65}, "slug"),
        ({"name": "Fine", "kind": "forum"}, "kind"),
        ({"name": "Fine", "visibility": "secret"}, "visibility"),
        ({"name": "Fine", "description": "x" * 2001}, "description"),
        ({"name": "Fine", "colour": "red"}, "colour"),
        ({"name": 7}, "name"),
        ({}, "name"),
    ):
        response = client.post(f"{API}/spaces", json=body, headers=ana.headers)
        error = assert_error(response, 422, "invalid_input")
        assert field in error["fields"], (body, error)
    assert ok(client.get(f"{API}/spaces", headers=ana.headers)) == []


def test_update_space(client: TestClient, make: Factory) -> None:
    ana, bo, cy = make.person("Ana"), make.person("Bo"), make.person("Cy")
    space = new_space(client, ana)
    join(client, bo, space["id"])
    changes = {"name": "Voices", "description": "New words", "visibility": "private", "kind": "team"}
    updated = ok(client.patch(f"{API}/spaces/{space['id']}", json=changes, headers=ana.headers))
    assert {k: updated[k] for k in changes} == changes
    assert updated["slug"] == space["slug"]
    assert updated["member_count"] == 2
    # A member who is no owner may not; a non-member of a now private space does not see it.
    assert_error(
        client.patch(f"{API}/spaces/{space['id']}", json={"name": "Mine"}, headers=bo.headers),
        403,
        "forbidden",
    )
    assert_error(
        client.patch(f"{API}/spaces/{space['id']}", json={"name": "Mine"}, headers=cy.headers),
        404,
        "not_found",
    )
    # Administrators manage every space.
    response = client.patch(f"{API}/spaces/{space['id']}", json={"name": "Admin"}, headers=make.admin.headers)
    assert ok(response)["name"] == "Admin"
    for body, field in (({"name": ""}, "name"), ({"kind": "x"}, "kind"), ({"slug": "new"}, "slug")):
        response = client.patch(f"{API}/spaces/{space['id']}", json=body, headers=ana.headers)
        assert field in assert_error(response, 422, "invalid_input")["fields"]


def test_archive_stops_posting_until_unarchived(client: TestClient, make: Factory) -> None:
    ana, bo = make.person("Ana"), make.person("Bo")
    space = new_space(client, ana)
    join(client, bo, space["id"])
    topic = new_topic(client, ana, space["id"])
    archived = ok(client.post(f"{API}/spaces/{space['id']}/archive", headers=ana.headers))
    assert archived["archived"] is True
    sid, tid, pid = space["id"], topic["topic"]["id"], topic["post"]["id"]
    for response in (
        client.post(f"{API}/spaces/{sid}/topics", json={"title": "t", "body": "b"}, headers=ana.headers),
        client.post(f"{API}/topics/{tid}/posts", json={"body": "b"}, headers=bo.headers),
        client.patch(f"{API}/posts/{pid}", json={"body": "changed"}, headers=ana.headers),
        client.post(f"{API}/posts/{pid}/reactions", json={"emoji": "tada"}, headers=bo.headers),
        client.post(f"{API}/topics/{tid}/resolve", json={"resolved": True}, headers=ana.headers),
        client.post(f"{API}/spaces/{sid}/join", headers=make.person("Cy").headers),
    ):
        assert_error(response, 403, "forbidden")
    assert [p["source"] for p in posts_of(client, bo, tid)] == ["Hello"]
    # Archived spaces leave the default list but can still be read.
    assert ok(client.get(f"{API}/spaces", headers=bo.headers)) == []
    listed = ok(client.get(f"{API}/spaces", params={"include_archived": True}, headers=bo.headers))
    assert [s["id"] for s in listed] == [sid]
    # Unarchiving restores posting.
    restored = ok(client.patch(f"{API}/spaces/{sid}", json={"archived": False}, headers=ana.headers))
    assert restored["archived"] is False
    reply(client, bo, tid, "Back again")
    assert_error(client.post(f"{API}/spaces/{sid}/archive", headers=bo.headers), 403, "forbidden")


def test_members_add_change_remove(client: TestClient, make: Factory) -> None:
    ana, bo, cy = make.person("Ana"), make.person("Bo"), make.person("Cy")
    sid = new_space(client, ana, visibility="private")["id"]
    added = ok(add_member(client, ana, sid, bo, notification_level="mentions"), 201)
    assert (added["person_id"], added["role"], added["notification_level"]) == (bo.id, "member", "mentions")
    promoted = ok(add_member(client, ana, sid, bo, role="owner"), 201)
    assert (promoted["role"], promoted["notification_level"]) == ("owner", "mentions")
    members = ok(client.get(f"{API}/spaces/{sid}/members", headers=bo.headers))
    assert {(m["person_id"], m["role"]) for m in members} == {(ana.id, "owner"), (bo.id, "owner")}
    # Members who are not owners do not manage members.
    ok(add_member(client, bo, sid, cy), 201)
    assert_error(add_member(client, cy, sid, make.person("Di")), 403, "forbidden")
    assert_error(client.delete(f"{API}/spaces/{sid}/members/{bo.id}", headers=cy.headers), 403, "forbidden")
    assert client.delete(f"{API}/spaces/{sid}/members/{cy.id}", headers=ana.headers).status_code == 204
    assert_error(client.get(f"{API}/spaces/{sid}", headers=cy.headers), 404, "not_found")
    assert_error(client.delete(f"{API}/spaces/{sid}/members/{cy.id}", headers=ana.headers), 404, "not_found")
    for body, field in (
        ({"person_id": 999_999}, "person_id"),
        ({"person_id": 99_999_999_999}, "person_id"),
        ({"person_id": cy.id, "role": "boss"}, "role"),
        ({"person_id": cy.id, "notification_level": "loud"}, "notification_level"),
        ({"person_id": "cy"}, "person_id"),
    ):
        response = client.post(f"{API}/spaces/{sid}/members", json=body, headers=ana.headers)
        assert field in assert_error(response, 422, "invalid_input")["fields"], body
    gone = make.person("Gone")
    ok(client.post(f"{API}/people/{gone.id}/deactivate", headers=make.admin.headers))
    assert "person_id" in assert_error(add_member(client, ana, sid, gone), 422, "invalid_input")["fields"]


def test_the_last_owner_cannot_leave(client: TestClient, make: Factory) -> None:
    ana, bo = make.person("Ana"), make.person("Bo")
    sid = new_space(client, ana)["id"]
    join(client, bo, sid)
    assert_error(client.post(f"{API}/spaces/{sid}/leave", headers=ana.headers), 409, "conflict")
    assert_error(add_member(client, ana, sid, ana, role="member"), 409, "conflict")
    response = client.delete(f"{API}/spaces/{sid}/members/{ana.id}", headers=make.admin.headers)
    assert_error(response, 409, "conflict")
    ok(add_member(client, ana, sid, bo, role="owner"), 201)
    assert client.post(f"{API}/spaces/{sid}/leave", headers=ana.headers).status_code == 204
    members = ok(client.get(f"{API}/spaces/{sid}/members", headers=bo.headers))
    assert [(m["person_id"], m["role"]) for m in members] == [(bo.id, "owner")]


def test_join_and_leave_public_spaces(client: TestClient, make: Factory) -> None:
    ana, bo = make.person("Ana"), make.person("Bo")
    public = new_space(client, ana, "Open")["id"]
    private = new_space(client, ana, "Closed", visibility="private")["id"]
    joined = join(client, bo, public)
    assert (joined["person_id"], joined["role"]) == (bo.id, "member")
    assert join(client, bo, public) == joined
    assert ok(client.get(f"{API}/spaces/{public}", headers=bo.headers))["my_role"] == "member"
    assert client.post(f"{API}/spaces/{public}/leave", headers=bo.headers).status_code == 204
    assert ok(client.get(f"{API}/spaces/{public}", headers=bo.headers))["my_role"] is None
    assert_error(client.post(f"{API}/spaces/{public}/leave", headers=bo.headers), 404, "not_found")
    assert_error(client.post(f"{API}/spaces/{private}/join", headers=bo.headers), 404, "not_found")
    # An administrator sees a private space but is not let in without an invitation.
    assert_error(client.post(f"{API}/spaces/{private}/join", headers=make.admin.headers), 403, "forbidden")


def test_notification_level(client: TestClient, make: Factory) -> None:
    ana, bo = make.person("Ana"), make.person("Bo")
    sid = new_space(client, ana)["id"]
    url = f"{API}/spaces/{sid}/notification-level"
    assert_error(client.put(url, json={"notification_level": "mute"}, headers=bo.headers), 403, "forbidden")
    join(client, bo, sid)
    for level in ("mute", "digest", "mentions", "all"):
        assert (
            ok(client.put(url, json={"notification_level": level}, headers=bo.headers))["notification_level"]
            == level
        )
    response = client.put(url, json={"notification_level": "loud"}, headers=bo.headers)
    assert "notification_level" in assert_error(response, 422, "invalid_input")["fields"]
    members = ok(client.get(f"{API}/spaces/{sid}/members", headers=ana.headers))
    assert {m["person_id"]: m["notification_level"] for m in members}[bo.id] == "all"


# topics


def test_topics_by_latest_activity_with_cursor_pages(timed: Timed) -> None:
    client, clock = timed.client, timed.clock
    ana = timed.make.person("Ana")
    sid = new_space(client, ana)["id"]
    ids = []
    for n in range(7):
        ids.append(new_topic(client, ana, sid, f"Topic {n}")["topic"]["id"])
        if n % 2:
            clock.advance(seconds=1)  # pairs share an instant: the id breaks the tie

    def all_pages(limit: int, **filters: Any) -> list[int]:
        seen: list[int] = []
        params: dict[str, Any] = {"limit": limit, **filters}
        while True:
            page = ok(client.get(f"{API}/spaces/{sid}/topics", params=params, headers=ana.headers))
            assert len(page["items"]) <= limit
            seen.extend(t["id"] for t in page["items"])
            if page["next_cursor"] is None:
                return seen
            assert len(page["items"]) == limit
            params["cursor"] = page["next_cursor"]

    assert all_pages(3) == ids[::-1]
    assert all_pages(7) == ids[::-1]
    clock.advance(seconds=1)
    reply(client, ana, ids[0], "bump")
    expected = [ids[0], *ids[:0:-1]]
    for limit in (1, 2, 3, 50):
        assert all_pages(limit) == expected, limit


def test_topic_filters(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana")
    sid = new_space(client, ana)["id"]
    chat = new_topic(client, ana, sid, "Chat")["topic"]["id"]
    open_q = new_topic(client, ana, sid, "Open question", is_question=True)["topic"]["id"]
    done_q = new_topic(client, ana, sid, "Done question", is_question=True)["topic"]["id"]
    ok(client.post(f"{API}/topics/{done_q}/resolve", json={"resolved": True}, headers=ana.headers))

    def listed(**params: Any) -> set[int]:
        page = ok(client.get(f"{API}/spaces/{sid}/topics", params=params, headers=ana.headers))
        return {t["id"] for t in page["items"]}

    assert listed() == {chat, open_q, done_q}
    assert listed(questions=True) == {open_q, done_q}
    assert listed(unresolved=True) == {chat, open_q}
    assert listed(questions=True, unresolved=True) == {open_q}


def test_create_topic(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana")
    sid = new_space(client, ana)["id"]
    created = new_topic(client, ana, sid, "  Prices  ", "Competitor **X**", is_question=True, urgent=True)
    topic, post = created["topic"], created["post"]
    assert (topic["title"], topic["is_question"], topic["resolved"], topic["post_count"]) == (
        "Prices",
        True,
        False,
        1,
    )
    assert (post["topic_id"], post["author_id"], post["version"], post["urgent"]) == (
        topic["id"],
        ana.id,
        1,
        True,
    )
    assert post["html"] == "<p>Competitor <strong>X</strong></p>\n"
    assert ok(client.get(f"{API}/topics/{topic['id']}", headers=ana.headers)) == topic


def test_resolve_and_unresolve(client: TestClient, make: Factory) -> None:
    ana, bo, owner = make.person("Ana"), make.person("Bo"), make.person("Owner")
    sid = new_space(client, owner)["id"]
    join(client, ana, sid)
    join(client, bo, sid)
    tid = new_topic(client, ana, sid, is_question=True)["topic"]["id"]
    url = f"{API}/topics/{tid}/resolve"
    assert ok(client.post(url, json={"resolved": True}, headers=ana.headers))["resolved"] is True
    assert ok(client.post(url, json={"resolved": True}, headers=ana.headers))["resolved"] is True
    assert_error(client.post(url, json={"resolved": False}, headers=bo.headers), 403, "forbidden")
    assert ok(client.post(url, json={"resolved": False}, headers=owner.headers))["resolved"] is False
    for body in ({}, {"resolved": "maybe"}, {"resolved": True, "why": "x"}):
        assert_error(client.post(url, json=body, headers=ana.headers), 422, "invalid_input")


def test_accept_an_answer(client: TestClient, make: Factory) -> None:
    asker, helper, other, owner = (make.person(n) for n in ("Asker", "Helper", "Other", "Owner"))
    sid = new_space(client, owner)["id"]
    for person in (asker, helper, other):
        join(client, person, sid)
    question = new_topic(client, asker, sid, "How?", "How do we do it?")
    tid, first = question["topic"]["id"], question["post"]["id"]
    answer = reply(client, helper, tid, "Like this")["id"]
    elsewhere = new_topic(client, helper, sid, "Other topic")["post"]["id"]
    url = f"{API}/topics/{tid}/accept"

    for post_id in (first, elsewhere, 999_999):
        response = client.post(url, json={"post_id": post_id}, headers=asker.headers)
        assert "post_id" in assert_error(response, 422, "invalid_input")["fields"], post_id
    assert_error(client.post(url, json={"post_id": answer}, headers=other.headers), 403, "forbidden")
    assert_error(client.post(url, json={"post_id": answer}, headers=helper.headers), 403, "forbidden")

    accepted = ok(client.post(url, json={"post_id": answer}, headers=asker.headers))
    assert (accepted["accepted_post_id"], accepted["resolved"], accepted["is_question"]) == (
        answer,
        True,
        True,
    )
    withdrawn = ok(client.post(url, json={"post_id": None}, headers=owner.headers))
    assert (withdrawn["accepted_post_id"], withdrawn["resolved"]) == (None, False)
    assert ok(client.post(url, json={"post_id": answer}, headers=owner.headers))["accepted_post_id"] == answer
    # Deleting the accepted answer's post leaves it unacceptable afresh.
    ok(client.delete(f"{API}/posts/{answer}", headers=helper.headers))
    response = client.post(url, json={"post_id": answer}, headers=asker.headers)
    assert "post_id" in assert_error(response, 422, "invalid_input")["fields"]


# posts


def test_replies_and_reply_to(client: TestClient, make: Factory) -> None:
    ana, bo, cy = make.person("Ana"), make.person("Bo"), make.person("Cy")
    sid = new_space(client, ana)["id"]
    join(client, bo, sid)
    created = new_topic(client, ana, sid)
    tid, first = created["topic"]["id"], created["post"]["id"]
    other_topic_post = new_topic(client, ana, sid, "Other")["post"]["id"]
    answer = reply(client, bo, tid, "Agreed", reply_to_id=first)
    assert (answer["reply_to_id"], answer["topic_id"], answer["space_id"]) == (first, tid, sid)
    for reply_to in (other_topic_post, 999_999):
        response = client.post(
            f"{API}/topics/{tid}/posts", json={"body": "x", "reply_to_id": reply_to}, headers=bo.headers
        )
        assert "reply_to_id" in assert_error(response, 422, "invalid_input")["fields"]
    # A reader of a public space who has not joined cannot post in it.
    assert_error(
        client.post(f"{API}/topics/{tid}/posts", json={"body": "x"}, headers=cy.headers), 403, "forbidden"
    )
    assert [p["id"] for p in posts_of(client, cy, tid)] == [first, answer["id"]]
    assert ok(client.get(f"{API}/topics/{tid}", headers=cy.headers))["post_count"] == 2
    assert ok(client.get(f"{API}/posts/{answer['id']}", headers=cy.headers)) == answer


def test_posts_paginate_oldest_first(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana")
    sid = new_space(client, ana)["id"]
    tid = new_topic(client, ana, sid, body="post 0")["topic"]["id"]
    for n in range(1, 8):
        reply(client, ana, tid, f"post {n}")
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = ok(client.get(f"{API}/topics/{tid}/posts", params=params, headers=ana.headers))
        seen.extend(p["source"] for p in page["items"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [f"post {n}" for n in range(8)]


def test_edits_keep_every_earlier_version(client: TestClient, make: Factory) -> None:
    ana, bo = make.person("Ana"), make.person("Bo")
    sid = new_space(client, ana)["id"]
    join(client, bo, sid)
    post = new_topic(client, ana, sid, body="version 1")["post"]
    url = f"{API}/posts/{post['id']}"
    for n in (2, 3, 4):
        edited = ok(client.patch(url, json={"body": f"version {n} *now*"}, headers=ana.headers))
        assert edited["version"] == n
        assert edited["edited_at"] is not None
    # Saving the same text makes no new version.
    assert ok(client.patch(url, json={"body": "version 4 *now*"}, headers=ana.headers))["version"] == 4
    history = ok(client.get(f"{url}/history", headers=bo.headers))
    assert [v["version"] for v in history["versions"]] == [1, 2, 3]
    assert [v["source"] for v in history["versions"]] == ["version 1", "version 2 *now*", "version 3 *now*"]
    assert history["versions"][1]["html"] == "<p>version 2 <em>now</em></p>\n"
    assert {v["editor_id"] for v in history["versions"]} == {ana.id}
    assert (history["post"]["version"], history["post"]["source"]) == (4, "version 4 *now*")
    assert_error(client.patch(url, json={"body": "mine now"}, headers=bo.headers), 403, "forbidden")
    for body in (
        {"body": ""},
        {"body": "  \n "},
        {"body": "x" * 20_001},
        {"body": "nul \x00"},
        {"text": "x"},
    ):
        response = client.patch(url, json=body, headers=ana.headers)
        assert assert_error(response, 422, "invalid_input")["fields"], body
    assert ok(client.get(url, headers=ana.headers))["version"] == 4


def test_delete_is_soft(client: TestClient, make: Factory) -> None:
    ana, bo, owner = make.person("Ana"), make.person("Bo"), make.person("Owner")
    sid = new_space(client, owner)["id"]
    join(client, ana, sid)
    join(client, bo, sid)
    tid = new_topic(client, ana, sid)["topic"]["id"]
    victim = reply(client, ana, tid, "regret this")["id"]
    moderated = reply(client, bo, tid, "spam")["id"]
    ok(client.patch(f"{API}/posts/{victim}", json={"body": "regret this more"}, headers=ana.headers))
    ok(client.post(f"{API}/posts/{victim}/reactions", json={"emoji": "eyes"}, headers=bo.headers))
    assert ok(client.get(f"{API}/topics/{tid}", headers=ana.headers))["post_count"] == 3

    assert_error(client.delete(f"{API}/posts/{victim}", headers=bo.headers), 403, "forbidden")
    deleted = ok(client.delete(f"{API}/posts/{victim}", headers=ana.headers))
    assert (deleted["deleted"], deleted["source"], deleted["html"], deleted["reactions"]) == (
        True,
        "",
        "",
        [],
    )
    ok(client.delete(f"{API}/posts/{moderated}", headers=owner.headers))

    listed = posts_of(client, bo, tid)
    assert [p["id"] for p in listed][1:] == [victim, moderated]
    for post in listed[1:]:
        assert (post["deleted"], post["source"], post["html"], post["reactions"]) == (True, "", "", [])
    history = ok(client.get(f"{API}/posts/{victim}/history", headers=bo.headers))
    assert history["versions"] == []
    assert history["post"]["source"] == ""
    assert ok(client.get(f"{API}/topics/{tid}", headers=ana.headers))["post_count"] == 1
    # A deleted post takes no more changes.
    for response in (
        client.delete(f"{API}/posts/{victim}", headers=ana.headers),
        client.patch(f"{API}/posts/{victim}", json={"body": "undo"}, headers=ana.headers),
        client.post(f"{API}/posts/{victim}/reactions", json={"emoji": "eyes"}, headers=bo.headers),
    ):
        assert_error(response, 403, "forbidden")
    assert ok(client.get(f"{API}/topics/{tid}", headers=ana.headers))["post_count"] == 1


def test_reactions(client: TestClient, make: Factory) -> None:
    ana, bo, cy = make.person("Ana"), make.person("Bo"), make.person("Cy")
    sid = new_space(client, ana)["id"]
    pid = new_topic(client, ana, sid)["post"]["id"]
    url = f"{API}/posts/{pid}/reactions"

    def react(actor: Actor, emoji: str) -> list[dict[str, Any]]:
        return ok(client.post(url, json={"emoji": emoji}, headers=actor.headers))["reactions"]  # type: ignore[no-any-return]

    assert react(bo, "thumbsup") == [{"emoji": "thumbsup", "count": 1, "person_ids": [bo.id]}]
    assert react(bo, ":thumbsup:") == [{"emoji": "thumbsup", "count": 1, "person_ids": [bo.id]}]
    react(cy, "thumbsup")  # readers of a public space react without joining
    after = react(ana, "+1")
    assert after == [
        {"emoji": "thumbsup", "count": 2, "person_ids": [bo.id, cy.id]},
        {"emoji": "+1", "count": 1, "person_ids": [ana.id]},
    ]
    removed = ok(client.delete(f"{url}/thumbsup", headers=bo.headers))["reactions"]
    assert removed[0] == {"emoji": "thumbsup", "count": 1, "person_ids": [cy.id]}
    assert ok(client.delete(f"{url}/thumbsup", headers=bo.headers))["reactions"] == removed
    removed = ok(client.delete(f"{url}/+1", headers=ana.headers))["reactions"]
    assert removed == [{"emoji": "thumbsup", "count": 1, "person_ids": [cy.id]}]
    assert ok(client.get(f"{API}/posts/{pid}", headers=ana.headers))["reactions"] == removed
    for emoji in ("", "<b>", "two words", "x" * 70, "tada\n:", "ta\x00da"):
        response = client.post(url, json={"emoji": emoji}, headers=ana.headers)
        assert "emoji" in assert_error(response, 422, "invalid_input")["fields"], emoji
    assert_error(client.delete(f"{url}/%3Cb%3E", headers=ana.headers), 422, "invalid_input")


def test_mentions_resolve_handles_and_addresses(client: TestClient, make: Factory) -> None:
    ana, bo, cy = make.person("Ana"), make.person("Bo"), make.person("Cy", email="Cy.Ng@Example.com")
    sid = new_space(client, ana)["id"]
    text = (
        f"Hi @{bo.person.handle.upper()} and @cy.ng@example.com, "
        f"and me @{ana.person.handle} `@{bo.person.handle}`"
    )
    pid = new_topic(client, ana, sid, body=text)["post"]["id"]

    def mentions(actor: Actor) -> list[int]:
        return [m["post_id"] for m in ok(client.get(f"{API}/me/mentions", headers=actor.headers))["items"]]

    assert mentions(bo) == [pid]
    assert mentions(cy) == [pid]
    assert mentions(ana) == []
    # An edit that drops a mention withdraws it.
    ok(client.patch(f"{API}/posts/{pid}", json={"body": "Hi @cy.ng@example.com"}, headers=ana.headers))
    assert mentions(bo) == []
    assert mentions(cy) == [pid]


# bad input, everywhere


def test_bad_input_is_a_4xx_in_the_one_shape(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana")
    sid = new_space(client, ana)["id"]
    created = new_topic(client, ana, sid)
    tid, pid = created["topic"]["id"], created["post"]["id"]
    json_headers = {**ana.headers, "Content-Type": "application/json"}
    huge = 99_999_999_999
    stamp = "2026-01-01T00:00:00+00:00"
    cases: list[tuple[str, str, dict[str, Any], int, str | None]] = [
        # (method, url, request kwargs, status, field named)
        ("POST", f"/spaces/{sid}/topics", {"content": b"{not json"}, 422, None),
        ("POST", f"/spaces/{sid}/topics", {"content": b""}, 422, None),
        ("POST", f"/spaces/{sid}/topics", {"content": b"[1, 2]"}, 422, None),
        ("POST", f"/spaces/{sid}/topics", {"content": b'"just a string"'}, 422, None),
        ("POST", f"/spaces/{sid}/topics", {"content": b"\xff\xfe"}, 422, None),
        ("POST", f"/spaces/{sid}/topics", {"json": {"title": 5, "body": "b"}}, 422, "title"),
        ("POST", f"/spaces/{sid}/topics", {"json": {"title": "t", "body": ["b"]}}, 422, "body"),
        (
            "POST",
            f"/spaces/{sid}/topics",
            {"json": {"title": "t", "body": "b", "is_question": "yes please"}},
            422,
            "is_question",
        ),
        ("POST", f"/spaces/{sid}/topics", {"json": {"title": "x" * 301, "body": "b"}}, 422, "title"),
        ("POST", f"/spaces/{sid}/topics", {"json": {"title": "t", "body": "x" * 20_001}}, 422, "body"),
        (
            "POST",
            f"/spaces/{sid}/topics",
            {"json": {"title": "t", "body": "b", "pinned": True}},
            422,
            "pinned",
        ),
        ("POST", f"/spaces/{sid}/topics", {"json": {"title": "   ", "body": "b"}}, 422, "title"),
        ("POST", f"/spaces/{sid}/topics", {"json": {"title": "t", "body": "   "}}, 422, "body"),
        ("POST", f"/spaces/{sid}/topics", {"json": {"title": "t\x00", "body": "b"}}, 422, "title"),
        (
            "POST",
            f"/spaces/{sid}/topics",
            {"content": json.dumps({"title": "\ud800", "body": "b"}).encode()},
            422,
            "title",
        ),
        (
            "POST",
            f"/spaces/{sid}/topics",
            {"content": json.dumps({"title": "t", "body": "\udfff"}).encode()},
            422,
            "body",
        ),
        ("POST", f"/topics/{tid}/posts", {"json": {"body": "b", "reply_to_id": huge}}, 422, "reply_to_id"),
        ("POST", f"/topics/{tid}/posts", {"json": {"body": "b", "reply_to_id": 0}}, 422, "reply_to_id"),
        ("POST", f"/topics/{tid}/posts", {"json": {"body": "b", "reply_to_id": 1.5}}, 422, "reply_to_id"),
        ("POST", f"/topics/{tid}/accept", {"json": {"post_id": huge}}, 422, "post_id"),
        ("POST", f"/topics/{tid}/accept", {"json": {"post_id": -1}}, 422, "post_id"),
        ("POST", f"/topics/{tid}/accept", {"json": {"post_id": 10**40}}, 422, "post_id"),
        ("GET", f"/spaces/{huge}", {}, 422, "space_id"),
        ("GET", f"/spaces/{huge}/topics", {}, 422, "space_id"),
        ("GET", f"/topics/{huge}", {}, 422, "topic_id"),
        ("GET", f"/topics/{huge}/posts", {}, 422, "topic_id"),
        ("GET", f"/posts/{huge}", {}, 422, "post_id"),
        ("GET", f"/posts/{huge}/history", {}, 422, "post_id"),
        ("PATCH", f"/posts/{huge}", {"json": {"body": "b"}}, 422, "post_id"),
        ("DELETE", f"/posts/{huge}", {}, 422, "post_id"),
        ("DELETE", f"/spaces/{sid}/members/{huge}", {}, 422, "person_id"),
        ("GET", "/posts/0", {}, 422, "post_id"),
        ("GET", "/posts/1e3", {}, 422, "post_id"),
        ("GET", f"/spaces/{sid}/topics", {"params": {"cursor": "garbage!"}}, 422, "cursor"),
        ("GET", f"/spaces/{sid}/topics", {"params": {"cursor": "WyJ4IiwxXQ"}}, 422, "cursor"),  # ["x",1]
        ("GET", f"/spaces/{sid}/topics", {"params": {"cursor": "WyIyMDI2LTAxLTAxIiwxXQ"}}, 422, "cursor"),
        ("GET", f"/spaces/{sid}/topics", {"params": {"limit": 0}}, 422, "limit"),
        ("GET", f"/spaces/{sid}/topics", {"params": {"questions": "perhaps"}}, 422, "questions"),
        ("GET", f"/topics/{tid}/posts", {"params": {"cursor": "WzEuNV0"}}, 422, "cursor"),  # [1.5]
        ("GET", f"/topics/{tid}/posts", {"params": {"cursor": cursor([huge])}}, 422, "cursor"),
        ("GET", "/me/mentions", {"params": {"cursor": cursor([huge])}}, 422, "cursor"),
        ("GET", f"/spaces/{sid}/topics", {"params": {"cursor": cursor([stamp, huge])}}, 422, "cursor"),
        ("GET", f"/spaces/{sid}/topics", {"params": {"cursor": cursor([stamp, True])}}, 422, "cursor"),
        (
            "GET",
            f"/spaces/{sid}/topics",
            {"params": {"cursor": cursor(["0001-01-01T00:00:00+05:00", 1])}},
            422,
            "cursor",
        ),
        (
            "GET",
            f"/spaces/{sid}/topics",
            {"params": {"cursor": cursor(["9999-12-31T23:59:59-14:00", 1])}},
            422,
            "cursor",
        ),
        (
            "GET",
            f"/spaces/{sid}/topics",
            {"params": {"cursor": cursor(["2026-01-01T00:00:00", 1])}},
            422,
            "cursor",
        ),
        (
            "GET",
            f"/topics/{tid}/posts",
            {"params": {"cursor": "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"}},
            422,
            "cursor",
        ),
        ("GET", "/spaces/999999", {}, 404, None),
        ("GET", "/topics/999999", {}, 404, None),
        ("GET", "/posts/999999", {}, 404, None),
        ("POST", "/topics/999999/posts", {"json": {"body": "b"}}, 404, None),
        ("GET", "/no/such/route", {}, 404, None),
        ("PUT", f"/posts/{pid}", {"json": {"body": "b"}}, 405, None),
    ]
    for method, url, kwargs, status, field in cases:
        headers = json_headers if "content" in kwargs else ana.headers
        response = client.request(method, API + url, headers=headers, **kwargs)
        error = assert_error(response, status)
        if field is not None:
            assert field in error["fields"], (method, url, kwargs, error)
    # None of it changed anything.
    assert [p["id"] for p in posts_of(client, ana, tid)] == [pid]
    assert len(ok(client.get(f"{API}/spaces/{sid}/topics", headers=ana.headers))["items"]) == 1


# the hot path


@pytest.fixture
def statements(app: App) -> Iterator[list[str]]:
    """Every SQL statement the App runs while the test collects."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(app.db.engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(app.db.engine, "before_cursor_execute", count)


# Statements to create one reply through the API, measured when this guard was written.
# Lower is welcome (lower the figure); higher needs a reason. The reply mentions someone:
# since issue 5 that also reads the recipient (level, hours, the space's visibility) and
# writes their notification and its personal event (+3); a post mentioning nobody does not.
POST_CREATE_STATEMENTS = {"sqlite": 11, "postgresql": 12}


def test_creating_a_post_stays_within_its_query_budget(
    client: TestClient, make: Factory, app: App, statements: list[str]
) -> None:
    ana, bo = make.person("Ana"), make.person("Bo")
    sid = new_space(client, ana)["id"]
    join(client, bo, sid)
    tid = new_topic(client, ana, sid)["topic"]["id"]
    reply(client, bo, tid, f"warm-up @{ana.person.handle}")
    statements.clear()
    reply(client, bo, tid, f"Hello @{ana.person.handle} and @{bo.person.email}")
    budget = POST_CREATE_STATEMENTS[app.db.dialect]
    listing = "\n".join(f"{n:3}: {s.strip()}" for n, s in enumerate(statements, 1))
    assert len(statements) <= budget, f"{len(statements)} statements (budget {budget}):\n{listing}"


# many at once: a double click, or two people at the same moment


def concurrently(n: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """Run ``call(i)`` for i in range(n) on n threads released together."""
    start = threading.Barrier(n)
    results: list[httpx.Response | BaseException] = [RuntimeError("did not run")] * n

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = call(i)
        except BaseException as exc:  # reported below, with the others
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    return [r for r in results if isinstance(r, httpx.Response)]


def test_simultaneous_requests_neither_crash_nor_break_invariants(
    client: TestClient, make: Factory, app: App
) -> None:
    ana, bo, cy = make.person("Ana"), make.person("Bo"), make.person("Cy")
    n = 6

    spaces = concurrently(
        n, lambda i: client.post(f"{API}/spaces", json={"name": "Same"}, headers=ana.headers)
    )
    assert sorted(r.status_code for r in spaces) == [201] + [409] * (n - 1), [r.text for r in spaces]
    sid = next(r.json()["id"] for r in spaces if r.status_code == 201)

    joins = concurrently(n, lambda i: client.post(f"{API}/spaces/{sid}/join", headers=bo.headers))
    assert {r.status_code for r in joins} == {200}, [r.text for r in joins]
    members = ok(client.get(f"{API}/spaces/{sid}/members", headers=ana.headers))
    assert sorted(m["person_id"] for m in members) == [ana.id, bo.id]

    pid = new_topic(client, ana, sid)["post"]["id"]
    url = f"{API}/posts/{pid}/reactions"
    reactions = concurrently(n, lambda i: client.post(url, json={"emoji": "tada"}, headers=bo.headers))
    assert {r.status_code for r in reactions} == {200}, [r.text for r in reactions]
    assert ok(client.get(f"{API}/posts/{pid}", headers=ana.headers))["reactions"] == [
        {"emoji": "tada", "count": 1, "person_ids": [bo.id]}
    ]

    edits = concurrently(
        n, lambda i: client.patch(f"{API}/posts/{pid}", json={"body": f"edit {i}"}, headers=ana.headers)
    )
    assert {r.status_code for r in edits} == {200}, [r.text for r in edits]
    history = ok(client.get(f"{API}/posts/{pid}/history", headers=ana.headers))
    assert [v["version"] for v in history["versions"]] == list(range(1, n + 1))
    assert history["post"]["version"] == n + 1

    # Two owners each removing the other at once must still leave the space an owner.
    ok(add_member(client, ana, sid, cy, role="owner"), 201)
    pair = (ana, cy)
    removals = concurrently(
        2,
        lambda i: client.delete(f"{API}/spaces/{sid}/members/{pair[1 - i].id}", headers=pair[i].headers),
    )
    assert sorted(r.status_code for r in removals) in ([204, 403], [204, 404], [204, 409]), [
        r.text for r in removals
    ]
    owners = [
        m for m in ok(client.get(f"{API}/spaces/{sid}/members", headers=bo.headers)) if m["role"] == "owner"
    ]
    assert len(owners) == 1

    events = Counter(e.type for e in list_since(app, 0))
    assert (events["space.created"], events["reaction.added"], events["post.edited"]) == (1, 1, n)
    assert events["member.added"] == 3  # Ana as first owner, Bo once, Cy
