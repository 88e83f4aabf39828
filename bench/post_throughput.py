"""Posts created per second through the HTTP API on SQLite, beside bare ``sqlite3`` inserts.

Run from the repository root (about 40 s)::

    .venv/bin/python bench/post_throughput.py [--posts 4000] [--clients 16] [--rate 200]
        [--duration 10] [--workers N (default: one per core)] [--client raw|httpx]

What it does, in one run:

1. builds a fresh SQLite database in a temporary directory through the actions (an
   administrator, 16 members with bearer tokens, one public space with all of them, a topic);
2. starts ``kith serve --workers N`` on it as a separate process group (so client and
   server do not share a GIL) and waits for ``/api/v1/health`` and for every worker to listen;
3. closed loop: ``POST /api/v1/topics/{id}/posts`` with 1 client, then with ``--clients``
   concurrent clients, each waiting for its answer before sending the next post (a quarter
   of ``--posts`` for the single client, ``--posts`` for the concurrent ones);
4. open loop: posts scheduled at fixed times, ``--rate`` per second for ``--duration``
   seconds; a latency is measured from the *scheduled* time, so a slow answer that delays
   the next send is counted against the server (no coordinated omission);
5. the baseline: as many rows as the concurrent run created, inserted with the bare
   ``sqlite3`` module into a table shaped like ``posts`` (same indexes), one INSERT per
   transaction, WAL journal, ``synchronous=NORMAL``: the floor the database itself sets.

Each post is a line of Markdown with bold text, a link, a code span and a mention of
another member, so the whole hot path runs: token check, permission check, render and
sanitise, the post, its mention, the topic's counters, the event. At the end the script
counts the posts and ``post.created`` events stored: every 201 must have been committed.
The CPU columns are the CPU time of the server's processes and of the load generator per
post: both share the machine's cores. The server is stopped (its whole process group)
whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from kith.actions import auth, people, spaces, topics
from kith.actions.people import PersonInput
from kith.app import build_app
from kith.config import Settings
from kith.storage import migrate

PASSWORD = "bench password 1"  # noqa: S105 - a throwaway database
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
MEMBERS = 16
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0


@dataclass(frozen=True)
class Fixture:
    database_url: str
    topic_id: int
    tokens: list[str]


@dataclass(frozen=True)
class Result:
    label: str
    posts: int
    seconds: float
    latencies: list[float]
    errors: int
    client_cpu: float = float("nan")
    server_cpu: float = float("nan")

    @property
    def rate(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def body(i: int) -> str:
    """A realistic small post: Markdown, a link, code and a mention of another member."""
    return (
        f"Post {i} from the bench: **prices** moved again, see [the note](https://example.com/n/{i}) "
        f"and `quote-{i % 97}`; cc @member{i % MEMBERS}"
    )


def prepare(directory: Path) -> Fixture:
    """A fresh database, made through the actions as a real deployment would make it."""
    url = f"sqlite:///{directory / 'kith.db'}"
    app = build_app(Settings(database_url=url, demo=True), hasher=FAST_HASHER)
    try:
        migrate.upgrade(app.db)
        people.do_bootstrap_admin(app, email="admin@bench.local", display_name="Admin", password=PASSWORD)
        admin = people.system_viewer(app)
        space = spaces.check_create_space(app, admin, name="Bench floor").space
        tokens = []
        for i in range(MEMBERS):
            member = people.check_create_person(
                app,
                admin,
                PersonInput(email=f"member{i}@bench.local", display_name=f"Member {i}", password=PASSWORD),
            )
            spaces.check_add_member(app, admin, space.id, member.id)
            tokens.append(auth.check_login(app, member.email, PASSWORD).token)
        topic, _first = topics.check_create_topic(
            app, admin, space.id, title="Throughput", body="Where the bench posts go."
        )
    finally:
        app.close()
    return Fixture(url, topic.id, tokens)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command() -> list[str]:
    return [str(Path(sys.executable).with_name("kith")), "serve"]


@dataclass(frozen=True)
class Running:
    base: str
    pid: int
    log_path: Path

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes (Linux /proc)."""
        try:
            stats = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        except OSError:
            return float("nan")
        family, ticks = {self.pid}, 0
        for pid in sorted(stats):  # a child's pid is (almost always) larger than its parent's
            if pid in family or stats[pid][0] in family:
                family.add(pid)
                ticks += stats[pid][1]
        return ticks / os.sysconf("SC_CLK_TCK")

    def errors(self) -> list[str]:
        """The last line of each traceback the server logged (the exception), most frequent first."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        found = Counter(
            line
            for line, after in zip(lines, [*lines[1:], ""], strict=False)
            if line
            and not line.startswith((" ", "Traceback", "ERROR", "INFO", "WARNING", "The above", "During"))
            and not after.startswith(" ")
        )
        return [f"{n} x {line}" for line, n in found.most_common(5)]


@contextmanager
def server(fixture: Fixture, directory: Path, workers: int | None) -> Iterator[Running]:
    """``kith serve`` in its own process group, stopped (group and all) on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "KITH_DATABASE_URL": fixture.database_url,
        "KITH_HOST": "127.0.0.1",
        "KITH_PORT": str(port),
        "KITH_DEMO": "true",
        "KITH_LOG_LEVEL": "warning",
    }
    if workers is not None:
        env["KITH_WORKERS"] = str(workers)
    log_path = directory / "server.log"
    command = server_command()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log_path, workers or int(os.environ.get("KITH_WORKERS", "1")))
        yield Running(base, proc.pid, log_path)
    finally:
        stop(proc)


def wait_healthy(
    base: str, proc: subprocess.Popen[bytes], log_path: Path, workers: int, timeout: float = 30.0
) -> None:
    """Wait for ``/api/v1/health``, then for every worker to listen: clients that connect
    while only the first one is up would all land on it."""
    deadline = time.monotonic() + timeout
    port = int(base.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            healthy = httpx.get(f"{base}/api/v1/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            healthy = False
        if healthy and (workers == 1 or listeners(port) in (None, workers)):
            return
        time.sleep(0.1)
    raise SystemExit(f"the server did not become healthy in {timeout:.0f} s:\n{log_path.read_text()}")


def listeners(port: int) -> int | None:
    """Sockets listening on ``port`` (one per worker with SO_REUSEPORT), from /proc on Linux."""
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            found += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return found


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (its workers included), then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


class RawConnection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to POST JSON.

    httpx parses HTTP in pure Python (h11) and costs about a millisecond of client CPU per
    request here: at 1,000 requests/s the load generator alone would take half of this 2-core
    machine from the server under test. This costs a few tens of microseconds, so what is
    measured is the server. ``--client httpx`` measures with httpx instead.
    """

    def __init__(self, base: str) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes, token: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        try:
            lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
            await self.reader.readexactly(int(headers["content-length"]))
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.aclose()  # the server dropped the connection: an error, then a new one
            return 0
        if headers.get("connection") == "close":
            await self.aclose()
        return int(lines[0].split(" ", 2)[1])

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class HttpxConnection:
    """The same through ``httpx.AsyncClient`` with one connection."""

    def __init__(self, base: str) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0)

    async def post(self, path: str, payload: bytes, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return (await self.client.post(path, content=payload, headers=headers)).status_code

    async def aclose(self) -> None:
        await self.client.aclose()


Connection = RawConnection | HttpxConnection
CLIENTS: dict[str, type[RawConnection] | type[HttpxConnection]] = {
    "raw": RawConnection,
    "httpx": HttpxConnection,
}


@dataclass(frozen=True)
class Target:
    base: str
    path: str
    tokens: list[str]
    client: str

    def connect(self) -> Connection:
        return CLIENTS[self.client](self.base)

    async def create(self, conn: Connection, i: int) -> bool:
        payload = json.dumps({"body": body(i)}).encode()
        return await conn.post(self.path, payload, self.tokens[i % len(self.tokens)]) == 201


async def closed_loop(target: Target, posts: int, clients: int, first: int) -> Result:
    """``clients`` clients, each with its own connection, each posting as soon as answered."""
    latencies: list[float] = []
    errors = 0

    async def one_client(c: int, count: int) -> None:
        nonlocal errors
        conn = target.connect()
        try:
            await target.create(conn, first + c)  # open the connection before the clock starts
            await ready.wait()
            for k in range(count):
                start = time.perf_counter()
                ok = await target.create(conn, first + c + k * clients)
                latencies.append(time.perf_counter() - start)
                errors += not ok
        finally:
            await conn.aclose()

    ready = asyncio.Event()
    shares = [posts // clients + (1 if c < posts % clients else 0) for c in range(clients)]
    tasks = [asyncio.create_task(one_client(c, n)) for c, n in enumerate(shares)]
    await asyncio.sleep(0.5)
    started, cpu = time.perf_counter(), time.process_time()
    ready.set()
    await asyncio.gather(*tasks)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    label = f"HTTP API, {clients} client{'s' if clients > 1 else ''}"
    return Result(label, posts, seconds, latencies, errors, cpu)


async def open_loop(target: Target, rate: float, duration: float, first: int) -> Result:
    """Posts sent at fixed times whatever the answers do; latency from the scheduled time.

    Each request takes the most recently used idle connection from a pool or opens one, so
    a slow answer never holds back the next scheduled send. A connection left idle for a
    second is closed, before the server's keep-alive timeout (5 s) would close it under a
    request (which the client would count as an error).
    """
    count = int(rate * duration)
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    warm = [target.connect() for _ in range(len(target.tokens))]
    await asyncio.gather(*(target.create(conn, first + k) for k, conn in enumerate(warm)))  # warm up
    idle: list[tuple[Connection, float]] = [(conn, loop.time()) for conn in warm]
    start, cpu = loop.time() + 0.2, time.process_time()

    async def one(i: int) -> None:
        nonlocal errors
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        while idle and idle[0][1] < loop.time() - 1.0:
            await idle.pop(0)[0].aclose()
        conn = idle.pop()[0] if idle else target.connect()
        ok = await target.create(conn, first + i)
        latencies.append(loop.time() - scheduled)
        idle.append((conn, loop.time()))
        errors += not ok

    await asyncio.gather(*(one(i) for i in range(count)))
    seconds, cpu = loop.time() - start, time.process_time() - cpu
    await asyncio.gather(*(conn.aclose() for conn, _ in idle))
    return Result(f"HTTP API, open loop {rate:g}/s", count, seconds, latencies, errors, cpu)


def sqlite_baseline(directory: Path, rows: int) -> Result:
    """``rows`` single-row transactions with the bare sqlite3 module into a posts-shaped table."""
    conn = sqlite3.connect(directory / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, space_id INTEGER NOT NULL,"
        " author_id INTEGER NOT NULL, reply_to_id INTEGER, source TEXT NOT NULL, html TEXT NOT NULL,"
        " urgent BOOLEAN NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 1,"
        " created_at DATETIME NOT NULL, edited_at DATETIME, deleted_at DATETIME)"
    )
    conn.execute("CREATE INDEX ix_posts_topic_id ON posts (topic_id, id)")
    conn.execute("CREATE INDEX ix_posts_space_id ON posts (space_id, id)")
    conn.execute("CREATE INDEX ix_posts_author_id ON posts (author_id)")
    insert = (
        "INSERT INTO posts (topic_id, space_id, author_id, source, html, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )
    latencies = []
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(rows):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        text = body(i)
        conn.execute(insert, (1, 1, i % MEMBERS + 2, text, f"<p>{text}</p>\n", "2024-01-01 00:00:00"))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - t0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return Result("bare sqlite3, 1 row per transaction", rows, seconds, latencies, 0, client_cpu=cpu)


def count_rows(database_url: str) -> tuple[int, int]:
    """Posts and post.created events actually stored: every 201 must be durable."""
    conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        created = conn.execute("SELECT count(*) FROM events WHERE type = 'post.created'").fetchone()[0]
    finally:
        conn.close()
    return int(posts), int(created)


def print_table(results: list[Result], baseline: Result) -> None:
    single, concurrent, steady = results
    header = (
        f"{'measure':<38} {'posts':>6} {'seconds':>8} {'posts/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'server CPU':>10} {'client CPU':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in [*results, baseline]:
        print(
            f"{r.label:<38} {r.posts:>6} {r.seconds:>8.2f} {r.rate:>8.0f} {r.percentile(0.50):>7.2f} "
            f"{r.percentile(0.99):>7.2f} {r.errors:>6} {cpu_per_post(r.server_cpu, r):>10} "
            f"{cpu_per_post(r.client_cpu, r):>10}"
        )
    print("-" * len(header))
    print("(CPU columns: CPU time per post; the machine has", os.cpu_count(), "cores for both sides)")
    print(f"bare sqlite3 / {concurrent.label}: {baseline.rate / concurrent.rate:.1f}x")
    print(f"bare sqlite3 / {single.label}: {baseline.rate / single.rate:.1f}x")
    ok_rate = concurrent.rate >= TARGET_RATE and concurrent.errors == 0
    ok_p99 = steady.percentile(0.99) < TARGET_P99_MS and steady.errors == 0
    print(
        f"target >= {TARGET_RATE:.0f} posts/s with {concurrent.label.split(', ')[1]}: "
        f"{'met' if ok_rate else 'NOT met'} ({concurrent.rate:.0f}/s)"
    )
    print(
        f"target p99 < {TARGET_P99_MS:.0f} ms at {steady.label.rsplit(' ', 1)[1]}: "
        f"{'met' if ok_p99 else 'NOT met'} (p99 {steady.percentile(0.99):.1f} ms, "
        f"max {steady.percentile(1.0):.1f} ms, {steady.rate:.0f} posts/s achieved)"
    )


def cpu_per_post(seconds: float, r: Result) -> str:
    return "-" if seconds != seconds else f"{seconds / r.posts * 1e6:.0f} us"


async def measure(running: Running, fixture: Fixture, args: argparse.Namespace) -> list[Result]:
    path = f"/api/v1/topics/{fixture.topic_id}/posts"
    target = Target(running.base, path, fixture.tokens, args.client)
    single_posts = max(1, args.posts // 4)
    runs: list[Callable[[], Coroutine[Any, Any, Result]]] = [
        lambda: closed_loop(target, single_posts, 1, first=0),
        lambda: closed_loop(target, args.posts, args.clients, first=single_posts),
        lambda: open_loop(target, args.rate, args.duration, first=single_posts + args.posts),
    ]
    results = []
    for run in runs:
        cpu = running.cpu_seconds()
        result = await run()
        results.append(dataclasses.replace(result, server_cpu=running.cpu_seconds() - cpu))
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=4000, help="posts with --clients (1 client: a quarter)")
    parser.add_argument("--clients", type=int, default=MEMBERS, help="concurrent clients")
    parser.add_argument("--rate", type=float, default=200.0, help="posts per second in the open-loop run")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the open-loop run")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes, KITH_WORKERS (default: one per core, as docs/configuration.md advises)",
    )
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="raw", help="HTTP client of the load generator"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="kith-bench-") as tmp:
        directory = Path(tmp)
        fixture = prepare(directory)
        print(
            f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}; server: kith serve --workers {args.workers}; "
            f"client: {args.client}"
        )
        with server(fixture, directory, args.workers) as running:
            results = run_loop(measure(running, fixture, args))
        server_errors = running.errors()
        baseline = sqlite_baseline(directory, args.posts)
        stored, created = count_rows(fixture.database_url)
    print_table(results, baseline)
    # the topic's first post, each run's warm-up posts, then the measured posts
    warmups = 1 + args.clients + len(fixture.tokens)
    expected = 1 + warmups + sum(r.posts for r in results)
    print(f"stored: {stored} posts, {created} post.created events (expected {expected} each)")
    for line in server_errors:
        print(f"server error: {line}")


def run_loop(coro: Coroutine[Any, Any, list[Result]]) -> list[Result]:
    """Run the load generator on uvloop when it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


if __name__ == "__main__":
    main()
