"""Send later: scheduling, sending exactly once at the due time, cancelling, losing access,
bad input; and the suggested time across time zones (and a daylight-saving change)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.conftest import FAST_HASHER, Actor
from tests.movable_clock import Timed, timed_app

from kith.actions.events import list_since
from kith.actions.notify import list_notifications
from kith.actions.scheduled import send_due
from kith.app import App, build_app

API = "/api/v1"
MONDAY_0900 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url) as t:
        t.clock.now = MONDAY_0900
        yield t


class World:
    def __init__(self, t: Timed) -> None:
        self.t = t
        self.author = t.make.person("Ada Author", timezone="Europe/London")
        self.reader = t.make.person("Rob Reader", timezone="Europe/London")
        self.space = self.new_space("Key accounts")
        created = ok(
            t.client.post(
                f"{API}/spaces/{self.space}/topics",
                json={"title": "Renewals", "body": "Thread for renewals"},
                headers=self.author.headers,
            ),
            201,
        )
        self.topic, self.first_post = created["topic"]["id"], created["post"]["id"]

    def new_space(self, name: str, **fields: Any) -> int:
        space_id: int = ok(
            self.t.client.post(f"{API}/spaces", json={"name": name, **fields}, headers=self.author.headers),
            201,
        )["id"]
        body = {"person_id": self.reader.id}
        ok(
            self.t.client.post(f"{API}/spaces/{space_id}/members", json=body, headers=self.author.headers),
            201,
        )
        return space_id

    def schedule(self, who: Actor | None = None, status: int = 201, **fields: Any) -> Any:
        body = {
            "space_id": self.space,
            "body": "Good morning",
            "send_at": "2026-03-02T11:00:00+01:00",
            **fields,
        }
        who = who or self.author
        return ok(self.t.client.post(f"{API}/scheduled-posts", json=body, headers=who.headers), status)

    def mine(self, who: Actor | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(
            self.t.client.get(f"{API}/scheduled-posts", headers=(who or self.author).headers)
        )["items"]
        return items

    def posts(self, topic_id: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(
            self.t.client.get(f"{API}/topics/{topic_id}/posts", headers=self.author.headers)
        )["items"]
        return items


def test_sent_at_the_due_time_exactly_once_through_the_normal_actions(timed: Timed) -> None:
    world = World(timed)
    reply = world.schedule(
        topic_id=world.topic, body=f"Morning @{world.reader.person.handle}", reply_to_id=world.first_post
    )
    topic = world.schedule(title="Price list 2026", body="The new prices", is_question=True, urgent=True)
    assert reply["status"] == topic["status"] == "pending"
    assert reply["send_at"] == "2026-03-02T10:00:00+00:00"  # 11:00+01:00, kept in UTC
    before = max(e.id for e in list_since(timed.app, 0))

    timed.clock.advance(minutes=59, seconds=59)
    assert send_due(timed.app) == 0
    assert len(world.posts(world.topic)) == 1
    timed.clock.advance(seconds=1)  # 10:00:00 UTC: due
    assert send_due(timed.app) == 2
    assert send_due(timed.app) == 0  # a second run sends nothing again

    posts = world.posts(world.topic)
    assert [p["source"] for p in posts] == ["Thread for renewals", f"Morning @{world.reader.person.handle}"]
    assert posts[1]["reply_to_id"] == world.first_post
    assert posts[1]["created_at"] == "2026-03-02T10:00:00+00:00"
    listed = {item["id"]: item for item in world.mine()}
    assert listed[reply["id"]]["status"] == "sent"
    assert listed[reply["id"]]["post_id"] == posts[1]["id"]
    assert listed[reply["id"]]["sent_at"] == "2026-03-02T10:00:00+00:00"
    new_topic_id = listed[topic["id"]]["topic_id"]
    started = ok(timed.client.get(f"{API}/topics/{new_topic_id}", headers=world.reader.headers))
    assert (started["title"], started["is_question"], started["author_id"]) == (
        "Price list 2026",
        True,
        world.author.id,
    )
    assert world.posts(new_topic_id)[0]["urgent"] is True

    # The events and notifications of an ordinary post, and the author's own updates.
    events = list_since(timed.app, before)
    types = [e.type for e in events]
    assert types.count("post.created") == 2
    assert types.count("topic.created") == 1
    updates = [e for e in events if e.type == "scheduled_post.updated"]
    assert {(e.audience_id, e.space_id, e.payload["status"]) for e in updates} == {
        (world.author.id, None, "sent")
    }
    mentions = [n for n in list_notifications(timed.app, world.reader.viewer).items if n.kind == "mention"]
    assert [n.post_id for n in mentions] == [posts[1]["id"]]


def test_two_processes_send_a_post_once(timed: Timed) -> None:
    world = World(timed)
    for n in range(5):
        world.schedule(topic_id=world.topic, body=f"Post {n}")
    timed.clock.advance(hours=2)
    with second_app(timed) as second:
        assert run_together(send_due, timed.app, second) == 5
    assert [p["source"] for p in world.posts(world.topic)[1:]] == [f"Post {n}" for n in range(5)]


def test_cancelled_is_never_sent_and_only_pending_ones_change(timed: Timed) -> None:
    world = World(timed)
    kept = world.schedule(topic_id=world.topic, body="Kept")
    dropped = world.schedule(topic_id=world.topic, body="Dropped")
    client, headers = timed.client, world.author.headers
    changed = ok(
        client.patch(
            f"{API}/scheduled-posts/{kept['id']}",
            json={"body": "Kept, edited", "send_at": "2026-03-02T11:30:00Z"},
            headers=headers,
        )
    )
    assert (changed["body"], changed["send_at"]) == ("Kept, edited", "2026-03-02T11:30:00+00:00")
    cancelled = ok(client.delete(f"{API}/scheduled-posts/{dropped['id']}", headers=headers))
    assert cancelled["status"] == "cancelled"
    assert (
        ok(client.delete(f"{API}/scheduled-posts/{dropped['id']}", headers=headers))["status"] == "cancelled"
    )
    # Pending first (soonest first), then the rest.
    assert [i["id"] for i in world.mine()] == [kept["id"], dropped["id"]]
    timed.clock.advance(hours=2)  # 11:00: not yet due (moved to 11:30)
    assert send_due(timed.app) == 0
    timed.clock.advance(minutes=30)
    assert send_due(timed.app) == 1
    assert [p["source"] for p in world.posts(world.topic)] == ["Thread for renewals", "Kept, edited"]
    for method, body in (("PATCH", {"body": "late"}), ("DELETE", None)):
        refused = client.request(method, f"{API}/scheduled-posts/{kept['id']}", json=body, headers=headers)
        assert refused.status_code == 409, refused.text
    refused = client.patch(f"{API}/scheduled-posts/{dropped['id']}", json={"body": "x"}, headers=headers)
    assert refused.status_code == 409
    timed.clock.advance(days=2)
    assert send_due(timed.app) == 0
    assert len(world.posts(world.topic)) == 2


def test_scheduled_posts_are_their_authors_alone(timed: Timed) -> None:
    world = World(timed)
    mine = world.schedule(topic_id=world.topic, body="Private draft")
    before = max(e.id for e in list_since(timed.app, 0)) - 1
    created = [e for e in list_since(timed.app, before) if e.type == "scheduled_post.created"]
    assert [(e.audience_id, e.space_id, e.payload["id"]) for e in created] == [
        (world.author.id, None, mine["id"])
    ]
    assert world.mine(world.reader) == []
    for method, body in (("GET", None), ("PATCH", {"body": "mine now"}), ("DELETE", None)):
        response = timed.client.request(
            method, f"{API}/scheduled-posts/{mine['id']}", json=body, headers=world.reader.headers
        )
        missing = timed.client.request(
            method, f"{API}/scheduled-posts/999999", json=body, headers=world.reader.headers
        )
        assert response.status_code == missing.status_code == 404
        assert "Private draft" not in response.text
    assert ok(timed.client.get(f"{API}/scheduled-posts/{mine['id']}", headers=world.author.headers))[
        "body"
    ] == ("Private draft")


def test_lost_access_fails_with_the_reason_and_tells_the_author(timed: Timed) -> None:
    world = World(timed)
    private = world.new_space("Nightjar", visibility="private")
    owner = world.author
    # The reader schedules into the private space and the public one, then loses both.
    in_private = world.schedule(who=world.reader, space_id=private, title="Secret plan", body="Shh")
    in_topic = world.schedule(who=world.reader, topic_id=world.topic, body="See you")
    archived_space = world.new_space("Old")
    in_archived = world.schedule(who=world.reader, space_id=archived_space, title="Too late", body="x")
    ok(timed.client.delete(f"{API}/spaces/{private}/members/{world.reader.id}", headers=owner.headers), 204)
    ok(timed.client.post(f"{API}/spaces/{world.space}/leave", headers=world.reader.headers), 204)
    ok(timed.client.post(f"{API}/spaces/{archived_space}/archive", headers=owner.headers))
    timed.clock.advance(hours=1)
    assert send_due(timed.app) == 0
    listed = {i["id"]: i for i in world.mine(world.reader)}
    assert {listed[s["id"]]["status"] for s in (in_private, in_topic, in_archived)} == {"failed"}
    assert listed[in_private["id"]]["error"] == f"no space with id {private}"
    assert listed[in_topic["id"]]["error"] == "join the space to post in it"
    assert "archived" in listed[in_archived["id"]]["error"]
    assert all(listed[s["id"]]["post_id"] is None for s in (in_private, in_topic, in_archived))
    told = [n for n in list_notifications(timed.app, world.reader.viewer).items if n.kind == "send_failed"]
    assert sorted(n.payload["scheduled_post_id"] for n in told) == sorted(
        s["id"] for s in (in_private, in_topic, in_archived)
    )
    assert all(n.space_id is None for n in told)
    assert len(world.posts(world.topic)) == 1
    # A failed post stays failed.
    timed.clock.advance(hours=1)
    assert send_due(timed.app) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"send_at": "2026-03-02T08:59:00Z"}, "send_at"),  # the past
        ({"send_at": "2026-03-02T09:00:00Z"}, "send_at"),  # now is not the future
        ({"send_at": "2026-03-02T10:00:00"}, "send_at"),  # no offset
        ({"send_at": "tomorrow morning"}, "send_at"),
        ({"send_at": "2026-04-02T09:00:01Z"}, "send_at"),  # more than 30 days ahead
        ({"send_at": ""}, "send_at"),
        ({"send_at": 1772442000}, "send_at"),
        ({"title": None}, "title"),  # neither a topic nor a title
        ({"topic_id": "{topic}", "title": "Both"}, "title"),
        ({"topic_id": "{topic}", "is_question": True}, "is_question"),
        ({"reply_to_id": "{post}"}, "reply_to_id"),  # a reply to a post, in a new topic
        ({"topic_id": "{topic}", "reply_to_id": 999_999}, "reply_to_id"),
        ({"topic_id": "{topic}", "correction_of_id": 999_999}, "correction_of_id"),
        ({"topic_id": "{topic}", "body": "   "}, "body"),
        ({"body": ""}, "body"),
        ({"title": "  "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"space_id": 0}, "space_id"),
        ({"space_id": "{other_space}", "topic_id": "{topic}"}, "topic_id"),
        ({"urgent": "yes"}, "urgent"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    timed: Timed, fields: dict[str, Any], field: str
) -> None:
    world = World(timed)
    other_space = world.new_space("Other")
    values = {"topic": world.topic, "post": world.first_post, "other_space": other_space}
    body: dict[str, Any] = {
        "space_id": world.space,
        "title": "A title",
        "body": "Text",
        "send_at": "2026-03-03T09:00:00Z",
    }
    for key, value in fields.items():
        body[key] = values[value[1:-1]] if isinstance(value, str) and value[1:-1] in values else value
    if body.get("title") is None or ("topic_id" in fields and "title" not in fields):
        body.pop("title")
    response = timed.client.post(f"{API}/scheduled-posts", json=body, headers=world.author.headers)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"], response.text
    assert world.mine() == []


def test_where_one_may_not_post(timed: Timed) -> None:
    world = World(timed)
    outsider = timed.make.person("Nina Outsider")
    private = world.new_space("Nightjar", visibility="private")
    base = {"body": "x", "send_at": "2026-03-03T09:00:00Z"}
    for space_id in (private, 999_999):
        response = timed.client.post(
            f"{API}/scheduled-posts",
            json={**base, "space_id": space_id, "title": "t"},
            headers=outsider.headers,
        )
        assert response.status_code == 404, response.text
        assert "Nightjar" not in response.text
    refused = timed.client.post(
        f"{API}/scheduled-posts",
        json={**base, "space_id": world.space, "title": "t"},
        headers=outsider.headers,
    )
    assert refused.status_code == 403  # a public space one has not joined
    news = world.new_space("News", kind="announcements")
    refused = timed.client.post(
        f"{API}/scheduled-posts", json={**base, "space_id": news, "title": "t"}, headers=world.reader.headers
    )
    assert refused.status_code == 403  # only owners start topics in announcements
    assert world.mine(outsider) == []
    assert world.mine(world.reader) == []
    for query, field in (("?status=sent&limit=0", "limit"), ("?status=lost", "status")):
        response = timed.client.get(f"{API}/scheduled-posts{query}", headers=world.author.headers)
        assert response.status_code == 422
        assert field in response.json()["error"]["fields"]


def suggestion(t: Timed, who: Actor, space_id: int, after: str | None = None) -> Any:
    params = {"after": after} if after else {}
    return ok(t.client.get(f"{API}/spaces/{space_id}/send-time", params=params, headers=who.headers))


def test_send_time_reaches_singapore_and_london_together(timed: Timed) -> None:
    make = timed.make
    # Singapore (UTC+8) 09:00-18:00 = 01:00-10:00 UTC; London 08:00-17:00, in March before
    # the change to summer time = 08:00-17:00 UTC. Both at work: 08:00-10:00 UTC.
    singapore = [
        make.person(f"Sg {n}", timezone="Asia/Singapore", work_start="09:00", work_end="18:00") for n in "ab"
    ]
    london = [
        make.person(f"Ldn {n}", timezone="Europe/London", work_start="08:00", work_end="17:00") for n in "ab"
    ]
    asker = make.person("Ada", timezone="Asia/Tokyo")
    space = ok(timed.client.post(f"{API}/spaces", json={"name": "Two cities"}, headers=asker.headers), 201)[
        "id"
    ]
    for person in (*singapore, *london):
        ok(timed.client.post(f"{API}/spaces/{space}/join", headers=person.headers))

    timed.clock.now = datetime(2026, 3, 2, 12, 7, tzinfo=UTC)  # Monday 12:07 UTC: London only
    found = suggestion(timed, asker, space)
    assert found["suggested"] == {"at": "2026-03-03T08:00:00+00:00", "members_working": 4}
    assert found["now"] == {"at": "2026-03-02T12:07:00+00:00", "members_working": 2}
    assert found["members"] == 4  # the asker aside
    assert found["grid_minutes"] == 15
    # Asked at 08:40 UTC on Tuesday: the next quarter hour, 08:45, still reaches all four.
    found = suggestion(timed, asker, space, after="2026-03-03T16:40:00+08:00")
    assert found["suggested"] == {"at": "2026-03-03T08:45:00+00:00", "members_working": 4}
    # From Friday noon: Saturday and Sunday are no working days; London moves to summer
    # time on Sunday 29 March, so on Monday its 08:00 is 07:00 UTC.
    found = suggestion(timed, asker, space, after="2026-03-27T12:00:00Z")
    assert found["suggested"] == {"at": "2026-03-30T07:00:00+00:00", "members_working": 4}
    # A member's own count is left out: for a London member, three are reachable at best.
    found = suggestion(timed, london[0], space)
    assert found["suggested"]["members_working"] == 3


def test_send_time_ties_go_to_the_earliest_and_bad_input(timed: Timed) -> None:
    make = timed.make
    asker = make.person("Ada", timezone="Europe/London")
    tokyo = make.person("Taro", timezone="Asia/Tokyo")  # 00:00-08:00 UTC
    new_york = make.person("Ned", timezone="America/New_York")  # 14:00-22:00 UTC (EST)
    space = ok(timed.client.post(f"{API}/spaces", json={"name": "Far apart"}, headers=asker.headers), 201)[
        "id"
    ]
    for person in (tokyo, new_york):
        ok(timed.client.post(f"{API}/spaces/{space}/join", headers=person.headers))
    timed.clock.now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday: nobody at work
    found = suggestion(timed, asker, space)
    assert found["suggested"] == {"at": "2026-03-02T14:00:00+00:00", "members_working": 1}  # New York first
    assert found["now"]["members_working"] == 0
    # A time in the past counts from now.
    assert (
        suggestion(timed, asker, space, after="2020-01-01T00:00:00Z")["after"] == "2026-03-02T10:00:00+00:00"
    )
    outsider = make.person("Nina")
    private = ok(
        timed.client.post(
            f"{API}/spaces", json={"name": "Hidden", "visibility": "private"}, headers=asker.headers
        ),
        201,
    )["id"]
    assert timed.client.get(f"{API}/spaces/{private}/send-time", headers=outsider.headers).status_code == 404
    for query, field in (
        ("after=soon", "after"),
        ("after=2026-03-03T09:00:00", "after"),
        ("after=2026-05-03T09:00:00Z", "after"),
        ("after=", "after"),
    ):
        response = timed.client.get(f"{API}/spaces/{space}/send-time?{query}", headers=asker.headers)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["fields"]


def run_together(job: Callable[[App], int], *apps: App) -> int:
    """Run ``job`` on each App in its own thread, all starting at once; the sum of results."""
    start = threading.Barrier(len(apps))
    results: list[int] = []

    def run(app: App) -> None:
        start.wait()
        results.append(job(app))

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == len(apps)
    return sum(results)


@contextmanager
def second_app(timed: Timed) -> Iterator[App]:
    """Another App (another process's container) on the same database and clock."""
    app = build_app(timed.app.settings.model_copy(), clock=timed.clock, hasher=FAST_HASHER)
    try:
        yield app
    finally:
        app.close()
