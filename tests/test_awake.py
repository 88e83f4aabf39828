"""@awake: the members of the space within their working hours now are told, nobody else.

Monday 2 March 2026 (no daylight-saving change that week anywhere used here): at 02:00 UTC
Tokyo (UTC+9), Singapore (UTC+8) and Sydney (UTC+11) are at work, London (UTC+0) and New
York (UTC-5, still Sunday evening) are not; at 14:00 UTC it is the other way round.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.conftest import Actor
from tests.movable_clock import Timed, timed_app

from kith.actions.events import list_since
from kith.actions.notify import list_notifications

API = "/api/v1"
MONDAY_0200 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
MONDAY_1400 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url) as t:
        yield t


class Team:
    def __init__(self, t: Timed) -> None:
        make = t.make
        self.t = t
        self.author = make.person("Aiko Author", timezone="Asia/Tokyo")
        self.tokyo = make.person("Taro Tokyo", timezone="Asia/Tokyo")
        self.singapore = make.person("Siew Singapore", timezone="Asia/Singapore")
        self.sydney = make.person("Sid Sydney", timezone="Australia/Sydney")
        self.london = make.person("Liz London", timezone="Europe/London")
        self.new_york = make.person("Ned NewYork", timezone="America/New_York")
        self.outsider = make.person("Oto Outsider", timezone="Asia/Tokyo")  # awake, not a member
        client = t.client
        self.space = ok(
            client.post(f"{API}/spaces", json={"name": "Follow the sun"}, headers=self.author.headers), 201
        )["id"]
        for member in (self.tokyo, self.singapore, self.sydney, self.london, self.new_york):
            ok(client.post(f"{API}/spaces/{self.space}/join", headers=member.headers))
        self.level(self.singapore, "mute")
        self.level(self.sydney, "digest")
        topic = {"title": "Urgent client question", "body": "Starting the thread"}
        self.topic = ok(
            client.post(f"{API}/spaces/{self.space}/topics", json=topic, headers=self.author.headers), 201
        )["topic"]["id"]

    def level(self, who: Actor, level: str) -> None:
        ok(
            self.t.client.put(
                f"{API}/spaces/{self.space}/notification-level",
                json={"notification_level": level},
                headers=who.headers,
            )
        )

    def post(self, body: str, who: Actor | None = None) -> int:
        who = who or self.author
        created = self.t.client.post(
            f"{API}/topics/{self.topic}/posts", json={"body": body}, headers=who.headers
        )
        post_id: int = ok(created, 201)["id"]
        return post_id

    def told(self, post_id: int, kind: str = "awake") -> dict[int, bool]:
        """Everyone notified of ``kind`` about the post, and whether it was held."""
        found = {}
        for who in self.everyone:
            for n in list_notifications(self.t.app, who.viewer).items:
                if n.post_id == post_id and n.kind == kind:
                    found[who.id] = n.held
        return found

    @property
    def everyone(self) -> list[Actor]:
        return [
            self.author,
            self.tokyo,
            self.singapore,
            self.sydney,
            self.london,
            self.new_york,
            self.outsider,
        ]


def test_awake_at_0200_utc_tells_asia_pacific(timed: Timed) -> None:
    team = Team(timed)
    timed.clock.now = MONDAY_0200
    before = max((e.id for e in list_since(timed.app, 0)), default=0)
    post = team.post("Who can help right now? @awake")
    # Tokyo live; Sydney held for their digest (level); Singapore muted; not the author
    # (awake in Tokyo), not London or New York (asleep), not the outsider (awake, no member).
    assert team.told(post) == {team.tokyo.id: False, team.sydney.id: True}
    live = [e for e in list_since(timed.app, before) if e.type == "notification.created"]
    assert [(e.audience_id, e.payload["kind"], e.payload["post_id"]) for e in live] == [
        (team.tokyo.id, "awake", post)
    ]


def test_awake_at_1400_utc_tells_europe_and_america(timed: Timed) -> None:
    team = Team(timed)
    timed.clock.now = MONDAY_1400
    post = team.post("@awake anyone around for a quick call?")
    assert team.told(post) == {team.london.id: False, team.new_york.id: False}
    # The same people at 02:00 the next day: Asia-Pacific again.
    timed.clock.now = MONDAY_0200.replace(day=3)
    again = team.post("@awake one more thing")
    assert team.told(again) == {team.tokyo.id: False, team.sydney.id: True}


def test_awake_and_mentioned_is_told_once_and_a_plain_post_tells_nobody(timed: Timed) -> None:
    team = Team(timed)
    timed.clock.now = MONDAY_1400
    post = team.post(f"@awake, and especially @{team.london.person.handle}")
    assert team.told(post, "mention") == {team.london.id: False}
    assert team.told(post) == {team.new_york.id: False}
    quiet = team.post("no one in particular")
    assert all(team.told(quiet, kind) == {} for kind in ("awake", "mention"))
    # "@awake" inside code is not a mention.
    coded = team.post("type `@awake` to reach them")
    assert team.told(coded) == {}


def test_reply_by_a_member_with_awake_does_not_tell_its_author(timed: Timed) -> None:
    team = Team(timed)
    timed.clock.now = MONDAY_1400
    post = team.post("@awake what does the client mean?", who=team.london)
    # London wrote it: not told; the topic's author (Tokyo) is asleep at 14:00 UTC.
    assert team.told(post) == {team.new_york.id: False}
    # Muting makes London deaf to @awake; the level is per space.
    team.level(team.london, "mute")
    later = team.post("@awake still there?", who=team.new_york)
    assert team.told(later) == {}
    team.level(team.london, "all")
    last = team.post("@awake back?", who=team.new_york)
    assert team.told(last) == {team.london.id: False}
