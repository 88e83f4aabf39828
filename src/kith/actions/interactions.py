"""Interactions: Kith's own activity as it happens, and imports loaded in bulk.

**Kith's own activity** is recorded in the same transaction as the action (weights in
docs/analysis.md, "Interactions"):

| action | ties (kind, weight) |
|---|---|
| a reply in a topic | to the topic's author and the post replied to (`reply`, 1.0); |
| | to earlier participants (`reply`, 0.25 each, the last 10) |
| an @mention | to each person mentioned (`mention`, 1.0); `@space` is a broadcast and adds none |
| a reaction | to the post's author (`reaction`, 0.5) |
| an accepted answer | asker and answerer, both ways (`answer`, 3.0) |
| a seen receipt | to the post's author (`seen`, 0.1) |

**Imports** (:func:`load`): an importer turns its source into
:class:`~kith.domain.interactions.InteractionRecord` values keyed by e-mail address; the
loader matches addresses to people (case-insensitively), creates inactive "discovered"
people for unknown addresses of the organisation's own domains, counts and leaves out
external addresses, and writes in chunks, each chunk its own short transaction so that the
server keeps serving. Each imported interaction carries a digest of what makes it unique, so
running an import again adds nothing. A run's interactions count only once the run is
``done``; when the source turns out corrupt half-way, everything the run wrote is removed
and the run is ``failed``: an import lands whole or not at all, as far as anyone can see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from kith.actions.people import allocate_handle
from kith.app import App
from kith.domain.errors import Forbidden, NotFound
from kith.domain.interactions import InteractionRecord
from kith.domain.models import Post, Topic, Viewer
from kith.domain.permissions import can_manage_people
from kith.storage import interactions as store
from kith.storage import people
from kith.storage.database import Tx

REPLY = 1.0
EARLIER_PARTICIPANT = 0.25
EARLIER_PARTICIPANTS_MAX = 10
MENTION = 1.0
REACTION = 0.5
ANSWER = 3.0
SEEN = 0.1

CHUNK = 5_000


# Kith's own activity


def _row(source: int, target: int, kind: str, at: datetime, weight: float, context: str) -> dict[str, Any]:
    return {
        "source_id": source,
        "target_id": target,
        "kind": kind,
        "at": at,
        "weight": weight,
        "origin": "kith",
        "context": context,
        "run_id": None,
        "dedupe_key": None,
    }


def record_post(
    tx: Tx, post: Post, topic: Topic, mentioned: Iterable[int], reply_to_author: int | None
) -> None:
    """Ties of a new post: to whom it answers, and to whom it names (one statement)."""
    me = post.author_id
    ties: list[tuple[int, str, float]] = []
    is_reply = topic.post_count > 0  # not the topic's first post
    if is_reply:
        strong = {p for p in (topic.author_id, reply_to_author) if p is not None and p != me}
        ties += [(other, "reply", REPLY) for other in sorted(strong)]
    ties += [(other, "mention", MENTION) for other in sorted(set(mentioned) - {me})]
    store.insert_post_ties(
        tx.conn,
        author_id=me,
        at=post.created_at,
        context=f"topic:{topic.id}",
        ties=ties,
        earlier_in_topic=topic.id if is_reply else None,
        earlier_weight=EARLIER_PARTICIPANT,
        earlier_max=EARLIER_PARTICIPANTS_MAX,
    )


def record_reaction(tx: Tx, post: Post, person_id: int, at: datetime) -> None:
    if person_id != post.author_id:
        store.insert(
            tx.conn, [_row(person_id, post.author_id, "reaction", at, REACTION, f"topic:{post.topic_id}")]
        )


def record_answer(tx: Tx, topic: Topic, answer: Post, at: datetime) -> None:
    """An accepted answer ties asker and answerer strongly, both ways."""
    asker, answerer = topic.author_id, answer.author_id
    if asker != answerer:
        context = f"topic:{topic.id}"
        store.insert(
            tx.conn,
            [
                _row(asker, answerer, "answer", at, ANSWER, context),
                _row(answerer, asker, "answer", at, ANSWER, context),
            ],
        )


def record_seen(tx: Tx, viewer_id: int, authors: Mapping[int, int], at: datetime) -> None:
    """Weak ties from a reader to the authors of posts newly seen (``post id -> author``)."""
    rows = [
        _row(viewer_id, author, "seen", at, SEEN, f"post:{post_id}")
        for post_id, author in sorted(authors.items())
        if author != viewer_id
    ]
    store.insert(tx.conn, rows)


# imports


@dataclass
class ImportProgress:
    """What an import has done so far; importers add their own counts to ``stats``."""

    records: int = 0
    written: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.stats[name] = self.stats.get(name, 0) + n


@dataclass(frozen=True)
class ImportResult:
    run_id: int
    status: str
    stats: dict[str, Any]


class ImportFailed(Exception):
    """The source is corrupt or unreadable; ``where`` names the file (and line or message)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def check_can_import(viewer: Viewer | None) -> None:
    if viewer is not None and not can_manage_people(viewer):
        raise Forbidden("only administrators import communication data")


def load(
    app: App,
    viewer: Viewer | None,
    kind: str,
    source: str,
    records: Iterable[InteractionRecord],
    *,
    progress: ImportProgress | None = None,
    names: Mapping[str, str] | None = None,
    on_chunk: Callable[[ImportProgress], None] | None = None,
) -> ImportResult:
    """Write ``records`` as one import run of ``kind`` (``email``, ``slack``, ``edges``).

    ``names`` maps addresses to display names (from X-From and the like), used for people
    discovered on the way. An exception raised while reading ``records`` (an
    :class:`ImportFailed` names the file and place) removes everything the run wrote, marks
    it failed, and is raised again.
    """
    check_can_import(viewer)
    progress = progress or ImportProgress()
    names = names or {}
    with app.db.transaction() as tx:
        for stale in store.stale_runs(tx.conn):  # an earlier run that died half-way
            store.remove_run_rows(tx.conn, stale)
            store.finish_run(tx.conn, stale, "failed", {}, app.clock(), "abandoned before it finished")
        run_id = store.create_run(tx.conn, kind, source, app.clock(), viewer.id if viewer else None)
        directory = _Directory.read(tx.conn, app.settings.org_domains.split(","))
    try:
        chunk: list[InteractionRecord] = []
        for record in records:
            progress.records += 1
            chunk.append(record)
            if len(chunk) >= CHUNK:
                _write(app, run_id, chunk, directory, names, progress)
                chunk = []
                if on_chunk is not None:
                    on_chunk(progress)
        _write(app, run_id, chunk, directory, names, progress)
    except BaseException as failure:
        with app.db.transaction() as tx:
            store.remove_run_rows(tx.conn, run_id)
            store.finish_run(tx.conn, run_id, "failed", _stats(progress, 0), app.clock(), str(failure))
        raise
    with app.db.transaction() as tx:
        new = store.count_for_run(tx.conn, run_id)
        stats = _stats(progress, new)
        store.finish_run(tx.conn, run_id, "done", stats, app.clock())
    if on_chunk is not None:
        on_chunk(progress)
    return ImportResult(run_id, "done", stats)


def _stats(progress: ImportProgress, new: int) -> dict[str, Any]:
    return {
        **progress.stats,
        "records": progress.records,
        "interactions_new": new,
        "interactions_already_known": max(progress.written - new, 0),
    }


@dataclass
class _Directory:
    """E-mail address → person id, and the organisation's own domains."""

    ids: dict[str, int]
    domains: frozenset[str]

    @classmethod
    def read(cls, conn: Connection, configured: Iterable[str]) -> _Directory:
        ids = people.email_ids(conn)
        domains = frozenset(d.lower().lstrip("@") for d in configured if d.strip())
        if not domains:
            domains = frozenset(email.rpartition("@")[2] for email in ids if "@" in email)
        return cls(ids, domains)

    def internal(self, address: str) -> bool:
        return address.rpartition("@")[2] in self.domains


def _write(
    app: App,
    run_id: int,
    chunk: list[InteractionRecord],
    directory: _Directory,
    names: Mapping[str, str],
    progress: ImportProgress,
) -> None:
    if not chunk:
        return
    now = app.clock()
    with app.db.transaction() as tx:
        unknown = sorted(
            {
                a
                for r in chunk
                for a in (r.source, r.target)
                if a not in directory.ids and directory.internal(a)
            }
        )
        if unknown:
            _discover(tx.conn, unknown, directory, names, run_id, now)
            progress.add("people_discovered", len(unknown))
        rows = []
        for r in chunk:
            source, target = directory.ids.get(r.source), directory.ids.get(r.target)
            if source is None or target is None:
                progress.add("ties_external")
                continue
            if source == target:
                progress.add("ties_to_self")
                continue
            rows.append(
                {
                    "source_id": source,
                    "target_id": target,
                    "kind": r.kind,
                    "at": r.at,
                    "weight": r.weight,
                    "origin": r.origin,
                    "context": r.context[:300],
                    "run_id": run_id,
                    "dedupe_key": dedupe_key(r),
                }
            )
        store.insert(tx.conn, rows)
        progress.written += len(rows)


def dedupe_key(r: InteractionRecord) -> str:
    """What makes an imported interaction the same one again (a mail in two folders)."""
    text = "\x1f".join((r.origin, r.context, r.source, r.target, r.kind, r.at.isoformat(), repr(r.weight)))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _discover(
    conn: Connection,
    addresses: list[str],
    directory: _Directory,
    names: Mapping[str, str],
    run_id: int,
    now: datetime,
) -> None:
    taken = people.all_handles(conn)
    rows = []
    for address in addresses:
        handle = allocate_handle(conn, address, taken)
        taken.add(handle)
        name = (names.get(address) or address.partition("@")[0]).strip()[:200] or address
        rows.append(
            {
                "email": address,
                "handle": handle,
                "display_name": name,
                "active": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    people.bulk_insert(conn, rows)
    found = people.ids_by_emails(conn, addresses)
    directory.ids.update(found)
    store.mark_discovered(conn, found.values(), run_id)


def undo(app: App, viewer: Viewer | None, run_id: int) -> ImportResult:
    """Remove everything an import run wrote; the run stays listed as ``undone``."""
    check_can_import(viewer)
    with app.db.transaction() as tx:
        run = store.get_run(tx.conn, run_id)
        if run is None:
            raise NotFound(f"no import run with id {run_id}")
        removed, gone = store.remove_run_rows(tx.conn, run_id)
        stats = {**run["stats"], "undone_interactions": removed, "undone_people": gone}
        store.finish_run(tx.conn, run_id, "undone", stats, app.clock())
    return ImportResult(run_id, "undone", stats)


def list_runs(app: App, viewer: Viewer | None) -> list[dict[str, Any]]:
    check_can_import(viewer)
    with app.db.read() as conn:
        return store.list_runs(conn)
