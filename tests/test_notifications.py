"""Notifications: levels per space, quiet hours across time zones, and the API.

Everything runs through a real App on both engines; time is a clock the test moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from tests.conftest import Actor
from tests.movable_clock import Timed, timed_app
from tests.notice_world import (
    add_member,
    call,
    live_notices,
    new_space,
    new_topic,
    notifications_of,
    ok,
    reply,
    set_level,
)

from kith.actions.events import list_since
from kith.actions.notify import _OWN, KINDS, Notice, decide, notify
from kith.domain.models import Role

LEVELS = ("all", "mentions", "digest", "mute")


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url) as t:
        yield t


def expected(kind: str, level: str, *, working: bool, urgent: bool) -> tuple[bool, bool]:
    """(told, held) as notify.py's docstring says."""
    if level == "mute" and kind not in _OWN:
        return (True, True) if kind == "correction" else (False, False)
    if urgent:
        return True, False
    if level == "digest" and kind not in _OWN:
        return True, True
    return True, not working


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(("working", "urgent"), [(True, False), (False, False), (False, True)])
def test_decide_follows_the_rules_for_every_level_and_kind(
    kind: str, level: str, working: bool, urgent: bool
) -> None:
    decision = decide(kind, level=level, member=True, private=True, urgent=urgent, working=working)
    assert (decision.told, decision.held) == expected(kind, level, working=working, urgent=urgent)
    # Nobody outside a private space is ever told anything of it.
    outside = decide(kind, level=None, member=False, private=True, urgent=urgent, working=working)
    assert not outside.told


def _members_at_each_level(t: Timed) -> tuple[int, dict[str, Actor], Actor]:
    owner = t.make.person("Olga Owner")
    people = {level: t.make.person(f"Lev {level.title()}") for level in LEVELS}
    space = new_space(t.client, owner, "Levels", visibility="private")
    add_member(t.client, owner, space, *people.values())
    for level, person in people.items():
        set_level(t.client, person, space, level)
    return space, people, owner


@pytest.mark.parametrize("urgent", [False, True])
def test_each_level_for_each_kind_through_notify(timed: Timed, urgent: bool) -> None:
    t = timed
    space, people, owner = _members_at_each_level(t)
    outsider = t.make.person("Nora Outsider")
    t.clock.now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday, within 09:00-17:00 UTC
    for kind in KINDS:
        with t.app.db.transaction() as tx:
            written = notify(
                t.app,
                tx,
                [p.id for p in people.values()] + [outsider.id, owner.id],
                Notice(kind, space_id=space, actor_id=owner.id, urgent=urgent, payload={"k": kind}),
            )
        by_person = {n.person_id: n for n in written}
        assert owner.id not in by_person  # the actor is never told
        assert outsider.id not in by_person  # private space, not a member
        for level, person in people.items():
            told, held = expected(kind, level, working=True, urgent=urgent)
            assert (person.id in by_person) == told, (kind, level)
            if told:
                assert by_person[person.id].held == held, (kind, level)
    for level, person in people.items():
        live = {p["kind"] for p in live_notices(t.app, person.id)}
        want = {k for k in KINDS if expected(k, level, working=True, urgent=urgent) == (True, False)}
        assert live == want, level
        listed = {n["kind"] for n in notifications_of(t.client, person, limit=200)}
        assert listed == {k for k in KINDS if expected(k, level, working=True, urgent=urgent)[0]}


def test_posts_tell_each_level_what_it_asked_for(timed: Timed) -> None:
    t = timed
    space, people, owner = _members_at_each_level(t)
    t.clock.now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    handles = " ".join(f"@{p.person.handle}" for p in people.values())
    # Each level's person asks a question, then the owner mentions them all and replies.
    topics = {}
    for level, person in people.items():
        topic, first = new_topic(t.client, person, space, f"Question of {level}", "How?", is_question=True)
        topics[level] = (topic, first)
    for level, (topic, first) in topics.items():
        reply(t.client, owner, topic, f"Answer for {level}", reply_to_id=first)
    topic, _post = new_topic(t.client, owner, space, "Hello", f"Hi {handles}")
    reply(t.client, owner, topic, "Who is around? @awake")
    for level, person in people.items():
        kinds = sorted(n["kind"] for n in notifications_of(t.client, person))
        held = {n["held"] for n in notifications_of(t.client, person)}
        if level == "mute":
            assert kinds == []
        else:
            # The reply to the question is a reply (it answers a post of theirs), then a mention, @awake.
            assert kinds == ["awake", "mention", "reply"], level
            assert held == ({True} if level == "digest" else {False}), level
        live = {p["kind"] for p in live_notices(t.app, person.id)}
        assert live == (set() if level in ("mute", "digest") else {"awake", "mention", "reply"})


def test_a_correction_reaches_a_muted_viewer_held(timed: Timed) -> None:
    t = timed
    space, people, owner = _members_at_each_level(t)
    t.clock.now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    topic, post = new_topic(t.client, owner, space, "Prices", "The price is 10")
    viewers = [people["mute"], people["all"]]
    for person in viewers:
        ok(call(t.client, person, "POST", "/seen", {"post_ids": [post]}))
    reply(t.client, owner, topic, "Sorry, it is 12", correction_of_id=post)
    muted = notifications_of(t.client, people["mute"])
    assert [(n["kind"], n["held"]) for n in muted] == [("correction", True)]
    everyone = notifications_of(t.client, people["all"])
    assert [(n["kind"], n["held"]) for n in everyone] == [("correction", False)]
    assert notifications_of(t.client, people["digest"]) == []  # never saw it


ZONES = {"Asia/Singapore": "Sia", "Europe/London": "Lou", "America/New_York": "Ned"}


@pytest.mark.parametrize(
    ("at", "working"),
    [
        # Monday 2 March 2026. Singapore is UTC+8, London UTC+0, New York UTC-5.
        (datetime(2026, 3, 2, 2, 0, tzinfo=UTC), {"Asia/Singapore"}),
        (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), {"Europe/London"}),
        (datetime(2026, 3, 2, 14, 30, tzinfo=UTC), {"Europe/London", "America/New_York"}),
        (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), set()),
        # After New York's change to daylight time (8 March) and before London's (29 March):
        # 13:30 UTC is 09:30 in New York, 13:30 in London.
        (datetime(2026, 3, 9, 13, 30, tzinfo=UTC), {"Europe/London", "America/New_York"}),
        (datetime(2026, 3, 9, 12, 59, tzinfo=UTC), {"Europe/London"}),
    ],
)
def test_quiet_hours_hold_notifications_in_each_zone(timed: Timed, at: datetime, working: set[str]) -> None:
    t = timed
    author = t.make.person(
        "Ana Author", timezone="UTC", work_start="00:00", work_end="23:59", work_days="mon-sun"
    )
    people = {zone: t.make.person(name, timezone=zone) for zone, name in ZONES.items()}
    space = new_space(t.client, author, "Worldwide")
    add_member(t.client, author, space, *people.values())
    t.clock.now = at
    mention = " ".join(f"@{p.person.handle}" for p in people.values())
    topic, _ = new_topic(t.client, author, space, "News", f"FYI {mention}")
    new_topic(t.client, author, space, "Outage", f"Down! {mention}", urgent=True)
    for zone, person in people.items():
        found = {n["topic_id"]: n for n in notifications_of(t.client, person)}
        assert len(found) == 2
        assert found[topic]["held"] is (zone not in working), zone
        assert [n["held"] for n in found.values() if n["topic_id"] != topic] == [False]  # urgent
        live = live_notices(t.app, person.id)
        assert len(live) == (2 if zone in working else 1), zone


def test_the_api_lists_pages_counts_and_marks_read(timed: Timed) -> None:
    t = timed
    author, me = t.make.person("Ana Author"), t.make.person("Mia Me")
    space = new_space(t.client, author, "Busy")
    add_member(t.client, author, space, me)
    topic, _ = new_topic(t.client, author, space, "Roll call", "Start")
    ids = [reply(t.client, author, topic, f"@{me.person.handle} number {i}") for i in range(5)]
    assert ok(call(t.client, me, "GET", "/notifications/count")) == {"unread": 5}
    first = ok(call(t.client, me, "GET", "/notifications", limit=2))
    assert [n["post_id"] for n in first["items"]] == ids[::-1][:2]
    rest = ok(call(t.client, me, "GET", "/notifications", limit=10, cursor=first["next_cursor"]))
    assert [n["post_id"] for n in rest["items"]] == ids[::-1][2:]
    assert rest["next_cursor"] is None
    assert first["items"][0]["payload"]["topic_title"] == "Roll call"
    newest = first["items"][0]["id"]
    done = ok(call(t.client, me, "POST", "/notifications/read", {"ids": [newest]}))
    assert done == {"changed": 1, "unread": 4}
    unread = ok(call(t.client, me, "GET", "/notifications", unread=True))["items"]
    assert newest not in {n["id"] for n in unread}
    assert len(unread) == 4
    # Someone else's notification ids change nothing.
    other = t.make.person("Otto Other")
    assert ok(call(t.client, other, "POST", "/notifications/read", {"ids": [newest]}))["changed"] == 0
    assert ok(call(t.client, me, "POST", "/notifications/read", {"all": True})) == {"changed": 4, "unread": 0}
    assert len(live_notices(t.app, me.id)) == 5
    events = [e for e in list_since(t.app, 0) if e.type == "notification.read"]
    assert [e.payload["ids"] for e in events] == [[newest], None]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "ids"),
        ({"ids": [1], "all": True}, "ids"),
        ({"all": False}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": ["1"]}, "ids.0"),
        ({"ids": [0]}, "ids.0"),
        ({"all": "yes"}, "all"),
        ({"everything": True}, "everything"),
    ],
)
def test_bad_read_requests_name_the_field_and_change_nothing(
    timed: Timed, body: dict[str, object], field: str
) -> None:
    t = timed
    author, me = t.make.person("Ana Author"), t.make.person("Mia Me")
    space = new_space(t.client, author, "Busy")
    new_topic(t.client, author, space, "Hello", f"Hi @{me.person.handle}")
    response = call(t.client, me, "POST", "/notifications/read", body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert ok(call(t.client, me, "GET", "/notifications/count")) == {"unread": 1}
    bad = call(t.client, me, "GET", "/notifications", cursor="not-a-cursor")
    assert bad.status_code == 422
    assert call(t.client, me, "GET", "/notifications", limit=0).status_code == 422


def test_a_private_space_left_takes_its_notifications_with_it(timed: Timed) -> None:
    t = timed
    owner, me = t.make.person("Olga Owner"), t.make.person("Mia Me")
    secret = new_space(t.client, owner, "Secret", visibility="private")
    open_space = new_space(t.client, owner, "Open")
    add_member(t.client, owner, secret, me)
    new_topic(t.client, owner, secret, "Hidden plans", f"@{me.person.handle} look")
    new_topic(t.client, owner, open_space, "Open plans", f"@{me.person.handle} look")
    assert len(notifications_of(t.client, me)) == 2
    ok(call(t.client, me, "POST", f"/spaces/{secret}/leave"), 204)
    listed = notifications_of(t.client, me)
    assert [n["payload"]["topic_title"] for n in listed] == ["Open plans"]
    assert ok(call(t.client, me, "GET", "/notifications/count")) == {"unread": 1}
    # Marking all read cannot reach what is no longer readable, and reveals nothing.
    assert "Hidden" not in call(t.client, me, "GET", "/notifications").text


def test_signed_out_requests_are_refused(timed: Timed) -> None:
    t = timed
    assert t.client.get("/api/v1/notifications").status_code == 401
    assert t.client.get("/api/v1/notifications/count").status_code == 401
    assert t.client.post("/api/v1/notifications/read", json={"all": True}).status_code == 401
    admin = t.make.person("Ada Admin", role=Role.ADMIN)
    assert ok(call(t.client, admin, "GET", "/notifications")) == {"items": [], "next_cursor": None}


def test_every_kind_of_notification_has_its_own_sentence() -> None:
    from kith.actions.notify import KINDS
    from kith.domain.catch_up import notification_sentence

    payload = {"topic_title": "Prices", "title": "Q3 plan", "space_name": "Voices", "error": "gone"}
    for kind in KINDS:
        said = notification_sentence(kind, "Ana", "Voices", payload)
        assert f": {kind} in" not in said, (kind, said)  # not the catch-all
    assert notification_sentence("invitation", "Ana", None, payload) == "Ana invited you to join “Voices”"
    assert notification_sentence("send_failed", None, None, payload) == "Kith could not send “Q3 plan”: gone"
