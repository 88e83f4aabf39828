"""The roster import of 10,000 people on SQLite, beside bare ``sqlite3`` inserts of the same rows.

Run from the repository root::

    .venv/bin/python bench/roster_import.py [--rows 10000] [--seed 7] [--repeat 3]
                                            [--postgres postgresql://postgres@127.0.0.1:5432/test]

What it does, in each of ``--repeat`` rounds (every figure printed is the best round's):

1. generates a roster CSV (deterministic for a seed): a byte-order mark, people in eight
   offices and time zones with their local hours, quoted names with commas, and a
   management tree listed in shuffled order, so most managers come after their reports;
2. imports it into a fresh SQLite database (``build_app`` + ``migrate.upgrade`` +
   ``do_bootstrap_admin``) with ``check_import_roster``, end to end: bytes in, every line
   checked, people and managers committed, one event published;
3. imports the same file again (nothing changes, nothing is written), then a copy with one
   person in ten changed (their title), then the file through ``POST /api/v1/people/import``
   into a second fresh database (in-process HTTP client);
4. the baseline: the same rows inserted with the bare ``sqlite3`` module, ``executemany``
   into a plain table with the same columns, one transaction, WAL journal,
   ``synchronous=NORMAL``: the floor the database itself sets for writing these rows; and,
   for reference, the same into Kith's own ``people`` table with its indexes.

With ``--postgres URL`` it also imports once into a new database on that server (created
next to the one the URL names, dropped afterwards). The target of issue 2 is 10,000 rows in
under 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import sqlite3
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from argon2 import PasswordHasher

from kith.actions import auth, people
from kith.actions.roster import COLUMNS, check_import_roster, parse_roster
from kith.api.factory import create_api
from kith.app import App, build_app
from kith.config import Settings
from kith.storage import migrate
from kith.storage.database import normalise_url

T = TypeVar("T")
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway database
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
TARGET_SECONDS = 5.0
OFFICES = (
    ("London", "Europe/London", "08:30", "17:00", "mon-fri"),
    ("New York", "America/New_York", "09:00", "17:30", "mon-fri"),
    ("Singapore", "Asia/Singapore", "09:00", "18:00", "mon-fri"),
    ("Sydney", "Australia/Sydney", "08:30", "17:00", "mon-fri"),
    ("São Paulo", "America/Sao_Paulo", "09:00", "18:00", "mon-fri"),
    ("Berlin", "Europe/Berlin", "08:00", "16:30", "mon-fri"),
    ("Dubai", "Asia/Dubai", "08:00", "17:00", "mon-thu,sun"),
    ("Bangalore", "Asia/Kolkata", "10:00", "19:00", "mon-sat"),
)
DEPARTMENTS = ("Sales", "Customer Success", "Product", "Engineering", "Finance", "People", "Legal")
TITLES = ("Associate", "Specialist", "Senior Specialist", "Lead", "Manager", "Director")
FIRST = ("Ana", "Ben", "Chen", "Divya", "Emeka", "Fatima", "Gustavo", "Hana", "Ivan", "Jürgen", "Kofi")
LAST = ("Okafor", "Lindqvist", "Tanaka", "Sharma", "Silva", "Müller", "Nguyen", "O'Brien", "Haddad")


def generate(rows: int, seed: int) -> list[dict[str, str]]:
    """``rows`` people; person 0 is the top, everyone else reports to someone before them."""
    rng = random.Random(seed)
    people_rows: list[dict[str, str]] = []
    for i in range(rows):
        office = OFFICES[rng.randrange(len(OFFICES))]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{last}, {first}" if i % 5 == 0 else f"{first} {last}"
        manager = "" if i == 0 else people_rows[rng.randrange(max(1, i // 6))]["email"]
        people_rows.append(
            {
                "email": f"{_ascii(first)}.{_ascii(last)}.{i}@example.com",
                "name": name,
                "title": rng.choice(TITLES),
                "department": rng.choice(DEPARTMENTS),
                "location": office[0],
                "manager_email": manager,
                "timezone": office[1],
                "work_start": office[2],
                "work_end": office[3],
                "work_days": office[4],
            }
        )
    rng.shuffle(people_rows)
    return people_rows


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode()


@contextmanager
def fresh_app(directory: Path, name: str, url: str | None = None) -> Iterator[App]:
    database_url = url or f"sqlite:///{directory / name}"
    app = build_app(Settings(database_url=database_url, demo=True), hasher=FAST_HASHER)
    migrate.upgrade(app.db)
    people.do_bootstrap_admin(app, email="root@example.com", display_name="Root", password=PASSWORD)
    try:
        yield app
    finally:
        app.close()


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def bare_sqlite(directory: Path, rows: list[dict[str, str]]) -> tuple[float, str]:
    """Seconds to insert ``rows`` with bare sqlite3 into a plain table with the same columns."""
    conn = sqlite3.connect(directory / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, name TEXT, title TEXT, department TEXT,"
        " location TEXT, manager_email TEXT, timezone TEXT, work_start TEXT, work_end TEXT, work_days TEXT)"
    )
    values = [tuple(row[c] for c in COLUMNS) for row in rows]
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO people VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, "(executemany, plain table)"


def bare_sqlite_schema(directory: Path, rows: list[dict[str, str]]) -> tuple[float, str]:
    """The same, into Kith's own ``people`` table (its indexes and constraints), ids known."""
    app = build_app(Settings(database_url=f"sqlite:///{directory / 'schema.db'}", demo=True))
    migrate.upgrade(app.db)
    app.close()
    conn = sqlite3.connect(directory / "schema.db", isolation_level=None)
    columns: tuple[str, ...] = (
        "id",
        "email",
        "handle",
        "display_name",
        "title",
        "department",
        "location",
        "manager_id",
    )
    columns += ("timezone", "work_start", "work_end", "work_days", "active", "created_at", "updated_at")
    ids = {row["email"]: i for i, row in enumerate(rows, start=1)}
    stamp = "2024-01-01 00:00:00"
    values = [
        (
            *(ids[row["email"]], row["email"], f"h{i}", row["name"], row["title"], row["department"]),
            *(
                row["location"],
                ids.get(row["manager_email"]),
                row["timezone"],
                540,
                1020,
                31,
                1,
                stamp,
                stamp,
            ),
        )
        for i, row in enumerate(rows, start=1)
    ]
    sql = f"INSERT INTO people ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute("PRAGMA defer_foreign_keys=ON")
    conn.executemany(sql, values)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, "(executemany, Kith's people table and indexes)"


def through_http(directory: Path, data: bytes) -> tuple[float, str]:
    with fresh_app(directory, "http.db") as app:
        token = auth.check_login(app, "root@example.com", PASSWORD).token
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        seconds, response = timed(lambda: asyncio.run(_post(create_api(app), data, headers)))
    response.raise_for_status()
    return seconds, str(response.json())


async def _post(api: Any, data: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://kith") as client:
        return await client.post("/api/v1/people/import", content=data, headers=headers)


def one_round(directory: Path, rows: list[dict[str, str]], data: bytes, changed: bytes) -> dict[str, Any]:
    """Every figure once, each import into its own fresh database under ``directory``."""
    directory.mkdir()
    figures: dict[str, tuple[float, str]] = {}
    figures["parse"] = timed(lambda: parse_roster(data))[0], ""
    with fresh_app(directory, "kith.db") as app:
        viewer = people.system_viewer(app)
        for label, body in (("import", data), ("again", data), ("update", changed)):
            started = time.perf_counter()
            result = check_import_roster(app, viewer, body)
            figures[label] = time.perf_counter() - started, _counts(result)
    figures["http"] = through_http(directory, data)
    figures["bare"] = bare_sqlite(directory, rows)
    figures["schema"] = bare_sqlite_schema(directory, rows)
    return figures


LABELS = {
    "parse": "parse and check only",
    "import": "import, fresh database",
    "again": "re-import, same file",
    "update": "re-import, 1 in 10 changed",
    "http": "import via POST (in-process)",
    "bare": "baseline: bare sqlite3",
    "schema": "bare sqlite3, Kith's schema",
}


@contextmanager
def fresh_postgres(base: str) -> Iterator[str]:
    """A new, empty database next to the one ``base`` names, dropped afterwards."""
    url = sa.make_url(normalise_url(base))
    name = f"{url.database}_roster_bench_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def on_postgres(base: str, data: bytes) -> None:
    """The import and a re-import on PostgreSQL, once each (no baseline: for reference)."""
    with fresh_postgres(base) as url, fresh_app(Path("."), "", url) as app:
        viewer = people.system_viewer(app)
        first_s, first = timed(lambda: check_import_roster(app, viewer, data))
        again_s, again = timed(lambda: check_import_roster(app, viewer, data))
    print("PostgreSQL, one run:")
    print(f"  {'import, fresh database':30} {first_s:7.3f} s  {first.total / first_s:9,.0f} rows/s")
    print(f"  {'re-import, same file':30} {again_s:7.3f} s  {again.total / again_s:9,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="Rounds; each figure is the best of them.")
    parser.add_argument("--postgres", metavar="URL", help="Also import into a new database on this server.")
    args = parser.parse_args()
    rows = generate(args.rows, args.seed)
    data = to_csv(rows)
    changed = to_csv([{**row, "title": "Principal"} if i % 10 == 0 else row for i, row in enumerate(rows)])
    print(f"roster: {len(rows):,} rows, {len(data) / 1e6:.2f} MB, seed {args.seed}, best of {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="kith-roster-bench-") as tmp:
        rounds = [one_round(Path(tmp) / f"round{i}", rows, data, changed) for i in range(args.repeat)]
    best = {key: min(r[key] for r in rounds) for key in LABELS}
    for key, label in LABELS.items():
        seconds, note = best[key]
        rate = f"{len(rows) / seconds:9,.0f} rows/s" if key != "parse" else ""
        print(f"  {label:30} {seconds:7.3f} s  {rate:14}  {note}".rstrip())
    ours, bare = best["import"][0], best["bare"][0]
    print(f"ratio import / bare sqlite3: {ours / bare:.1f}x")
    verdict = "met" if ours < TARGET_SECONDS else "MISSED"
    print(f"target: {len(rows):,} rows in under {TARGET_SECONDS:.0f} s: {verdict} ({ours:.2f} s)")
    if args.postgres:
        on_postgres(args.postgres, data)


def _counts(result: Any) -> str:
    return f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"


if __name__ == "__main__":
    main()
