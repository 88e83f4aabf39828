"""Information flow on a 10,000-person organisation with 2,000,000 contacts over 90 days,
beside the textbook vector clocks and a plain per-observer scan, measured in the same run.

Run from the repository root (about a minute on 2 busy cores)::

    .venv/bin/python bench/flow.py [--people 10000] [--contacts 2000000] [--days 90]
        [--communities 50] [--within 0.8] [--seed 7] [--baseline-contacts 20000]
        [--baseline-observers 3]

What it does:

1. generates an organisation (deterministic for a seed): ``--communities`` communities of
   Dirichlet-distributed sizes; each person's activity log-normal (sigma 1); messages with
   one recipient (nine in ten) or 2-8 recipients at the same second (one in ten), each
   recipient inside the sender's community with probability ``--within``, else anyone;
   times on weekdays five times as dense as weekends, around 13:00 UTC (sd 3 h), until
   exactly ``--contacts`` contacts; then ``graph.build`` (ties and contacts);
2. ours: ``information_flow`` with the generating communities, timed (wall and CPU), then
   run again under ``tracemalloc`` for its peak memory (numpy's arrays included);
3. baseline A, the textbook method (Kossinets, Kleinberg & Watts 2008): a vector clock per
   person, a float32 row of n latest-heard times, ``np.maximum`` of the sender's row into
   the receiver's at each contact, in time order: timed on the first
   ``--baseline-contacts`` contacts and extrapolated linearly to all of them; plus, at each
   observation, turning the n × n clocks into latency minutes counted per pair of
   communities (a ``np.bincount`` per observer community), timed on 1,000 rows and
   extrapolated to all rows of all observations. Still a floor: it takes the clocks at
   each observation time as free;
4. baseline B, the plain way: for one observation and ``--baseline-observers`` observers,
   a pure-Python backward scan over the 7-day look-back (the brute force of
   tests/test_flow.py), extrapolated to every observer at every observation.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from kith.analysis.flow import HORIZON, FlowReport, information_flow
from kith.analysis.graph import DAY, Network, build

T = TypeVar("T")
IntArray = npt.NDArray[np.int64]
START = 1_700_006_400.0  # 2023-11-15 00:00 UTC, a Wednesday
TARGET_SECONDS = 20.0
TARGET_MB = 1536.0


def organisation(
    people: int, contacts: int, days: int, communities: int, within: float, seed: int
) -> tuple[IntArray, Network]:
    """Each person's community, and the network of the generated contacts."""
    rng = np.random.default_rng(seed)
    sizes = np.maximum(1, np.round(rng.dirichlet(np.full(communities, 3.0)) * people)).astype(np.int64)
    community = rng.permutation(np.repeat(np.arange(communities), sizes)[:people])
    community = np.concatenate([community, rng.integers(0, communities, people - community.size)])
    members = np.argsort(community, kind="stable")
    first = np.searchsorted(community[members], np.arange(communities))
    count = np.bincount(community, minlength=communities)
    activity = rng.lognormal(0.0, 1.0, people)
    messages = int(contacts / 1.35)  # 1.45 recipients a message on average, some to oneself
    sender = rng.choice(people, messages, p=activity / activity.sum())
    fanout = np.where(rng.random(messages) < 0.1, rng.integers(2, 9, messages), 1)
    weight = np.roll(np.where(np.arange(days) % 7 < 5, 5.0, 1.0), 2)  # day 0 is a Wednesday
    day = rng.choice(days, messages, p=weight / weight.sum())
    hour = np.clip(rng.normal(13.0, 3.0, messages), 0.0, 23.99)
    src = np.repeat(sender, fanout)
    at = np.repeat(START + day * DAY + np.round(hour * 3600.0), fanout)
    home = community[src]
    peer = members[first[home] + (rng.random(src.size) * count[home]).astype(np.int64)]
    dst = np.where(rng.random(src.size) < within, peer, rng.integers(0, people, src.size))
    keep = np.flatnonzero(src != dst)[:contacts]
    if keep.size < contacts:
        raise SystemExit(f"generated only {keep.size:,} contacts; lower --within or raise the margin")
    net = build(src[keep], dst[keep], at[keep], np.ones(contacts), until=START + days * DAY)
    return community[net.person_ids], net


def timed(fn: Callable[[], T]) -> tuple[float, float, T]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def peak_megabytes(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def vector_clocks(net: Network, contacts: int) -> tuple[float, npt.NDArray[np.float32]]:
    """Seconds for the textbook vector clocks over the first ``contacts`` contacts, and
    the clocks (``clocks[v, u]``: the latest time v can have heard from u)."""
    clocks = np.full((net.n, net.n), -np.inf, dtype=np.float32)
    src, dst = net.src[:contacts].tolist(), net.dst[:contacts].tolist()
    at = (net.at[:contacts] - net.at[0]).astype(np.float32).tolist()
    started = time.perf_counter()
    for u, v, t in zip(src, dst, at, strict=True):
        row = clocks[v]
        np.maximum(row, clocks[u], out=row)
        row[u] = t
    return time.perf_counter() - started, clocks


def summarise(clocks: npt.NDArray[np.float32], membership: IntArray, observers: int) -> float:
    """Seconds to turn ``observers`` rows of the clocks at one observation into latency
    minutes counted by (source community, minute) for each observer community, as the
    figures need from each snapshot."""
    k = int(membership.max()) + 1
    span = int(HORIZON / 60) + 2  # minutes 1..10080, and "beyond"
    now = float(clocks.max()) + 60.0
    started = time.perf_counter()
    for community in range(k):
        rows = np.flatnonzero(membership[:observers] == community)
        if rows.size == 0:
            continue
        latency = np.ceil((now - clocks[rows]) / 60.0)
        minutes = np.where(latency < span - 1, latency, span - 1).astype(np.int64)
        np.bincount((membership[None, :] * span + minutes).ravel(), minlength=k * span)
    return time.perf_counter() - started


def backward_scan(net: Network, observers: int, until: float) -> float:
    """Seconds for the pure-Python scan of one observation for ``observers`` observers."""
    window = (net.at >= until - HORIZON) & (net.at < until)
    contacts = list(
        zip(net.src[window].tolist(), net.dst[window].tolist(), net.at[window].tolist(), strict=True)
    )
    contacts.reverse()
    started = time.perf_counter()
    for v in range(observers):
        latest: dict[int, float] = {}
        for x, y, at in contacts:
            if (y == v or latest.get(y, -math.inf) > at) and latest.get(x, -math.inf) < at:
                latest[x] = at
    return time.perf_counter() - started


def hours(value: float | None) -> str:
    return "beyond 7 days" if value is None else f"{value:.1f} h"


def describe(report: FlowReport) -> None:
    times = len(report.observation_times)
    print(f"  active {report.active:,}, observations {times}, bins of {report.resolution_minutes} min")
    largest = sorted(report.per_community.items(), key=lambda item: -item[1].pairs)[:3]
    for name, stats in [("overall", report.overall)] + [(f"community {c}", s) for c, s in largest]:
        print(
            f"  {name} ({stats.pairs:,} pairs): median {hours(stats.median_latency_hours)}, "
            f"p90 {hours(stats.p90_latency_hours)}, within 24 h {stats.reach_24h:.4f}, "
            f"within 7 days {stats.reach_7d:.4f}"
        )
    print(f"  {len(report.per_community)} communities, {len(report.between)} ordered pairs of communities")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--within", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-contacts", type=int, default=20_000)
    parser.add_argument("--baseline-observers", type=int, default=3)
    args = parser.parse_args()

    seconds, _, (membership, net) = timed(
        lambda: organisation(args.people, args.contacts, args.days, args.communities, args.within, args.seed)
    )
    print(
        f"organisation: {net.n:,} people, {net.src.size:,} contacts over {args.days} days, "
        f"{args.communities} communities ({args.within:.0%} of contacts inside), seed {args.seed}; "
        f"generated and built in {seconds:.1f} s"
    )
    groups = membership.tolist()
    wall, cpu, report = timed(lambda: information_flow(net, groups))
    peak = peak_megabytes(lambda: information_flow(net, groups))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ours: {wall:.1f} s ({cpu:.1f} s CPU), peak {peak:,.0f} MB of arrays (process RSS {rss:,.0f} MB)")
    describe(report)

    share = args.baseline_contacts / net.src.size
    seconds, clocks = vector_clocks(net, args.baseline_contacts)
    rows = 1_000
    snapshots = summarise(clocks, membership, rows) * net.n / rows * len(report.observation_times)
    del clocks
    updates = seconds / share
    size = net.n * net.n * 4 / 2**20
    print(
        f"baseline A, vector clocks (float32 rows, {size:,.0f} MB): {updates + snapshots:.0f} s = "
        f"{updates:.0f} s of updates (from {args.baseline_contacts:,} contacts) + {snapshots:.0f} s "
        f"to summarise {len(report.observation_times)} snapshots (from {rows} rows)"
    )
    clocks_total = updates + snapshots
    observers = args.baseline_observers
    plain = backward_scan(net, observers, report.observation_times[0])
    plain *= report.active / observers * len(report.observation_times)
    print(
        f"baseline B, per-observer scan in Python: {plain / 3600:.1f} h "
        f"(from {observers} observers at one observation)"
    )
    print(f"ratio: vector clocks / ours {clocks_total / wall:.0f}x, plain scan / ours {plain / wall:,.0f}x")
    verdict = "met" if wall <= TARGET_SECONDS and peak <= TARGET_MB else "NOT met"
    print(f"target: under {TARGET_SECONDS:.0f} s and {TARGET_MB:,.0f} MB: {verdict}")


if __name__ == "__main__":
    main()
