"""Corrections: telling exactly the people who saw an earlier version, and counting how
many of them have seen the correction since.

A correction is made two ways:

- a **fact** changes its content (title, text or source link; a new review-by date or
  owner is no correction): its recipients are the people whose highest version seen of the
  fact (``fact_seen``) is older than the new version;
- a **post** is marked as correcting an earlier post of its space
  (:func:`kith.actions.post_notices.correct`): its recipients are the people with a seen
  receipt of the corrected post.

In both cases the editor or author is never a recipient, and neither is anyone who may no
longer read the space (a private space's former members) or whose account is inactive.
Each recipient gets a ``correction`` notification (:func:`kith.actions.notify.notify`
decides live or held: a muted space holds it, never drops it). A recipient has **seen it
since** when they have a seen receipt of the correcting post, or have seen the fact's new
version (or a later one).

Published events: ``correction.created`` (the space's audience; the correction's counts,
no names).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from kith.actions.access import access_readable_space
from kith.actions.events import emit
from kith.actions.notify import Notice, notify
from kith.app import App
from kith.domain import cursors, views
from kith.domain import facts as rules
from kith.domain.errors import invalid
from kith.domain.models import Correction, Fact, Page, Viewer
from kith.storage import corrections as store
from kith.storage import facts as fact_store
from kith.storage.database import Tx

KINDS = ("fact", "post")


@dataclass(frozen=True, slots=True)
class CorrectionCounts:
    """Corrections made in a space over a period: how many, how many people they told in
    all, and how many of those have seen the correction since."""

    corrections: int
    recipients: int
    seen_since: int


def recipients(tx: Tx, saw_earlier: set[int], space_id: int, author_id: int | None) -> set[int]:
    """Of the people who saw the earlier version, those a correction tells: not its author,
    and only those who may still read the space with an active account."""
    others = saw_earlier - {author_id} if author_id is not None else saw_earlier
    return store.readers_among(tx.conn, others, space_id)


def announce(app: App, tx: Tx, correction_id: int) -> Correction:
    """Emit ``correction.created`` for a correction just written in ``tx``."""
    found = store.get(tx.conn, correction_id)
    assert found is not None
    emit(
        app,
        tx,
        "correction.created",
        space_id=found.space_id,
        actor_id=found.author_id,
        payload=views.correction(found),
    )
    return found


def correct_fact(app: App, tx: Tx, before: Fact, after: Fact, *, editor_id: int, note: str) -> int | None:
    """Record the change of ``before`` into ``after`` (same fact, a later version) as a
    correction if its content changed, and tell exactly who saw an earlier version.

    Returns the correction's id, or None when only the review-by date or owner changed.
    """
    changed, described = rules.changes(
        (before.title, before.source, before.source_url), (after.title, after.source, after.source_url)
    )
    if not changed:
        return None
    summary = rules.summary(changed, note)
    return do_record(
        app,
        tx,
        {
            "space_id": after.space_id,
            "kind": "fact",
            "fact_id": after.id,
            "from_version": before.version,
            "to_version": after.version,
            "author_id": editor_id,
            "summary": summary,
        },
        fact_store.viewers_before(tx.conn, after.id, after.version),
        Notice(
            "correction",
            space_id=after.space_id,
            fact_id=after.id,
            actor_id=editor_id,
            payload={
                "fact_title": after.title,
                "from_version": before.version,
                "to_version": after.version,
                "changed": changed,
                "changes": described,
                "summary": summary,
            },
        ),
    )


def do_record(app: App, tx: Tx, row: dict[str, Any], saw_earlier: set[int], notice: Notice) -> int:
    """Write a correction (``row``: its space, kind, what and by whom), announce it, and tell
    exactly those of ``saw_earlier`` who may still read the space, its author excepted, with
    ``notice``. Returns the correction's id."""
    told = recipients(tx, saw_earlier, row["space_id"], row["author_id"])
    correction_id = store.insert(tx.conn, {**row, "created_at": app.clock()}, told)
    announce(app, tx, correction_id)
    notify(app, tx, told, replace(notice, correction_id=correction_id))
    return correction_id


def list_corrections(
    app: App,
    viewer: Viewer,
    space_id: int,
    *,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Correction]:
    """A readable space's corrections, newest first, each with its number of recipients
    and how many of them have seen it since (never who)."""
    if kind is not None and kind not in KINDS:
        raise invalid("kind", "must be one of: fact, post")
    before = cursors.decode(cursor, (int,))[0] if cursor else None
    limit = max(1, min(limit, app.settings.page_size_max))
    with app.db.read() as conn:
        access_readable_space(conn, viewer, space_id)
        found = store.list_in_space(conn, space_id, kind=kind, before_id=before, limit=limit + 1)
    items = tuple(found[:limit])
    more = len(found) > limit and items
    return Page(items, cursors.encode([items[-1].id]) if more else None)


def summary(
    conn_or_app: Connection | App, space_id: int, since: datetime | None, until: datetime | None
) -> CorrectionCounts:
    """Counts of the corrections made in a space in ``[since, until)`` (UTC; None leaves
    that end open): corrections, their recipients in all, and the recipients who have seen
    the correction since, as of now. No permission check: for the metrics, which check."""
    if isinstance(conn_or_app, App):
        with conn_or_app.db.read() as conn:
            return CorrectionCounts(*store.counts(conn, space_id, since, until))
    return CorrectionCounts(*store.counts(conn_or_app, space_id, since, until))
