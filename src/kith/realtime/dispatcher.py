"""The dispatcher: the process's one reader of the event log, fanning events out to streams.

Every committed event reaches the dispatcher as news: directly from this process's hub
after commit, from other processes through the backend (Redis), and from a periodic look at
the log that catches whatever a lost notification missed. Whatever the source, the
dispatcher delivers events strictly in id order, each once: it keeps ``position``, the id
up to which every event has been offered to every live subscriber, and reads the log from
there when the events it holds do not follow on without a gap. The event log is the source
of truth; news only says "there is more".

Fan-out follows connected members: subscribers are indexed by space and by person (and
administrators apart, who hear of every space), so an event touches only the streams that
may see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence

from kith.domain.models import Event
from kith.domain.permissions import MEMBERSHIP_EVENTS, SPACE_METADATA_EVENTS, space_event_is_public
from kith.realtime.subscriber import Subscriber
from kith.storage import events as event_store
from kith.storage import spaces as space_store
from kith.storage.database import Database

log = logging.getLogger(__name__)

PAGE = 500


class Dispatcher:
    """Reads the event log in order and offers each event to the streams that may see it."""

    def __init__(self, db: Database, *, queue_size: int = 1000, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.queue_size = queue_size
        self.poll_seconds = poll_seconds
        self.position = 0
        self._newest_known = 0
        self._held: dict[int, Event] = {}
        self._everyone: set[Subscriber] = set()
        self._by_space: dict[int, set[Subscriber]] = defaultdict(set)
        self._by_person: dict[int, set[Subscriber]] = defaultdict(set)
        self._admins: set[Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._lookups: set[asyncio.Future[None]] = set()
        self.listeners: list[Callable[[Sequence[Event]], None]] = []

    # lifecycle

    async def start(self) -> None:
        """Begin at the end of the log and follow it."""
        self._loop = asyncio.get_running_loop()
        self.position = self._newest_known = await asyncio.to_thread(self._last_id)
        self._tasks = [
            asyncio.create_task(self._follow(), name="kith-dispatcher"),
            asyncio.create_task(self._poll(), name="kith-dispatcher-poll"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for subscriber in list(self._everyone):
            subscriber.close("the server is shutting down; resume with since=<last event id>")

    # news, from any thread

    def publish(self, events: Sequence[Event]) -> None:
        """Hand over events this process committed (called by the hub, on any thread)."""
        if self._loop is not None and events:
            self._loop.call_soon_threadsafe(self._news, list(events), events[-1].id)

    def notify(self, last_id: int) -> None:
        """Another process says the log now reaches ``last_id`` (any thread); ``0`` means
        "news may have been lost" (the backend reconnected): look at the log now."""
        if self._loop is None:
            return
        if last_id > 0:
            self._loop.call_soon_threadsafe(self._news, [], last_id)
        else:
            self._loop.call_soon_threadsafe(self._look_now)

    def _look_now(self) -> None:
        task = asyncio.ensure_future(self._read_end())
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    async def _read_end(self) -> None:
        try:
            newest = await asyncio.to_thread(self._last_id)
        except Exception:
            log.warning("dispatcher could not read the end of the event log", exc_info=True)
            return  # the periodic poll comes back
        self._news([], newest)

    def _news(self, events: list[Event], last_id: int) -> None:
        for event in events:
            if event.id > self.position:
                self._held[event.id] = event
        if last_id > self._newest_known:
            self._newest_known = last_id
        self._wake.set()

    # following the log

    async def _follow(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._catch_up()
            except Exception:
                log.exception("dispatcher could not read the event log; retrying")
                await asyncio.sleep(min(self.poll_seconds, 1.0))
                self._wake.set()

    async def _poll(self) -> None:
        """Look at the log now and then: no lost notification delays an event for long."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                newest = await asyncio.to_thread(self._last_id)
            except Exception:
                log.warning("dispatcher could not poll the event log", exc_info=True)
                continue
            if newest > self.position:
                self._news([], newest)

    async def _catch_up(self) -> None:
        if not self._everyone and not self.listeners:
            # Nobody to deliver to: skip ahead. A stream that opens later with ``since``
            # replays from the log, not from us.
            self.position = max(self.position, self._newest_known)
            self._held.clear()
            return
        while self._newest_known > self.position:
            batch = self._held_run()
            if not batch:
                batch = await asyncio.to_thread(self._read, self.position)
                if not batch:
                    return  # announced but not yet visible to us; the poll will come back
            self._dispatch(batch)

    def _held_run(self) -> list[Event]:
        run: list[Event] = []
        next_id = self.position + 1
        while next_id in self._held:
            run.append(self._held.pop(next_id))
            next_id += 1
        return run

    def _dispatch(self, batch: Sequence[Event]) -> None:
        for event in batch:
            if event.id <= self.position:
                continue
            for subscriber in self._audience(event):
                subscriber.offer(event)
                self._reindex(subscriber, event)
            self.position = event.id
        for held in [i for i in self._held if i <= self.position]:
            del self._held[held]
        for listener in self.listeners:
            listener(batch)

    def _audience(self, event: Event) -> list[Subscriber]:
        if event.audience_id is not None:
            return list(self._by_person.get(event.audience_id, ()))
        if event.space_id is None:
            return list(self._everyone)
        found = set(self._by_space.get(event.space_id, ()))
        if event.type in SPACE_METADATA_EVENTS:
            # A public space (or one turning private) for all; a private one for its
            # members and the administrators.
            return list(self._everyone) if space_event_is_public(event) else list(found | self._admins)
        if event.type in MEMBERSHIP_EVENTS:
            found |= self._by_person.get(int(event.payload.get("person_id", 0)), set())
        return list(found)

    def _reindex(self, subscriber: Subscriber, event: Event) -> None:
        """Keep the space index in step with a subscriber's own membership changes."""
        if event.type not in MEMBERSHIP_EVENTS or event.space_id is None:
            return
        if event.payload.get("person_id") != subscriber.person_id:
            return
        if event.space_id in subscriber.member_of:
            self._by_space[event.space_id].add(subscriber)
        else:
            self._by_space[event.space_id].discard(subscriber)

    # subscribers

    async def attach(
        self, person_id: int, since: int | None, *, is_admin: bool = False
    ) -> tuple[Subscriber, AsyncIterator[list[Event]]]:
        """Open a stream for ``person_id``; replay the log after ``since``, then go live.

        Returns the subscriber and an iterator over the replayed pages. The subscriber is
        registered for live events exactly when the replay has reached ``position``, with
        no ``await`` between the check and the registration, so no event falls between
        the two and none arrives twice (Zulip's register-then-fetch, without a window).

        The reader's memberships are taken as they were at ``since`` (without ``since``:
        at ``position`` now), and the subscriber follows their changes event by event
        through the replay, so that a space's events reach the reader from their
        ``member.added`` up to their ``member.removed``, replayed as live. ``is_admin`` is
        the reader's role, looked up by the caller when it checked the token.
        """
        start = self.position if since is None else since
        member_of = await asyncio.to_thread(self._member_of_at, person_id, start)
        subscriber = Subscriber(person_id, member_of, queue_size=self.queue_size, is_admin=is_admin)
        subscriber.last_id = start
        if start >= self.position:
            self._register(subscriber)

            async def nothing() -> AsyncIterator[list[Event]]:
                return
                yield

            return subscriber, nothing()
        # Also without ``since``: the dispatcher moved on while the memberships were read,
        # so the few events since ``start`` are replayed, none lost at the switch.
        return subscriber, self._replay(subscriber)

    async def _replay(self, subscriber: Subscriber) -> AsyncIterator[list[Event]]:
        while subscriber.last_id < self.position:
            page = await asyncio.to_thread(self._read, subscriber.last_id, self.position)
            if not page:
                break
            visible = [event for event in page if subscriber.accepts(event)]
            subscriber.last_id = page[-1].id
            if visible:
                yield visible
        # Caught up with everything dispatched so far; from here the dispatcher feeds us.
        subscriber.last_id = max(subscriber.last_id, self.position)
        self._register(subscriber)

    def _register(self, subscriber: Subscriber) -> None:
        self._everyone.add(subscriber)
        self._by_person[subscriber.person_id].add(subscriber)
        if subscriber.is_admin:
            self._admins.add(subscriber)
        for space_id in subscriber.member_of:
            self._by_space[space_id].add(subscriber)

    def detach(self, subscriber: Subscriber) -> None:
        self._everyone.discard(subscriber)
        self._admins.discard(subscriber)
        self._by_person.get(subscriber.person_id, set()).discard(subscriber)
        if not self._by_person.get(subscriber.person_id, True):
            del self._by_person[subscriber.person_id]
        for space_id in list(subscriber.member_of):
            group = self._by_space.get(space_id)
            if group is not None:
                group.discard(subscriber)
                if not group:
                    del self._by_space[space_id]

    @property
    def connection_count(self) -> int:
        return len(self._everyone)

    # database work, run in threads

    def _last_id(self) -> int:
        with self.db.read() as conn:
            return event_store.last_id(conn)

    def _read(self, after: int, upto: int | None = None) -> list[Event]:
        with self.db.read() as conn:
            page = event_store.since(conn, after, limit=PAGE)
        return [e for e in page if upto is None or e.id <= upto]

    def _member_of_at(self, person_id: int, event_id: int) -> set[int]:
        with self.db.read() as conn:
            return space_store.member_space_ids_at(conn, person_id, event_id)
