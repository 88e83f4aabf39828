"""Facts (knowledge cards): writing, editing, reviewing, archiving, listing, seeing.

A fact belongs to a space and is readable by whoever may read the space (a private
space's facts do not exist for non-members). Members write facts; the fact's owner, the
space's owners and administrators edit, review and archive them. Every change is a new
version, kept in ``fact_versions`` with its editor, time and note (the first version
included), so the history is complete. A change of content (title, text, source link) is
a correction: exactly the people who saw an earlier version are told
(:func:`kith.actions.corrections.correct_fact`).

A person has *seen* a version when it was on their screen (``POST /facts/seen``), when
they fetched the fact (``GET /facts/{id}``), or when they wrote it.

Time: ``today`` is the UTC date of the App's clock. A fact is overdue when its review-by
date is before today; :func:`flag_overdue` (a periodic job) tells each owner once per
review-by date.

Published events (the space's audience, the fact's view as payload): ``fact.created``,
``fact.updated`` (edits and reviews), ``fact.archived``; with a correction,
``correction.created``; and the personal ``notification.created`` of those told live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from kith.actions import corrections
from kith.actions.access import access_readable_space
from kith.actions.events import emit
from kith.actions.notify import Notice, notify
from kith.app import App
from kith.domain import cursors, markup, validate, views
from kith.domain import facts as rules
from kith.domain.errors import Forbidden, NotFound, invalid
from kith.domain.models import Fact, FactVersion, Membership, Page, Space, Viewer
from kith.storage import facts as store
from kith.storage import spaces
from kith.storage.database import Tx

MAX_SEEN_PER_REPORT = 500
MAX_DUE_WITHIN_DAYS = 3660
SORTS = ("review_by", "updated")
# Overdue facts flagged per pass of the job; the next pass does the rest.
FLAG_BATCH = 500


def today_of(app: App) -> date:
    return app.clock().astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class FactInput:
    """A fact as a person typed it; ``None`` means "not given" (unchanged, or the default)."""

    title: str | None = None
    body: str | None = None
    source_url: str | None = None
    review_by: str | date | None = None
    owner_id: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class _Clean:
    values: dict[str, Any]
    note: str


def _clean(data: FactInput, today: date, *, creating: bool) -> _Clean:
    """Check every given field (each error names its field); render the body."""
    values: dict[str, Any] = {}
    if data.title is not None or creating:
        values["title"] = validate.text("title", data.title or "", max_len=rules.TITLE_MAX)
    if data.body is not None or creating:
        source = validate.text("body", data.body or "", max_len=rules.BODY_MAX, multiline=True)
        values["source"] = source
        values["html"] = markup.render(source)
    if data.source_url is not None:
        values["source_url"] = rules.source_url("source_url", data.source_url)
    if data.review_by is not None:
        values["review_by"] = rules.review_date("review_by", data.review_by, today)
    elif creating:
        values["review_by"] = rules.default_review_by(today)
    if data.owner_id is not None:
        values["owner_id"] = data.owner_id
    note = validate.optional_text("note", data.note, max_len=rules.NOTE_MAX)
    return _Clean(values, note)


def access_fact(conn: Connection, viewer: Viewer, fact_id: int) -> tuple[Fact, Space, Membership | None]:
    """The fact, its space and the viewer's membership, if the viewer may read the space."""
    fact = store.get(conn, fact_id)
    if fact is None:
        raise NotFound(f"no fact with id {fact_id}")
    try:
        space, membership = access_readable_space(conn, viewer, fact.space_id)
    except NotFound:
        raise NotFound(f"no fact with id {fact_id}") from None
    return fact, space, membership


def _check_owner(conn: Connection, space_id: int, owner_id: int) -> None:
    if spaces.get_membership(conn, space_id, owner_id) is None:
        raise invalid("owner_id", "must be a member of the space")


def check_create_fact(
    app: App,
    viewer: Viewer,
    space_id: int,
    *,
    title: str,
    body: str,
    source_url: str = "",
    review_by: str | date | None = None,
    owner_id: int | None = None,
    note: str = "",
) -> Fact:
    """A member writes a fact in a space; they own it unless they name another member.

    Without ``review_by`` it is due for review :data:`~kith.domain.facts.DEFAULT_REVIEW_DAYS`
    days from today. Publishes ``fact.created``.
    """
    data = FactInput(title, body, source_url, review_by, owner_id, note)
    now = app.clock()
    today = today_of(app)
    clean = _clean(data, today, creating=True)
    with app.db.transaction() as tx:
        space, membership = access_readable_space(tx.conn, viewer, space_id)
        if not rules.can_create_fact(membership, space_archived=space.archived):
            raise Forbidden(
                "this space is archived" if space.archived else "join the space to write facts in it"
            )
        owner_id = clean.values.pop("owner_id", viewer.id)
        _check_owner(tx.conn, space_id, owner_id)
        fact = store.insert(
            tx.conn,
            {
                **clean.values,
                "space_id": space_id,
                "owner_id": owner_id,
                "version": 1,
                "created_by": viewer.id,
                "created_at": now,
                "updated_at": now,
            },
        )
        store.add_version(tx.conn, fact, editor_id=viewer.id, note=clean.note, at=now)
        store.record_seen(tx.conn, viewer.id, [(fact.id, fact.version)], now)
        emit(app, tx, "fact.created", space_id=space_id, actor_id=viewer.id, payload=views.fact(fact, today))
    return fact


def _changeable(tx: Tx, viewer: Viewer, fact_id: int) -> Fact:
    """The fact, if the viewer may change it now (an archived fact or space: no)."""
    fact, space, membership = access_fact(tx.conn, viewer, fact_id)
    if not rules.can_change_fact(viewer, membership, fact):
        raise Forbidden("only the fact's owner, the space's owners and administrators change it")
    if space.archived:
        raise Forbidden("this space is archived")
    if fact.archived:
        raise Forbidden("this fact is archived")
    return fact


def _new_version(app: App, tx: Tx, viewer: Viewer, fact: Fact, values: dict[str, Any], note: str) -> Fact:
    """Write ``values`` as the fact's next version, kept in its history; tell those who saw
    an earlier version if its content changed; publish ``fact.updated``."""
    now = app.clock()
    updated = store.update(tx.conn, fact.id, {**values, "version": fact.version + 1, "updated_at": now})
    store.add_version(tx.conn, updated, editor_id=viewer.id, note=note, at=now)
    emit(
        app,
        tx,
        "fact.updated",
        space_id=fact.space_id,
        actor_id=viewer.id,
        payload=views.fact(updated, today_of(app)),
    )
    corrections.correct_fact(app, tx, fact, updated, editor_id=viewer.id, note=note)
    store.record_seen(tx.conn, viewer.id, [(updated.id, updated.version)], now)
    return updated


def check_edit_fact(
    app: App,
    viewer: Viewer,
    fact_id: int,
    *,
    title: str | None = None,
    body: str | None = None,
    source_url: str | None = None,
    review_by: str | date | None = None,
    owner_id: int | None = None,
    note: str = "",
) -> Fact:
    """Change a fact's title, text, source link, owner or review-by date (with a note);
    ``None`` leaves a field as it is.

    Nothing given differs: nothing changes and no version is made. A changed title, text
    or source link is a correction (see :mod:`kith.actions.corrections`).
    """
    data = FactInput(title, body, source_url, review_by, owner_id, note)
    clean = _clean(data, today_of(app), creating=False)
    with app.db.transaction() as tx:
        fact = _changeable(tx, viewer, fact_id)
        values = {name: value for name, value in clean.values.items() if getattr(fact, name) != value}
        if "source" not in values:
            values.pop("html", None)
        if not values:
            return fact
        if "owner_id" in values:
            _check_owner(tx.conn, fact.space_id, values["owner_id"])
        return _new_version(app, tx, viewer, fact, values, clean.note)


def check_review_fact(app: App, viewer: Viewer, fact_id: int, review_by: str | date | None = None) -> Fact:
    """Mark a fact reviewed: it is due again on ``review_by`` (default
    :data:`~kith.domain.facts.DEFAULT_REVIEW_DAYS` days from today), a new version noted
    "reviewed"; it is no longer overdue. No correction: the content is unchanged."""
    today = today_of(app)
    due = (
        rules.review_date("review_by", review_by, today, after_today=True) if review_by is not None else None
    )
    with app.db.transaction() as tx:
        fact = _changeable(tx, viewer, fact_id)
        values = {"review_by": due or rules.default_review_by(today)}
        return _new_version(app, tx, viewer, fact, values, "reviewed")


def check_archive_fact(app: App, viewer: Viewer, fact_id: int) -> Fact:
    """Archive a fact: it leaves the lists (unless asked for) and is no longer reviewed.
    Archiving an archived fact changes nothing. Publishes ``fact.archived``."""
    with app.db.transaction() as tx:
        fact, space, membership = access_fact(tx.conn, viewer, fact_id)
        if not rules.can_change_fact(viewer, membership, fact):
            raise Forbidden("only the fact's owner, the space's owners and administrators archive it")
        if fact.archived:
            return fact
        if space.archived:
            raise Forbidden("this space is archived")
        archived = store.update(tx.conn, fact_id, {"archived_at": app.clock()})
        emit(
            app,
            tx,
            "fact.archived",
            space_id=fact.space_id,
            actor_id=viewer.id,
            payload=views.fact(archived, today_of(app)),
        )
    return archived


def get_fact(app: App, viewer: Viewer, fact_id: int) -> Fact:
    """A fact, for a reader of its space; fetching it counts as seeing its version."""
    with app.db.transaction() as tx:
        fact = access_fact(tx.conn, viewer, fact_id)[0]
        store.record_seen(tx.conn, viewer.id, [(fact.id, fact.version)], app.clock())
    return fact


def get_history(app: App, viewer: Viewer, fact_id: int) -> tuple[Fact, list[FactVersion]]:
    """A fact and every version of it, oldest first, the current one last."""
    with app.db.read() as conn:
        fact = access_fact(conn, viewer, fact_id)[0]
        return fact, store.versions(conn, fact_id)


def check_mark_seen(app: App, viewer: Viewer, fact_ids: list[int]) -> list[int]:
    """Record that the viewer saw these facts, as they are now, on screen; returns the ids
    whose newest version the viewer had not seen before.

    Facts the viewer may not read are ignored without saying which.
    """
    if len(fact_ids) > MAX_SEEN_PER_REPORT:
        raise invalid("fact_ids", f"at most {MAX_SEEN_PER_REPORT} per report")
    with app.db.transaction() as tx:
        found = store.readable_among(tx.conn, sorted(set(fact_ids)), spaces.readable_space_ids(viewer.id))
        return store.record_seen(tx.conn, viewer.id, found, app.clock())


@dataclass(frozen=True, slots=True)
class FactQuery:
    """What a fact list shows: filters, order and page. ``due_within`` days includes the
    facts already overdue (they are due); ``q`` looks for words in the title."""

    space_id: int | None = None
    owner_id: int | None = None
    overdue: bool | None = None
    due_within: int | None = None
    q: str | None = None
    include_archived: bool = False
    sort: str = "review_by"
    cursor: str | None = None
    limit: int = 50


def list_facts(app: App, viewer: Viewer, query: FactQuery) -> Page[Fact]:
    """Facts of the spaces the viewer may read (of one space with ``space_id``: a space
    they may not read answers NotFound)."""
    if query.sort not in SORTS:
        raise invalid("sort", "must be one of: review_by, updated")
    if query.due_within is not None and not 0 <= query.due_within <= MAX_DUE_WITHIN_DAYS:
        raise invalid("due_within", f"must be between 0 and {MAX_DUE_WITHIN_DAYS} days")
    today = today_of(app)
    text = validate.optional_text("q", query.q or "", max_len=200)
    after = _decode_cursor(query.cursor, query.sort) if query.cursor else None
    limit = max(1, min(query.limit, app.settings.page_size_max))
    where = store.FactFilter(
        space_id=query.space_id,
        owner_id=query.owner_id,
        overdue=query.overdue,
        due_by=today + timedelta(days=query.due_within) if query.due_within is not None else None,
        title_contains=text or None,
        include_archived=query.include_archived,
    )
    with app.db.read() as conn:
        if query.space_id is not None:
            access_readable_space(conn, viewer, query.space_id)
        found = store.list_facts(
            conn,
            where,
            today=today,
            readable=spaces.readable_space_ids(viewer.id),
            sort=query.sort,
            after=after,
            limit=limit + 1,
        )
    items = tuple(found[:limit])
    more = len(found) > limit and items
    return Page(items, _encode_cursor(items[-1], query.sort) if more else None)


def _encode_cursor(fact: Fact, sort: str) -> str:
    key = fact.updated_at.isoformat() if sort == "updated" else fact.review_by.isoformat()
    return cursors.encode([sort, key, fact.id])


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    kind, key, fact_id = cursors.decode(cursor, (str, str, int))
    try:
        if kind != sort:
            raise ValueError("another order")
        if sort == "review_by":
            return date.fromisoformat(key), fact_id
        at = datetime.fromisoformat(key)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at.astimezone(UTC), fact_id
    except (ValueError, OverflowError):
        raise invalid("cursor", "is not a cursor this list returned") from None


def flag_overdue(app: App) -> int:
    """Tell each owner of a live fact past its review-by date, once per review-by date
    (a review sets a new date, which may fall overdue and be told again). Facts of
    archived spaces are not flagged. Returns how many facts were flagged.

    A periodic job (:mod:`kith.actions.jobs`); safe to run late and in several processes:
    each pass claims its facts inside one write transaction.
    """
    today = today_of(app)
    with app.db.transaction() as tx:
        due = store.overdue_unflagged(tx.conn, today, limit=FLAG_BATCH)
        for fact in due:
            notify(
                app,
                tx,
                {fact.owner_id},
                Notice(
                    "fact_overdue",
                    space_id=fact.space_id,
                    fact_id=fact.id,
                    payload={
                        "fact_title": fact.title,
                        "review_by": fact.review_by.isoformat(),
                        "days_overdue": (today - fact.review_by).days,
                    },
                ),
            )
            store.mark_flagged(tx.conn, fact.id, fact.review_by)
    return len(due)


def overdue_count(conn: Connection, space_id: int, today: date) -> int:
    """Live facts of the space past their review-by date (for the space's metrics)."""
    return store.count_overdue(conn, space_id, today)
