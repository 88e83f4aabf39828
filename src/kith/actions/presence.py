"""Presence: online, idle, away or offline per person, shared by every server process.

Each process counts its own connections in memory (``kith.realtime.presence``). Every
``presence_flush_seconds`` :func:`flush` writes what changed in one transaction: the
process's connection counts, the latest activity, and the new status of each person
concerned, computed inside that transaction from every process's rows (write transactions
run one at a time, so two processes never publish the same change twice). Each status that
changed is published as one ``presence.changed`` event per space the person belongs to,
all of a flush's changes in a space in the same event: a thousand clients reconnecting at
once cost one transaction and one event per space.

Processes renew their connection rows every third of ``presence_ttl_seconds``; the rows of
a process that stopped renewing them (it crashed) are dropped by whichever process sweeps
next, and their people go offline. A process that stops cleanly drops its own at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from kith.actions.access import access_readable_space
from kith.actions.events import emit
from kith.app import App
from kith.domain import views
from kith.domain.errors import invalid
from kith.domain.models import Viewer
from kith.domain.presence import PresenceState, status_of
from kith.storage import people as people_store
from kith.storage import presence as store
from kith.storage.database import Tx

log = logging.getLogger(__name__)

MAX_PEOPLE_PER_QUERY = 500


def flush(app: App, now: datetime | None = None) -> list[PresenceState]:
    """Write this process's gathered presence changes; returns the statuses that changed."""
    now = now or app.clock()
    work = app.presence.take(now)
    if not work:
        return []
    try:
        with app.db.transaction() as tx:
            if work.counts:
                store.set_connections(tx.conn, app.presence.process_id, work.counts, now)
            changed = _settle(app, tx, work.people, now, activity=work.active)
    except Exception:
        app.presence.give_back(work)
        raise
    return changed


def sweep(app: App, now: datetime | None = None) -> list[PresenceState]:
    """Renew this process's connections and retire those of processes gone silent."""
    now = now or app.clock()
    with app.db.transaction() as tx:
        store.renew(tx.conn, app.presence.process_id, now)
        gone = store.drop_stale(tx.conn, now - _ttl(app))
        return _settle(app, tx, gone, now) if gone else []


def leave(app: App, now: datetime | None = None) -> list[PresenceState]:
    """This process is stopping: its connections end now."""
    now = now or app.clock()
    with app.db.transaction() as tx:
        people_ids = store.drop_process(tx.conn, app.presence.process_id)
        return _settle(app, tx, people_ids, now) if people_ids else []


def check_set_away(app: App, viewer: Viewer, away: bool) -> dict[str, Any]:
    """Say I am away (until I say otherwise), or back."""
    if not isinstance(away, bool):
        raise invalid("away", "must be true or false")
    now = app.clock()
    with app.db.transaction() as tx:
        current = store.states(tx.conn, [viewer.id]).get(viewer.id)
        if current is None or current.away != away:
            base = current or PresenceState(viewer.id, "offline", False, now)
            store.save_states(
                tx.conn,
                [PresenceState(viewer.id, base.status, away, base.since, base.last_active_at)],
            )
        _settle(app, tx, [viewer.id], now, activity={} if away else {viewer.id: now})
        state = store.states(tx.conn, [viewer.id])[viewer.id]
    return views.presence(state, viewer.person, now)


def mark_active(app: App, viewer: Viewer) -> None:
    """The person did something; noted in memory, written with the next flush."""
    app.presence.active(viewer.id, app.clock())


def get_space_presence(app: App, viewer: Viewer, space_id: int) -> list[dict[str, Any]]:
    """The presence of the active members of a space the viewer may read."""
    with app.db.read() as conn:
        access_readable_space(conn, viewer, space_id)
        member_ids = store.active_member_ids(conn, space_id)
        return _views(app, conn, member_ids)


def get_people_presence(app: App, viewer: Viewer, person_ids: Collection[int]) -> list[dict[str, Any]]:
    """The presence of the given (active) people; everyone signed in may see anyone's."""
    if len(person_ids) > MAX_PEOPLE_PER_QUERY:
        raise invalid("person", f"at most {MAX_PEOPLE_PER_QUERY} people per request")
    with app.db.read() as conn:
        return _views(app, conn, sorted(set(person_ids)))


def _views(app: App, conn: Any, person_ids: list[int]) -> list[dict[str, Any]]:
    now = app.clock()
    persons = people_store.get_many(conn, person_ids)
    states = store.states(conn, person_ids)
    found = []
    for person_id in person_ids:
        person = persons.get(person_id)
        if person is None or not person.active:
            continue
        state = states.get(person_id) or PresenceState(person_id, "offline", False, None)
        found.append(views.presence(state, person, now))
    return found


def _ttl(app: App) -> timedelta:
    return timedelta(seconds=app.settings.presence_ttl_seconds)


def _settle(
    app: App,
    tx: Tx,
    person_ids: Collection[int],
    now: datetime,
    *,
    activity: Mapping[int, datetime] | None = None,
) -> list[PresenceState]:
    """Recompute the status of ``person_ids`` from every process's rows; save and publish
    what changed. Runs inside the caller's write transaction."""
    if not person_ids:
        return []
    activity = activity or {}
    idle_after = timedelta(seconds=app.settings.presence_idle_seconds)
    connected = store.connected(tx.conn, person_ids, now - _ttl(app))
    current = store.states(tx.conn, person_ids)
    to_save: list[PresenceState] = []
    changed: list[PresenceState] = []
    for person_id in sorted(person_ids):
        old = current.get(person_id)
        last_active = _latest(old.last_active_at if old else None, activity.get(person_id))
        away = old.away if old else False
        status = status_of(
            connected=person_id in connected,
            away=away,
            last_active_at=last_active,
            now=now,
            idle_after=idle_after,
        )
        old_status = old.status if old else "offline"
        if status != old_status:
            new = PresenceState(person_id, status, away, now, last_active)
            changed.append(new)
            to_save.append(new)
        elif old is not None and last_active != old.last_active_at:
            to_save.append(PresenceState(person_id, old.status, away, old.since, last_active))
        elif old is None and last_active is not None:
            to_save.append(PresenceState(person_id, status, away, now, last_active))
        if status == "online" and last_active is not None:
            app.presence.idle_check_at(person_id, last_active + idle_after)
    store.save_states(tx.conn, to_save)
    _publish(app, tx, changed)
    return changed


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _publish(app: App, tx: Tx, changed: list[PresenceState]) -> None:
    """One ``presence.changed`` event per space, carrying every change of its members."""
    if not changed:
        return
    spaces_of = store.member_spaces(tx.conn, [s.person_id for s in changed])
    by_space: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for state in changed:
        for space_id in spaces_of.get(state.person_id, ()):
            by_space[space_id].append(views.presence_change(state))
    for space_id in sorted(by_space):
        payload = {"people": by_space[space_id]}
        emit(app, tx, "presence.changed", space_id=space_id, actor_id=None, payload=payload)


async def keep_presence(app: App) -> None:
    """Flush presence changes every ``presence_flush_seconds`` and sweep every third of the
    TTL, until cancelled; then leave (this process's connections end)."""
    flush_every = app.settings.presence_flush_seconds
    sweep_every = app.settings.presence_ttl_seconds / 3
    loop = asyncio.get_running_loop()
    next_sweep = loop.time()
    try:
        while True:
            await asyncio.sleep(flush_every)
            try:
                if loop.time() >= next_sweep:
                    await asyncio.to_thread(sweep, app)
                    next_sweep = loop.time() + sweep_every
                await asyncio.to_thread(flush, app)
            except Exception:
                log.warning("presence could not be written; trying again", exc_info=True)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(asyncio.to_thread(_final, app))


def _final(app: App) -> None:
    flush(app)
    leave(app)
