"""Peak fan-out: the most deliveries per second Kith sustains, beside the bare-websockets floor.

Usage::

    .venv/bin/python bench/fanout_peak.py [--readers 100] [--step 4] [--rates 100,200,...]
        [--within 1.0] [--two-processes] [--postgres URL]

The readers (``--readers`` members of one space, each with a WebSocket stream, in the
client processes of ``bench/fanout.py``) connect once. The writer then posts in steps of
rising rate, open loop (``bench/fanout.py``'s writer: each post sent at its scheduled time
whatever the answers do), ``--step`` seconds each. A step is **sustained** when every post
of it has reached every reader no later than ``--within`` seconds after the step's last
scheduled post; its deliveries per second are its posts times the readers over its length.
The ramp stops at the first step not sustained. The peak is the best sustained step.

The same ramp, in the same run, goes through the floor of ``bench/fanout.py``: a bare
``websockets`` server whose ``broadcast()`` sends every message its writer sends to every
reader, the messages being real Kith frames. Both servers share the 2-core machine with
their clients, as in ``bench/fanout.py``; so the peak is the whole machine's, client
processes included, and the server's CPU per delivery at the peak is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import fanout
from fanout import (
    CLEANUP,
    STREAM_PATH,
    Bench,
    Fixture,
    ReaderPool,
    Running,
    bench_process,
    floor_server,
    floor_writer,
    fresh_postgres,
    kith_servers,
    kith_writer,
    prepare,
    redis_answers,
    run_async,
    split,
    vacuum_analyze,
)


@dataclass
class Step:
    rate: float
    posts: int
    seconds: float  # from the step's first scheduled post to its last
    drained: float  # from the step's last scheduled post until every reader had every post
    server_cpu: float
    errors: int

    def sustained(self, within: float) -> bool:
        return self.errors == 0 and self.drained <= within

    def deliveries_per_second(self, readers: int) -> float:
        return self.posts * readers / max(self.seconds, 1e-9)


@dataclass
class Ramp:
    label: str
    readers: int
    steps: list[Step] = field(default_factory=list)
    duplicates: int = 0
    closed_early: int = 0
    reader_cpu: float = 0.0  # the reader processes' CPU per delivery, over the whole ramp

    def peak(self, within: float) -> Step | None:
        sustained = [s for s in self.steps if s.sustained(within)]
        return max(sustained, key=lambda s: s.deliveries_per_second(self.readers), default=None)


Send = Callable[[float, int, int], Awaitable[fanout.Sent]]  # (rate, count, first) -> Sent


async def ramp(
    args: argparse.Namespace,
    pool: ReaderPool,
    label: str,
    servers: list[Running],
    tokens: list[str],
    send: Send,
) -> Ramp:
    urls = [
        "ws" + servers[k % len(servers)].base.removeprefix("http") + STREAM_PATH for k in range(len(tokens))
    ]
    processes = max(args.reader_processes, len(servers))
    readers = pool.start(split(urls, tokens, processes), compression=False)
    connected, failed, failure = await readers.ready()
    if failed:
        raise SystemExit(f"{label}: {failed} of {len(tokens)} streams failed to open: {failure}")
    result = Ramp(label, connected)
    await send(args.rates[0], int(args.rates[0]), -1)  # warm-up, unmarked: a second of the first rate
    await asyncio.sleep(1.0)
    first, expected = 0, 0
    for rate in args.rates:
        count = max(1, int(rate * args.step))
        cpu = sum(s.cpu_seconds() for s in servers)
        started = time.monotonic()
        sent = await send(rate, count, first)
        last_scheduled = started + 0.1 + (count - 1) / rate  # the writers start 0.1 s after the call
        expected += sent.posts * connected
        await readers.wait_for(expected, args.within + args.grace)
        done = time.monotonic()
        arrived = await readers.delivered()
        drained = done - last_scheduled if arrived >= expected else float("inf")
        step = Step(
            rate=rate,
            posts=sent.posts,
            seconds=count / rate,
            drained=max(0.0, drained),
            server_cpu=sum(s.cpu_seconds() for s in servers) - cpu,
            errors=sent.errors,
        )
        result.steps.append(step)
        print(
            f"  {label}: {rate:g} posts/s: {step.deliveries_per_second(connected):,.0f} deliveries/s "
            f"offered, all in {step.drained:.2f} s after the last post"
            + ("" if step.sustained(args.within) else " (not sustained)"),
            flush=True,
        )
        first += count
        if not step.sustained(args.within):
            if arrived < expected:  # the backlog would spill into the next ramp
                await readers.wait_for(expected, 60.0)
            break
        await asyncio.sleep(1.0)
    reports = await readers.finish()
    result.duplicates = sum(r.duplicates for r in reports)
    result.closed_early = sum(r.closed_early for r in reports)
    result.reader_cpu = sum(r.cpu for r in reports) / max(sum(r.deliveries for r in reports), 1)
    return result


def kith_ramp(
    args: argparse.Namespace, pool: ReaderPool, bench: Bench, fixture: Fixture, processes: int
) -> Ramp:
    env = {"KITH_HUB_BACKEND": "redis" if processes > 1 else "memory", "KITH_REDIS_URL": args.redis}
    label = f"Kith, {processes} process{'es' if processes > 1 else ''}, {fixture.engine}"
    label += " via Redis" if processes > 1 else ""
    if fixture.engine == "PostgreSQL":
        vacuum_analyze(fixture.database_url)
    with kith_servers(fixture.database_url, bench.directory, processes, **env) as servers:
        base, topic_id, token = servers[0].base, fixture.topic_id, fixture.writer_token

        async def send(rate: float, count: int, first: int) -> fanout.Sent:
            marked = first >= 0
            return await kith_writer(base, topic_id, token, rate, count, marked=marked, first=max(first, 0))

        result = run_async(ramp(args, pool, label, servers, fixture.reader_tokens, send))
        for server in servers:
            for line in server.errors():
                print(f"  {label}: server error: {line}")
    return result


def floor_ramp(args: argparse.Namespace, pool: ReaderPool, bench: Bench, sample: str) -> Ramp:
    tokens = [f"floor-{i}" for i in range(args.readers)]
    with floor_server(bench.directory) as server:

        async def send(rate: float, count: int, first: int) -> fanout.Sent:
            marked = first >= 0
            return await floor_writer(server.base, sample, rate, count, marked=marked, first=max(first, 0))

        return run_async(ramp(args, pool, "floor: bare websockets", [server], tokens, send))


def sample_frame(args: argparse.Namespace, pool: ReaderPool, bench: Bench, fixture: Fixture) -> str:
    """A real Kith frame, for the floor's writer: one post to the readers, as they receive it."""
    quick = {"rate": 20.0, "duration": 0.5, "warm": 0.1, "grace": 10.0}
    fanout_args = argparse.Namespace(**{**vars(args), **quick})
    run = fanout.kith_latency(Bench(fanout_args, pool, bench.directory), fixture)
    return next(r.sample for r in run.reports if r.sample)


def print_ramps(ramps: list[Ramp], args: argparse.Namespace) -> None:
    floor = next((r for r in ramps if r.label.startswith("floor")), None)
    floor_peak = floor.peak(args.within) if floor else None
    floor_rate = floor_peak.deliveries_per_second(floor.readers) if floor and floor_peak else 0.0
    print(
        f"\nPeak deliveries per second, {args.readers} readers, steps of {args.step:g} s "
        f"(sustained: every post at every reader within {args.within:g} s of the step's end)"
    )
    header = (
        f"{'what':<38} {'peak posts/s':>12} {'deliveries/s':>13} {'x floor':>8} {'CPU/delivery':>13} "
        f"{'first not sustained':>20}"
    )
    print(header)
    print("-" * len(header))
    for r in ramps:
        peak = r.peak(args.within)
        failed = next((s for s in r.steps if not s.sustained(args.within)), None)
        stop = f"{failed.rate:g}/s" if failed else "none (ramp ended)"
        if peak is None:
            print(f"{r.label:<38} {'-':>12} {'-':>13} {'-':>8} {'-':>13} {stop:>20}")
            continue
        rate = peak.deliveries_per_second(r.readers)
        ratio = f"{rate / floor_rate:.2f}" if floor_rate and r is not floor else "-"
        per_delivery = peak.server_cpu / max(peak.posts * r.readers, 1) * 1e6
        print(f"{r.label:<38} {peak.rate:>12g} {rate:>13,.0f} {ratio:>8} {per_delivery:>10.1f} us {stop:>20}")
    print("-" * len(header))
    print(
        "(CPU/delivery: the server's CPU in the peak step over its deliveries, the post itself included; "
        "the readers' CPU per delivery over the ramp, duplicates and streams closed early: "
        + "; ".join(
            f"{r.label}: {r.reader_cpu * 1e6:.1f} us, {r.duplicates}, {r.closed_early}" for r in ramps
        )
        + ")"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=100, help="connected readers")
    parser.add_argument("--step", type=float, default=4.0, help="seconds per step")
    parser.add_argument(
        "--rates",
        default="100,200,300,400,600,800,1200,1600,2400,3200",
        help="posts per second of the steps, rising",
    )
    parser.add_argument("--within", type=float, default=1.0, help="seconds after a step to drain it")
    parser.add_argument("--grace", type=float, default=10.0, help="more seconds to wait for a lagging step")
    parser.add_argument("--reader-processes", type=int, default=2, help="client processes for the readers")
    parser.add_argument("--two-processes", action="store_true", help="also two Kith processes via Redis")
    parser.add_argument("--postgres", default="", help="also one Kith process on PostgreSQL (a base URL)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for --two-processes")
    args = parser.parse_args()
    args.rates = [float(x) for x in args.rates.split(",")]
    args.compression = False
    fanout.ARGS_COMPRESSION[0] = False
    return args


def main() -> None:
    args = parse_args()
    bench_process()
    started = time.monotonic()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.readers} readers; "
        f"rates {', '.join(f'{r:g}' for r in args.rates)} posts/s, {args.step:g} s each; "
        "permessage-deflate off"
    )
    pool = ReaderPool(max(args.reader_processes, 2))
    CLEANUP.append(pool.kill)
    ramps: list[Ramp] = []
    try:
        with tempfile.TemporaryDirectory(prefix="kith-fanout-peak-") as tmp:
            bench = Bench(args, pool, Path(tmp))
            fixture = prepare(f"sqlite:///{bench.directory / 'kith.db'}", args.readers, 0)
            sample = sample_frame(args, pool, bench, fixture)
            ramps.append(floor_ramp(args, pool, bench, sample))
            ramps.append(kith_ramp(args, pool, bench, fixture, 1))
            if args.two_processes and redis_answers(args.redis):
                ramps.append(kith_ramp(args, pool, bench, fixture, 2))
            if args.postgres:
                with fresh_postgres(args.postgres) as url:
                    ramps.append(kith_ramp(args, pool, bench, prepare(url, args.readers, 0), 1))
    finally:
        pool.close()
    print_ramps(ramps, args)
    print(f"\n(whole run: {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
