"""Simulated members who stay active while the demo runs, so a visitor sees information flow.

A background thread signs in a few members of the demo's spaces through the real HTTP API
(:class:`kith.client.KithClient`) and, time compressed (a step every few seconds instead of
every few minutes), does what people do during their working hours: asks a question from
the space's material, answers an open question, reacts, reports what they saw. Who acts is
chosen among those within their working hours now; with nobody awake, the one whose day
started most recently acts (a demo should never look dead).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from kith.client import KithAPIError, KithClient
from kith.simulate.content import Material

log = logging.getLogger(__name__)


@dataclass
class _Actor:
    email: str
    client: KithClient
    me: dict[str, Any]


@dataclass
class LiveMembers:
    """The demo's active members: ``start()`` runs them in a daemon thread until ``stop()``."""

    base_url: str
    emails: tuple[str, ...]
    password: str
    material: dict[int, Material]
    seconds_per_step: float = 6.0
    seed: int = 1
    actors: list[_Actor] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    steps: int = 0

    def start(self) -> None:
        # Every request of the simulated members would be a line of the server's log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._thread = threading.Thread(target=self._run, name="kith-demo-members", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for actor in self.actors:
            actor.client.close()

    def _run(self) -> None:
        rng = random.Random(self.seed)
        if not self._sign_in():
            return
        asked: dict[int, int] = {}  # topic id -> index into the space's live questions
        while not self._stop.wait(self.seconds_per_step * rng.uniform(0.5, 1.5)):
            try:
                self.step(rng, asked)
            except (KithAPIError, httpx.HTTPError) as exc:  # a demo keeps going
                log.info("simulated member: %s", exc)

    def _sign_in(self) -> bool:
        deadline = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                for email in self.emails:
                    client = KithClient.login(self.base_url, email, self.password)
                    self.actors.append(_Actor(email, client, client.me()))
                return True
            except httpx.HTTPError:  # the server is still starting
                time.sleep(0.5)
        return False

    def step(self, rng: random.Random, asked: dict[int, int]) -> None:
        """One thing one awake member does."""
        actor = self._pick(rng)
        spaces = [s for s in actor.client.spaces() if s.get("my_role") and s["id"] in self.material]
        if not spaces:
            return
        space = rng.choice(spaces)
        material = self.material[space["id"]]
        open_questions = [
            t
            for t in actor.client.request(
                "GET", f"/spaces/{space['id']}/topics", questions=True, unresolved=True
            )["items"]
            if not t["resolved"] and t["author_id"] != actor.me["id"]
        ]
        self.steps += 1
        action: Callable[[], None]
        choice = rng.random()
        if open_questions and choice < 0.45:
            topic = open_questions[0]
            index = asked.get(topic["id"])
            answer = material.live[index][1] if index is not None else "Good question; I will find out."
            action = lambda: self._answer(actor, topic["id"], answer)  # noqa: E731
        elif material.live and choice < 0.75:
            index = rng.randrange(len(material.live))
            action = lambda: self._ask(actor, space["id"], material.live[index][0], index, asked)  # noqa: E731
        else:
            action = lambda: self._look(actor, space["id"], rng)  # noqa: E731
        action()

    def _pick(self, rng: random.Random) -> _Actor:
        now = datetime.now(UTC)
        awake = [a for a in self.actors if _working(a.me, now)]
        return rng.choice(awake or self.actors)

    def _ask(self, actor: _Actor, space_id: int, question: str, index: int, asked: dict[int, int]) -> None:
        created = actor.client.create_topic(space_id, question, question, is_question=True)
        asked[created["topic"]["id"]] = index

    def _answer(self, actor: _Actor, topic_id: int, answer: str) -> None:
        actor.client.post(topic_id, answer)

    def _look(self, actor: _Actor, space_id: int, rng: random.Random) -> None:
        """Read the newest topic: report its posts as seen, react to one."""
        listed = actor.client.request("GET", f"/spaces/{space_id}/topics", limit=3)["items"]
        if not listed:
            return
        topic = rng.choice(listed)
        found = actor.client.request("GET", f"/topics/{topic['id']}/posts")["items"]
        others = [p["id"] for p in found if p["author_id"] != actor.me["id"] and not p["deleted"]]
        if others:
            actor.client.mark_seen(others)
            actor.client.request("POST", f"/spaces/{space_id}/read", {})
            if rng.random() < 0.4:
                emoji = rng.choice(["thumbsup", "tada", "eyes", "heart"])
                actor.client.request("POST", f"/posts/{others[-1]}/reactions", {"emoji": emoji})


def _working(me: dict[str, Any], now: datetime) -> bool:
    from kith.domain import hours
    from kith.domain.models import WorkingHours

    try:
        start = hours.parse_clock(me["work_start"])
        end = hours.parse_clock(me["work_end"])
        days = hours.parse_days(me["work_days"])
    except (KeyError, ValueError):
        return True
    return hours.is_working(WorkingHours(start, end, days), me.get("timezone", "UTC"), now)
