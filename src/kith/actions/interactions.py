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
One import runs at a time, saving its progress to the run every second.
:func:`check_import` reads a source with its importer (:mod:`kith.importers`) and loads
what it yields; docs/importing.md describes the rules of each source.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from kith.actions.people import allocate_handle
from kith.app import App
from kith.domain.errors import Conflict, Forbidden, NotFound, invalid
from kith.domain.interactions import InteractionRecord
from kith.domain.models import Post, Topic, Viewer
from kith.domain.permissions import can_manage_people
from kith.importers import importer_for
from kith.importers.sources import ImportFailed as ImportFailed  # raised by importers, re-exported
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

# A running import records its progress at least this often while records flow; one that
# has recorded nothing for STALE_AFTER belongs to a process that stopped.
PROGRESS_SECONDS = 1.0
SHOW_SECONDS = 0.1
STALE_AFTER = timedelta(minutes=10)
IMPORT_KINDS = ("email", "slack", "edges")


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


def check_can_import(viewer: Viewer | None) -> None:
    if viewer is not None and not can_manage_people(viewer):
        raise Forbidden("only administrators import communication data")


def check_start_import(app: App, viewer: Viewer | None, kind: str, source: str) -> int:
    """Record a new import run (``running``) and return its id; :func:`load` or
    :func:`check_import` with ``run_id`` does the work.

    One import at a time: another still running is a :class:`Conflict`. A run that has
    recorded no progress for :data:`STALE_AFTER` was abandoned by a process that stopped:
    what it wrote is removed and it is marked failed.
    """
    check_can_import(viewer)
    if kind not in IMPORT_KINDS:
        raise invalid("kind", f"must be one of: {', '.join(IMPORT_KINDS)}")
    now = app.clock()
    with app.db.transaction() as tx:
        for run in store.running_runs(tx.conn):
            _refuse_if_alive(run, now)
            store.remove_run_rows(tx.conn, run["id"])
            store.finish_run(tx.conn, run["id"], "failed", run["stats"], now, "abandoned before it finished")
        return store.create_run(tx.conn, kind, source, now, viewer.id if viewer else None)


def check_may_start_import(app: App, viewer: Viewer | None) -> None:
    """Refuse early (before an upload is read) when an import may not start now."""
    check_can_import(viewer)
    now = app.clock()
    with app.db.read() as conn:
        for run in store.running_runs(conn):
            _refuse_if_alive(run, now)


def _refuse_if_alive(run: Mapping[str, Any], now: datetime) -> None:
    if now - _last_progress(run) < STALE_AFTER:
        raise Conflict(
            f"import run {run['id']} is still running; wait for it to finish "
            f"(a run with no progress for {_minutes(STALE_AFTER)} counts as abandoned)",
            {"run": "one import at a time"},
        )


def _last_progress(run: Mapping[str, Any]) -> datetime:
    started: datetime = run["started_at"]
    stamp = (run.get("stats") or {}).get("updated_at")
    try:
        return max(started, datetime.fromisoformat(stamp)) if isinstance(stamp, str) else started
    except ValueError:
        return started


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} minutes"


def check_import(
    app: App,
    viewer: Viewer | None,
    kind: str,
    paths: Sequence[Path],
    labels: Sequence[str] | None = None,
    *,
    run_id: int | None = None,
    broadcast: int | None = None,
    default_at: datetime | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportResult:
    """Import ``paths`` with the importer of ``kind`` as one run (see :func:`load`).

    ``labels`` name the paths in the run and in errors. ``broadcast`` (e-mail: recipients
    above which a message is a broadcast) and ``default_at`` (edge lists: the time of rows
    without one; default the file's modification time) tune the importer. Raises
    :class:`ImportFailed` naming the file when the source is corrupt or unreadable; the run
    is then failed and nothing of it is kept.
    """
    check_can_import(viewer)
    importer = importer_for(kind, paths, labels, broadcast=broadcast, default_at=default_at)
    return load(
        app,
        viewer,
        kind,
        importer.label,
        importer.records(),
        progress=ImportProgress(stats=importer.stats),
        names=importer.names,
        titles=importer.titles,
        run_id=run_id,
        on_progress=on_progress,
    )


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
    titles: Mapping[str, str] | None = None,
    run_id: int | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportResult:
    """Write ``records`` as one import run of ``kind`` (``email``, ``slack``, ``edges``).

    ``names`` and ``titles`` map addresses to display names (from X-From and the like) and
    job titles, used for people discovered on the way. ``run_id`` names a run made by
    :func:`check_start_import`; without it a run is started here. The run's stats are
    saved every second while it runs (progress for whoever watches it, and the sign that
    it is alive); ``on_progress`` is called ten times a second, ``on_chunk`` after each
    chunk written. An exception raised while reading ``records`` (an :class:`ImportFailed`
    names the file and place) removes everything the run wrote, marks it failed, and is
    raised again.
    """
    check_can_import(viewer)
    progress = progress or ImportProgress()
    if run_id is None:
        run_id = check_start_import(app, viewer, kind, source)
    with app.db.read() as conn:
        directory = _Directory.read(conn, app.settings.org_domains.split(","))
    pacer = _Pacer(app, run_id, progress, on_progress)
    try:
        chunk: list[InteractionRecord] = []
        for record in records:
            progress.records += 1
            chunk.append(record)
            if len(chunk) >= CHUNK:
                _write(app, run_id, chunk, directory, names or {}, titles or {}, progress)
                chunk = []
                if on_chunk is not None:
                    on_chunk(progress)
                pacer.tick()
            elif not progress.records & 255:
                pacer.tick()
        _write(app, run_id, chunk, directory, names or {}, titles or {}, progress)
        with app.db.transaction() as tx:
            new = store.count_for_run(tx.conn, run_id)
            stats = _stats(progress, new)
            if not store.update_running_stats(tx.conn, run_id, stats):
                raise _stopped(run_id)
            store.finish_run(tx.conn, run_id, "done", stats, app.clock())
    except BaseException as failure:
        with app.db.transaction() as tx:
            store.remove_run_rows(tx.conn, run_id)
            store.finish_run(tx.conn, run_id, "failed", _stats(progress, 0), app.clock(), str(failure))
        if isinstance(failure, ImportFailed):
            failure.run_id = run_id
        raise
    if on_chunk is not None:
        on_chunk(progress)
    if on_progress is not None:
        on_progress(progress)
    return ImportResult(run_id, "done", stats)


class _Pacer:
    """Shows progress often and saves it to the run every second, while records flow."""

    def __init__(
        self,
        app: App,
        run_id: int,
        progress: ImportProgress,
        on_progress: Callable[[ImportProgress], None] | None,
    ) -> None:
        self.app = app
        self.run_id = run_id
        self.progress = progress
        self.on_progress = on_progress
        self.shown = self.saved = time.monotonic()

    def tick(self) -> None:
        now = time.monotonic()
        if self.on_progress is not None and now - self.shown >= SHOW_SECONDS:
            self.shown = now
            self.on_progress(self.progress)
        if now - self.saved >= PROGRESS_SECONDS:
            self.saved = now
            stats = {
                **self.progress.stats,
                "records": self.progress.records,
                "interactions_written": self.progress.written,
                "updated_at": self.app.clock().isoformat(),
            }
            with self.app.db.transaction() as tx:
                if not store.update_running_stats(tx.conn, self.run_id, stats):
                    raise _stopped(self.run_id)


def _stopped(run_id: int) -> ImportFailed:
    return ImportFailed(
        f"import run {run_id}",
        "was stopped from elsewhere (undone, or taken for abandoned) before it finished",
    )


def _stats(progress: ImportProgress, new: int) -> dict[str, Any]:
    return {
        **progress.stats,
        "records": progress.records,
        "interactions_new": new,
        "interactions_already_known": max(progress.written - new, 0),
    }


@dataclass
class _Directory:
    """E-mail address → person id, every person id, and the organisation's own domains."""

    ids: dict[str, int]
    domains: frozenset[str]
    people: set[int]

    @classmethod
    def read(cls, conn: Connection, configured: Iterable[str]) -> _Directory:
        ids = people.email_ids(conn)
        domains = frozenset(d.strip().lower().lstrip("@") for d in configured if d.strip())
        if not domains:
            domains = frozenset(email.rpartition("@")[2] for email in ids if "@" in email)
        return cls(ids, domains, set(ids.values()))

    def internal(self, address: str) -> bool:
        return address.rpartition("@")[2] in self.domains

    def find(self, end: str) -> int | None:
        """The person an address (or, from edge lists, a person id as digits) names."""
        if end.isdigit():
            person = int(end)
            return person if person in self.people else None
        return self.ids.get(end)


def _write(
    app: App,
    run_id: int,
    chunk: list[InteractionRecord],
    directory: _Directory,
    names: Mapping[str, str],
    titles: Mapping[str, str],
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
                if a not in directory.ids and "@" in a and directory.internal(a)
            }
        )
        if unknown:
            _discover(tx.conn, unknown, directory, names, titles, run_id, now)
            progress.add("people_discovered", len(unknown))
        rows: list[tuple[Any, ...]] = []
        for r in chunk:
            source, target = directory.find(r.source), directory.find(r.target)
            if source is None or target is None:
                ids = r.source.isdigit() or r.target.isdigit()
                progress.add("ties_unknown_person" if ids else "ties_external")
                continue
            if source == target:
                progress.add("ties_to_self")
                continue
            rows.append(
                (source, target, r.kind, r.at, r.weight, r.origin, r.context[:300], run_id, dedupe_key(r))
            )
        store.insert_imported(tx.conn, rows)
        progress.written += len(rows)


def dedupe_key(r: InteractionRecord) -> str:
    """What makes an imported interaction the same one again (a mail in two folders)."""
    text = "\x1f".join(
        (r.origin, r.context, r.source, r.target, r.kind, f"{r.at.timestamp():.6f}", repr(r.weight))
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _discover(
    conn: Connection,
    addresses: list[str],
    directory: _Directory,
    names: Mapping[str, str],
    titles: Mapping[str, str],
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
                "title": titles.get(address, "")[:200],
                "active": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    people.bulk_insert(conn, rows)
    found = people.ids_by_emails(conn, addresses)
    directory.ids.update(found)
    directory.people.update(found.values())
    store.mark_discovered(conn, found.values(), run_id)


def undo(app: App, viewer: Viewer | None, run_id: int) -> ImportResult:
    """Remove everything an import run wrote; the run stays listed as ``undone``.

    A run still running is a :class:`Conflict` (unless abandoned, see
    :func:`check_start_import`); a run that failed or was undone already has nothing left
    and is returned as it is.
    """
    check_can_import(viewer)
    with app.db.transaction() as tx:
        run = store.get_run(tx.conn, run_id)
        if run is None:
            raise NotFound(f"no import run with id {run_id}")
        if run["status"] in ("failed", "undone"):
            return ImportResult(run_id, run["status"], run["stats"])
        if run["status"] == "running" and app.clock() - _last_progress(run) < STALE_AFTER:
            raise Conflict(f"import run {run_id} is still running; undo it once it has finished")
        removed, gone = store.remove_run_rows(tx.conn, run_id)
        stats = {**run["stats"], "undone_interactions": removed, "undone_people": gone}
        store.finish_run(tx.conn, run_id, "undone", stats, app.clock())
    return ImportResult(run_id, "undone", stats)


def list_runs(app: App, viewer: Viewer | None) -> list[dict[str, Any]]:
    check_can_import(viewer)
    with app.db.read() as conn:
        return store.list_runs(conn)


def get_run(app: App, viewer: Viewer | None, run_id: int) -> dict[str, Any]:
    check_can_import(viewer)
    with app.db.read() as conn:
        run = store.get_run(conn, run_id)
    if run is None:
        raise NotFound(f"no import run with id {run_id}")
    return run
