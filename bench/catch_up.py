"""Catch-up: how long ``GET /api/v1/catch-up`` takes for a person in many busy spaces.

Run from the repository root::

    .venv/bin/python bench/catch_up.py [--spaces 20] [--posts 2000] [--calls 200]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]

A person is a member of ``--spaces`` spaces (two of them at digest level, two muted), each
with ``--posts`` posts of the last 24 hours by 30 colleagues in 40 topics, among them
mentions of the person (1 post in 50), replies to their questions (2 questions per space),
corrections of posts they saw, and facts added and changed. Everything is written through
the actions, as the server would. Then, in one process through the HTTP stack
(``TestClient``), ``--calls`` catch-ups (default window: the last 24 hours) are timed one
after another, and as the baseline in the same run, as many ``GET /api/v1/spaces`` for the
same person (their spaces with unread counts: the request every client makes on opening).

Prints p50, p90, p99 and max of both, and their ratio. The target (issue 5): p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from kith.actions import auth, facts, people, posts, receipts, spaces, topics
from kith.actions.people import PersonInput
from kith.api.factory import create_api
from kith.app import build_app
from kith.config import Settings
from kith.domain.models import Role, Viewer
from kith.storage import migrate

PASSWORD = "bench password 1"  # noqa: S105 - a throwaway database


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=23))

    def __call__(self) -> datetime:
        return self.now


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(url: str, n_spaces: int, n_posts: int, seed: int) -> tuple[TestClient, dict[str, str], Clock]:
    rng = random.Random(seed)
    clock = Clock()
    settings = Settings(database_url=url, demo=True, scheduler=False, presence_flush_seconds=60)
    app = build_app(settings, clock=clock, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    migrate.upgrade(app.db)
    admin = people.do_bootstrap_admin(app, email="root@example.com", display_name="Root", password=PASSWORD)
    root = Viewer(admin, Role.ADMIN)

    def person(i: int) -> Viewer:
        data = PersonInput(email=f"p{i}@example.com", display_name=f"Person {i}", password=PASSWORD)
        return Viewer(people.check_create_person(app, root, data), Role.MEMBER)

    me = person(0)
    others = [person(i) for i in range(1, 31)]
    per_topic = max(1, n_posts // 40)
    started = time.perf_counter()
    step = timedelta(hours=22) / max(1, n_spaces * n_posts)
    for s in range(n_spaces):
        owner = others[s % len(others)]
        space = spaces.check_create_space(app, owner, name=f"Space {s}").space
        for other in [me, *others]:
            if other.id != owner.id:
                spaces.check_add_member(app, owner, space.id, person_id=other.id, role="member")
        if s in (1, 2):
            spaces.check_set_notification_level(app, me, space.id, "digest")
        if s in (3, 4):
            spaces.check_set_notification_level(app, me, space.id, "mute")
        threads = []
        for t in range(40):
            asker = me if t < 2 else rng.choice(others)
            topic, first = topics.check_create_topic(
                app, asker, space.id, title=f"Topic {s}.{t}", body="Opening post", is_question=t < 4
            )
            threads.append((topic.id, first.id))
        fact_ids = [
            facts.check_create_fact(app, owner, space.id, title=f"Fact {s}.{f}", body="Body").id
            for f in range(3)
        ]
        receipts.check_mark_seen(app, me, [first for _t, first in threads[:5]])
        for p in range(n_posts - 40):
            clock.now += step
            topic_id, first = threads[(p // per_topic) % 40 if rng.random() < 0.7 else rng.randrange(40)]
            author = rng.choice(others)
            body = f"Post {p} in space {s}"
            if rng.random() < 0.02:
                body += f" @{me.person.handle}"
            # Two corrections per space of opening posts the person saw.
            correction = threads[2 + p % 3][1] if p in (100, 900) else None
            if correction is not None:
                topic_id = threads[2 + p % 3][0]
            posts.check_create_post(app, author, topic_id, body, correction_of_id=correction)
        facts.check_edit_fact(app, owner, fact_ids[0], body="Changed body")
        print(f"  space {s + 1}/{n_spaces} built ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    clock.now = datetime.now(UTC)
    token = auth.check_login(app, me.person.email, PASSWORD).token
    return TestClient(create_api(app)), {"Authorization": f"Bearer {token}"}, clock


def timed(client: TestClient, headers: dict[str, str], path: str, calls: int) -> tuple[list[float], object]:
    times, body = [], None
    for _ in range(calls):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        body = response.json()
    return times, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spaces", type=int, default=20)
    parser.add_argument("--posts", type=int, default=2000, help="posts per space")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="a PostgreSQL URL (its database is emptied!) instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'kith.db'}"
        print(
            f"building {args.spaces} spaces x {args.posts} posts on {url.split(':')[0]}...", file=sys.stderr
        )
        client, headers, _clock = build(url, args.spaces, args.posts, args.seed)
        with client:
            timed(client, headers, "/api/v1/catch-up", 5)  # warm caches
            timed(client, headers, "/api/v1/spaces", 5)
            ours, body = timed(client, headers, "/api/v1/catch-up", args.calls)
            base, _ = timed(client, headers, "/api/v1/spaces", args.calls)
    assert isinstance(body, dict)
    reasons: dict[str, int] = {}
    for item in body["items"]:
        reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
    print(f"catch-up items: {len(body['items'])} {reasons}")
    print(f"{'request':<24} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in (("GET /catch-up", ours), ("GET /spaces (baseline)", base)):
        row = [percentile(values, q) for q in (0.5, 0.9, 0.99)] + [max(values)]
        print(f"{name:<24} " + " ".join(f"{v:8.1f}" for v in row))
    ratio = statistics.median(ours) / statistics.median(base)
    print(
        f"catch-up / baseline at p50: {ratio:.1f}x; "
        f"catch-up p99 {percentile(ours, 0.99):.1f} ms (target <= 100)"
    )


if __name__ == "__main__":
    main()
