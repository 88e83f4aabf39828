"""Fan-out: how fast a post reaches 100 connected readers, and what idle connections cost.

Run from the repository root (``--quick``: 2 s runs and 300 idle connections, under a
minute on a quiet machine; the full run takes minutes, most of them opening the 5,000 Kith
streams)::

    .venv/bin/python bench/fanout.py [--quick] [--readers 100] [--rate 100] [--duration 30]
        [--idle 5000] [--postgres postgresql://postgres@127.0.0.1:5432/test]
        [--redis redis://127.0.0.1:6379/0] [--no-compression] [--help]

What it measures, in one run, each beside a floor measured by the same harness:

1. **Latency.** ``--readers`` members hold a WebSocket stream (``GET /api/v1/stream``,
   bearer token) to one ``kith serve`` process, split over ``--reader-processes`` client
   processes; a writer (another member, raw HTTP/1.1 as in ``post_throughput.py``) posts
   into their space at a steady ``--rate`` for ``--duration`` seconds, each post sent at its
   scheduled time whatever the answers do (open loop). Every post's body carries its
   sequence number and scheduled time (``CLOCK_MONOTONIC``, shared by the processes of one
   machine); each reader parses every frame as a client would (``json.loads``) and records,
   per post and per reader, arrival minus scheduled time. Runs: one process on SQLite, one
   process on PostgreSQL (not with ``--quick``), and two processes with
   ``KITH_HUB_BACKEND=redis`` (readers split over both, the writer posting to the first),
   on the same SQLite file and on PostgreSQL.
   Before the readers connect, ``--warm`` seconds of posts measure the server's CPU per
   post with nobody to deliver to; the difference with readers, per reader, is the CPU
   that one delivery costs.
2. **The floor.** A bare ``websockets`` server (uvloop, the library's ``broadcast()``) that
   sends every message a writer sends it over a WebSocket to every connected reader. The
   writer sends frames shaped and sized like Kith's (a real Kith frame with the marker
   swapped) at the same rate, to the same reader harness, so the floor includes the
   harness's own cost and the machine's noise.
3. **Idle connections.** ``--idle`` members (each their own person and token, all members
   of one space) open a stream each to one ``kith serve`` process on SQLite and stay idle;
   the server's resident memory (``VmRSS`` in ``/proc/<pid>/status``) is read before and
   after, and then one post is sent to all of them (the time until each one has it). The
   same against the bare ``websockets`` server.

Both sides negotiate permessage-deflate, as browsers do (uvicorn and websockets default to
the same settings: 4 KiB window, memLevel 5): the Kith servers run with
``KITH_STREAM_COMPRESSION=true`` (Kith's default is off). ``--no-compression`` turns it off
in the clients and in Kith, which is Kith as it runs by default. Servers run as separate
process groups and are stopped whatever happens; the PostgreSQL database is private to the
run (created and dropped), the SQLite one is a temporary file. A calibration at the start and
the end (JSON encoding, and bare ``sqlite3`` inserts as in ``post_throughput.py``) says how
fast the machine was: absolute times move with it, ratios to the floor much less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any, TypeVar

import redis
import sqlalchemy as sa
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.version import version as websockets_version

from kith.actions import auth, people, posts, roster, spaces, topics
from kith.actions.people import PersonInput
from kith.app import App, build_app
from kith.config import Settings
from kith.domain.models import MemberRole
from kith.storage import accounts, migrate, tables
from kith.storage import spaces as space_store
from kith.storage.database import normalise_url
from post_throughput import (
    FAST_HASHER,
    PASSWORD,
    RawConnection,
    Running,
    free_port,
    server_command,
    sqlite_baseline,
    stop,
    wait_healthy,
)
from roster_import import generate, to_csv

T = TypeVar("T")
MARK = re.compile(r"fanout:(\d+):(\d+)")
TARGET_IDLE_BYTES = 1 << 30  # issue 3: under 1 GB for 5,000 idle connections
STREAM_PATH = "/api/v1/stream"


# ---------------------------------------------------------------------------------------
# the fixture: people, tokens, spaces and topics, made through the actions


@dataclass(frozen=True)
class Fixture:
    database_url: str
    engine: str
    topic_id: int  # the readers' space
    writer_token: str
    reader_tokens: list[str]
    idle_topic_id: int = 0  # the idle members' space
    idle_tokens: list[str] = field(default_factory=list)


# Posts already in the readers' topic when a run begins: a topic in use, not a new one.
HISTORY = 200


def prepare(url: str, readers: int, idle: int) -> Fixture:
    """A writer and ``readers`` members in one space, whose topic has :data:`HISTORY` posts
    already; ``idle`` more people in another space.

    Each PostgreSQL run begins with :func:`vacuum_analyze`, what autovacuum does on a
    server in use. This machine's PostgreSQL runs with ``autovacuum = off``: without it the
    planner kept the statistics of the empty tables and chose, for a post's ties, to read
    every post of the topic and sort them rather than walk the index backwards for the
    latest 50, a cost that grew with every post of the run (0.7 to 3.1 ms over 4,000 posts;
    docs/performance.md, "Fan-out")."""
    app = build_app(Settings(database_url=url, demo=True), hasher=FAST_HASHER)
    try:
        migrate.upgrade(app.db)
        people.do_bootstrap_admin(app, email="admin@fanout.local", display_name="Admin", password=PASSWORD)
        admin = people.system_viewer(app)

        def member(email: str, name: str, space_id: int) -> str:
            person = people.check_create_person(
                app, admin, PersonInput(email=email, display_name=name, password=PASSWORD)
            )
            spaces.check_add_member(app, admin, space_id, person.id)
            return auth.check_login(app, email, PASSWORD).token

        space = spaces.check_create_space(app, admin, name="Fan-out").space
        writer_token = member("writer@fanout.local", "Writer", space.id)
        reader_tokens = [member(f"reader{i}@fanout.local", f"Reader {i}", space.id) for i in range(readers)]
        topic, _ = topics.check_create_topic(app, admin, space.id, title="Fan-out", body="Where posts go.")
        writer = auth.access_viewer(app, writer_token)
        for i in range(HISTORY):
            posts.check_create_post(app, writer, topic.id, post_body("history", i))
        idle_topic_id, idle_tokens = 0, []
        if idle:
            everyone = spaces.check_create_space(app, admin, name="Everyone").space
            writer = people.find_person_by_email(app, "writer@fanout.local")
            assert writer is not None
            spaces.check_add_member(app, admin, everyone.id, writer.id)
            idle_tokens = idle_members(app, everyone.id, idle)
            idle_topic, _ = topics.check_create_topic(
                app, admin, everyone.id, title="All hands", body="One post to everyone."
            )
            idle_topic_id = idle_topic.id
    finally:
        app.close()
    engine = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    return Fixture(url, engine, topic.id, writer_token, reader_tokens, idle_topic_id, idle_tokens)


def vacuum_analyze(url: str) -> None:
    """What autovacuum would have done by now on a server in use (see :func:`prepare`):
    the dead versions of the topic's row, one per post of the last run, cleared, and the
    statistics brought up to date."""
    engine = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def idle_members(app: App, space_id: int, count: int) -> list[str]:
    """``count`` people through the roster import, each a member of the space with a token.

    The memberships and tokens are written in one transaction through the storage layer
    (what ``count`` joins and sign-ins would write, without their events): the actions,
    a transaction each, would take a minute for 5,000 people.
    """
    roster.check_import_roster(app, people.system_viewer(app), to_csv(generate(count, seed=7)))
    with app.db.transaction() as tx:
        ids = (
            tx.conn.execute(sa.select(tables.people.c.id).where(tables.people.c.email.like("%@example.com")))
            .scalars()
            .all()
        )
        now = app.clock()
        tokens = []
        for person_id in ids:
            space_store.upsert_member(
                tx.conn, space_id, person_id, role=MemberRole.MEMBER, level=None, now=now
            )
            token = secrets.token_urlsafe(32)
            accounts.insert_token(
                tx.conn, person_id, auth.hash_token(token), now=now, expires_at=now + timedelta(days=1)
            )
            tokens.append(token)
    return tokens


# What to undo if the run is stopped (SIGTERM): the servers, the private database, the
# client processes. A handler that only raised SystemExit would depend on nothing on the way
# up swallowing it; this one undoes them itself, newest first, then exits.
CLEANUP: list[Callable[[], None]] = []


@contextmanager
def undone_on_sigterm(undo: Callable[[], None]) -> Iterator[None]:
    CLEANUP.append(undo)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            CLEANUP.remove(undo)


def on_sigterm(signum: int, _frame: object) -> None:
    for undo in reversed(CLEANUP):
        with contextlib.suppress(Exception):
            undo()
    os._exit(128 + signum)


@contextmanager
def fresh_postgres(base: str) -> Iterator[str]:
    """A new, empty database next to the one ``base`` names, dropped afterwards."""
    url = sa.make_url(normalise_url(base))
    name = f"{url.database}_fanout_bench_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        with undone_on_sigterm(drop):
            yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop()
        admin.dispose()


# ---------------------------------------------------------------------------------------
# the servers under test: kith serve, and the bare websockets floor


ARGS_COMPRESSION = [True]  # --no-compression sets it, for kith_servers


@contextmanager
def kith_servers(database_url: str, directory: Path, count: int, **env: str) -> Iterator[list[Running]]:
    """``count`` ``kith serve`` processes (``KITH_WORKERS=1`` each) on one database, offering
    permessage-deflate when the clients do."""
    env.setdefault("KITH_STREAM_COMPRESSION", "true" if ARGS_COMPRESSION[0] else "false")
    specs = []
    for k in range(count):
        port = free_port()
        full_env = {
            **os.environ,
            "KITH_DATABASE_URL": database_url,
            "KITH_HOST": "127.0.0.1",
            "KITH_PORT": str(port),
            "KITH_DEMO": "true",
            "KITH_LOG_LEVEL": "warning",
            "KITH_WORKERS": "1",
            **env,
        }
        specs.append((server_command(), full_env, directory / f"kith-{k}.log", port))
    with spawned(specs) as running:
        yield running


# The floor: a program of its own, so that it imports nothing but websockets (and uvloop).
# Each reader first gets {"type": "live"}, as from a Kith stream, so that the harness knows
# it is connected; /api/v1/health answers plain HTTP, for wait_healthy.
FLOOR_SERVER = """
import asyncio, sys
from http import HTTPStatus
from websockets.asyncio.server import broadcast, serve

async def main(port):
    readers = set()

    async def handler(ws):
        if ws.request.path == "/write":
            async for message in ws:
                broadcast(readers, message)
            return
        readers.add(ws)
        try:
            await ws.send('{"type":"live","last_event_id":0}')
            await ws.wait_closed()
        finally:
            readers.discard(ws)

    def health(conn, request):
        if request.path == "/api/v1/health":
            return conn.respond(HTTPStatus.OK, "ok\\n")
        return None

    async with serve(handler, "127.0.0.1", port, process_request=health, backlog=2048) as server:
        await server.serve_forever()

try:
    import uvloop
except ImportError:
    asyncio.run(main(int(sys.argv[1])))
else:
    uvloop.run(main(int(sys.argv[1])))
"""


@contextmanager
def floor_server(directory: Path) -> Iterator[Running]:
    """The bare websockets broadcast server: ``/write`` to every connection on ``/read``."""
    port = free_port()
    command = [sys.executable, "-c", FLOOR_SERVER, str(port)]
    with spawned([(command, dict(os.environ), directory / "floor.log", port)]) as (running,):
        yield running


@contextmanager
def spawned(specs: list[tuple[list[str], dict[str, str], Path, int]]) -> Iterator[list[Running]]:
    """Start every server (each in its own process group) at once, then wait for each."""
    procs: list[subprocess.Popen[bytes]] = []

    def stop_all() -> None:
        for proc in procs:
            stop(proc)

    try:
        with undone_on_sigterm(stop_all):
            for command, env, log_path, _port in specs:
                with log_path.open("wb") as log:
                    procs.append(
                        subprocess.Popen(
                            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                        )
                    )
            running = []
            for proc, (_command, _env, log_path, port) in zip(procs, specs, strict=True):
                base = f"http://127.0.0.1:{port}"
                wait_healthy(base, proc, log_path, 1, timeout=120.0)
                running.append(Running(base, proc.pid, log_path))
            yield running
    finally:
        stop_all()


def rss_bytes(pid: int) -> int:
    """Resident memory of one process, from ``/proc/<pid>/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# ---------------------------------------------------------------------------------------
# the reader harness: client processes holding WebSocket connections


@dataclass
class ReaderReport:
    connected: int = 0
    failed: int = 0
    closed_early: int = 0
    deliveries: int = 0
    duplicates: int = 0
    frames: int = 0
    frame_chars: int = 0
    event_frames: int = 0
    events: int = 0
    least_per_connection: int = 0
    cpu: float = 0.0
    sample: str = ""
    failure: str = ""
    latencies: bytes = b""

    def latency_list(self) -> list[float]:
        values = array("d")
        values.frombytes(self.latencies)
        return values.tolist()


def reader_worker(pipe: Pipe) -> None:
    """A client process of the pool: for each job, open one stream per (url, token), say
    when they are all open, read until told to stop, then send the report."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    while True:
        job = pipe.recv()
        if job is None:
            return
        urls, tokens, compression = job
        pipe.send(run_async(_read(pipe, urls, tokens, compression)))


async def _read(pipe: Pipe, urls: list[str], tokens: list[str], compression: bool) -> ReaderReport:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    report = ReaderReport()
    latencies = array("d")
    connections: list[ClientConnection] = []
    counts: list[int] = []
    settled = asyncio.Event()
    gate = asyncio.Semaphore(32)

    def wait_for_stop() -> None:
        """Answer "count" (deliveries so far) until told anything else, which means stop."""
        with contextlib.suppress(EOFError, OSError):
            while pipe.recv() == "count":
                pipe.send(len(latencies))
        loop.call_soon_threadsafe(stopping.set)

    def tally() -> None:
        if report.connected + report.failed == len(tokens):
            settled.set()

    async def one(url: str, token: str) -> None:
        try:
            async with gate:
                ws = await connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {token}"},
                    compression="deflate" if compression else None,
                    ping_interval=None,  # browsers do not ping; the servers do
                    open_timeout=120,
                    max_queue=None,
                )
                # Kith may send events (presence, say) before "live"; the floor sends "live" first
                while json.loads(await asyncio.wait_for(ws.recv(), 120)).get("type") != "live":
                    pass
        except Exception as exc:
            report.failed += 1
            report.failure = report.failure or f"{type(exc).__name__}: {exc}"
            tally()
            return
        connections.append(ws)
        report.connected += 1
        tally()
        seen: set[int] = set()
        try:
            async for raw in ws:
                now = time.monotonic()
                report.frames += 1
                report.frame_chars += len(raw)
                frame = json.loads(raw)
                events = frame.get("events", ())
                if events:
                    report.event_frames += 1
                    report.events += len(events)
                for event in events:
                    found = MARK.search(str(event.get("payload", {}).get("source", "")))
                    if found is None:
                        continue
                    if not report.sample:  # the floor's writer sends frames like this one
                        report.sample = json.dumps(
                            {"type": "events", "events": [event]}, separators=(",", ":")
                        )
                    seq = int(found[1])
                    if seq in seen:
                        report.duplicates += 1
                        continue
                    seen.add(seq)
                    latencies.append(now - int(found[2]) / 1e9)
        except ConnectionClosed:
            if not stopping.is_set():
                report.closed_early += 1
        counts.append(len(seen))

    threading.Thread(target=wait_for_stop, daemon=True).start()
    cpu = time.process_time()
    tasks = [asyncio.create_task(one(url, token)) for url, token in zip(urls, tokens, strict=True)]
    await settled.wait()
    pipe.send(("ready", report.connected, report.failed, report.failure))
    await stopping.wait()
    closing = [asyncio.create_task(ws.close()) for ws in connections]
    if closing:
        await asyncio.wait(closing, timeout=30)
    await asyncio.wait(tasks, timeout=10)
    report.cpu = time.process_time() - cpu
    report.deliveries = len(latencies)
    report.least_per_connection = min(counts, default=0)
    report.latencies = latencies.tobytes()
    return report


class ReaderPool:
    """Client processes, started once (each takes seconds to import Kith on a busy machine)
    and given one job per run."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Pipe] = []
        self.procs: list[Any] = []
        for _ in range(processes):
            mine, theirs = context.Pipe()
            proc = context.Process(target=reader_worker, args=(theirs,), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def start(self, groups: list[tuple[list[str], list[str]]], compression: bool) -> Readers:
        """Hand each group of (url, token) pairs to a process of the pool."""
        if len(groups) > len(self.pipes):
            raise ValueError(f"{len(groups)} groups of readers for {len(self.pipes)} processes")
        for pipe, (urls, tokens) in zip(self.pipes, groups, strict=False):
            pipe.send((urls, tokens, compression))
        return Readers(self.pipes[: len(groups)])

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for proc in self.procs:
            proc.join(5)
        self.kill()

    def kill(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()


class Readers:
    """The reader processes of one run, each with its share of the connections."""

    def __init__(self, pipes: list[Pipe]) -> None:
        self.pipes = pipes

    async def ready(self) -> tuple[int, int, str]:
        """Wait until every connection is open (or failed): (connected, failed, first failure)."""
        answers = await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self.pipes))
        failure = next((a[3] for a in answers if a[3]), "")
        return sum(a[1] for a in answers), sum(a[2] for a in answers), failure

    async def delivered(self) -> int:
        """Deliveries recorded so far, over all the processes."""
        for pipe in self.pipes:
            pipe.send("count")
        counts = await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self.pipes))
        return sum(int(n) for n in counts)

    async def wait_for(self, expected: int, at_most: float) -> None:
        """Until ``expected`` deliveries have arrived, or ``at_most`` seconds have passed."""
        deadline = time.monotonic() + at_most
        while time.monotonic() < deadline and await self.delivered() < expected:
            await asyncio.sleep(0.2)

    async def finish(self) -> list[ReaderReport]:
        """Close every connection; each process's report."""
        for pipe in self.pipes:
            pipe.send("stop")
        reports: list[ReaderReport] = list(
            await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self.pipes))
        )
        return reports


def split(urls: list[str], tokens: list[str], processes: int) -> list[tuple[list[str], list[str]]]:
    """Deal (url, token) pairs round-robin over ``processes`` reader processes."""
    return [(urls[k::processes], tokens[k::processes]) for k in range(processes) if tokens[k::processes]]


# ---------------------------------------------------------------------------------------
# the writers


def post_body(tag: str, i: int) -> str:
    """Like ``post_throughput.body``: Markdown, a link, code and a mention, plus the marker."""
    return (
        f"Post {i} from the fan-out bench: **prices** moved again, see [the note](https://example.com/n/{i}) "
        f"and `quote-{i % 97}`; cc @reader{i % 7} {tag}"
    )


@dataclass
class Sent:
    posts: int = 0
    errors: int = 0
    answers: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0
    failures: Counter[int] = field(default_factory=Counter)  # status (0: connection dropped): count


async def kith_writer(
    base: str, topic_id: int, token: str, rate: float, count: int, *, marked: bool, first: int = 0
) -> Sent:
    """Open loop: post ``i`` is sent at ``start + i / rate``, whatever earlier answers do;
    its marker numbers it ``first + i``.

    Each post takes the most recently used idle connection or opens one; a connection left
    idle for a second is closed, before the server's keep-alive timeout (5 s) would close
    it under a request (``post_throughput.py``'s connections are never idle that long).
    """
    path = f"/api/v1/topics/{topic_id}/posts"
    idle: list[tuple[RawConnection, float]] = []
    sent = Sent()
    start = time.monotonic() + 0.1
    cpu = time.process_time()

    async def one(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        tag = f"fanout:{first + i}:{int(scheduled * 1e9)}" if marked else "warm-up"
        while idle and idle[0][1] < time.monotonic() - 1.0:
            await idle.pop(0)[0].aclose()
        conn = idle.pop()[0] if idle else RawConnection(base)
        status = await conn.post(path, json.dumps({"body": post_body(tag, i)}).encode(), token)
        sent.answers.append(time.monotonic() - scheduled)
        idle.append((conn, time.monotonic()))
        sent.posts += status == 201
        if status != 201:
            sent.errors += 1
            sent.failures[status] += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    sent.seconds, sent.cpu = time.monotonic() - start, time.process_time() - cpu
    await asyncio.gather(*(conn.aclose() for conn, _ in idle))
    return sent


def floor_frame(sample: str, i: int, scheduled: float, *, marked: bool) -> str:
    """A real Kith frame (``sample``) with its marker and id swapped for post ``i``'s."""
    frame = json.loads(sample)
    event = frame["events"][0]
    old = MARK.search(event["payload"]["source"])
    new = f"fanout:{i}:{int(scheduled * 1e9)}" if marked else "warm-up"
    for key in ("source", "html"):
        if old is not None:
            event["payload"][key] = event["payload"][key].replace(old[0], new)
    event["id"] = event["payload"]["id"] = 10_000 + i
    frame["events"] = [event]
    return json.dumps(frame, separators=(",", ":"))


async def floor_writer(
    base: str, sample: str, rate: float, count: int, *, marked: bool, first: int = 0
) -> Sent:
    """The same schedule over one WebSocket to the floor server's ``/write``."""
    sent = Sent()
    async with connect("ws" + base.removeprefix("http") + "/write", compression=None) as ws:
        start = time.monotonic() + 0.1
        cpu = time.process_time()
        for i in range(count):
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            await ws.send(floor_frame(sample, first + i, scheduled, marked=marked))
            sent.answers.append(time.monotonic() - scheduled)
            sent.posts += 1
        sent.seconds, sent.cpu = time.monotonic() - start, time.process_time() - cpu
    return sent


# ---------------------------------------------------------------------------------------
# the measurements


@dataclass
class LatencyRun:
    label: str
    engine: str
    readers: int
    sent: Sent
    reports: list[ReaderReport]
    server_cpu: float
    load: float
    alone_cpu: float  # server CPU per message with no reader connected
    sides: list[tuple[str, list[ReaderReport]]] = field(default_factory=list)

    @property
    def fanout_cpu(self) -> float:
        """Server CPU per delivery, beyond what the message costs with nobody to deliver to."""
        per_post = self.server_cpu / max(self.sent.posts, 1)
        return (per_post - self.alone_cpu) / max(self.readers, 1)

    @property
    def latencies(self) -> list[float]:
        return sorted(x for r in self.reports for x in r.latency_list())

    @property
    def expected(self) -> int:
        return self.sent.posts * self.readers

    @property
    def delivered(self) -> int:
        return sum(r.deliveries for r in self.reports)


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Bench:
    """What every run needs: the arguments, the reader pool, the scratch directory."""

    args: argparse.Namespace
    pool: ReaderPool
    directory: Path

    @property
    def count(self) -> int:
        return int(self.args.rate * self.args.duration)

    @property
    def warm_count(self) -> int:
        return int(self.args.rate * self.args.warm)


async def latency_run(
    bench: Bench,
    label: str,
    engine: str,
    servers: list[Running],
    path: str,
    tokens: list[str],
    send: Callable[[int, bool], Awaitable[Sent]],
) -> LatencyRun:
    """``send(count, marked)`` with no reader connected (warming up, and measuring the server's
    CPU per message alone); then readers dealt over ``servers`` and over the reader
    processes, half a second of unmarked messages, and the measured ones."""
    cpu = sum(s.cpu_seconds() for s in servers)
    alone = await send(bench.warm_count, False)
    await asyncio.sleep(0.2)
    alone_cpu = (sum(s.cpu_seconds() for s in servers) - cpu) / max(alone.posts, 1)
    urls = ["ws" + servers[k % len(servers)].base.removeprefix("http") + path for k in range(len(tokens))]
    processes = max(bench.args.reader_processes, len(servers))
    readers = bench.pool.start(split(urls, tokens, processes), bench.args.compression)
    connected, failed, failure = await readers.ready()
    if failed:
        raise SystemExit(f"{label}: {failed} of {len(tokens)} streams failed to open: {failure}")
    await send(int(bench.args.rate / 2), False)  # the fan-out path's first calls are not measured
    await asyncio.sleep(0.5)
    load = os.getloadavg()[0]
    cpu = sum(s.cpu_seconds() for s in servers)
    sent = await send(bench.count, True)
    await readers.wait_for(sent.posts * connected, bench.args.grace)
    server_cpu = sum(s.cpu_seconds() for s in servers) - cpu
    reports = await readers.finish()
    run = LatencyRun(label, engine, connected, sent, reports, server_cpu, load, alone_cpu)
    for k in range(len(servers) if len(servers) > 1 else 0):
        side = [r for g, r in enumerate(reports) if g % len(servers) == k]
        run.sides.append((f"readers on process {k + 1}" + (" (the writer's)" if k == 0 else ""), side))
    return run


def kith_latency(bench: Bench, fixture: Fixture, *, processes: int = 1, hub: str = "memory") -> LatencyRun:
    args = bench.args
    if fixture.engine == "PostgreSQL":
        vacuum_analyze(fixture.database_url)
    env = {"KITH_HUB_BACKEND": hub, "KITH_REDIS_URL": args.redis}
    label = f"Kith, {processes} process{'es' if processes > 1 else ''}"
    label += " via Redis" if hub == "redis" else ""
    with kith_servers(fixture.database_url, bench.directory, processes, **env) as servers:
        base, topic_id, token = servers[0].base, fixture.topic_id, fixture.writer_token

        async def send(count: int, marked: bool) -> Sent:
            return await kith_writer(base, topic_id, token, args.rate, count, marked=marked)

        tokens = fixture.reader_tokens
        run = run_async(latency_run(bench, label, fixture.engine, servers, STREAM_PATH, tokens, send))
        for server in servers:
            for line in server.errors():
                print(f"  {label}: server error: {line}")
    return run


def floor_latency(bench: Bench, sample: str) -> LatencyRun:
    args = bench.args
    tokens = [f"floor-{i}" for i in range(args.readers)]
    with floor_server(bench.directory) as server:

        async def send(count: int, marked: bool) -> Sent:
            return await floor_writer(server.base, sample, args.rate, count, marked=marked)

        label = "floor: bare websockets"
        return run_async(latency_run(bench, label, "-", [server], "/read", tokens, send))


@dataclass
class IdleRun:
    label: str
    engine: str
    connections: int
    rss_before: int
    rss_after: int
    rss_closed: int
    probe: list[float]
    connect_seconds: float
    server_cpu_per_connection: float


async def idle_run(
    bench: Bench,
    label: str,
    engine: str,
    server: Running,
    path: str,
    tokens: list[str],
    probe: Callable[[], Awaitable[Sent]],
) -> IdleRun:
    args = bench.args
    url = "ws" + server.base.removeprefix("http") + path
    # a few connections opened and closed first, so that first-use allocations are not counted
    warm = bench.pool.start(split([url] * 8, tokens[:8], 1), args.compression)
    await warm.ready()
    await warm.finish()
    await asyncio.sleep(args.settle)
    before = rss_bytes(server.pid)
    cpu, started = server.cpu_seconds(), time.monotonic()
    readers = bench.pool.start(split([url] * len(tokens), tokens, args.idle_processes), args.compression)
    connected, failed, failure = await readers.ready()
    connect_seconds = time.monotonic() - started
    server_cpu = server.cpu_seconds() - cpu
    if failed:
        print(f"  {label}: {failed} of {len(tokens)} connections failed: {failure}")
    await asyncio.sleep(args.settle)
    after = rss_bytes(server.pid)
    sent = await probe()
    if sent.errors:
        print(f"  {label}: the probe failed")
    await readers.wait_for(sent.posts * connected, args.grace)
    reports = await readers.finish()
    await asyncio.sleep(args.settle)
    closed = rss_bytes(server.pid)
    probe_latencies = sorted(x for r in reports for x in r.latency_list())
    cpu_per = server_cpu / max(connected, 1)
    return IdleRun(label, engine, connected, before, after, closed, probe_latencies, connect_seconds, cpu_per)


def kith_idle(bench: Bench, fixture: Fixture) -> IdleRun:
    with kith_servers(fixture.database_url, bench.directory, 1) as (server,):

        async def probe() -> Sent:
            return await kith_writer(
                server.base, fixture.idle_topic_id, fixture.writer_token, 1.0, 1, marked=True
            )

        tokens = fixture.idle_tokens
        return run_async(
            idle_run(bench, "Kith, 1 process", fixture.engine, server, STREAM_PATH, tokens, probe)
        )


def floor_idle(bench: Bench, sample: str) -> IdleRun:
    tokens = [f"idle-{i}" for i in range(bench.args.idle)]
    with floor_server(bench.directory) as server:

        async def probe() -> Sent:
            return await floor_writer(server.base, sample, 1.0, 1, marked=True)

        return run_async(idle_run(bench, "floor: bare websockets", "-", server, "/read", tokens, probe))


# ---------------------------------------------------------------------------------------
# the report


def print_latency(runs: list[LatencyRun], floor: LatencyRun | None, args: argparse.Namespace) -> None:
    print()
    print(
        f"Delivery latency: {args.readers} readers, {args.rate:g} posts/s for {args.duration:g} s "
        f"({int(args.rate * args.duration)} posts; from the post's scheduled send time to its arrival "
        "at each reader)"
    )
    header = (
        f"{'what':<42} {'engine':<10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'x p50':>6} {'x p99':>6} "
        f"{'delivered':>15} {'chars/msg':>9} {'CPU/post':>9} {'alone':>8} {'/delivery':>9} "
        f"{'answer p50/p99':>15} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    floor_lat = floor.latencies if floor else []
    for run in ([floor] if floor else []) + runs:
        lat = run.latencies
        rows: list[tuple[str, list[float], list[ReaderReport]]] = [(run.label, lat, run.reports)]
        rows += [
            (f"  {name}", sorted(x for r in side for x in r.latency_list()), side) for name, side in run.sides
        ]
        for n, (label, values, reports) in enumerate(rows):
            ratio50 = ratio99 = "-"
            if floor_lat and run is not floor:
                ratio50 = f"{percentile(values, 0.5) / percentile(floor_lat, 0.5):.1f}"
                ratio99 = f"{percentile(values, 0.99) / percentile(floor_lat, 0.99):.1f}"
            frames = sum(r.event_frames for r in reports)
            chars = sum(r.frame_chars for r in reports)
            if n == 0:
                delivered = f"{run.delivered}/{run.expected}"
                cpu = f"{run.server_cpu / max(run.sent.posts, 1) * 1e6:,.0f} us"
                alone = f"{run.alone_cpu * 1e6:,.0f} us"
                per_delivery = f"{run.fanout_cpu * 1e6:,.1f} us"
                answers = sorted(run.sent.answers)
                answer = f"{percentile(answers, 0.5):.1f}/{percentile(answers, 0.99):.1f}"
                load = f"{run.load:.1f}"
            else:
                delivered = str(sum(r.deliveries for r in reports))
                cpu = alone = per_delivery = answer = load = ""
            print(
                f"{label:<42} {run.engine if n == 0 else '':<10} {percentile(values, 0.5):>7.1f} "
                f"{percentile(values, 0.99):>7.1f} {percentile(values, 1.0):>7.1f} {ratio50:>6} {ratio99:>6} "
                f"{delivered:>15} {chars / max(frames, 1):>9.0f} {cpu:>9} {alone:>8} {per_delivery:>9} "
                f"{answer:>15} {load:>5}"
            )
    print("-" * len(header))
    print(
        "(x p50, x p99: ratio to the floor. CPU/post: CPU time of the server processes per post, fan-out"
        " included; alone: the same with no reader connected; /delivery: the difference per reader."
        " answer: the writer's HTTP answer for Kith, the send for the floor. chars/msg: the mean WebSocket"
        " message; Kith puts every event waiting for a reader into one message. load: the 1-minute load"
        " average when the measured part began.)"
    )
    for run in ([floor] if floor else []) + runs:
        problems = []
        if run.sent.errors:
            statuses = ", ".join(f"{n} x {status or 'dropped'}" for status, n in run.sent.failures.items())
            problems.append(f"{run.sent.errors} posts failed ({statuses})")
        if run.delivered < run.expected:
            problems.append(f"{run.expected - run.delivered} deliveries missing")
        dups = sum(r.duplicates for r in run.reports)
        early = sum(r.closed_early for r in run.reports)
        if dups:
            problems.append(f"{dups} duplicates")
        if early:
            problems.append(f"{early} streams closed by the server")
        reader_cpu = sum(r.cpu for r in run.reports)
        print(
            f"{run.label}: reader processes used {reader_cpu:.1f} s of CPU "
            f"({reader_cpu / max(run.delivered, 1) * 1e6:.0f} us per delivery)"
            + (f"; PROBLEMS: {', '.join(problems)}" if problems else "")
        )


def print_idle(runs: list[IdleRun]) -> None:
    print()
    print("Idle connections: one server process, RSS from /proc/<pid>/status")
    header = (
        f"{'what':<24} {'engine':<8} {'conns':>6} {'RSS before':>10} {'RSS after':>10} {'increase':>10} "
        f"{'per conn':>9} {'closed':>9} {'open s':>7} {'CPU/open':>9} {'one post to all: p50/p99/max ms':>32}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        grown = run.rss_after - run.rss_before
        probe = "/".join(f"{percentile(run.probe, q):.0f}" for q in (0.5, 0.99, 1.0))
        probe += f" ({len(run.probe)})"
        print(
            f"{run.label:<24} {run.engine:<8} {run.connections:>6} {mib(run.rss_before):>10} "
            f"{mib(run.rss_after):>10} {mib(grown):>10} {grown / max(run.connections, 1) / 1024:>6.1f} KiB "
            f"{mib(run.rss_closed):>9} {run.connect_seconds:>7.1f} "
            f"{run.server_cpu_per_connection * 1e3:>6.2f} ms {probe:>32}"
        )
    print("-" * len(header))
    print(
        "(closed: RSS once every connection closed, after --settle s; open s: time to open them all;"
        " CPU/open: server CPU time per connection opened; one post to all: from its send to its arrival"
        " at each)"
    )
    kith = next((r for r in runs if r.label.startswith("Kith")), None)
    floor = next((r for r in runs if r.label.startswith("floor")), None)
    if kith and floor and floor.rss_after > floor.rss_before:
        ratio = (kith.rss_after - kith.rss_before) / (floor.rss_after - floor.rss_before)
        print(f"Kith / floor, memory per connection: {ratio:.1f}x")
    if kith:
        per = (kith.rss_after - kith.rss_before) / max(kith.connections, 1)
        projected = per * 5000
        verdict = "met" if projected < TARGET_IDLE_BYTES else "NOT met"
        print(
            f"target < 1 GB for 5,000 idle connections: {verdict} ({mib(int(projected))} projected for 5,000)"
        )


def calibrate(directory: Path) -> str:
    """How fast the machine is at the moment, to compare runs made on different days or
    under different loads: the time to encode a 1 KB event as JSON (best of 5 rounds), and
    bare ``sqlite3`` single-row transactions per second (``post_throughput.py``'s baseline)."""
    event = {
        "id": 1,
        "type": "post.created",
        "space_id": 1,
        "actor_id": 2,
        "created_at": "2026-01-01T00:00:00.000000+00:00",
        "payload": {
            "id": 1,
            "source": post_body("fanout:0:0", 0) * 2,
            "html": "<p>" + post_body("x", 0) + "</p>",
        },
    }
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(2000):
            json.dumps({"type": "events", "events": [event]}, separators=(",", ":"))
        best = min(best, (time.process_time() - started) / 2000)
    (directory / "baseline.db").unlink(missing_ok=True)
    bare = sqlite_baseline(directory, 2000)
    return f"JSON {best * 1e6:.1f} us per event, bare sqlite3 {bare.rate:,.0f} rows/s"


def mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


# ---------------------------------------------------------------------------------------
# main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers, under a minute")
    parser.add_argument("--readers", type=int, default=100, help="connected readers in the latency runs")
    parser.add_argument("--rate", type=float, default=100.0, help="posts per second")
    parser.add_argument("--duration", type=float, help="seconds of posting per latency run (30; quick: 2)")
    parser.add_argument(
        "--warm",
        type=float,
        help="seconds of posts before the readers connect: CPU per post alone (2; quick: 0.3)",
    )
    parser.add_argument("--idle", type=int, help="idle connections (5000; quick: 300; 0: none)")
    parser.add_argument("--reader-processes", type=int, default=2, help="client processes for the readers")
    parser.add_argument("--idle-processes", type=int, default=4, help="client processes for idle connections")
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        help="at most this long for the last deliveries after the last post",
    )
    parser.add_argument("--settle", type=float, help="seconds of quiet before each RSS reading (3; quick: 1)")
    parser.add_argument(
        "--pg-single",
        action=argparse.BooleanOptionalAction,
        help="also one process on PostgreSQL (quick: no)",
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a database next to which a private one is made for the PostgreSQL runs; '' to skip them",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for the two-process run")
    parser.add_argument(
        "--no-compression",
        dest="compression",
        action="store_false",
        help="no permessage-deflate: the clients refuse it, Kith does not offer it (its default)",
    )
    args = parser.parse_args()
    ARGS_COMPRESSION[0] = args.compression
    for name, full, quick in (
        ("duration", 30.0, 2.0),
        ("warm", 2.0, 0.3),
        ("idle", 5000, 300),
        ("settle", 3.0, 1.0),
    ):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.pg_single is None:
        args.pg_single = not args.quick
    return args


def bench_process() -> None:
    """This process may open as many connections as the system lets it, and a SIGTERM
    undoes what the run started (servers, databases, client processes) before exiting."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, on_sigterm)


def main() -> None:
    args = parse_args()
    bench_process()
    started = time.monotonic()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python "
        f"{sys.version.split()[0]}, websockets {websockets_version}; {args.readers} readers at "
        f"{args.rate:g} posts/s for {args.duration:g} s; {args.idle} idle connections; "
        f"permessage-deflate {'on' if args.compression else 'off'}"
    )
    latency: list[LatencyRun] = []
    idle: list[IdleRun] = []
    pool = ReaderPool(max(args.reader_processes, args.idle_processes, 2))
    CLEANUP.append(pool.kill)
    try:
        with tempfile.TemporaryDirectory(prefix="kith-fanout-") as tmp:
            bench = Bench(args, pool, Path(tmp))
            print(f"calibration: {calibrate(bench.directory)}")
            t0 = time.monotonic()
            fixture = prepare(f"sqlite:///{bench.directory / 'kith.db'}", args.readers, args.idle)
            print(f"SQLite fixture ({args.readers + args.idle + 1} people) in {time.monotonic() - t0:.1f} s")
            latency.append(progress(lambda: kith_latency(bench, fixture)))
            sample = next(r.sample for r in latency[0].reports if r.sample)
            # Two processes on the same SQLite file (as `kith serve --workers 2`), news through
            # Redis: against the one-process run on the same engine.
            if redis_answers(args.redis):
                latency.append(progress(lambda: kith_latency(bench, fixture, processes=2, hub="redis")))
            floor = progress(lambda: floor_latency(bench, sample))
            if args.idle:
                idle.append(progress(lambda: floor_idle(bench, sample)))
                idle.append(progress(lambda: kith_idle(bench, fixture)))
            if args.postgres:
                with fresh_postgres(args.postgres) as url:
                    pg = prepare(url, args.readers, 0)
                    if args.pg_single:
                        latency.append(progress(lambda: kith_latency(bench, pg)))
                    if redis_answers(args.redis):
                        latency.append(progress(lambda: kith_latency(bench, pg, processes=2, hub="redis")))
                    else:
                        print(f"Redis at {args.redis} does not answer: no two-process run")
            ending = "" if args.quick else f"; calibration now: {calibrate(bench.directory)}"
    finally:
        pool.close()
    print_latency(latency, floor, args)
    if idle:
        print_idle(idle)
    print(
        f"\n(whole run: {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f}"
        f"{ending})"
    )


R = TypeVar("R", LatencyRun, IdleRun)


def progress(run: Callable[[], R]) -> R:
    """Run one measurement and say so, with its engine and how long it took."""
    started = time.monotonic()
    result = run()
    kind = "idle connections" if isinstance(result, IdleRun) else "latency"
    engine = f" ({result.engine})" if result.engine != "-" else ""
    print(f"  {result.label}{engine}, {kind}: {time.monotonic() - started:.0f} s", flush=True)
    return result


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """On uvloop when it is installed (it is, with uvicorn[standard]), as the server runs."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


if __name__ == "__main__":
    main()
