"""The container: everything a running Kith needs, built from its settings.

``build_app(settings)`` is the one place that creates engines and hubs. Nothing is created
at import time, so a test can build two Apps in one process (two servers, one database).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher

from kith.config import Settings
from kith.realtime.hub import Hub
from kith.storage.database import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """The container handed to every action."""

    settings: Settings
    db: Database
    hub: Hub
    clock: Clock = utc_now
    hasher: PasswordHasher = field(default_factory=PasswordHasher)

    def close(self) -> None:
        self.db.dispose()


def build_app(settings: Settings, *, clock: Clock | None = None, hasher: PasswordHasher | None = None) -> App:
    """Build the container for ``settings``; ``clock`` lets tests move time, ``hasher``
    lets them hash passwords cheaply."""
    db = Database(
        settings.database_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        pool_size=settings.db_pool_size,
    )
    return App(
        settings=settings,
        db=db,
        hub=Hub(),
        clock=clock or utc_now,
        hasher=hasher or PasswordHasher(),
    )
