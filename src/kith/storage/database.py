"""The database: one engine, transactions with after-commit callbacks, SQLite tuned for a server.

``Database.transaction()`` is the only way to write. Work registered with
``tx.on_commit(fn)`` runs after the transaction commits, and never if it rolls back: that is
how events reach the hub only once they are durable (Synapse's ``call_after``).

SQLite: WAL journal, foreign keys on, a busy timeout, and write transactions opened with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing half-way
with "database is locked". Writers also take a lock before SQLite's: a thread lock within
the process and an ``flock`` on a file beside the database across processes (``kith serve
--workers``, a CLI import next to the server), so they queue and wake the moment the writer
before them is done, instead of polling in SQLite's busy handler, which sleeps 1, 2, 5, 10...
ms between tries (Datasette keeps one writer likewise).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry

from kith.domain.models import Event
from kith.storage.events import EVENT_LOG_LOCK, append_many

if sys.platform != "win32":
    import fcntl


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


@dataclass
class Tx:
    """An open write transaction: its connection, the events it emitted (written together
    just before it commits) and the work to do after it commits."""

    conn: Connection
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # Where the events go once committed (the hub's publish), set by whoever emits one.
    publish: Callable[[list[Event]], None] | None = None

    def merge(self, inner: Tx) -> None:
        """Take on the events and the after-commit work of a savepoint that succeeded."""
        self.events.extend(inner.events)
        self.after_commit.extend(inner.after_commit)
        self.publish = self.publish or inner.publish

    def on_commit(self, fn: Callable[[], None]) -> None:
        self.after_commit.append(fn)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name


# A pooled PostgreSQL connection idle for longer than this is pinged before use.
PING_IDLE_SECONDS = 1.0


def _postgres_engine(url: str, pool_size: int) -> Engine:
    """The engine, pinging a pooled connection before use only if it sat idle a while.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip per
    transaction, each of which a busy server waits for (a post is about ten). A connection
    in steady use is alive; one idle for more than :data:`PING_IDLE_SECONDS` (the server
    may have restarted since) is pinged, and if the ping fails the pool is emptied and a
    new connection made, as pre-ping does.
    """
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # gone: empty the pool, and the pool makes a new one
            raise sa.exc.InvalidatePoolError("the connection did not answer a ping") from exc

    return engine


_LOCK_WRITERS = "SELECT pg_advisory_xact_lock(%s)"


class Database:
    """The engine and the transaction discipline around it."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._write_lock = threading.Lock()
        self._open = threading.local()  # the thread's open write transaction, if any
        self.engine = self._make_engine(busy_timeout_ms, pool_size)
        path = self.engine.url.database if self.is_sqlite else None
        on_disk = path and path != ":memory:" and not path.startswith("file:")
        self._process_lock = _ProcessLock(f"{path}-writer.lock") if on_disk else None

    def _make_engine(self, busy_timeout_ms: int, pool_size: int) -> Engine:
        if not self.is_sqlite:
            return _postgres_engine(self.url, pool_size)
        engine = sa.create_engine(self.url, pool_size=pool_size, max_overflow=pool_size * 2, pool_timeout=30)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            # Let SQLAlchemy's "begin" hook below issue BEGIN itself.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            if conn.info.get("single_read"):
                return  # one statement is its own transaction in SQLite's autocommit mode
            # Straight to the driver: a statement through SQLAlchemy costs ten times as much.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction; commits on success, rolls back on any exception.

        Opened inside another transaction of this Database on the same thread, it is a
        SAVEPOINT of that one: its failure undoes its own work only, and its after-commit
        work waits for the outermost transaction to commit. That is how one commit can
        carry several actions, each still all-or-nothing (see :mod:`kith.api.groupcommit`).
        """
        outer: Tx | None = getattr(self._open, "tx", None)
        if outer is not None:
            with self._savepoint(outer) as tx:
                yield tx
            return
        # The write lock covers BEGIN to COMMIT, not taking the connection from the pool
        # and handing it back: every microsecond under it is one no other writer can use.
        with self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with self._writer(), conn.begin():
                    if not self.is_sqlite:
                        self._lock_writers(conn)
                    tx = Tx(conn)
                    self._open.tx = tx
                    try:
                        yield tx
                    finally:
                        self._open.tx = None
                    written = append_many(conn, tx.events) if tx.events else []
            finally:
                # conn.info outlives the checkout (it belongs to the pooled connection).
                conn.info.pop("write", None)
                conn.info.pop("event_lock", None)
        for fn in tx.after_commit:
            fn()
        if written and tx.publish is not None:
            tx.publish(written)

    @contextmanager
    def _savepoint(self, outer: Tx) -> Iterator[Tx]:
        tx = Tx(outer.conn)
        if not self.is_sqlite:
            with outer.conn.begin_nested():
                yield tx
            outer.merge(tx)
            return
        # Straight to the driver, like BEGIN: SQLAlchemy names each savepoint anew, so it
        # compiles a new statement every time, ten times the cost of the work it wraps.
        driver = outer.conn.connection.driver_connection
        assert driver is not None
        driver.execute("SAVEPOINT kith_nested")
        try:
            yield tx
        except BaseException:
            driver.execute("ROLLBACK TO kith_nested")
            driver.execute("RELEASE kith_nested")
            raise
        driver.execute("RELEASE kith_nested")
        outer.merge(tx)

    @staticmethod
    def _lock_writers(conn: Connection) -> None:
        """One writer at a time on PostgreSQL too, as on SQLite, across every process.

        Actions check then act ("is the slug free?", "has this person reacted?", "is this
        the last owner?"); under READ COMMITTED two writers could both pass the check and
        then fail on a unique key (a 500) or break an invariant (a space with no owner).
        The lock is the event log's (every change appends an event, which took it anyway),
        now taken at the start of the transaction instead of at the first append.
        """
        # Straight to the driver, in psycopg's pipeline mode: the BEGIN that psycopg sends
        # before the first statement and the lock go in one round trip instead of two (a
        # round trip is also a wait for the interpreter lock when the event loop is busy).
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.pipeline():
            driver.execute(_LOCK_WRITERS, (EVENT_LOG_LOCK,), prepare=True)
        conn.info["event_lock"] = True

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: a consistent snapshot for several queries."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def read_one(self) -> Iterator[Connection]:
        """A connection for a single query, which needs no snapshot around it.

        The query runs in autocommit mode, without a BEGIN and a COMMIT around it: on
        SQLite two fewer calls into SQLite, on PostgreSQL two fewer round trips, on the path
        of every request (the bearer-token lookup).
        """
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                # psycopg's autocommit: set on the client, reset when the pool takes it back.
                conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.info["single_read"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("single_read", None)

    def writer_busy(self) -> bool:
        """True while a thread of this process holds the SQLite write lock."""
        return self._write_lock.locked()

    @contextmanager
    def _writer(self) -> Iterator[None]:
        if not self.is_sqlite:
            yield
            return
        with self._write_lock:
            if self._process_lock is None:
                yield
                return
            with self._process_lock:
                yield

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self._process_lock is not None:
            self._process_lock.close()


class _ProcessLock:
    """An exclusive ``flock`` on a file, shared by every process that opens the same path.

    The kernel queues the waiters and wakes one as soon as the holder lets go, and drops
    the lock of a process that dies. Only one thread per process may use it at a time
    (``flock`` locks belong to the open file, which the threads share): the caller holds
    the thread lock first. Where ``flock`` does not exist (Windows), SQLite's busy handler
    is what remains.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        if sys.platform == "win32":
            return
        if self._fd is None:  # opened on the first write: read-only commands leave no file
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        if sys.platform == "win32" or self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
