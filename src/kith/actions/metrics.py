"""Information-velocity metrics of a space, live, with a stored daily series.

``get_space_metrics`` answers for a window of UTC days (default: the last 28, today
included) with a summary of the whole window and one entry per day. Everything is read from
the database at the moment of asking: a post, a seen receipt or an accepted answer shows in
the next answer; nothing of today is cached.

The costly part is the reach of posts (every member sighting of every post). A day's reach
is final once its posts have been watched for the whole reach horizon (seven days after the
day ends, :data:`kith.analysis.velocity.HORIZON`): from then on it is read from
``space_metrics_daily``, computed once. Days younger than that are recomputed on every read,
since sightings of their posts still arrive. The rest (questions, waits, coverage, facts,
corrections) costs little and is computed live over the whole window on every read, so that
a question answered weeks later still counts for the day it was asked.

The job ``metrics.daily`` (:func:`do_store_daily_metrics`) writes yesterday's row for every
space, and rewrites rows written before their day was final. Reading also stores the final
days it had to compute. Nothing here publishes events: the rows are derived data, and the
facts they derive from were published when they changed.

Definitions and formulas: ``docs/metrics.md``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from kith.actions.access import access_readable_space
from kith.analysis import velocity
from kith.app import App
from kith.domain.errors import NotFound, invalid
from kith.domain.models import Viewer
from kith.storage import metrics as store
from kith.storage import spaces

DEFAULT_DAYS = 28
MAX_DAYS = 366
DEFAULT_K = 2
MAX_K = 10_000
# The version of a stored row's shape: a row of another version is computed again.
ROW_VERSION = 1
SETTLE = timedelta(days=1, seconds=velocity.HORIZON)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class SpaceMetrics:
    """A space's metrics over the UTC days ``first``..``last``: the window's summary and
    one entry per day (JSON-ready dicts, shaped as ``docs/metrics.md`` describes)."""

    space_id: int
    first: date
    last: date
    k: int
    computed_at: datetime
    summary: dict[str, Any]
    days: tuple[dict[str, Any], ...]


def get_space_metrics(
    app: App,
    viewer: Viewer,
    space_id: int,
    *,
    start: str | None = None,
    end: str | None = None,
    k: int = DEFAULT_K,
) -> SpaceMetrics:
    """The metrics of a space the viewer may read, over ``start``..``end`` (ISO dates).

    Stores the final days it had to compute; publishes nothing.
    """
    now = app.clock()
    first, last = window(start, end, now.date())
    _check_k(k)
    with app.db.read() as conn:
        access_readable_space(conn, viewer, space_id)
    return _metrics(app, space_id, first, last, k, now)


def report_space(
    app: App, slug: str, *, start: str | None = None, end: str | None = None, k: int = DEFAULT_K
) -> SpaceMetrics:
    """The metrics of any space, by slug, for the operator at the command line (who holds
    the database itself); the API checks the reader instead (:func:`get_space_metrics`)."""
    now = app.clock()
    first, last = window(start, end, now.date())
    _check_k(k)
    with app.db.read() as conn:
        space = spaces.get_by_slug(conn, slug.strip())
    if space is None:
        raise NotFound(f"no space {slug!r}")
    return _metrics(app, space.id, first, last, k, now)


def do_store_daily_metrics(app: App) -> int:
    """The ``metrics.daily`` job: for every space not archived, compute and store the rows of
    the last eight days that are missing (yesterday's, first of all), or were stored before
    their day was final. Returns how many rows it wrote."""
    now = app.clock()
    today = now.date()
    first, last = today - timedelta(days=SETTLE.days), today - timedelta(days=1)
    with app.db.read() as conn:
        space_ids = store.active_space_ids(conn)
    written = 0
    for space_id in space_ids:
        with app.db.read() as conn:
            stored = store.stored_days(conn, space_id, first, last)
        due = [d for d in _days(first, last) if d not in stored or _stale(stored[d], d, now)]
        if not due:
            continue
        with app.db.read() as conn:
            result = _compute(conn, space_id, due[0], due[-1], DEFAULT_K, now, fresh=set(due))
        with app.db.transaction() as tx:
            store.store_days(tx.conn, space_id, {d: result.rows[d] for d in due}, now)
        written += len(due)
    return written


def metrics_json(m: SpaceMetrics) -> dict[str, Any]:
    """The JSON shape of :class:`SpaceMetrics`, for the API and ``kith report --json``."""
    return {
        "space_id": m.space_id,
        "from": m.first.isoformat(),
        "to": m.last.isoformat(),
        "k": m.k,
        "computed_at": m.computed_at.isoformat(),
        "summary": m.summary,
        "days": list(m.days),
    }


def window(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """The window's first and last day from ISO dates: ``to`` defaults to today (a later day
    means today), ``from`` to 27 days before ``to``; at most 366 days."""
    last = min(_date("to", end), today) if end is not None else today
    first = _date("from", start) if start is not None else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise invalid("from", f"must not be after to ({last.isoformat()})")
    if (last - first).days + 1 > MAX_DAYS:
        raise invalid("from", f"the window is at most {MAX_DAYS} days")
    return first, last


def _date(field: str, text: str) -> date:
    cleaned = text.strip()
    try:
        if not _ISO_DATE.fullmatch(cleaned):
            raise ValueError(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        raise invalid(field, "must be a date as YYYY-MM-DD") from None


def _check_k(k: int) -> None:
    if not 1 <= k <= MAX_K:
        raise invalid("k", f"must be between 1 and {MAX_K}")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _settled(day: date, at: datetime) -> bool:
    """Whether ``day``'s reach is final at ``at``: its last post watched the whole horizon."""
    return at >= velocity.day_start(day) + SETTLE


def _stale(row: tuple[dict[str, Any], datetime], day: date, now: datetime) -> bool:
    """A stored row to compute again: of another shape, or written before its day was final
    while it is final now."""
    metrics, computed_at = row
    if metrics.get("v") != ROW_VERSION:
        return True
    return not _settled(day, computed_at) and _settled(day, now)


def _metrics(app: App, space_id: int, first: date, last: date, k: int, now: datetime) -> SpaceMetrics:
    with app.db.read() as conn:
        stored = store.stored_days(conn, space_id, first, last)
        fresh = {
            d
            for d in _days(first, last)
            if not _settled(d, now) or d not in stored or _stale(stored[d], d, now)
        }
        result = _compute(conn, space_id, first, last, k, now, fresh=fresh, stored=stored)
    final = {d: row for d, row in result.rows.items() if _settled(d, now)}
    if final:
        with app.db.transaction() as tx:
            store.store_days(tx.conn, space_id, final, now)
    return SpaceMetrics(space_id, first, last, k, now, result.summary, result.days)


@dataclass(frozen=True, slots=True)
class _Result:
    summary: dict[str, Any]
    days: tuple[dict[str, Any], ...]
    rows: dict[date, dict[str, Any]]  # the rows to store, for the days computed afresh


def _compute(
    conn: Connection,
    space_id: int,
    first: date,
    last: date,
    k: int,
    now: datetime,
    *,
    fresh: Collection[date],
    stored: dict[date, tuple[dict[str, Any], datetime]] | None = None,
) -> _Result:
    """Everything for the days ``first``..``last``; reach afresh for the ``fresh`` days and
    from ``stored`` rows for the others."""
    days = _days(first, last)
    start, end = velocity.day_start(first), velocity.day_start(last) + timedelta(days=1)
    questions = [velocity.QuestionTimes(*q) for q in store.questions(conn, space_id, start, end)]
    # Who answers matters only for the waits of questions; finding out reads every question.
    since = store.answering_since(conn, space_id) if questions else {}
    members = [
        velocity.MemberHours(m.person_id, m.timezone, m.hours, m.joined_at, since.get(m.person_id))
        for m in store.members(conn, space_id)
    ]
    waits = velocity.timezone_waits(questions, members)
    facts = [velocity.FactDates(*f) for f in store.space_facts(conn, space_id)]
    corrections = [velocity.CorrectionReach(*c) for c in store.correction_reach(conn, space_id, start, end)]
    reach = _reach(conn, space_id, members, sorted(fresh), now)
    for day in days:
        if day not in fresh and stored and day in stored:
            reach[day] = stored[day][0]["reach"]
    coverage = velocity.coverage(members, days)
    by_day_q = _by_day(questions, lambda q: q.asked_at)
    by_day_w = _by_day(waits, lambda w: w.asked_at)
    by_day_c = _by_day(corrections, lambda c: c.created_at)
    out_days: list[dict[str, Any]] = []
    rows: dict[date, dict[str, Any]] = {}
    for day, cover in zip(days, coverage, strict=True):
        entry = {
            "day": day.isoformat(),
            "questions": velocity.question_summary(by_day_q[day], by_day_w[day], now),
            "reach": velocity.reach_summary(reach.get(day, velocity.empty_reach())),
            "coverage": velocity.coverage_summary([cover], k),
            "facts": {"overdue": velocity.facts_overdue(facts, day)},
            "corrections": velocity.correction_summary(by_day_c[day]),
        }
        out_days.append(entry)
        if day in fresh:
            rows[day] = {"v": ROW_VERSION, "reach": reach.get(day, velocity.empty_reach()), "day": entry}
    summary = {
        "questions": velocity.question_summary(questions, waits, now),
        "reach": velocity.reach_summary(
            velocity.merge_reach(reach.get(d, velocity.empty_reach()) for d in days)
        ),
        "coverage": velocity.coverage_summary(coverage, k),
        "facts": {"overdue": velocity.facts_overdue(facts, last)},
        "corrections": velocity.correction_summary(corrections),
    }
    return _Result(summary, tuple(out_days), rows)


def _reach(
    conn: Connection,
    space_id: int,
    members: Sequence[velocity.MemberHours],
    fresh: Sequence[date],
    now: datetime,
) -> dict[date, dict[str, Any]]:
    """Reach aggregates of the ``fresh`` days, from one read of their posts' sightings."""
    if not fresh:
        return {}
    start, end = velocity.day_start(fresh[0]), velocity.day_start(fresh[-1]) + timedelta(days=1)
    sightings = store.post_sightings(conn, space_id, start, end)
    ids = [m.person_id for m in members]
    joined = [velocity.epoch(m.joined_at) for m in members]
    found = velocity.reach_by_day(
        *sightings,
        member_ids=np.array(ids, dtype=np.int64),
        member_joined=np.array(joined, dtype=np.int64),
        now=velocity.epoch(now),
    )
    wanted = set(fresh)
    return {d: agg for d, agg in found.items() if d in wanted}


def _by_day(items: Sequence[Any], at: Any) -> defaultdict[date, list[Any]]:
    grouped: defaultdict[date, list[Any]] = defaultdict(list)
    for item in items:
        grouped[at(item).date()].append(item)
    return grouped
