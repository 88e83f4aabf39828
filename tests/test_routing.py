"""Question routing: ranking with reasons, who may see it, notifying, widening with the clock.

Monday 2 March 2026, 10:00 UTC: London (UTC+0) is at work, Tokyo (UTC+9, 19:00) is not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.conftest import FAST_HASHER, Actor
from tests.movable_clock import Timed, timed_app

from kith.actions.events import list_since
from kith.actions.notify import list_notifications
from kith.actions.routing import widen_due
from kith.app import App, build_app

API = "/api/v1"
MONDAY_1000 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url, routing_widen_minutes=60, routing_batch=1, routing_max_stage=3) as t:
        t.clock.now = MONDAY_1000
        yield t


class Space:
    """A space on a movable clock, and shorthands for its API."""

    def __init__(self, t: Timed, owner: Actor, *, private: bool = False) -> None:
        self.t = t
        self.owner = owner
        body = {"name": "Key accounts", "visibility": "private" if private else "public"}
        self.id = ok(t.client.post(f"{API}/spaces", json=body, headers=owner.headers), 201)["id"]

    def add(self, *people: Actor) -> None:
        for person in people:
            body = {"person_id": person.id}
            ok(
                self.t.client.post(f"{API}/spaces/{self.id}/members", json=body, headers=self.owner.headers),
                201,
            )

    def ask(self, asker: Actor, title: str, body: str) -> int:
        data = {"title": title, "body": body, "is_question": True}
        created = self.t.client.post(f"{API}/spaces/{self.id}/topics", json=data, headers=asker.headers)
        topic_id: int = ok(created, 201)["topic"]["id"]
        return topic_id

    def reply(self, who: Actor, topic_id: int, body: str) -> int:
        post_id: int = ok(
            self.t.client.post(f"{API}/topics/{topic_id}/posts", json={"body": body}, headers=who.headers),
            201,
        )["id"]
        return post_id

    def answered(
        self, asker: Actor, answerer: Actor, title: str, body: str, answer: str, *, accept: bool
    ) -> int:
        topic_id = self.ask(asker, title, body)
        post_id = self.reply(answerer, topic_id, answer)
        if accept:
            body_ = {"post_id": post_id}
            ok(self.t.client.post(f"{API}/topics/{topic_id}/accept", json=body_, headers=asker.headers))
        return topic_id

    def routing(self, who: Actor, topic_id: int, status: int = 200) -> Any:
        return ok(self.t.client.get(f"{API}/topics/{topic_id}/routing", headers=who.headers), status)

    def route(self, who: Actor, topic_id: int, body: Any = None, status: int = 200) -> Any:
        response = self.t.client.post(f"{API}/topics/{topic_id}/routing", json=body, headers=who.headers)
        return ok(response, status)


def asked(t: Timed, who: Actor, topic_id: int) -> list[tuple[bool, int]]:
    """The ``question`` notifications ``who`` got about the topic: (held, stage) each."""
    return [
        (n.held, n.payload["stage"])
        for n in list_notifications(t.app, who.viewer).items
        if n.kind == "question" and n.topic_id == topic_id
    ]


def test_ranking_similar_answerers_first_and_asleep_experts_last(timed: Timed) -> None:
    make = timed.make
    owner = make.person("Olga Owner", timezone="Europe/London")
    asker = make.person("Ada Asker", timezone="Europe/London")
    helper = make.person("Hal Helper", timezone="Europe/London")  # answered similar questions
    idle = make.person("Ida Idle", timezone="Europe/London")  # answered nothing
    other = make.person("Otto Other", timezone="Europe/London")  # answered an unrelated question
    sleeper = make.person("Sato Sleeper", timezone="Asia/Tokyo")  # the expert, asleep now
    muted = make.person("Mo Muted", timezone="Europe/London")
    space = Space(timed, owner)
    space.add(asker, helper, idle, other, sleeper, muted)
    ok(
        timed.client.put(
            f"{API}/spaces/{space.id}/notification-level",
            json={"notification_level": "mute"},
            headers=muted.headers,
        )
    )
    sso = space.answered(
        owner,
        helper,
        "Okta SAML single sign-on",
        "Does SAML SSO work with Okta?",
        "Yes, SAML 2.0",
        accept=True,
    )
    space.answered(
        owner, other, "Invoices in yen", "Can we invoice in JPY?", "Yes, finance sets it", accept=True
    )
    expert_topics = [
        space.answered(
            owner,
            sleeper,
            f"SAML SSO with {idp}",
            f"Customer uses {idp} for SAML login",
            "Works",
            accept=True,
        )
        for idp in ("Azure AD", "Ping", "OneLogin")
    ]
    question = space.ask(asker, "Okta SAML login failing", "The customer's Okta SAML single sign-on fails")

    plan = space.routing(asker, question)
    names = [c["display_name"] for c in plan["candidates"]]
    # Awake first (by score): the one who answered a similar question, then the unrelated
    # answerer, then nobody in particular; the asleep expert after every awake one.
    assert names == ["Hal Helper", "Otto Other", "Olga Owner", "Ida Idle", "Sato Sleeper"]
    by_name = {c["display_name"]: c for c in plan["candidates"]}
    assert "Mo Muted" not in by_name
    assert "Ada Asker" not in by_name
    hal = by_name["Hal Helper"]
    assert hal["awake"] is True
    assert hal["wakes_at"] is None
    kinds = {r["kind"]: r for r in hal["reasons"]}
    assert kinds["similar"]["topic_ids"] == [sso]
    assert "Okta SAML single sign-on" in kinds["similar"]["text"]
    assert kinds["accepted"]["count"] == 1
    assert by_name["Ida Idle"]["reasons"] == []
    assert by_name["Ida Idle"]["score"] == 0
    assert by_name["Otto Other"]["score"] < hal["score"]
    sato = by_name["Sato Sleeper"]
    assert sato["awake"] is False
    assert sato["wakes_at"] == "2026-03-03T00:00:00+00:00"  # 09:00 in Tokyo on Tuesday
    assert sato["score"] > hal["score"]  # the better expert, listed after the awake
    assert set(next(r for r in sato["reasons"] if r["kind"] == "similar")["topic_ids"]) == set(expert_topics)
    assert next(r for r in sato["reasons"] if r["kind"] == "accepted")["count"] == 3
    assert plan["routing"] is None
    assert plan["told"] == []
    assert plan["notified"] == []
    # At 01:00 UTC Tokyo is at work and London asleep: the expert comes first.
    timed.clock.now = MONDAY_1000.replace(day=3, hour=1)
    first = space.routing(asker, question)["candidates"][0]
    assert (first["display_name"], first["awake"]) == ("Sato Sleeper", True)


def test_who_may_see_and_route(timed: Timed) -> None:
    make = timed.make
    owner, asker, member, outsider = (make.person(n) for n in ("Olga", "Ada", "Mika", "Nina"))
    space = Space(timed, owner, private=True)
    space.add(asker, member)
    question = space.ask(asker, "A private question", "What now?")
    assert space.routing(asker, question)["topic_id"] == question
    assert space.routing(owner, question)["topic_id"] == question
    refused = timed.client.get(f"{API}/topics/{question}/routing", headers=member.headers)
    assert refused.status_code == 403, refused.text
    assert timed.client.post(f"{API}/topics/{question}/routing", headers=member.headers).status_code == 403
    for who in (outsider, make.admin):  # not members of the private space: it does not exist
        for method in ("GET", "POST"):
            response = timed.client.request(method, f"{API}/topics/{question}/routing", headers=who.headers)
            missing = timed.client.request(method, f"{API}/topics/999999/routing", headers=who.headers)
            assert response.status_code == missing.status_code == 404
            assert "private question" not in response.text.lower()
    # An administrator who is a member of the space may (as owners do).
    space.add(make.admin)
    assert space.routing(make.admin, question)["topic_id"] == question
    assert asked(timed, member, question) == []


def test_route_notifies_the_top_awake_or_the_named_and_never_twice(timed: Timed) -> None:
    make = timed.make
    owner = make.person("Olga", timezone="Europe/London")
    asker = make.person("Ada", timezone="Europe/London")
    london = make.person("Liz", timezone="Europe/London")
    tokyo = make.person("Taro", timezone="Asia/Tokyo")
    space = Space(timed, owner)
    space.add(asker, london, tokyo)
    question = space.ask(asker, "Who knows the SLA?", "What uptime do we promise?")
    before = max(e.id for e in list_since(timed.app, 0))

    plan = space.route(asker, question)  # omitted: the top awake one (batch 1)
    assert plan["notified"] == [owner.id]
    assert plan["told"] == [owner.id]
    assert plan["routing"]["stage"] == 1
    assert plan["routing"]["widen_at"] == "2026-03-02T11:00:00+00:00"
    assert asked(timed, owner, question) == [(False, 1)]
    events = [e for e in list_since(timed.app, before) if e.type == "question.routed"]
    assert [(e.audience_id, e.payload["notified"]) for e in events] == [(asker.id, [owner.id])]
    told_live = [e for e in list_since(timed.app, before) if e.type == "notification.created"]
    assert [(e.audience_id, e.payload["kind"], e.payload["topic_id"]) for e in told_live] == [
        (owner.id, "question", question)
    ]

    # Named people: the one already told is not told again; an asleep one is held.
    plan = space.route(asker, question, {"notify": [owner.id, tokyo.id]})
    assert plan["notified"] == [tokyo.id]
    assert sorted(plan["told"]) == sorted([owner.id, tokyo.id])
    assert asked(timed, tokyo, question) == [(True, 1)]
    assert asked(timed, owner, question) == [(False, 1)]
    assert asked(timed, asker, question) == []

    # Bad names are refused whole, naming the field; nothing changes.
    for bad in ([asker.id], [make.person("Nina Outsider").id], [999_999], [london.id, asker.id]):
        response = timed.client.post(
            f"{API}/topics/{question}/routing", json={"notify": bad}, headers=asker.headers
        )
        assert response.status_code == 422, response.text
        assert "notify" in response.json()["error"]["fields"]
    for bad_body, field in (({"notify": []}, "notify"), ({"notify": ["x"]}, "notify.0"), ({"who": 1}, "who")):
        response = timed.client.post(f"{API}/topics/{question}/routing", json=bad_body, headers=asker.headers)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["fields"], response.text
    assert asked(timed, london, question) == []

    # Answered: no more routing.
    space.reply(london, question, "99.9%")
    refused = timed.client.post(f"{API}/topics/{question}/routing", headers=asker.headers)
    assert refused.status_code == 409, refused.text


def test_the_circle_widens_while_unanswered_and_stops_when_answered(timed: Timed) -> None:
    make = timed.make
    owner = make.person("Olga", timezone="Europe/London")
    asker = make.person("Ada", timezone="Europe/London")
    first, second, third = (make.person(n, timezone="Europe/London") for n in ("Bea", "Cal", "Dee"))
    tokyo = make.person("Taro", timezone="Asia/Tokyo")
    space = Space(timed, owner)
    space.add(asker, first, second, third, tokyo)
    # Bea answered most; then Cal; Olga and Dee nothing.
    for n in range(2):
        space.answered(owner, first, f"Renewal question {n}", "renewal notice period", "90 days", accept=True)
    space.answered(owner, second, "Renewal pricing", "renewal price uplift", "5%", accept=True)
    question = space.ask(asker, "Renewal notice for a price uplift", "How much renewal notice?")

    assert space.route(asker, question)["notified"] == [first.id]
    timed.clock.advance(minutes=59)
    assert widen_due(timed.app) == 0  # not due yet
    timed.clock.advance(minutes=1)
    assert widen_due(timed.app) == 1
    assert widen_due(timed.app) == 0  # a second run at the same time finds nothing due
    assert asked(timed, second, question) == [(False, 2)]
    plan = space.routing(asker, question)
    assert plan["routing"]["stage"] == 2
    assert plan["routing"]["widen_at"] == "2026-03-02T12:00:00+00:00"

    # Someone replies: at the next due time the routing is done, and nobody new is told.
    space.reply(second, question, "90 days, see the fact")
    timed.clock.advance(minutes=60)
    assert widen_due(timed.app) == 0
    plan = space.routing(asker, question)
    assert plan["routing"]["done_at"] == "2026-03-02T12:00:00+00:00"
    assert plan["routing"]["widen_at"] is None
    assert sorted(plan["told"]) == sorted([first.id, second.id])
    for who in (owner, third, tokyo, asker):
        assert asked(timed, who, question) == []
    timed.clock.advance(hours=5)
    assert widen_due(timed.app) == 0


def test_widening_stops_at_the_last_stage_and_waits_for_someone_awake(timed: Timed) -> None:
    make = timed.make
    owner = make.person("Olga", timezone="Asia/Tokyo")
    asker = make.person("Ada", timezone="Europe/London")
    london = [make.person(n, timezone="Europe/London") for n in ("Bea", "Cal")]
    tokyo = [make.person(n, timezone="Asia/Tokyo") for n in ("Taro", "Yui")]
    space = Space(timed, owner)
    space.add(asker, *london, *tokyo)
    question = space.ask(asker, "Anyone?", "A question nobody answers")
    assert space.route(asker, question)["notified"] == [london[0].id]
    timed.clock.advance(hours=1)  # 11:00 UTC
    assert widen_due(timed.app) == 1
    assert asked(timed, london[1], question) == [(False, 2)]
    # 12:00 UTC: every awake candidate has been told; the Tokyo members are asleep.
    timed.clock.advance(hours=1)
    assert widen_due(timed.app) == 0
    plan = space.routing(asker, question)
    assert plan["routing"]["stage"] == 2
    assert plan["routing"]["widen_at"] == "2026-03-02T13:00:00+00:00"
    # 00:00 UTC Tuesday = 09:00 in Tokyo: the next one of them is told, the last stage.
    timed.clock.now = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert widen_due(timed.app) == 1
    plan = space.routing(asker, question)
    assert plan["routing"]["stage"] == 3
    assert plan["routing"]["widen_at"] is None
    told_tokyo = [p for p in (owner, *tokyo) if asked(timed, p, question)]
    assert len(told_tokyo) == 1
    assert asked(timed, told_tokyo[0], question) == [(False, 3)]
    timed.clock.advance(hours=3)
    assert widen_due(timed.app) == 0
    everyone = [owner, asker, *london, *tokyo]
    assert sum(len(asked(timed, p, question)) for p in everyone) == 3


def test_two_apps_widen_one_question_once(timed: Timed, database_url: str) -> None:
    """Two processes (two Apps on one database) running the job at the same moment."""
    make = timed.make
    owner = make.person("Olga", timezone="Europe/London")
    asker = make.person("Ada", timezone="Europe/London")
    others = [make.person(n, timezone="Europe/London") for n in ("Bea", "Cal", "Dee")]
    space = Space(timed, owner)
    space.add(asker, *others)
    question = space.ask(asker, "Twice?", "Is it told twice?")
    space.route(asker, question)
    timed.clock.advance(hours=1)
    with second_app(database_url, timed) as second:
        assert run_together(widen_due, timed.app, second) == 1
    assert sum(len(asked(timed, p, question)) for p in [owner, asker, *others]) == 2


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
def second_app(database_url: str, timed: Timed) -> Iterator[App]:
    """Another App on the same database and clock (its data kept: no truncation)."""
    app = build_app(timed.app.settings.model_copy(), clock=timed.clock, hasher=FAST_HASHER)
    try:
        yield app
    finally:
        app.close()


def test_bad_limit_and_ids(timed: Timed) -> None:
    who = timed.make.person()
    for path, field in (
        (f"{API}/topics/0/routing", "topic_id"),
        (f"{API}/topics/1/routing?limit=0", "limit"),
        (f"{API}/topics/1/routing?limit=51", "limit"),
    ):
        response = timed.client.get(path, headers=who.headers)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["fields"]
    assert timed.client.get(f"{API}/topics/5/routing", headers=who.headers).status_code == 404
    assert timedelta(minutes=timed.app.settings.routing_widen_minutes) == timedelta(hours=1)
