"""The write hot path: nested transactions, group commit, the write lock, queries per post."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.conftest import FAST_HASHER, Actor, Factory, make_settings

from kith.actions import posts, spaces, topics
from kith.actions.events import emit, list_since
from kith.api.groupcommit import GroupCommit
from kith.app import App, build_app
from kith.domain.errors import Forbidden, NotFound
from kith.domain.models import Event, Post
from kith.storage import database
from kith.storage.events import EVENT_LOG_LOCK

API = "/api/v1"


@pytest.fixture
def heard(app: App) -> Iterator[list[Event]]:
    received: list[Event] = []
    unsubscribe = app.hub.subscribe(received.extend)
    yield received
    unsubscribe()


# What the server does in the background while a test runs: the dispatcher's look at the
# end of the event log, and presence.
BACKGROUND = ("max(events.id)", "presence")


def count(engine: sa.Engine, event_name: str) -> list[int]:
    """A counter of the engine's ``event_name`` events (``commit``, ``before_cursor_execute``);
    statements the server runs in the background are not counted."""
    seen = [0]

    def tick(*args: Any) -> None:
        if event_name == "before_cursor_execute" and any(b in str(args[2]) for b in BACKGROUND):
            return
        seen[0] += 1

    sa.event.listen(engine, event_name, tick)
    return seen


def test_a_nested_transaction_is_a_savepoint_published_with_the_outer_commit(
    app: App, heard: list[Event]
) -> None:
    def fail() -> None:
        with app.db.transaction() as failed:
            emit(app, failed, "test.failed", space_id=None, actor_id=None, payload={})
            raise RuntimeError("undo only me")

    with app.db.transaction() as outer:
        emit(app, outer, "test.outer", space_id=None, actor_id=None, payload={})
        with pytest.raises(RuntimeError, match="only me"):
            fail()
        with app.db.transaction() as inner:
            emit(app, inner, "test.inner", space_id=None, actor_id=None, payload={})
        assert heard == []  # nothing is published before the outermost commit

    assert [e.type for e in heard] == ["test.outer", "test.inner"]
    assert [e.type for e in list_since(app, 0)] == ["test.outer", "test.inner"]


def test_an_outer_rollback_takes_the_nested_work_and_its_events_with_it(app: App, heard: list[Event]) -> None:
    def fail() -> None:
        with app.db.transaction() as outer:
            with app.db.transaction() as inner:
                emit(app, inner, "test.inner", space_id=None, actor_id=None, payload={})
            emit(app, outer, "test.outer", space_id=None, actor_id=None, payload={})
            raise RuntimeError("undo everything")

    with pytest.raises(RuntimeError, match="everything"):
        fail()
    assert heard == []
    assert list_since(app, 0) == []


@pytest.fixture
def thread(app: App, make: Factory) -> tuple[Actor, Actor, int]:
    """A member and a non-member of a public space with one topic."""
    member, outsider = make.person("Member"), make.person("Outsider")
    space = spaces.check_create_space(app, member.viewer, name="Floor").space
    topic, _post = topics.check_create_topic(app, member.viewer, space.id, title="T", body="first")
    return member, outsider, topic.id


def test_concurrent_posts_share_one_commit_and_each_keeps_its_own_outcome(
    app: App, thread: tuple[Actor, Actor, int], heard: list[Event]
) -> None:
    member, outsider, topic_id = thread
    writes = GroupCommit(app)
    commits = count(app.db.engine, "commit")

    async def post(viewer: Actor, topic: int, text: str) -> Post:
        return await writes.run(posts.check_create_post, app, viewer.viewer, topic, text)

    async def together() -> list[Post | BaseException]:
        return await asyncio.gather(
            post(member, topic_id, "one"),
            post(outsider, topic_id, "not a member"),  # public space: may read, not post
            post(member, topic_id + 1000, "no such topic"),
            post(member, topic_id, "two"),
            return_exceptions=True,
        )

    one, forbidden, missing, two = asyncio.run(together())
    written_by = commits[0]
    assert isinstance(one, Post)
    assert isinstance(two, Post)
    assert isinstance(forbidden, Forbidden)
    assert isinstance(missing, NotFound)
    assert sorted(e.payload["source"] for e in heard) == ["one", "two"]
    listed = posts.list_posts(app, member.viewer, topic_id).items
    assert sorted(p.source for p in listed) == ["first", "one", "two"]
    # the four actions were written by one transaction (on PostgreSQL too, on a worker thread)
    assert written_by == 1


def test_creating_a_post_takes_one_query_to_authenticate_and_nine_to_write(
    app: App, client: TestClient, thread: tuple[Actor, Actor, int]
) -> None:
    member, outsider, topic_id = thread
    statements = count(app.db.engine, "before_cursor_execute")
    body = {"body": f"hi @{outsider.person.handle}"}
    response = client.post(f"{API}/topics/{topic_id}/posts", json=body, headers=member.headers)
    assert response.status_code == 201, response.text
    # token; then topic with space and membership, post, mentions, the post's ties to other
    # people (one INSERT ... SELECT, for the network), topic's count; for the person
    # mentioned, the notification's recipient and row; and the transaction's two events
    # (post.created, notification.created), written just before COMMIT: one statement on
    # PostgreSQL, which adds the advisory lock that orders the event log; one per event on
    # SQLite, where SQLAlchemy cannot have a multi-row INSERT return ids in order (BEGIN
    # and COMMIT are not statements SQLAlchemy sees)
    # (on PostgreSQL the lock goes to the driver with BEGIN, in one round trip: not seen)
    assert statements[0] == (10 if app.db.is_sqlite else 9)


def test_writers_of_two_databases_on_one_file_take_turns(tmp_path: Path, sqlite_app: App) -> None:
    """Two processes are two Databases on one file: the second writer waits for the first
    to commit (on the file lock, not in SQLite's busy handler) and then succeeds."""
    other = build_app(make_settings(sqlite_app.settings.database_url), hasher=FAST_HASHER)
    first_open, order = threading.Event(), []

    def first() -> None:
        with sqlite_app.db.transaction() as tx:
            first_open.set()
            time.sleep(0.2)
            emit(sqlite_app, tx, "test.first", space_id=None, actor_id=None, payload={})
            # The last thing before the commit: the second writer may only begin after it.
            order.append("first committing")

    writer = threading.Thread(target=first)
    writer.start()
    first_open.wait()
    with other.db.transaction() as tx:
        order.append("second began")
        emit(other, tx, "test.second", space_id=None, actor_id=None, payload={})
    writer.join()
    other.close()
    assert order == ["first committing", "second began"]
    assert [e.type for e in list_since(sqlite_app, 0)] == ["test.first", "test.second"]


def test_a_transactions_events_are_written_together_and_published_in_order(
    app: App, heard: list[Event]
) -> None:
    with app.db.transaction() as tx:
        for n in range(5):
            emit(app, tx, "test.many", space_id=None, actor_id=None, payload={"n": n})
    stored = list_since(app, 0)
    assert [e.payload["n"] for e in stored] == [0, 1, 2, 3, 4]
    assert [e.id for e in stored] == sorted(e.id for e in stored)
    assert [(e.id, e.payload) for e in heard] == [(e.id, e.payload) for e in stored]


def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(
    postgres_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a connection idle for a while is pinged before use; if the server has
    closed it (a restart, an idle timeout), the pool is emptied and a new one is made."""
    app = postgres_app
    with app.db.engine.connect() as conn:
        old_pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    killer = sa.create_engine(app.db.engine.url)  # outside the pool, which would lend the same one
    with killer.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": old_pid})
        other.commit()
    killer.dispose()
    monkeypatch.setattr(database, "PING_IDLE_SECONDS", 0.0)
    with app.db.transaction() as tx:
        emit(app, tx, "test.after", space_id=None, actor_id=None, payload={})
        new_pid = tx.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert new_pid != old_pid
    assert [e.type for e in list_since(app, 0)] == ["test.after"]


def test_postgresql_writers_hold_the_event_log_lock_from_their_first_round_trip(postgres_app: App) -> None:
    """One writer at a time across every process: the advisory lock is taken as the
    transaction begins (with BEGIN, before any statement of the action), and a second
    writer waits for the first to commit."""
    app = postgres_app
    observer = sa.create_engine(app.db.engine.url)
    held = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = 0 AND objid = :key AND objsubid = 1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    order: list[str] = []
    second_started = threading.Event()

    def second_writer() -> None:
        second_started.set()
        with app.db.transaction() as tx:
            order.append("second in")
            emit(app, tx, "test.second", space_id=None, actor_id=None, payload={})

    try:
        with app.db.transaction() as tx:
            with observer.connect() as conn:
                assert conn.execute(held, {"key": EVENT_LOG_LOCK}).scalar_one() == 1
            thread = threading.Thread(target=second_writer)
            thread.start()
            second_started.wait(5)
            time.sleep(0.3)  # the second writer is waiting on the lock by now
            order.append("first commits")
            emit(app, tx, "test.first", space_id=None, actor_id=None, payload={})
        thread.join(10)
        with observer.connect() as conn:
            assert conn.execute(held, {"key": EVENT_LOG_LOCK}).scalar_one() == 0
    finally:
        observer.dispose()
    assert order == ["first commits", "second in"]
    assert [e.type for e in list_since(app, 0)] == ["test.first", "test.second"]
