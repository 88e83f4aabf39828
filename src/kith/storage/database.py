"""The database: one engine, transactions with after-commit callbacks, SQLite tuned for a server.

``Database.transaction()`` is the only way to write. Work registered with
``tx.on_commit(fn)`` runs after the transaction commits, and never if it rolls back: that is
how events reach the hub only once they are durable (Synapse's ``call_after``).

SQLite: WAL journal, foreign keys on, a busy timeout, and write transactions opened with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing half-way
with "database is locked". Within one process writers also take a lock, so they queue in
Python rather than spinning in SQLite's busy handler (Datasette keeps one writer likewise).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


@dataclass
class Tx:
    """An open write transaction: its connection and the work to do after it commits."""

    conn: Connection
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def on_commit(self, fn: Callable[[], None]) -> None:
        self.after_commit.append(fn)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name


class Database:
    """The engine and the transaction discipline around it."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._write_lock = threading.Lock()
        self.engine = self._make_engine(busy_timeout_ms, pool_size)

    def _make_engine(self, busy_timeout_ms: int, pool_size: int) -> Engine:
        if not self.is_sqlite:
            return sa.create_engine(self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
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
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction; commits on success, rolls back on any exception."""
        with self._writer(), self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    tx = Tx(conn)
                    yield tx
            finally:
                # conn.info outlives the checkout (it belongs to the pooled connection).
                conn.info.pop("write", None)
                conn.info.pop("event_lock", None)
        for fn in tx.after_commit:
            fn()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: a consistent snapshot for several queries."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _writer(self) -> Iterator[None]:
        if self.is_sqlite:
            with self._write_lock:
                yield
        else:
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
