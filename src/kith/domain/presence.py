"""Presence: whether a person is here, from their connections, activity and own say-so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Status = Literal["online", "idle", "away", "offline"]
STATUSES: tuple[Status, ...] = ("online", "idle", "away", "offline")


@dataclass(frozen=True, slots=True)
class PresenceState:
    """A person's published presence: the status, since when, and their own "away"."""

    person_id: int
    status: Status
    away: bool
    since: datetime | None
    last_active_at: datetime | None = None


def status_of(
    *, connected: bool, away: bool, last_active_at: datetime | None, now: datetime, idle_after: timedelta
) -> Status:
    """The one rule: no connection is offline; an explicit away wins over activity; activity
    within ``idle_after`` is online; a connection without it is idle."""
    if not connected:
        return "offline"
    if away:
        return "away"
    if last_active_at is not None and now - last_active_at < idle_after:
        return "online"
    return "idle"
