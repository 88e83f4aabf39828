"""The container: everything a running Kith needs, built from its settings.

``build_app(settings)`` is the one place that creates engines and hubs. Nothing is created
at import time, so a test can build two Apps in one process (two servers, one database).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher

from kith.config import Settings
from kith.mail import Mailer, build_mailer
from kith.realtime.backends.redis import RedisNews
from kith.realtime.dispatcher import Dispatcher
from kith.realtime.hub import Hub
from kith.realtime.presence import PresenceTracker
from kith.storage.database import Database
from kith.storage.viewers import ViewerCache

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
    dispatcher: Dispatcher = field(init=False)
    news: RedisNews | None = field(init=False, default=None)
    presence: PresenceTracker = field(default_factory=PresenceTracker)
    viewers: ViewerCache = field(init=False)
    # Sends digests; None when no SMTP host is configured (mail off).
    mailer: Mailer | None = None

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(
            self.db,
            queue_size=self.settings.stream_queue_size,
            poll_seconds=self.settings.stream_poll_seconds,
        )
        self.hub.subscribe(self.dispatcher.publish)
        # Tokens checked lately: forgotten at commit for this process's changes (the hub),
        # and as the dispatcher reads them for other processes' (storage/viewers.py).
        self.viewers = ViewerCache(self.settings.token_cache_seconds)
        self.hub.subscribe(self.viewers.on_events)
        self.dispatcher.listeners.append(self.viewers.on_events)
        if self.settings.hub_backend == "redis":
            self.news = RedisNews(
                self.settings.redis_url, self.dispatcher.notify, channel=news_channel(self.settings)
            )
            self.hub.subscribe(self.news.announce)

    async def start_streaming(self) -> None:
        """Start following the event log (in the server's event loop)."""
        await self.dispatcher.start()
        if self.news is not None:
            await self.news.start()

    async def stop_streaming(self) -> None:
        if self.news is not None:
            await self.news.stop()
        await self.dispatcher.stop()

    def close(self) -> None:
        self.db.dispose()


def news_channel(settings: Settings) -> str:
    """The Redis channel of one deployment: processes on the same database share it."""
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]
    return f"kith:events:{digest}"


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
        mailer=build_mailer(settings),
    )
