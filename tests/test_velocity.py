"""The information-velocity metrics on hand-built timelines, with exact expected values:
quantiles with censoring, questions, waits across time zones and daylight-saving changes,
coverage of the UTC day, and the reach of posts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pytest

from kith.analysis import velocity
from kith.analysis.velocity import FactDates, MemberHours, QuestionTimes, km_quantile
from kith.domain.models import WorkingHours

NINE_TO_FIVE = WorkingHours(time(9, 0), time(17, 0), frozenset(range(5)))
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def member(
    person_id: int, zone: str, *, since: datetime | None = None, joined: datetime = LONG_AGO
) -> MemberHours:
    return MemberHours(person_id, zone, NINE_TO_FIVE, joined, since)


def ask(
    topic_id: int, at: datetime, *, author: int = 99, reply: float | None = None, accept: float | None = None
) -> QuestionTimes:
    return QuestionTimes(
        topic_id,
        author,
        at,
        at + timedelta(seconds=reply) if reply is not None else None,
        at + timedelta(seconds=accept) if accept is not None else None,
    )


# --- Quantiles ---------------------------------------------------------------------------


def test_quantiles_without_censoring_are_the_inverted_empirical_cdf() -> None:
    times = [600, 1200, 1800, 2400]
    assert km_quantile(times, [], 0.5) == 1200  # F(1200) = 2/4
    assert km_quantile(times, [], 0.9) == 2400  # F(1800) = 3/4 < 0.9
    assert km_quantile(times, [], 0.25) == 600
    assert km_quantile([5], [], 0.5) == 5
    assert km_quantile(list(range(1, 11)), [], 0.9) == 9
    assert km_quantile(list(range(1, 11)), [], 0.5) == 5
    for q in (0.1, 0.5, 0.9):
        values = [3, 1, 4, 1, 5, 9, 2, 6]
        expected = np.quantile(values, q, method="inverted_cdf")
        assert km_quantile(values, [], q) == expected


def test_censored_items_stay_at_risk_and_an_unreached_quantile_is_none() -> None:
    # Events at 10 and 20; one item censored at 5 (drops out first), one at 100.
    # S(10) = 2/3 (3 at risk), S(20) = 2/3 * 1/2 = 1/3: F reaches 0.5 at 20, never 0.9.
    assert km_quantile([10, 20], [5, 100], 0.5) == 20
    assert km_quantile([10, 20], [5, 100], 0.9) is None
    # Dropping the open ones would say 10; counting them as answered at their age, 20 too,
    # but with three of four open the median is simply unknown.
    assert km_quantile([600], [60, 7200, 7200], 0.5) is None
    assert km_quantile([], [1, 2], 0.5) is None


# --- Questions ---------------------------------------------------------------------------


def test_four_questions_with_known_reply_times() -> None:
    first = utc(2026, 3, 2, 10)
    asked = [
        ask(1, first, reply=600, accept=3_600),
        ask(2, first + timedelta(hours=1), reply=1_200, accept=7_200),
        ask(3, first + timedelta(hours=2), reply=1_800),
        ask(4, first + timedelta(hours=3), reply=2_400),
    ]
    now = utc(2026, 3, 3, 12)
    summary = velocity.question_summary(asked, [], now)
    assert summary["asked"] == 4
    assert summary["first_reply"] == {"median_seconds": 1_200, "p90_seconds": 2_400, "done": 4, "open": 0}
    # Accepted: 3600 and 7200; two open, watched 24 h and 23 h. S(3600) = 3/4,
    # S(7200) = 3/4 * 2/3 = 1/2: the median is 7200; p90 is not reached.
    assert summary["accepted_answer"] == {"median_seconds": 7_200, "p90_seconds": None, "done": 2, "open": 2}
    # At least 24 h old: asked at 10:00, 11:00 and 12:00 the day before; all replied in time.
    assert summary["unanswered_24h"] == {"eligible": 3, "unanswered": 0, "share": 0.0}


def test_unanswered_after_24_hours_counts_late_and_missing_replies() -> None:
    now = utc(2026, 3, 5, 12)
    asked = [
        ask(1, utc(2026, 3, 3, 9), reply=25 * 3_600),  # replied, but after 25 h
        ask(2, utc(2026, 3, 3, 10), reply=3_600),
        ask(3, utc(2026, 3, 4, 10)),  # 26 h old, no reply
        ask(4, utc(2026, 3, 5, 9)),  # 3 h old: too young to judge
    ]
    summary = velocity.question_summary(asked, [], now)
    assert summary["unanswered_24h"] == {"eligible": 3, "unanswered": 2, "share": 0.6667}
    # First reply: events 3600 and 90000, censored 93600 and 10800.
    # S(3600) = 3/4; at 90000 two at risk (90000, 93600): S = 3/8, F = 5/8 >= 0.5.
    assert summary["first_reply"] == {"median_seconds": 90_000, "p90_seconds": None, "done": 2, "open": 2}


# --- Waits caused by time zones -------------------------------------------------------------


def test_a_question_asked_while_every_answerer_sleeps_waits_for_the_first_to_wake() -> None:
    answered = utc(2026, 2, 1)
    members = [
        member(1, "Europe/London", since=answered),
        member(2, "Asia/Singapore", since=answered),
        member(3, "America/New_York"),  # a member, never an answerer
        member(99, "Asia/Tokyo"),  # the asker
    ]
    evening = ask(1, utc(2026, 3, 2, 18))  # Monday: London closed, Singapore 02:00 Tuesday
    morning = ask(2, utc(2026, 3, 2, 10))  # London is at work
    waits = velocity.timezone_waits([evening, morning], members)
    # New York (13:00, working) does not count: not an answerer. Singapore opens at 09:00
    # local, 01:00 UTC: a wait of seven hours; London would take fifteen.
    assert [(w.topic_id, w.waited, w.wait_seconds) for w in waits] == [(1, True, 7 * 3_600), (2, False, 0)]
    summary = velocity.wait_summary(waits)
    assert summary == {
        "questions": 2,
        "waited": 1,
        "share": 0.5,
        "total_wait_seconds": 25_200,
        "median_wait_seconds": 25_200,
    }


def test_with_no_answerer_yet_every_member_counts_and_the_asker_never_does() -> None:
    members = [member(1, "Europe/London"), member(2, "America/New_York"), member(3, "Asia/Tokyo")]
    # 18:00 UTC on Monday 2 March: New York (EST) is at 13:00, at work.
    assert velocity.timezone_waits([ask(1, utc(2026, 3, 2, 18), author=3)], members)[0].waited is False
    # Asked by the New Yorker: London opens 09:00 UTC, Tokyo 00:00 UTC (09:00 JST): 6 h.
    wait = velocity.timezone_waits([ask(1, utc(2026, 3, 2, 18), author=2)], members)[0]
    assert (wait.waited, wait.wait_seconds) == (True, 6 * 3_600)
    # The only answerer is the asker: then the others count, as if there were none.
    members[1] = member(2, "America/New_York", since=LONG_AGO)
    wait = velocity.timezone_waits([ask(1, utc(2026, 3, 2, 18), author=2)], members)[0]
    assert (wait.waited, wait.wait_seconds) == (True, 6 * 3_600)
    # Only answers before the question make an answerer: the New Yorker answered first at 19:00.
    members[1] = member(2, "America/New_York", since=utc(2026, 3, 2, 19))
    wait = velocity.timezone_waits([ask(1, utc(2026, 3, 2, 18), author=1)], members)[0]
    assert (wait.waited, wait.wait_seconds) == (False, 0)  # everyone counts; New York works
    # Members who joined after the question do not count; nobody left means no entry.
    late = [member(1, "Europe/London", joined=utc(2026, 3, 3))]
    assert velocity.timezone_waits([ask(1, utc(2026, 3, 2, 18), author=2)], late) == []
    assert velocity.timezone_waits([ask(1, utc(2026, 3, 2, 18), author=1)], late[:1]) == []


def test_waits_follow_daylight_saving_in_the_answerers_zone() -> None:
    london = [member(1, "Europe/London", since=LONG_AGO)]
    questions = [
        ask(1, utc(2026, 3, 27, 8, 30)),  # Friday, GMT: 08:30 local
        ask(2, utc(2026, 3, 30, 8, 30)),  # Monday, BST: 09:30 local, at work
        ask(3, utc(2026, 3, 30, 7, 30)),  # Monday, BST: 08:30 local
        ask(4, utc(2026, 3, 28, 12)),  # Saturday: until Monday 09:00 BST = 08:00 UTC
    ]
    waits = {w.topic_id: (w.waited, w.wait_seconds) for w in velocity.timezone_waits(questions, london)}
    assert waits == {
        1: (True, 1_800),
        2: (False, 0),
        3: (True, 1_800),
        # 44 h, not the 45 h a fixed offset would give: the clocks went forward on Sunday.
        4: (True, 44 * 3_600),
    }


def test_waits_in_october_when_london_has_changed_and_new_york_not_yet() -> None:
    new_york = [member(1, "America/New_York", since=LONG_AGO)]
    # Monday 26 October 2026: New York still on EDT (until 1 November): opens 13:00 UTC.
    # Monday 2 November: EST, opens 14:00 UTC.
    questions = [ask(1, utc(2026, 10, 26, 12)), ask(2, utc(2026, 11, 2, 12))]
    waits = [w.wait_seconds for w in velocity.timezone_waits(questions, new_york)]
    assert waits == [3_600, 7_200]


# --- Coverage ----------------------------------------------------------------------------


FRIDAY, SATURDAY, MONDAY = date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 30)


def hours(counts: list[int], value: int) -> list[int]:
    return [h for h, c in enumerate(counts) if c == value]


def test_coverage_shifts_with_daylight_saving() -> None:
    members = [member(1, "Europe/London"), member(2, "America/New_York")]
    friday, saturday, monday = velocity.coverage(members, [FRIDAY, SATURDAY, MONDAY])
    # Friday: London on GMT (9..16 UTC), New York already on EDT (13..20 UTC).
    assert hours(friday, 1) == [9, 10, 11, 12, 17, 18, 19, 20]
    assert hours(friday, 2) == [13, 14, 15, 16]
    assert saturday == [0] * 24
    # Monday: London on BST (8..15 UTC).
    assert hours(monday, 1) == [8, 9, 10, 11, 12, 16, 17, 18, 19, 20]
    assert hours(monday, 2) == [13, 14, 15]
    summary = velocity.coverage_summary([friday, saturday, monday], 2)
    assert summary["hours_with_k"] == round(7 / 3, 2)
    assert summary["by_hour"][13] == round(4 / 3, 2)
    assert summary["by_hour"][8] == round(1 / 3, 2)
    assert velocity.coverage_summary([friday, saturday, monday], 1)["hours_with_k"] == round(25 / 3, 2)


def test_coverage_in_october_between_the_two_changes() -> None:
    members = [member(1, "Europe/London"), member(2, "America/New_York")]
    before, between, after = velocity.coverage(
        members, [date(2026, 10, 23), date(2026, 10, 26), date(2026, 11, 2)]
    )
    assert hours(before, 2) == [13, 14, 15]  # BST 8..15, EDT 13..20
    assert hours(between, 2) == [13, 14, 15, 16]  # GMT 9..16, EDT 13..20
    assert hours(after, 2) == [14, 15, 16]  # GMT 9..16, EST 14..21


def test_coverage_counts_half_hour_zones_and_members_from_when_they_joined() -> None:
    india = member(1, "Asia/Kolkata")  # 09:00-17:00 IST = 03:30-11:30 UTC
    newcomer = member(2, "Europe/London", joined=utc(2026, 3, 27, 12))
    (friday,) = velocity.coverage([india, newcomer], [FRIDAY])
    assert hours(friday, 1) == [3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16]
    assert hours(friday, 2) == []
    assert velocity.coverage([], [FRIDAY]) == [[0] * 24]


# --- Reach -------------------------------------------------------------------------------


T = velocity.epoch(utc(2026, 3, 2, 10))
DAY = 86_400


def reach(
    posts: list[tuple[int, int, list[tuple[int, int]]]], joined: dict[int, int], now: int
) -> dict[date, dict[str, Any]]:
    """Posts as (created, author, [(person, delay)...]) into :func:`velocity.reach_by_day`."""
    return velocity.reach_by_day(
        np.array([p[0] for p in posts], dtype=np.int64),
        np.array([p[1] for p in posts], dtype=np.int64),
        np.array([i for i, p in enumerate(posts) for _ in p[2]], dtype=np.int64),
        np.array([who for p in posts for who, _ in p[2]], dtype=np.int64),
        np.array([delay for p in posts for _, delay in p[2]], dtype=np.int64),
        np.array(list(joined), dtype=np.int64),
        np.array(list(joined.values()), dtype=np.int64),
        now,
    )


def test_reach_counts_the_audience_at_posting_time_and_the_seven_day_horizon() -> None:
    joined = {1: T - DAY, 2: T - DAY, 3: T - DAY, 4: T - DAY, 5: T - DAY, 6: T + 12 * 3_600}
    post_a = (T, 1, [(2, 60), (3, 600), (4, 4_000), (6, 100), (7, 50)])  # 6 joined later, 7 no member
    post_b = (T + DAY, 2, [(1, 30), (3, 30), (4, 7_200), (5, 8 * DAY), (6, 90_000)])  # 5 saw it too late
    days = reach([post_a, post_b], joined, T + 10 * DAY)
    first, second = days[date(2026, 3, 2)], days[date(2026, 3, 3)]
    # Post A: audience 2, 3, 4, 5; seen at 60, 600 and 4000 s.
    assert velocity.reach_summary(first)["curve"] == [
        {"after": label, "seconds": g, "share": share, "posts": 1}
        for (label, g), share in zip(
            velocity.GRID, [0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75], strict=True
        )
    ]
    assert first["t50"] == {"reached": [600], "censored": []}
    assert first["t90"] == {"reached": [], "censored": [7 * DAY]}  # 4 of 4 needed, 3 came
    # Post B: audience 1, 3, 4, 5, 6 (6 joined before it); 5's sighting came after 8 days.
    shares_b = [share["share"] for share in velocity.reach_summary(second)["curve"]]
    assert shares_b == [0.4, 0.4, 0.4, 0.6, 0.6, 0.6, 0.6, 0.8, 0.8]
    assert second["t50"] == {"reached": [7_200], "censored": []}  # the 3rd of 5
    merged = velocity.reach_summary(velocity.merge_reach([first, second]))
    assert merged["posts"] == 2
    assert [c["share"] for c in merged["curve"]] == [
        0.325,
        0.45,
        0.45,
        0.675,
        0.675,
        0.675,
        0.675,
        0.775,
        0.775,
    ]
    assert merged["t50"] == {"median_seconds": 600, "reached": 2, "not_reached": 0}
    assert merged["t90"] == {"median_seconds": None, "reached": 0, "not_reached": 2}


def test_reach_of_young_posts_is_censored_at_their_age() -> None:
    joined = {1: T - DAY, 2: T - DAY, 3: T - DAY}
    now = T + 7_200
    young = (T, 1, [(2, 100)])  # two hours old; 1 of 2 saw it
    lonely = (T + 60, 9, [(1, 5)])  # 9 is no member: audience 1, 2, 3
    solo = {1: T - DAY}
    days = reach([young, lonely], joined, now)
    agg = days[date(2026, 3, 2)]
    assert agg["observed"] == [2, 2, 2, 1, 0, 0, 0, 0, 0]
    curve = velocity.reach_summary(agg)["curve"]
    assert [c["share"] for c in curve[:4]] == [round((0.5 + 1 / 3) / 2, 4)] * 3 + [0.5]
    assert [c["share"] for c in curve[4:]] == [None] * 5
    # T50: the young post's 1 of 2 came at 100 s; the other needs 2 of 3 and has 1.
    assert agg["t50"] == {"reached": [100], "censored": [7_140]}
    assert agg["t90"] == {"reached": [], "censored": [7_140, 7_200]}
    # A post whose author was the only member has no audience and is left out.
    assert reach([(T, 1, [])], solo, now) == {}


# --- Facts and corrections -----------------------------------------------------------------


def test_facts_overdue_on_a_day() -> None:
    facts = [
        FactDates(utc(2026, 1, 1), None, date(2026, 3, 1)),
        FactDates(utc(2026, 1, 1), utc(2026, 3, 3, 12), date(2026, 2, 1)),  # archived on the 3rd
        FactDates(utc(2026, 3, 4), None, date(2026, 3, 2)),  # created on the 4th
        FactDates(utc(2026, 1, 1), None, date(2026, 3, 5)),
    ]
    assert velocity.facts_overdue(facts, date(2026, 3, 1)) == 1  # review_by < day: only the 2nd
    assert velocity.facts_overdue(facts, date(2026, 3, 2)) == 2
    assert velocity.facts_overdue(facts, date(2026, 3, 3)) == 1
    assert velocity.facts_overdue(facts, date(2026, 3, 4)) == 2
    assert velocity.facts_overdue(facts, date(2026, 3, 6)) == 3


def test_correction_summary() -> None:
    at = utc(2026, 3, 2)
    found = velocity.correction_summary(
        [velocity.CorrectionReach(at, 3, 1), velocity.CorrectionReach(at, 1, 1)]
    )
    assert found == {"count": 2, "recipients": 4, "seen": 2, "seen_share": 0.5}
    assert velocity.correction_summary([])["seen_share"] is None


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_quantiles_match_numpy_on_random_samples(q: float) -> None:
    rng = np.random.default_rng(5)
    for size in (1, 2, 3, 7, 50):
        values = rng.integers(0, 10_000, size).tolist()
        assert km_quantile(values, [], q) == np.quantile(values, q, method="inverted_cdf")


def test_reach_with_large_person_ids_takes_the_binary_search() -> None:
    big = 50_000_000
    joined = {big + i: T - DAY for i in range(1, 6)}
    post = (T, big + 1, [(big + 2, 60), (big + 3, 600), (7, 30), (big + 9, 10)])
    (agg,) = reach([post], joined, T + 10 * DAY).values()
    assert agg["share_sum"][0] == 0.25  # of 4, only big + 2 within 5 minutes; 7 and big + 9 are no members
    assert agg["t50"] == {"reached": [600], "censored": []}
