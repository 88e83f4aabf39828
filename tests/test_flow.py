"""Information flow: latency of each person's view of the others, reach within a day and a week.

Hand-made contact sequences with answers worked out by hand; random networks checked
against a brute-force scan written independently of the module (pure Python, one observer
at a time); the sampled computation against the exact one; and SNAP CollegeMsg, pinned and
checked against a plain earliest-arrival search from a subset of sources.
"""

from __future__ import annotations

import bisect
import math
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from kith.analysis.flow import HORIZON, SPACING, FlowStats, information_flow
from kith.analysis.graph import DAY, Network, build

HOUR = 3600.0
T0 = 1_000 * DAY  # a midnight
COLLEGEMSG = Path(__file__).resolve().parents[2] / "shared" / "data" / "collegemsg" / "CollegeMsg.txt"


def _net(contacts: Sequence[tuple[int, int, float]], people: Iterable[int] = ()) -> Network:
    src, dst, at = zip(*contacts, strict=True)
    return build(src, dst, at, [1.0] * len(contacts), until=float(max(at)) + DAY, people=people)


def _figures(stats: FlowStats) -> tuple[float | None, float | None, float, float]:
    return stats.median_latency_hours, stats.p90_latency_hours, stats.reach_24h, stats.reach_7d


def test_a_chain_forward_in_time_carries_news_and_latencies_are_exact() -> None:
    a, b, c = 1, 2, 3
    contacts = [
        (a, b, T0 + 9 * HOUR),
        (b, c, T0 + 10 * HOUR),
        (c, a, T0 + 11 * HOUR),
        (a, b, T0 + 11.5 * HOUR),
    ]
    report = information_flow(_net(contacts), [0, 0, 0], until=T0 + 12 * HOUR, min_members=2)
    # at 12:00: b's view of a is 0.5 h old, c's of a 3 h (a→b 9:00, b→c 10:00), c's of b 2 h,
    # a's of b 2 h (b→c 10:00, c→a 11:00), a's of c 1 h, b's of c 1 h (c→a 11:00, a→b 11:30)
    assert _figures(report.overall) == (1.0, 3.0, 1.0, 1.0)
    assert report.overall.pairs == 6
    assert report.per_community[0] == report.overall
    assert not report.sampled
    assert report.sources_used == report.active == 3
    assert report.observation_times == (T0 + 12 * HOUR,)
    assert report.resolution_minutes == 1
    assert report.overall.stderr == dict.fromkeys(report.overall.stderr, 0.0)


def test_news_does_not_travel_back_in_time_nor_within_one_second() -> None:
    a, b, c = 1, 2, 3
    until = T0 + 12 * HOUR
    forward = information_flow(_net([(a, b, T0 + 10 * HOUR), (b, c, T0 + 11 * HOUR)]), [0] * 3, until=until)
    # a→b then b→c: c hears from a (2 h) and b (1 h), b from a (2 h): 3 of 6 pairs
    assert _figures(forward.overall) == (2.0, None, 0.5, 0.5)
    backward = information_flow(_net([(b, c, T0 + 10 * HOUR), (a, b, T0 + 11 * HOUR)]), [0] * 3, until=until)
    assert backward.overall.reach_7d == pytest.approx(2 / 6)  # b→c came before a→b: c never hears a
    same_second = information_flow(
        _net([(a, b, T0 + 10 * HOUR), (b, c, T0 + 10 * HOUR)]), [0] * 3, until=until
    )
    assert same_second.overall.reach_7d == pytest.approx(2 / 6)
    assert same_second.overall.median_latency_hours is None  # fewer than half reached


def test_reach_within_a_day_a_week_and_the_horizon() -> None:
    a, b, c, d = 1, 2, 3, 4
    until = T0 + 20 * DAY
    contacts = [(d, a, until - 10 * DAY), (a, b, until - 3 * DAY), (c, d, until - 2 * HOUR)]
    report = information_flow(_net(contacts), [0] * 4, until=until)
    assert len(report.observation_times) == 1  # 10 days of window: one 7-day look-back
    assert report.overall.pairs == 12
    assert report.overall.reach_24h == pytest.approx(1 / 12)  # c→d
    assert report.overall.reach_7d == pytest.approx(2 / 12)  # and a→b; d→a is beyond 7 days


def test_a_latency_of_exactly_24_hours_counts_as_within_24_hours() -> None:
    until = T0 + 9 * DAY
    report = information_flow(_net([(1, 2, until - DAY), (3, 4, until - DAY - 60)]), [0] * 4, until=until)
    assert report.overall.reach_24h == pytest.approx(1 / 12)
    assert report.overall.reach_7d == pytest.approx(2 / 12)


def test_within_and_between_communities() -> None:
    a, b, c, d = 1, 2, 3, 4  # communities 10 = {a, b}, 20 = {c, d}
    contacts = [(a, b, T0 + 10 * HOUR), (b, c, T0 + 11 * HOUR), (c, d, T0 + 11.5 * HOUR)]
    report = information_flow(_net(contacts), [10, 10, 20, 20], until=T0 + 12 * HOUR, min_members=2)
    assert _figures(report.per_community[10]) == (2.0, None, 0.5, 0.5)  # a→b only
    assert _figures(report.per_community[20]) == (0.5, None, 0.5, 0.5)  # c→d only
    # a's news reaches c and d from 10:00 (2 h), b's from 11:00 (1 h)
    assert _figures(report.between[(10, 20)]) == (1.0, 2.0, 1.0, 1.0)
    assert _figures(report.between[(20, 10)]) == (None, None, 0.0, 0.0)
    assert report.between[(10, 20)].pairs == 4
    assert _figures(report.overall) == (2.0, None, 0.5, 0.5)


def test_inactive_people_and_small_communities() -> None:
    a, b, c, idle = 1, 2, 3, 4
    contacts = [(a, b, T0 + 10 * HOUR), (b, c, T0 + 11 * HOUR)]
    net = _net(contacts, people=[idle])
    assert net.n == 4
    report = information_flow(net, [7, 7, 8, 7], until=T0 + 12 * HOUR, min_members=2)
    assert report.active == 3  # the idle person is in no pair
    assert report.per_community[7].pairs == 2  # a and b; idle is not active
    assert set(report.per_community) == {7}  # community 8 has one active member
    assert report.between == {}  # ... so it has no between-community figures either
    assert report.overall.pairs == 6  # but c counts overall
    assert information_flow(net, [-1, -1, -1, -1], until=T0 + 12 * HOUR).per_community == {}


def test_observations_every_eight_days_are_pooled() -> None:
    a, b = 1, 2
    until = T0 + 20 * DAY
    contacts = [(a, b, until - HOUR), (a, b, until - SPACING - 2 * HOUR), (b, a, until - 16 * DAY)]
    report = information_flow(_net(contacts), [0, 0], until=until, since=until - 20 * DAY)
    assert report.observation_times == (until, until - SPACING)
    # observation 1: b's view of a 1 h old; observation 2: 2 h; a never hears b within 7 days
    assert _figures(report.overall) == (2.0, None, 0.5, 0.5)
    assert report.overall.pairs == 2


def test_bad_input_is_refused_and_an_empty_window_is_empty() -> None:
    net = _net([(1, 2, T0)])
    with pytest.raises(ValueError, match="membership"):
        information_flow(net, [0])
    with pytest.raises(ValueError, match="sample_above"):
        information_flow(net, [0, 0], sample_above=1)
    empty = information_flow(net, [0, 0], until=T0 - DAY)
    assert empty.active == 0
    assert empty.overall.pairs == 0
    assert empty.per_community == {}


def test_many_communities_widen_the_latency_bins_but_not_the_reach() -> None:
    rng = random.Random(8)
    contacts = _random_contacts(rng, people=300, count=3_000, days=10)
    net = _net(contacts)
    many = information_flow(net, [p // 5 for p in net.person_ids.tolist()])  # 60 of 5
    one = information_flow(net, [0] * net.n)
    assert len(many.per_community) == 60
    assert (many.resolution_minutes, one.resolution_minutes) == (2, 1)  # 61² × 5,040 ≤ 2^25
    assert many.overall.reach_24h == one.overall.reach_24h
    assert many.overall.reach_7d == one.overall.reach_7d
    assert many.overall.median_latency_hours is not None
    assert one.overall.median_latency_hours is not None
    assert 0 <= many.overall.median_latency_hours - one.overall.median_latency_hours < 2 / 60


# --- an independent brute force: one observer at a time, backwards in time -------------


def _latencies(
    contacts: Sequence[tuple[int, int, float]], times: Sequence[float]
) -> dict[tuple[int, int], list[float]]:
    """Every latency λ_t(u, v) ≤ 7 days, by pair. For each observation t and observer v,
    walk the contacts backwards from t: ``latest[x]`` is the latest time x can send and
    still reach v before t; a contact x→y at τ extends it if y is v, or if y can still
    reach v leaving strictly after τ."""
    people = {p for x, y, _ in contacts for p in (x, y)}
    found: dict[tuple[int, int], list[float]] = defaultdict(list)
    backwards = sorted(contacts, key=lambda c: -c[2])
    for t in times:
        window = [(x, y, at) for x, y, at in backwards if t - HORIZON <= at < t]
        for v in people:
            latest: dict[int, float] = {}
            for x, y, at in window:
                if (y == v or latest.get(y, -math.inf) > at) and latest.get(x, -math.inf) < at:
                    latest[x] = at
            for x, at in latest.items():
                if x != v:
                    found[(x, v)].append(t - at)
    return found


def _expected(
    values: list[float], pairs: int, observations: int
) -> tuple[float | None, float | None, float, float]:
    """The figures from latencies, by their definitions (minutes, rounded up)."""
    total = pairs * observations
    minutes = sorted(math.ceil(v / 60 - 1e-9) for v in values)

    def quantile(share: float) -> float | None:
        needed = math.ceil(share * total - 1e-9)
        return minutes[needed - 1] / 60 if needed <= len(minutes) else None

    within_day = sum(1 for v in values if v <= DAY)
    return quantile(0.5), quantile(0.9), within_day / total, len(values) / total


def _random_contacts(
    rng: random.Random, people: int, count: int, days: float
) -> list[tuple[int, int, float]]:
    """Messages at whole minutes (so same-minute ties happen), a fifth of them to two to
    five people at once."""
    contacts = []
    for _ in range(count):
        recipients = rng.sample(range(people), rng.choice([2, 3, 4, 5, 6]) if rng.random() < 0.2 else 2)
        at = T0 + 60 * rng.randrange(int(days * 1440))
        contacts.extend((recipients[0], to, at) for to in recipients[1:])
    return contacts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_figure_matches_an_independent_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    contacts = _random_contacts(rng, people=14, count=160, days=rng.choice([3, 12, 25]))
    community = {p: rng.randrange(2) for p in range(14)}
    net = _net(contacts)
    until = max(at for _, _, at in contacts) + rng.choice([60, HOUR, DAY])
    since = min(at for _, _, at in contacts)
    report = information_flow(
        net, [community[int(p)] for p in net.person_ids], until=until, since=since, min_members=1
    )
    latencies = _latencies(contacts, report.observation_times)
    observations = len(report.observation_times)
    members: dict[int, int] = defaultdict(int)
    for p in net.person_ids.tolist():
        members[community[p]] += 1
    for a in members:
        for b in members:
            values = [
                v
                for (x, y), found in latencies.items()
                if (community[x], community[y]) == (a, b)
                for v in found
            ]
            pairs = members[a] * members[b] - (members[a] if a == b else 0)
            stats = report.per_community[a] if a == b else report.between[(a, b)]
            assert stats.pairs == pairs
            assert _figures(stats) == pytest.approx(_expected(values, pairs, observations))
    everything = [v for found in latencies.values() for v in found]
    assert _figures(report.overall) == pytest.approx(_expected(everything, net.n * (net.n - 1), observations))


def test_sampled_figures_agree_with_the_exact_ones_within_the_stated_error() -> None:
    rng = np.random.default_rng(11)
    people, count = 300, 30_000
    community = rng.integers(0, 3, people)
    src = rng.integers(0, people, count)
    inside = rng.random(count) < 0.8
    same = np.array([rng.choice(np.flatnonzero(community == community[s])) for s in src])
    dst = np.where(inside, same, rng.integers(0, people, count))
    at = T0 + rng.random(count) * 30 * DAY
    net = build(src, dst, at, np.ones(count), until=T0 + 31 * DAY)
    membership = community[net.person_ids].tolist()
    exact = information_flow(net, membership)
    sampled = information_flow(net, membership, sample_above=100, seed=4)
    assert sampled.sampled
    assert not exact.sampled
    assert sampled.sources_used == 100
    assert exact.sources_used == exact.active == net.n
    assert sampled.overall.pairs == 100 * (net.n - 1)
    compared = 0
    pairs = [(exact.overall, sampled.overall)]
    pairs += [(exact.per_community[c], sampled.per_community[c]) for c in (0, 1, 2)]
    pairs += [(exact.between[ab], sampled.between[ab]) for ab in ((0, 1), (2, 0))]
    for pair in pairs:
        for field, truth in zip(
            ("median_latency_hours", "p90_latency_hours", "reach_24h", "reach_7d"),
            _figures(pair[0]),
            strict=True,
        ):
            estimate, error = getattr(pair[1], field), pair[1].stderr[field]
            if truth is None or estimate is None or truth in (0.0, 1.0):
                continue
            assert error > 0
            assert abs(estimate - truth) <= 3 * error + 1 / 60, (field, estimate, truth, error)
            compared += 1
    assert compared >= 12


# --- SNAP CollegeMsg -------------------------------------------------------------------


@cache
def _college() -> tuple[Network, list[tuple[int, int, float]]]:
    """Read ../shared/data/collegemsg; skip when absent (fail under CI=true)."""
    if not COLLEGEMSG.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but SNAP CollegeMsg is missing at {COLLEGEMSG}")
        pytest.skip(f"SNAP CollegeMsg not found at {COLLEGEMSG} (../shared/data)")
    rows = np.loadtxt(COLLEGEMSG, dtype=np.int64)
    net = build(rows[:, 0], rows[:, 1], rows[:, 2], np.ones(len(rows)), until=float(rows[:, 2].max()) + 1)
    contacts = list(zip(net.src.tolist(), net.dst.tolist(), net.at.tolist(), strict=True))
    return net, contacts


def test_collegemsg_whole_network() -> None:
    net, _ = _college()
    report = information_flow(net, [0] * net.n)
    assert report.active == 1_899
    assert len(report.observation_times) == 24  # 193 days: every 8 days, each looking back 7
    observed = report.overall.pairs * 24
    assert report.overall.pairs == 1_899 * 1_898
    # Sparse: people are active for a few weeks of the half-year, so within 7 days one
    # person's news reaches about 1 % of the others, within 24 hours 0.04 %.
    assert round(report.overall.reach_7d * observed) == 848_794
    assert round(report.overall.reach_24h * observed) == 33_076
    assert report.overall.median_latency_hours is None


def _reached(
    contacts: Sequence[tuple[int, int, float]], times: list[float], source: int, start: float, end: float
) -> int:
    """Plain earliest-arrival search: how many people hear what ``source`` knew at ``start``
    before ``end`` (contacts in time order; a hop leaves strictly after the one before)."""
    heard = {source: start - 1.0}
    for x, y, at in contacts[bisect.bisect_left(times, start) : bisect.bisect_left(times, end)]:
        if x in heard and heard[x] < at and y not in heard:
            heard[y] = at
    return len(heard) - 1


def test_collegemsg_reach_matches_an_earliest_arrival_search_from_sampled_sources() -> None:
    net, contacts = _college()
    sources = random.Random(3).sample(range(net.n), 25)
    membership = [0] * net.n
    for s in sources:
        membership[s] = 1
    report = information_flow(net, membership)
    times = [at for _, _, at in contacts]
    observations = report.observation_times
    for within, field in ((DAY, "reach_24h"), (7 * DAY, "reach_7d")):
        expected = sum(_reached(contacts, times, s, t - within, t) for s in sources for t in observations)
        found = sum(
            getattr(stats, field) * stats.pairs * len(observations)
            for stats in (report.per_community[1], report.between[(1, 0)])
        )
        assert round(found) == expected
    assert expected > 0
