"""Information-velocity metrics through the API, on both engines: exact values on a
timeline played on a movable clock, always current, the stored daily series and its job,
private spaces, bad input, and ``kith report space``."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from tests.conftest import Actor
from tests.movable_clock import Timed, timed_app
from typer.testing import CliRunner

from kith.actions import metrics, spaces, topics
from kith.app import App
from kith.cli.main import cli
from kith.storage import metrics as store

API = "/api/v1"
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def call(client: TestClient, actor: Actor, method: str, path: str, body: Any = None) -> Response:
    return client.request(method, API + path, json=body, headers=actor.headers)


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


class Team:
    """A public space of four: Olga and Lee in London, Sam in Singapore, Nia in New York."""

    def __init__(self, t: Timed, *, visibility: str = "public") -> None:
        self.t = t
        t.clock.now = MONDAY - timedelta(days=1)  # everyone has joined by Monday
        self.olga = self.person("Olga", "Europe/London")
        self.lee = self.person("Lee", "Europe/London")
        self.sam = self.person("Sam", "Asia/Singapore")
        self.nia = self.person("Nia", "America/New_York")
        created = self.call(self.olga, "POST", "/spaces", {"name": "Velocity", "visibility": visibility}, 201)
        self.space = created["id"]
        for who in (self.lee, self.sam, self.nia):
            self.call(self.olga, "POST", f"/spaces/{self.space}/members", {"person_id": who.id}, 201)

    def person(self, name: str, zone: str) -> Actor:
        return self.t.make.person(
            name, timezone=zone, work_start="09:00", work_end="17:00", work_days="mon-fri"
        )

    def call(self, actor: Actor, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        return ok(call(self.t.client, actor, method, path, body), status)

    def at(self, hour: int, minute: int = 0, *, day: int = 0) -> None:
        self.t.clock.now = MONDAY.replace(hour=hour, minute=minute) + timedelta(days=day)

    def ask(self, who: Actor, title: str, *, question: bool = True) -> tuple[int, int]:
        body = {"title": title, "body": f"{title}?", "is_question": question}
        created = self.call(who, "POST", f"/spaces/{self.space}/topics", body, 201)
        return created["topic"]["id"], created["post"]["id"]

    def reply(self, who: Actor, topic: int) -> int:
        post_id: int = self.call(who, "POST", f"/topics/{topic}/posts", {"body": "here"}, 201)["id"]
        return post_id

    def see(self, who: Actor, *post_ids: int) -> None:
        self.call(who, "POST", "/seen", {"post_ids": list(post_ids)})

    def metrics(self, who: Actor | None = None, query: str = "") -> Any:
        return self.call(who or self.olga, "GET", f"/spaces/{self.space}/metrics{query}")


def test_questions_and_waits_on_a_timeline(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t)
        team.at(9)
        q1, _ = team.ask(team.lee, "Pricing for Acme")
        team.at(9, 10)
        a1 = team.reply(team.olga, q1)
        team.at(10)
        q2, _ = team.ask(team.lee, "Renewal terms")
        team.at(10, 20)
        team.reply(team.sam, q2)
        team.at(10, 30)
        team.call(team.lee, "POST", f"/topics/{q1}/accept", {"post_id": a1})
        team.at(11)
        q3, _ = team.ask(team.lee, "Discount rules")
        team.at(11, 30)
        team.reply(team.olga, q3)
        team.at(12)
        q4, _ = team.ask(team.lee, "Who owns Globex")
        team.at(12, 40)
        team.reply(team.olga, q4)
        team.at(18)  # London has gone home; Singapore is asleep; New York works but never answered
        team.ask(team.lee, "Urgent: contract clause")
        team.ask(team.lee, "Not a question", question=False)
        team.at(19)
        found = team.metrics(query="?from=2026-03-02&to=2026-03-02")
        questions = found["summary"]["questions"]
        assert questions["asked"] == 5
        # 600, 1200, 1800, 2400 s and one open for an hour (Kaplan-Meier, inverted CDF):
        # S = 4/5, 3/5, 2/5 at 600, 1200, 1800: the median is 1800; p90 is not reached.
        assert questions["first_reply"] == {
            "median_seconds": 1_800,
            "p90_seconds": None,
            "done": 4,
            "open": 1,
        }
        assert questions["accepted_answer"]["done"] == 1
        assert questions["accepted_answer"]["open"] == 4
        assert questions["unanswered_24h"] == {"eligible": 0, "unanswered": 0, "share": None}
        # The 18:00 question waited for Singapore's morning (01:00 UTC): seven hours.
        assert questions["timezone_waits"] == {
            "questions": 5,
            "waited": 1,
            "share": 0.2,
            "total_wait_seconds": 7 * 3_600,
            "median_wait_seconds": 7 * 3_600,
        }
        assert found["days"][0]["questions"] == questions
        # The next day, the four answered ones are old enough to judge; the open one is 19 h old.
        team.at(13, day=1)
        later = team.metrics(query="?from=2026-03-02")
        assert later["summary"]["questions"]["unanswered_24h"] == {
            "eligible": 4,
            "unanswered": 0,
            "share": 0.0,
        }
        assert [d["day"] for d in later["days"]] == ["2026-03-02", "2026-03-03"]
        assert later["days"][1]["questions"]["asked"] == 0


def test_reach_is_always_current(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t)
        team.at(9)
        _topic, post = team.ask(team.olga, "Acme switched supplier", question=False)
        today = "?from=2026-03-02&to=2026-03-02"
        reach = team.metrics(query=today)["summary"]["reach"]
        assert reach["posts"] == 1
        assert [c["share"] for c in reach["curve"]] == [None] * 9  # not five minutes old yet
        assert reach["t50"] == {"median_seconds": None, "reached": 0, "not_reached": 1}
        team.at(9, 3)
        team.see(team.sam, post)
        team.at(9, 10)
        team.see(team.nia, post)
        reach = team.metrics(query=today)["summary"]["reach"]
        curve = {c["after"]: c for c in reach["curve"]}
        assert curve["5m"] == {"after": "5m", "seconds": 300, "share": 0.3333, "posts": 1}
        assert curve["15m"]["share"] is None
        assert reach["t50"] == {"median_seconds": 600, "reached": 1, "not_reached": 0}
        # Someone who joins after the post is not of its audience, seen or not.
        kim = team.person("Kim", "Europe/London")
        team.call(kim, "POST", f"/spaces/{team.space}/join")
        team.at(9, 20)
        team.see(kim, post)
        team.see(team.lee, post)
        team.at(10)
        reach = team.metrics(query=today)["summary"]["reach"]
        assert {c["after"]: c["share"] for c in reach["curve"]}["15m"] == 0.6667
        assert {c["after"]: c["share"] for c in reach["curve"]}["1h"] == 1.0
        assert reach["t90"] == {"median_seconds": 1_200, "reached": 1, "not_reached": 0}
        # A long window reads the posts another way (in id order, not topic by topic): same day.
        long = team.metrics(query="?from=2026-01-01&to=2026-03-02")
        assert long["days"][-1]["reach"] == reach
        assert long["summary"]["reach"] == reach


def test_coverage_of_the_utc_day(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t)
        team.at(12)
        found = team.metrics(query="?from=2026-03-02&to=2026-03-02&k=2")
        cover = found["summary"]["coverage"]
        # Monday 2 March: London 9..16 (two people), New York on EST 14..21, Singapore 1..8.
        by_hour = [int(v) for v in cover["by_hour"]]
        assert by_hour == [0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 0, 0]
        assert cover["hours_with_k"] == 8  # 9..16
        assert (
            team.metrics(query="?from=2026-03-02&to=2026-03-02&k=3")["summary"]["coverage"]["hours_with_k"]
            == 3
        )


def test_final_days_are_stored_once_and_the_job_fills_yesterday(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t)
        team.at(9)
        _topic, post = team.ask(team.olga, "Launch date", question=False)
        team.at(9, 30)
        team.see(team.nia, post)
        team.see(team.sam, post)
        team.at(12, day=10)  # Thursday 12 March: 2 March is final (eight days after its end)
        first = team.metrics(query="?from=2026-03-02&to=2026-03-02")
        assert first["summary"]["reach"]["t50"]["median_seconds"] == 1_800
        with t.app.db.read() as conn:
            stored = store.stored_days(conn, team.space, date(2026, 3, 2), date(2026, 3, 12))
        assert list(stored) == [date(2026, 3, 2)]
        assert stored[date(2026, 3, 2)][0]["day"] == first["days"][0]
        # Computed once: Nia leaves, so a recomputation would no longer count her (the
        # 1 h reach would be 1 of 2 instead of 2 of 3), yet the stored day stands.
        team.call(team.nia, "POST", f"/spaces/{team.space}/leave", None, 204)
        again = team.metrics(query="?from=2026-03-02&to=2026-03-02")
        assert again["summary"]["reach"] == first["summary"]["reach"]
        assert {c["after"]: c["share"] for c in again["summary"]["reach"]["curve"]}["1h"] == 0.6667
        # The job: the last eight days, 4 to 11 March, in one pass; then nothing to do.
        assert metrics.do_store_daily_metrics(t.app) == 8
        assert metrics.do_store_daily_metrics(t.app) == 0
        team.at(1, day=11)
        # The next day: yesterday's row, and 4 March again, now final.
        assert metrics.do_store_daily_metrics(t.app) == 2
        with t.app.db.read() as conn:
            stored = store.stored_days(conn, team.space, date(2026, 3, 1), date(2026, 3, 13))
        assert sorted(stored) == [date(2026, 3, 2)] + [date(2026, 3, d) for d in range(4, 13)]
        assert stored[date(2026, 3, 12)][1] == t.clock.now


def test_private_space_metrics_are_for_members_only(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t, visibility="private")
        outsider = t.make.person("Out Sider")
        response = call(t.client, outsider, "GET", f"/spaces/{team.space}/metrics")
        missing = call(t.client, outsider, "GET", "/spaces/999999/metrics")
        assert response.status_code == missing.status_code == 404
        assert re.sub(r"\d+", "#", response.text) == re.sub(r"\d+", "#", missing.text)
        admin = call(t.client, t.make.admin, "GET", f"/spaces/{team.space}/metrics")
        assert admin.status_code == 404
        assert team.metrics(team.nia)["space_id"] == team.space


def test_bad_windows_are_422_naming_the_field(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t)
        cases = {
            "?from=2026-13-01": "from",
            "?from=yesterday": "from",
            "?to=2026-02-30": "to",
            "?to=20260302": "to",
            "?from=2026-03-02&to=2026-03-01": "from",
            "?from=2024-01-01&to=2026-03-02": "from",
            "?k=0": "k",
            "?k=many": "k",
        }
        for query, field in cases.items():
            response = call(t.client, team.olga, "GET", f"/spaces/{team.space}/metrics{query}")
            assert response.status_code == 422, (query, response.text)
            assert field in response.json()["error"]["fields"], (query, response.text)
        with t.app.db.read() as conn:
            assert store.stored_days(conn, team.space, date(2020, 1, 1), date(2030, 1, 1)) == {}


def test_default_window_and_a_later_to_are_today(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t)
        team.at(15, day=3)
        found = team.metrics()
        assert (found["from"], found["to"], found["k"]) == ("2026-02-06", "2026-03-05", 2)
        assert len(found["days"]) == 28
        assert team.metrics(query="?to=2030-01-01")["to"] == "2026-03-05"


def test_report_space_on_the_command_line(sqlite_app: App, tmp_path: Any) -> None:
    from tests.conftest import Factory

    make = Factory(sqlite_app)
    owner = make.person("Olga")
    view = spaces.check_create_space(sqlite_app, owner.viewer, name="Report Me", visibility="private")
    topics.check_create_topic(sqlite_app, owner.viewer, view.space.id, title="Q", body="Q?", is_question=True)
    runner = CliRunner()
    env = {"KITH_DATABASE_URL": sqlite_app.settings.database_url, "KITH_CONFIG_FILE": None}
    result = runner.invoke(cli, ["report", "space", "report-me", "--json"], env=env)
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["space_id"] == view.space.id
    assert found["summary"]["questions"]["asked"] == 1
    tables = runner.invoke(cli, ["report", "space", "report-me", "--k", "1"], env=env)
    assert tables.exit_code == 0, tables.output
    assert "questions asked" in tables.output
    assert "by day" in tables.output
    missing = runner.invoke(cli, ["report", "space", "nope"], env=env)
    assert missing.exit_code != 0
    assert "no space 'nope'" in missing.stderr
    bad = runner.invoke(cli, ["report", "space", "report-me", "--from", "soon"], env=env)
    assert bad.exit_code != 0
    assert "from" in bad.stderr


def test_every_way_of_reading_sightings_agrees(database_url: str) -> None:
    """Short windows read posts topic by topic; long ones in id order, or on SQLite in one
    pass over all sightings (when the space holds a good share of all posts): the same days."""
    with timed_app(database_url) as t:
        team = Team(t)
        other = team.call(team.sam, "POST", "/spaces", {"name": "Elsewhere"}, 201)["id"]
        team.call(team.olga, "POST", f"/spaces/{other}/join")
        team.at(9)
        posts: list[int] = []
        for i, who in enumerate((team.olga, team.lee, team.sam, team.nia, team.olga, team.lee)):
            team.at(9 + i)
            posts.append(team.ask(who, f"News {i}", question=i % 2 == 0)[1])
            outside = team.call(team.sam, "POST", f"/spaces/{other}/topics", {"title": "x", "body": "y"}, 201)
            team.see(team.olga, outside["post"]["id"])
            team.at(9 + i, 30)
            readers = [a for a in (team.olga, team.lee, team.sam, team.nia) if a is not who]
            for reader in readers[: 1 + i % 3]:
                team.see(reader, posts[-1])
        team.call(team.lee, "DELETE", f"/posts/{posts[1]}")
        team.at(18)
        short = team.metrics(query="?from=2026-03-02&to=2026-03-02")
        long = team.metrics(query="?from=2026-01-01&to=2026-03-02")
        assert short["summary"]["reach"]["posts"] == 5  # the deleted one is left out
        assert long["days"][-1] == short["days"][0]
        assert long["summary"]["reach"] == short["summary"]["reach"]


def test_overdue_facts_and_corrections_that_landed(database_url: str) -> None:
    with timed_app(database_url) as t:
        team = Team(t)
        team.at(9)
        fact = team.call(
            team.olga,
            "POST",
            f"/spaces/{team.space}/facts",
            {"title": "Price list", "body": "v1", "review_by": "2026-03-03"},
            201,
        )
        team.call(team.lee, "POST", "/facts/seen", {"fact_ids": [fact["id"]]})
        _topic, post = team.ask(team.olga, "Acme pays in euros", question=False)
        team.see(team.sam, post)
        team.see(team.nia, post)
        team.at(10)
        team.call(
            team.olga,
            "POST",
            f"/topics/{_topic}/posts",
            {"body": "No: in dollars", "correction_of_id": post},
            201,
        )
        team.call(team.olga, "PATCH", f"/facts/{fact['id']}", {"body": "v2", "note": "new prices"})
        today = "?from=2026-03-02&to=2026-03-02"
        listed = team.call(team.olga, "GET", f"/spaces/{team.space}/corrections")["items"]
        fixes = team.metrics(query=today)["summary"]["corrections"]
        assert fixes["count"] == len(listed) == 2
        assert fixes["recipients"] == sum(c["recipients"] for c in listed) == 3  # Sam and Nia; Lee
        assert fixes["seen"] == 0
        # Sam sees the correcting post, Lee the new version of the fact: both have landed.
        correcting = next(c["correction_post_id"] for c in listed if c["kind"] == "post")
        team.at(11)
        team.see(team.sam, correcting)
        team.call(team.lee, "POST", "/facts/seen", {"fact_ids": [fact["id"]]})
        fixes = team.metrics(query=today)["summary"]["corrections"]
        assert fixes == {"count": 2, "recipients": 3, "seen": 2, "seen_share": 0.6667}
        listed = team.call(team.olga, "GET", f"/spaces/{team.space}/corrections")["items"]
        assert sum(c["seen_since"] for c in listed) == 2
        # The fact is due on the 3rd: overdue from the 4th, in the series and today.
        assert team.metrics(query=today)["summary"]["facts"] == {"overdue": 0}
        team.at(12, day=3)
        found = team.metrics(query="?from=2026-03-02")
        assert [d["facts"]["overdue"] for d in found["days"]] == [0, 0, 1, 1]
        assert found["summary"]["facts"] == {"overdue": 1}
        assert found["summary"]["corrections"]["count"] == 2
