"""Catch-up: what changed since my last visit, ranked, each item saying why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.conftest import Actor
from tests.movable_clock import Timed, timed_app
from tests.notice_world import add_member, call, new_space, new_topic, ok, reply, set_level

from kith.domain.catch_up import TIERS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url) as t:
        yield t


def catch_up(t: Timed, person: Actor, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(call(t.client, person, "GET", "/catch-up", **params))
    return result


def test_catch_up_ranks_what_changed_and_says_why(timed: Timed) -> None:
    t = timed
    t.clock.now = T0
    me, ana, ben, cy = (t.make.person(n) for n in ("Mia Me", "Ana Owner", "Ben Busy", "Cy Chatty"))
    sales = new_space(t.client, ana, "Sales")
    digesty = new_space(t.client, ana, "Digesty")
    muted = new_space(t.client, ana, "Muted")
    secret = new_space(t.client, ana, "Secret", visibility="private")
    elsewhere = new_space(t.client, ana, "Elsewhere")  # public, I am not a member
    add_member(t.client, ana, elsewhere, ben)
    for space in (sales, digesty, muted, secret):
        add_member(t.client, ana, space, me, ben, cy)
    set_level(t.client, me, digesty, "digest")
    set_level(t.client, me, muted, "mute")
    q_open, _ = new_topic(t.client, me, sales, "Open question", "How do we price X?", is_question=True)
    q_taken, _ = new_topic(t.client, me, sales, "Taken question", "Who owns Y?", is_question=True)
    mine, my_post = new_topic(t.client, me, sales, "My note", "Here is my note")
    prices, wrong = new_topic(t.client, ana, sales, "Prices", "The price is 10")
    ok(call(t.client, me, "POST", "/seen", {"post_ids": [wrong]}))
    old_fact = ok(
        call(t.client, ana, "POST", f"/spaces/{sales}/facts", {"title": "Price list", "body": "10"}), 201
    )["id"]
    t.clock.advance(minutes=1)
    ok(call(t.client, me, "POST", "/catch-up/done"))
    assert catch_up(t, me)["items"] == []

    t.clock.advance(hours=1)
    mention_topic, mention = new_topic(t.client, ana, sales, "Heads up", f"@{me.person.handle} see this")
    t.clock.advance(minutes=1)
    reply_post = reply(t.client, ben, mine, "Nice note", reply_to_id=my_post)
    reply(t.client, ana, q_open, "Try 12")
    last_answer = reply(t.client, ben, q_open, "Or 13")
    accepted = reply(t.client, ben, q_taken, "Ana owns Y")
    ok(call(t.client, ana, "POST", f"/topics/{q_taken}/accept", {"post_id": accepted}))
    t.clock.advance(minutes=1)
    reply(t.client, ana, prices, "Sorry, 12", correction_of_id=wrong)
    ok(call(t.client, ana, "PATCH", f"/facts/{old_fact}", {"body": "12"}))
    new_fact = ok(
        call(t.client, ben, "POST", f"/spaces/{digesty}/facts", {"title": "Travel rules", "body": "Go"}), 201
    )["id"]
    # Busy topics: "Loud" 6 posts by 2 people (6 + 3x2 = 12); "Lively" 4 by 3 (4 + 3x3 = 13);
    # my own posts do not count.
    loud, _ = new_topic(t.client, ana, digesty, "Loud", "1")
    for i in range(2, 7):
        reply(t.client, ben if i % 2 else ana, loud, str(i))
    lively, _ = new_topic(t.client, ana, sales, "Lively", "1")
    for person in (ben, cy, cy):
        reply(t.client, person, lively, "more")
    reply(t.client, me, lively, "my own posts do not count")
    # Nothing from a muted space, a space I left, or a busy space I am not in.
    new_topic(t.client, ana, muted, "Muted chatter", f"@{me.person.handle} in the muted space")
    new_topic(t.client, ana, secret, "Secret plan", f"@{me.person.handle} psst")
    ok(call(t.client, me, "POST", f"/spaces/{secret}/leave"), 204)
    outside, outside_post = new_topic(t.client, ana, elsewhere, "Outside", f"@{me.person.handle} over here")
    for _ in range(5):
        reply(t.client, ben, outside, "busy elsewhere")
    t.clock.advance(minutes=1)

    result = catch_up(t, me)
    assert result["since"] == (T0 + timedelta(minutes=1)).isoformat()
    items = result["items"]
    reasons = [item["reason"] for item in items]
    # By tier, then newest first within a tier (ties: by reason name).
    assert reasons == [
        "mention",  # Outside
        "reply",  # to My note, a minute after the mention in Heads up
        "mention",  # Heads up
        "accepted",  # Taken question, accepted after the replies to Open question
        "answer",
        "correction",
        "fact_changed",
        "fact_new",
        "busy_topic",  # Lively: 4 posts by 3 people, 4 + 3x3 = 13; Loud: 6 by 2, 6 + 3x2 = 12
        "busy_topic",
        "busy_topic",  # then Prices, My note, Heads up: 1 + 3x1 = 4 each, newest first
        "busy_topic",
        "busy_topic",
    ]
    tiers = [item["tier"] for item in items]
    assert tiers == sorted(tiers)
    assert all(item["tier"] == TIERS[item["reason"]] for item in items)
    by = {
        (item["reason"], (item["topic"] or {}).get("id") or (item["fact"] or {}).get("id")): item
        for item in items
    }

    first = items[0]
    assert first["post"] == {"id": outside_post, "excerpt": "@" + me.person.handle + " over here"}
    assert first["why"] == "Ana Owner mentioned you in “Outside”"
    assert first["space"]["name"] == "Elsewhere"
    assert items[2]["post"]["id"] == mention
    assert items[2]["topic"] == {"id": mention_topic, "title": "Heads up"}
    assert by[("reply", mine)]["post"]["id"] == reply_post
    assert by[("reply", mine)]["why"] == "Ben Busy replied to your post in “My note”"
    answer = by[("answer", q_open)]
    assert answer["counts"] == {"replies": 2}
    assert answer["post"]["id"] == last_answer
    assert answer["why"] == "2 new replies to your question “Open question”"
    assert (
        by[("accepted", q_taken)]["why"]
        == "An answer by Ben Busy was accepted for your question “Taken question”"
    )
    correction = next(item for item in items if item["reason"] == "correction")
    assert correction["why"] == "Ana Owner corrected a post you saw in “Prices”"
    assert by[("fact_new", new_fact)]["why"] == "Ben Busy added the fact “Travel rules” in Digesty"
    assert by[("fact_changed", old_fact)]["fact"]["version"] == 2
    busy = [item for item in items if item["reason"] == "busy_topic"]
    assert [b["topic"]["title"] for b in busy[:2]] == ["Lively", "Loud"]
    assert busy[0]["counts"] == {"posts": 4, "participants": 3}
    assert busy[0]["score"] == 13
    assert busy[1]["counts"] == {"posts": 6, "participants": 2}
    assert busy[1]["score"] == 12
    assert busy[0]["why"] == "4 new posts from 3 people in “Lively” (Sales)"
    text = str(items)
    for hidden in ("Muted chatter", "Secret plan", "psst", "busy elsewhere"):
        assert hidden not in text
    assert {b["topic"]["id"] for b in busy}.isdisjoint({q_open, q_taken, outside})

    # Done: the next catch-up starts now and is empty; since= still looks back.
    done = ok(call(t.client, me, "POST", "/catch-up/done"))
    assert done["caught_up_at"] == t.clock.now.isoformat()
    assert catch_up(t, me)["items"] == []
    again = catch_up(t, me, since=(T0 + timedelta(minutes=1)).isoformat())
    assert [item["reason"] for item in again["items"]] == reasons


def test_the_default_window_is_a_day_and_since_is_checked(timed: Timed) -> None:
    t = timed
    t.clock.now = T0
    me, ana = t.make.person("Mia Me"), t.make.person("Ana Author")
    space = new_space(t.client, ana, "Sales")
    add_member(t.client, ana, space, me)
    new_topic(t.client, ana, space, "Old news", f"@{me.person.handle} old")
    t.clock.advance(hours=25)
    new_topic(t.client, ana, space, "New news", f"@{me.person.handle} new")
    result = catch_up(t, me)
    assert result["since"] == (t.clock.now - timedelta(hours=24)).isoformat()
    assert [item["topic"]["title"] for item in result["items"] if item["reason"] == "mention"] == ["New news"]
    future = (t.clock.now + timedelta(hours=1)).isoformat()
    for bad in ("yesterday", "0.5", "2026-03-02T09:00:00", "2026-13-45T09:00:00Z", future):
        response = call(t.client, me, "GET", "/catch-up", since=bad)
        assert response.status_code == 422, bad
        assert "since" in response.json()["error"]["fields"]
    assert t.client.get("/api/v1/catch-up").status_code == 401
    assert t.client.post("/api/v1/catch-up/done").status_code == 401


def test_a_private_space_stays_invisible_to_non_members(timed: Timed) -> None:
    t = timed
    t.clock.now = T0
    owner, member, outsider = t.make.person("Olga"), t.make.person("Mika"), t.make.person("Nina")
    secret = new_space(t.client, owner, "Nightjar", visibility="private")
    add_member(t.client, owner, secret, member)
    topic, _ = new_topic(
        t.client, owner, secret, "Quillfeather", f"@{member.person.handle} @{outsider.person.handle}"
    )
    for _ in range(3):
        reply(t.client, owner, topic, "zanzibarite")
    ok(call(t.client, owner, "POST", f"/spaces/{secret}/facts", {"title": "Halcyon", "body": "x"}), 201)
    t.clock.advance(minutes=5)
    seen_by_member = str(catch_up(t, member))
    assert "Quillfeather" in seen_by_member
    assert "Halcyon" in seen_by_member
    as_outsider = catch_up(t, outsider)
    assert as_outsider["items"] == []
    admin = t.make.admin
    assert catch_up(t, admin)["items"] == []
