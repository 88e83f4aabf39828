"""One open stream: whose it is, what they may see, and a bounded queue of live events."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from kith.domain.models import Event
from kith.domain.permissions import MEMBERSHIP_EVENTS, can_receive_event


class Subscriber:
    """A reader's stream. Live events wait in a bounded queue until the edge sends them.

    ``last_id`` is the id of the last event handed to this reader (replayed or live);
    anything at or below it is a duplicate and dropped, which is what makes the switch from
    replay to live gap-free and duplicate-free. When the queue is full the subscriber is
    marked ``overflowed`` and ``done`` is set: the edge closes the connection with a close
    code that tells the client to resume with ``since=last_id``. Nothing is dropped
    silently, and a slow reader never makes the dispatcher wait.

    The edge waits with :meth:`next_batch`: one future, resolved by :meth:`offer` or
    :meth:`close`, wakes it (a task per wake-up, or two and ``asyncio.wait``, cost seven
    times as much per delivery).
    """

    def __init__(
        self, person_id: int, member_of: Iterable[int], *, queue_size: int, is_admin: bool = False
    ) -> None:
        self.person_id = person_id
        self.member_of: set[int] = set(member_of)
        # The reader's role when the stream opened. Roles are not in the event log; the
        # edge re-reads the role when ``role_check`` is set (the reader's own
        # ``person.updated`` passed) and now and then, and ends the stream if it changed.
        self.is_admin = is_admin
        self.role_check = asyncio.Event()
        self.queue_size = queue_size
        self._queue: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.last_id = 0
        self.overflowed = False
        self.closed_reason: str | None = None
        # Why the stream ended, for the edge's close code: "ending", "lagging",
        # "signed_out" or "bad_request".
        self.closed_kind: str | None = None
        self.done = asyncio.Event()

    def accepts(self, event: Event) -> bool:
        """Whether this reader may see ``event``; tracks their own membership changes.

        Offered every event in id order (replayed, then live) from a ``member_of`` that was
        true just before the first, it keeps ``member_of`` true at each event: a space's
        events reach the reader from their ``member.added`` up to their ``member.removed``.
        """
        if event.id <= self.last_id:
            return False
        visible = can_receive_event(self.person_id, self.member_of, event, is_admin=self.is_admin)
        if event.type == "person.updated" and event.payload.get("id") == self.person_id:
            if event.payload.get("active") is False:
                self.close("signed out: the account was deactivated", kind="signed_out")
            else:
                self.role_check.set()  # the event does not say whether the role changed
        if event.type in MEMBERSHIP_EVENTS and event.payload.get("person_id") == self.person_id:
            space_id = event.space_id
            if space_id is not None:
                if event.type == "member.removed":
                    self.member_of.discard(space_id)
                else:
                    self.member_of.add(space_id)
        return visible

    def offer(self, event: Event) -> None:
        """Queue a live event if the reader may see it; never blocks."""
        if self.done.is_set() or not self.accepts(event):
            return
        if len(self._queue) >= self.queue_size:
            self.overflowed = True
            self.close("the stream fell behind; resume with since=<last event id>", kind="lagging")
            return
        self._queue.append(event)
        self.last_id = event.id
        self._wake()

    def pending(self) -> int:
        """How many events wait to be sent."""
        return len(self._queue)

    def drain(self) -> list[Event]:
        """Every event waiting now, in order."""
        items = list(self._queue)
        self._queue.clear()
        return items

    async def next_batch(self) -> list[Event]:
        """Every event waiting, once there is one; ``[]`` once the stream is done."""
        while not self._queue:
            if self.done.is_set():
                return []
            waiter = self._waiter
            if waiter is None or waiter.done():
                waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        if self.done.is_set():
            return []
        return self.drain()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self, reason: str, *, kind: str = "ending") -> None:
        """End the stream; the first reason given is the one the client hears."""
        if self.closed_reason is None:
            self.closed_reason = reason
            self.closed_kind = kind
        self.done.set()
        self._wake()
