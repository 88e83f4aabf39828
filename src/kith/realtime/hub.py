"""The hub: where committed events meet the process's listeners.

Actions publish to it only after their transaction commits. Listeners are plain callables
that must not block (the stream edge hands events over to its event loop with
``call_soon_threadsafe``). The hub is thread-safe: actions run on worker threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from kith.domain.models import Event

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[Event]], None]


class Hub:
    """An in-memory fan-out of committed events to the listeners of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[int, Listener] = {}
        self._next = 0
        self.last_event_id = 0

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; returns the function that removes it."""
        with self._lock:
            self._next += 1
            key = self._next
            self._listeners[key] = listener

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.pop(key, None)

        return unsubscribe

    def publish(self, events: Sequence[Event]) -> None:
        """Hand committed ``events`` to every listener; one failing listener harms no other."""
        if not events:
            return
        with self._lock:
            self.last_event_id = max(self.last_event_id, events[-1].id)
            listeners = list(self._listeners.values())
        for listener in listeners:
            try:
                listener(events)
            except Exception:
                log.exception("hub listener failed")

    @property
    def listener_count(self) -> int:
        with self._lock:
            return len(self._listeners)
