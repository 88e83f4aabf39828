"""This process's side of presence: who is connected here, and what changed since the
last flush.

Connecting, disconnecting and activity only touch memory here (no I/O, any thread).
``kith.actions.presence.flush`` takes the gathered changes every
``presence_flush_seconds`` and writes them in one transaction, so a thousand clients
reconnecting at once cost one write and at most one event per space, not a thousand.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class PresenceWork:
    """What a flush has to write: connection counts that changed, activity, idle checks."""

    counts: dict[int, int] = field(default_factory=dict)
    active: dict[int, datetime] = field(default_factory=dict)
    due: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.counts or self.active or self.due)

    @property
    def people(self) -> set[int]:
        return set(self.counts) | set(self.active) | self.due


class PresenceTracker:
    """Connections per person in this process, and the changes not yet written."""

    def __init__(self, process_id: str | None = None) -> None:
        self.process_id = process_id or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._connections: dict[int, int] = {}
        self._changed: set[int] = set()
        self._active: dict[int, datetime] = {}
        self._idle_due: dict[int, datetime] = {}

    def connected(self, person_id: int, at: datetime) -> None:
        """A stream of ``person_id`` opened here; opening one counts as activity."""
        with self._lock:
            self._connections[person_id] = self._connections.get(person_id, 0) + 1
            self._changed.add(person_id)
            self._mark_active(person_id, at)

    def disconnected(self, person_id: int) -> None:
        with self._lock:
            left = self._connections.get(person_id, 0) - 1
            if left > 0:
                self._connections[person_id] = left
            else:
                self._connections.pop(person_id, None)
                self._idle_due.pop(person_id, None)
            self._changed.add(person_id)

    def active(self, person_id: int, at: datetime) -> None:
        """The person did something (typed, posted, focused the app)."""
        with self._lock:
            self._mark_active(person_id, at)

    def _mark_active(self, person_id: int, at: datetime) -> None:
        known = self._active.get(person_id)
        if known is None or at > known:
            self._active[person_id] = at

    def idle_check_at(self, person_id: int, at: datetime) -> None:
        """Look again at ``at``, when the person turns idle unless they did something."""
        with self._lock:
            if person_id in self._connections:
                self._idle_due[person_id] = at

    def take(self, now: datetime) -> PresenceWork:
        """Everything gathered since the last call, and the idle checks now due."""
        with self._lock:
            work = PresenceWork(
                counts={p: self._connections.get(p, 0) for p in self._changed},
                active=self._active,
            )
            self._changed = set()
            self._active = {}
            work.due = {p for p, at in self._idle_due.items() if at <= now}
            for person_id in work.due:
                del self._idle_due[person_id]
            return work

    def give_back(self, work: PresenceWork) -> None:
        """A flush failed: keep its changes for the next one."""
        with self._lock:
            self._changed |= set(work.counts)
            for person_id, at in work.active.items():
                self._mark_active(person_id, at)
            for person_id in work.due:
                if person_id in self._connections:
                    self._idle_due.setdefault(person_id, _EPOCH)

    def local_people(self) -> dict[int, int]:
        """Connections held here, per person."""
        with self._lock:
            return dict(self._connections)

    @property
    def connection_count(self) -> int:
        with self._lock:
            return sum(self._connections.values())


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
