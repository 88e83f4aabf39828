"""News over Redis pub/sub: "the event log now reaches id N", from every process to every other.

Redis carries only that number. A message lost to an outage delays delivery until the
dispatcher's next look at the log; it never loses an event, because the log is the
source of truth. Publishing happens after commit on the writer's thread with a short
timeout, so a Redis outage slows no request by more than that timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence

import redis
import redis.asyncio as aioredis

from kith.domain.models import Event

log = logging.getLogger(__name__)

CHANNEL = "kith:events"


class RedisNews:
    """Announce committed events to other processes, and listen for theirs."""

    def __init__(self, url: str, on_news: Callable[[int], None], *, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self.on_news = on_news
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._task: asyncio.Task[None] | None = None
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._has_pending = threading.Event()
        self._sender: threading.Thread | None = None
        self._stopping = False

    def announce(self, events: Sequence[Event]) -> None:
        """After commit: tell the other processes how far the log now reaches.

        Never blocks the caller (which may be the event loop): the newest id is handed to
        a sender thread, and ids that pile up while it sends are folded into the newest.
        """
        if not events:
            return
        with self._pending_lock:
            self._pending = max(self._pending, events[-1].id)
            if self._sender is None or not self._sender.is_alive():
                self._sender = threading.Thread(target=self._send, name="kith-redis-announce", daemon=True)
                self._sender.start()
        self._has_pending.set()

    def _send(self) -> None:
        while not self._stopping:
            self._has_pending.wait(timeout=1.0)
            with self._pending_lock:
                last_id, self._pending = self._pending, 0
                self._has_pending.clear()
            if not last_id:
                continue
            try:
                self._client.publish(self.channel, str(last_id))
            except redis.RedisError as exc:
                log.warning("could not announce events on Redis (%s); others will find them in the log", exc)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="kith-redis-news")

    async def stop(self) -> None:
        self._stopping = True
        self._has_pending.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._client.close()

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                client = aioredis.Redis.from_url(self.url)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    # Anything announced while we were away is in the log: look now.
                    self.on_news(0)
                    delay = 0.1
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._handle(message.get("data"))
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                log.warning("Redis news unavailable (%s); retrying in %.1f s", exc, delay)
            finally:
                # Closing a broken connection may fail again; there is nothing left to do then.
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _handle(self, data: object) -> None:
        try:
            last_id = int(data.decode() if isinstance(data, bytes) else str(data))
        except ValueError:
            log.warning("ignoring a malformed message on %s", self.channel)
            return
        self.on_news(last_id)
