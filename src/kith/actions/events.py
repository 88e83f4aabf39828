"""Appending to the event log inside a transaction, publishing to the hub after commit."""

from __future__ import annotations

from typing import Any

from kith.app import App
from kith.domain.models import Event
from kith.storage import events as event_store
from kith.storage.database import Tx


def emit(
    app: App,
    tx: Tx,
    type: str,
    *,
    space_id: int | None,
    actor_id: int | None,
    payload: dict[str, Any],
    audience_id: int | None = None,
) -> None:
    """Append an event in ``tx`` and hand it to the hub once ``tx`` has committed.

    ``audience_id`` makes the event personal: only that person's streams receive it. The
    transaction's events are written together just before it commits (see
    :meth:`kith.storage.database.Database.transaction`), so an event's id is not known here.
    """
    tx.events.append(
        {
            "type": type,
            "space_id": space_id,
            "actor_id": actor_id,
            "payload": payload,
            "created_at": app.clock(),
            "audience_id": audience_id,
        }
    )
    tx.publish = app.hub.publish


def list_since(app: App, after_id: int, *, limit: int = 1000) -> list[Event]:
    """Raw events after ``after_id``; the real-time layer filters them per reader."""
    with app.db.read() as conn:
        return event_store.since(conn, after_id, limit=limit)
