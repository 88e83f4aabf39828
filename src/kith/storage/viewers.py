"""A short memory of the bearer tokens checked lately.

Every API request checks its bearer token: a query joining the token, the person and the
account. A client making many requests (a busy writer, a page and its stream) would run it
for each; at a few hundred posts per second it was an eighth of the server's work. So a
process remembers each token it found good for ``seconds`` (``KITH_TOKEN_CACHE_SECONDS``,
2 by default; 0 turns it off), as Mattermost keeps a session cache.

What may not wait for that, does not:

- signing out forgets the token at once in the process that did it;
- a ``person.updated`` event (deactivation, role, profile) forgets the person's tokens, at
  commit in the process that made the change and, in every other process, as soon as its
  dispatcher reads the event from the log (milliseconds with Redis news, at most
  ``KITH_STREAM_POLL_SECONDS`` without); ``people.imported`` forgets everyone;
- a token's own expiry is checked on every use.

So the window is this: a token signed out, or a password changed, in one process is still
taken by the others for at most ``seconds``. A lookup that raced a change is not kept: each
entry is stored only if nothing was forgotten while its query ran.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from kith.domain.models import Event, Viewer

# Events after which a cached viewer may be wrong: the person's, or anyone's.
_PERSON_EVENTS = frozenset({"person.updated"})
_EVERYONE_EVENTS = frozenset({"people.imported"})


class ViewerCache:
    """Token hash -> the viewer it stood for, its expiry and until when to believe it."""

    def __init__(
        self, seconds: float, *, size: int = 10_000, monotonic: Callable[[], float] = time.monotonic
    ):
        self.seconds = seconds
        self.size = size
        self._monotonic = monotonic
        self._entries: dict[str, tuple[Viewer, datetime, float]] = {}
        self._lock = threading.Lock()
        # Bumped by every forgetting: a lookup that began before one is not stored.
        self.generation = 0

    def get(self, token_hash: str, now: datetime) -> Viewer | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        viewer, expires_at, believe_until = entry
        if believe_until <= self._monotonic() or expires_at <= now:
            with self._lock:
                self._entries.pop(token_hash, None)
            return None
        return viewer

    def put(self, token_hash: str, viewer: Viewer, expires_at: datetime, generation: int) -> None:
        """Remember a lookup that began when :attr:`generation` was ``generation``."""
        if self.seconds <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return  # something was forgotten while the lookup ran: it may be stale
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[token_hash] = (viewer, expires_at, self._monotonic() + self.seconds)

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self.generation += 1
            self._entries.pop(token_hash, None)

    def forget_person(self, person_id: int) -> None:
        with self._lock:
            self.generation += 1
            for key in [k for k, (viewer, _, _) in self._entries.items() if viewer.id == person_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def on_events(self, events: Sequence[Event]) -> None:
        """Forget what the events may have changed (a listener of the hub and the dispatcher)."""
        for event in events:
            if event.type in _PERSON_EVENTS:
                self.forget_person(int(event.payload.get("id", 0)))
            elif event.type in _EVERYONE_EVENTS:
                self.clear()
