"""Information velocity: how fast questions are answered, how fast posts reach a space's
members, and where time zones make people wait. Pure functions over plain inputs (lists of
small records, numpy arrays); the definitions and formulas are in ``docs/metrics.md``.

Times are UTC. Durations are whole seconds. Every quantile is the *inverted empirical
CDF* (numpy's ``method="inverted_cdf"``, Hyndman and Fan's type 1): the smallest observed
value ``t`` with ``F(t) >= q``, so a median or p90 is always a time that actually happened.
Where some items have not reached the event yet (an open question, a post not yet seen by
half its members) they are *right-censored*, and ``F`` is the Kaplan-Meier estimate
(Kaplan and Meier, "Nonparametric estimation from incomplete observations", JASA 1958):
with nothing censored it is exactly the empirical CDF; with censoring it does not pretend
that the open ones were answered (which would bias the median down) nor drop them. A
quantile the estimate does not reach is ``None``: "more than this share still waits".

Example::

    >>> km_quantile([600, 1200, 1800, 2400], [], 0.5)
    1200
    >>> km_quantile([600, 1200, 1800, 2400], [], 0.9)
    2400
    >>> km_quantile([600], [60, 7200, 7200], 0.5) is None
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kith.domain.hours import work_periods
from kith.domain.models import WorkingHours

DAY = 86_400
# The reach curve's grid: seconds since posting.
GRID: tuple[tuple[str, int], ...] = (
    ("5m", 300),
    ("15m", 900),
    ("1h", 3_600),
    ("2h", 7_200),
    ("4h", 14_400),
    ("8h", 28_800),
    ("24h", 86_400),
    ("48h", 172_800),
    ("7d", 604_800),
)
# A post's reach is measured over its first seven days (the grid's last point): sightings
# later than that count for nothing, so a day's reach is final seven days after it ends.
HORIZON = GRID[-1][1]
UNANSWERED_AFTER = DAY
_EPSILON = 1e-9
# Sorting keys pack (post index, delay) into one int64: delays are below 2**33 s (272 years).
_SHIFT = 33

IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class MemberHours:
    """A member of the space: their hours, when they joined, and since when they answer.

    ``answering_since`` is the first time they replied to someone else's question in the
    space, or had an answer accepted there (None: never yet).
    """

    person_id: int
    timezone: str
    hours: WorkingHours
    joined_at: datetime
    answering_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class QuestionTimes:
    """A question (a topic with ``is_question``) and the two moments that answer it."""

    topic_id: int
    author_id: int
    asked_at: datetime
    first_reply_at: datetime | None
    accepted_at: datetime | None


@dataclass(frozen=True, slots=True)
class Wait:
    """Whether a question was asked while no answerer was within working hours, and how
    long until the first of them started work (0 when someone was working)."""

    topic_id: int
    asked_at: datetime
    waited: bool
    wait_seconds: int


@dataclass(frozen=True, slots=True)
class CorrectionReach:
    """One correction: when it was made, how many people it told, how many have seen it."""

    created_at: datetime
    recipients: int
    seen: int


@dataclass(frozen=True, slots=True)
class FactDates:
    """What decides whether a fact was overdue for review on a given day."""

    created_at: datetime
    archived_at: datetime | None
    review_by: date


def epoch(at: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC (``at`` must be aware)."""
    return math.floor(at.timestamp())


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- Quantiles ------------------------------------------------------------------------


def km_quantile(events: Sequence[float], censored: Sequence[float], q: float) -> int | None:
    """The ``q`` quantile of a time to an event, some observations right-censored.

    Parameters: ``events`` are the times of the items that reached the event; ``censored``
    the times each other item has been watched so far without reaching it; ``q`` in (0, 1].

    Returns the smallest event time ``t`` with ``1 - S(t) >= q``, ``S`` the Kaplan-Meier
    survival estimate; with nothing censored, the inverted empirical CDF. None when no
    event time gets there (too many still waiting, or no events at all). A censored time
    equal to an event time counts as still at risk at that time, the usual convention.
    """
    if not events:
        return None
    ev = np.sort(np.asarray(events, dtype=np.float64))
    ce = np.sort(np.asarray(censored, dtype=np.float64))
    times, deaths = np.unique(ev, return_counts=True)
    at_risk = (ev.size - np.searchsorted(ev, times, "left")) + (ce.size - np.searchsorted(ce, times, "left"))
    survival = np.cumprod(1.0 - deaths / at_risk)
    reached = np.nonzero(1.0 - survival >= q - _EPSILON)[0]
    return round(float(times[reached[0]])) if reached.size else None


# --- Questions --------------------------------------------------------------------------


def question_summary(
    questions: Sequence[QuestionTimes], waits: Sequence[Wait], now: datetime
) -> dict[str, Any]:
    """Time to first reply and to an accepted answer, unanswered after 24 h, and waits.

    ``waits`` are :func:`timezone_waits` for (some of) ``questions``; questions asked after
    ``now`` must not be given. Open questions are censored at their age ``now - asked_at``.
    """
    first = _time_to(questions, now, lambda q: q.first_reply_at)
    accepted = _time_to(questions, now, lambda q: q.accepted_at)
    eligible = [q for q in questions if (now - q.asked_at).total_seconds() >= UNANSWERED_AFTER]
    unanswered = sum(
        1
        for q in eligible
        if q.first_reply_at is None or (q.first_reply_at - q.asked_at).total_seconds() > UNANSWERED_AFTER
    )
    return {
        "asked": len(questions),
        "first_reply": first,
        "accepted_answer": accepted,
        "unanswered_24h": {
            "eligible": len(eligible),
            "unanswered": unanswered,
            "share": _share(unanswered, len(eligible)),
        },
        "timezone_waits": wait_summary(waits),
    }


def _time_to(questions: Sequence[QuestionTimes], now: datetime, moment: Any) -> dict[str, Any]:
    events: list[float] = []
    censored: list[float] = []
    for q in questions:
        at: datetime | None = moment(q)
        if at is not None:
            events.append(max(0.0, (at - q.asked_at).total_seconds()))
        else:
            censored.append(max(0.0, (now - q.asked_at).total_seconds()))
    return {
        "median_seconds": km_quantile(events, censored, 0.5),
        "p90_seconds": km_quantile(events, censored, 0.9),
        "done": len(events),
        "open": len(censored),
    }


def wait_summary(waits: Sequence[Wait]) -> dict[str, Any]:
    """Count, share, total and median of the waits caused by time zones."""
    waited = sorted(w.wait_seconds for w in waits if w.waited)
    return {
        "questions": len(waits),
        "waited": len(waited),
        "share": _share(len(waited), len(waits)),
        "total_wait_seconds": sum(waited),
        "median_wait_seconds": km_quantile(waited, [], 0.5),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _Periods:
    """The working periods of everyone with the same zone and hours, as epoch arrays."""

    def __init__(self, zone: str, hours: WorkingHours, start: datetime, end: datetime) -> None:
        found = work_periods(hours, zone, start, end)
        self.starts: IntArray = np.array([epoch(a) for a, _ in found], dtype=np.int64)
        self.ends: IntArray = np.array([epoch(b) for _, b in found], dtype=np.int64)

    def working(self, at: IntArray) -> NDArray[np.bool_]:
        i = np.searchsorted(self.starts, at, "right") - 1
        inside = i >= 0
        return inside & (at < self.ends[np.maximum(i, 0)]) if self.starts.size else np.zeros(at.shape, bool)

    def waits(self, at: IntArray) -> IntArray:
        """Seconds from each ``at`` until working: 0 while working; when no period follows
        (never, with two weeks of periods ahead), the largest int64."""
        i = np.searchsorted(self.starts, at, "right")
        nxt = self.starts[np.minimum(i, self.starts.size - 1)] - at if self.starts.size else at * 0
        later = np.where(i < self.starts.size, nxt, np.iinfo(np.int64).max)
        return np.where(self.working(at), 0, later)


def _profiles(
    members: Sequence[MemberHours], start: datetime, end: datetime
) -> tuple[list[_Periods], IntArray]:
    """Working periods per distinct (zone, hours), and each member's index into them."""
    keys: dict[tuple[str, WorkingHours], int] = {}
    index = np.empty(len(members), dtype=np.int64)
    for i, m in enumerate(members):
        index[i] = keys.setdefault((m.timezone, m.hours), len(keys))
    periods = [_Periods(zone, hours, start, end) for zone, hours in keys]
    return periods, index


def timezone_waits(questions: Sequence[QuestionTimes], members: Sequence[MemberHours]) -> list[Wait]:
    """For each question: was any *answerer* within working hours when it was asked?

    The answerers of a question are the members (joined by the time it was asked, the
    asker aside) whose ``answering_since`` is before it was asked; while there are none yet,
    every such member. A question nobody but the asker could answer is left out. When no
    answerer was working, the wait is the time until the first of them started work
    (:func:`kith.domain.hours.work_periods`, computed in each one's own zone, so daylight
    saving moves it as it moves their clock).

    Computed per group of members sharing a zone and hours, for all questions at once.
    """
    if not questions or not members:
        return []
    at = np.array([epoch(q.asked_at) for q in questions], dtype=np.int64)
    asker = np.array([q.author_id for q in questions], dtype=np.int64)
    lo = min(q.asked_at for q in questions) - timedelta(days=1)
    hi = max(q.asked_at for q in questions) + timedelta(days=16)
    periods, profile = _profiles(members, lo, hi)
    person = np.array([m.person_id for m in members], dtype=np.int64)
    joined = np.array([epoch(m.joined_at) for m in members], dtype=np.int64)
    never = np.iinfo(np.int64).max
    first = np.array([epoch(m.answering_since) if m.answering_since else -1 for m in members], dtype=np.int64)
    # An answerer from the second after their first answer (``answering_since < asked_at``).
    answers = np.where(first >= 0, np.maximum(first + 1, joined), never)
    answerers = np.zeros((len(periods), at.size), dtype=np.int64)
    present = np.zeros_like(answerers)
    wait = np.zeros_like(answerers)
    for p, span in enumerate(periods):
        mine = profile == p
        answerers[p] = _present(person[mine], answers[mine], at, asker)
        present[p] = _present(person[mine], joined[mine], at, asker)
        wait[p] = span.waits(at)
    any_answerer: NDArray[np.bool_] = np.asarray((answerers > 0).any(axis=0))
    chosen = np.where(any_answerer[None, :], answerers > 0, present > 0)
    shortest = np.where(chosen, wait, never).min(axis=0)
    anyone: list[bool] = np.asarray(chosen.any(axis=0)).tolist()
    return [
        Wait(q.topic_id, q.asked_at, bool(w > 0), int(w))
        for q, w, some in zip(questions, shortest, anyone, strict=True)
        if some
    ]


def _present(person: IntArray, since: IntArray, at: IntArray, asker: IntArray) -> IntArray:
    """How many of these people count at each time ``at`` (``since <= at``), the asker aside."""
    order = np.argsort(since)
    counted = np.searchsorted(since[order], at, "right")
    match = person[None, :] == asker[:, None]
    asker_counted = (match & (since[None, :] <= at[:, None])).any(axis=1)
    return np.asarray(counted - asker_counted, dtype=np.int64)


# --- Coverage ---------------------------------------------------------------------------


def coverage(members: Sequence[MemberHours], days: Sequence[date]) -> list[list[int]]:
    """For each day and each hour ``h`` of the UTC day (0..23): how many members were within
    working hours at ``h:30`` UTC (members who had joined by then).

    Sampling the middle of the hour counts a 09:00-17:00 person for the eight hours 9..16
    and a person starting at :30 (India) for the hour they start in. Each day is computed
    in each member's own zone, so a daylight-saving change shifts the UTC hours that day.
    """
    if not days:
        return []
    out = np.zeros((len(days), 24), dtype=np.int64)
    if not members:
        return out.tolist()
    samples = np.array(
        [[epoch(day_start(d)) + h * 3_600 + 1_800 for h in range(24)] for d in days], dtype=np.int64
    )
    lo = day_start(min(days))
    hi = day_start(max(days)) + timedelta(days=1)
    periods, profile = _profiles(members, lo, hi)
    joined = np.array([epoch(m.joined_at) for m in members], dtype=np.int64)
    for p, span in enumerate(periods):
        when = np.sort(joined[profile == p])
        present = np.searchsorted(when, samples, "right")
        out += span.working(samples) * present
    return out.tolist()


def coverage_summary(per_day: Sequence[Sequence[int]], k: int) -> dict[str, Any]:
    """Members within working hours per UTC hour (mean over the days) and the hours of the
    day with at least ``k`` of them (mean over the days of each day's count)."""
    if not per_day:
        return {"k": k, "by_hour": [0.0] * 24, "hours_with_k": 0.0, "days": 0}
    counts = np.asarray(per_day, dtype=np.float64)
    return {
        "k": k,
        "by_hour": [round(float(v), 2) for v in counts.mean(axis=0)],
        "hours_with_k": round(float((counts >= k).sum(axis=1).mean()), 2),
        "days": len(per_day),
    }


# --- Reach ------------------------------------------------------------------------------


def reach_by_day(
    post_created: IntArray,
    post_author: IntArray,
    seen_post: IntArray,
    seen_person: IntArray,
    seen_delay: IntArray,
    member_ids: IntArray,
    member_joined: IntArray,
    now: int,
) -> dict[date, dict[str, Any]]:
    """The reach of each UTC day's posts, as mergeable aggregates (:func:`merge_reach`).

    Parameters, times in epoch seconds: for ``n`` posts their ``post_created`` and
    ``post_author``; for each member sighting the index of its post (``seen_post``, into
    the posts' arrays), who (``seen_person``) and after how long (``seen_delay``,
    ``post_seen.member_seen_at`` minus the post's time), in any order; the space's members
    now (``member_ids``) and when each joined (``member_joined``); ``now``.

    A post's *audience* is the members who had joined by the time it was posted, its
    author aside; sightings by anyone else (who joined later, or has left) are ignored.
    For each grid point ``g`` a post counts once it is ``g`` old, with the share of its
    audience that saw it within ``g``. Its T50 (T90) is the delay of the sighting that
    brought the share to 50% (90%), within :data:`HORIZON`; one that has not got there is
    censored at its age (at most the horizon). Posts with no audience are left out.
    """
    n = post_created.size
    if not member_ids.size:
        return {}
    order = np.argsort(member_ids)
    ids, joined = member_ids[order], member_joined[order]
    slot = _positions(ids, post_author)
    author_counted = (slot >= 0) & (joined[slot] <= post_created)
    audience = np.searchsorted(np.sort(joined), post_created, "right") - author_counted
    post_of = seen_post
    where = _positions(ids, seen_person)
    valid = (
        (where >= 0)
        & (joined[where] <= post_created[post_of])
        & (seen_person != post_author[post_of])
        & (seen_delay <= HORIZON)
    )
    delay = np.clip(seen_delay[valid], 0, None)
    keys = np.sort((post_of[valid] << _SHIFT) | delay)
    first = np.searchsorted(keys, np.arange(n, dtype=np.int64) << _SHIFT, "left")
    age = np.clip(now - post_created, 0, None)
    grid = np.empty((n, len(GRID)), dtype=np.int64)
    for j, (_label, g) in enumerate(GRID):
        grid[:, j] = np.searchsorted(keys, (np.arange(n, dtype=np.int64) << _SHIFT) | g, "right") - first
    count = np.searchsorted(keys, (np.arange(n, dtype=np.int64) + 1) << _SHIFT, "left") - first
    t_values = [
        _kth(keys, first, count, (audience * pct + 99) // 100, np.minimum(age, HORIZON)) for pct in (50, 90)
    ]
    days = post_created // DAY
    out: dict[date, dict[str, Any]] = {}
    for d in np.unique(days[audience > 0]):
        sel = (days == d) & (audience > 0)
        out[date.fromordinal(date(1970, 1, 1).toordinal() + int(d))] = _reach_day(
            audience[sel], grid[sel], age[sel], [(t[0][sel], t[1][sel]) for t in t_values]
        )
    return out


def _positions(ids: IntArray, wanted: IntArray) -> IntArray:
    """The index of each of ``wanted`` in the sorted ``ids`` (not empty), -1 where absent:
    through a table indexed by id while ids are small, by binary search beyond."""
    top = max(int(ids[-1]), int(wanted.max(initial=0)))
    if ids[0] >= 0 and wanted.min(initial=0) >= 0 and top <= 10_000_000:
        table = np.full(top + 1, -1, dtype=np.int64)
        table[ids] = np.arange(ids.size, dtype=np.int64)
        return table[wanted]
    at = np.minimum(np.searchsorted(ids, wanted), ids.size - 1)
    return np.where(ids[at] == wanted, at, -1)


def _kth(
    keys: IntArray, first: IntArray, count: IntArray, k: IntArray, watched: IntArray
) -> tuple[IntArray, NDArray[np.bool_]]:
    """Per post, the ``k``-th smallest delay if there are ``k`` sightings (reached), else
    how long it has been watched (censored)."""
    reached = (k >= 1) & (count >= k)
    if not keys.size:
        return watched.astype(np.int64), reached
    at = np.where(reached, first + k - 1, 0)
    value = np.where(reached, keys[np.minimum(at, keys.size - 1)] & ((1 << _SHIFT) - 1), watched)
    return value.astype(np.int64), reached


def _reach_day(
    audience: IntArray,
    grid: IntArray,
    age: IntArray,
    t_values: list[tuple[IntArray, NDArray[np.bool_]]],
) -> dict[str, Any]:
    observed = age[:, None] >= np.array([g for _label, g in GRID], dtype=np.int64)[None, :]
    shares = grid / audience[:, None]
    aggregate: dict[str, Any] = {
        "posts": int(audience.size),
        "share_sum": [float(v) for v in np.where(observed, shares, 0.0).sum(axis=0)],
        "observed": [int(v) for v in observed.sum(axis=0)],
    }
    for name, (value, reached) in zip(("t50", "t90"), t_values, strict=True):
        aggregate[name] = {
            "reached": np.sort(value[reached]).tolist(),
            "censored": np.sort(value[~reached]).tolist(),
        }
    return aggregate


def empty_reach() -> dict[str, Any]:
    return {
        "posts": 0,
        "share_sum": [0.0] * len(GRID),
        "observed": [0] * len(GRID),
        "t50": {"reached": [], "censored": []},
        "t90": {"reached": [], "censored": []},
    }


def merge_reach(aggregates: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Several days' reach aggregates as one (sums and concatenations: exact)."""
    total = empty_reach()
    for part in aggregates:
        total["posts"] += part["posts"]
        total["share_sum"] = [a + b for a, b in zip(total["share_sum"], part["share_sum"], strict=True)]
        total["observed"] = [a + b for a, b in zip(total["observed"], part["observed"], strict=True)]
        for name in ("t50", "t90"):
            for kind in ("reached", "censored"):
                total[name][kind] = total[name][kind] + list(part[name][kind])
    return total


def reach_summary(aggregate: Mapping[str, Any]) -> dict[str, Any]:
    """The reach curve (mean share of the audience that saw a post, per grid point, over
    the posts at least that old) and the median over posts of T50 and T90."""
    curve = [
        {
            "after": label,
            "seconds": g,
            "share": round(aggregate["share_sum"][j] / aggregate["observed"][j], 4)
            if aggregate["observed"][j]
            else None,
            "posts": aggregate["observed"][j],
        }
        for j, (label, g) in enumerate(GRID)
    ]
    out: dict[str, Any] = {"posts": aggregate["posts"], "curve": curve}
    for name in ("t50", "t90"):
        part = aggregate[name]
        out[name] = {
            "median_seconds": km_quantile(part["reached"], part["censored"], 0.5),
            "reached": len(part["reached"]),
            "not_reached": len(part["censored"]),
        }
    return out


# --- Facts and corrections ---------------------------------------------------------------


def facts_overdue(facts: Sequence[FactDates], day: date) -> int:
    """Facts overdue for review on ``day``: existing at its end, not archived by then, with
    a review-by date before it (today's count is exactly ``review_by < today``)."""
    end = day_start(day) + timedelta(days=1)
    return sum(
        1
        for f in facts
        if f.created_at < end and (f.archived_at is None or f.archived_at >= end) and f.review_by < day
    )


def correction_summary(corrections: Sequence[CorrectionReach]) -> dict[str, Any]:
    """How many corrections, how many people they told, how many of those have seen them."""
    recipients = sum(c.recipients for c in corrections)
    seen = sum(c.seen for c in corrections)
    return {
        "count": len(corrections),
        "recipients": recipients,
        "seen": seen,
        "seen_share": _share(seen, recipients),
    }
