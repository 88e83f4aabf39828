"""Mail import: our mbox importer beside a bare ``mailbox.mbox`` loop over the same files.

Run from the repository root::

    .venv/bin/python bench/import_email.py [--copies 10] [--repeat 3]

What it does:

1. builds a larger input in a temporary folder: ``--copies`` copies of each file of
   ``../shared/data/enron-sample/`` (six real mbox files, 1,789 messages, 3.8 MiB), each
   copy's Message-IDs made distinct so that no message is skipped as a duplicate;
2. the baseline, measured in the same run: the standard library's way, ``mailbox.mbox``
   over each file, and for every message the same header work ours does (From, To, Cc and
   Bcc through ``email.utils.getaddresses``, the Date through ``parsedate_to_datetime``,
   the Message-ID), keeping nothing;
3. ours, parse only: :class:`kith.importers.MailImport` over the folder, every record
   yielded and dropped;
4. ours, parse and load: ``kith.actions.interactions.check_import`` into a fresh SQLite
   database (``KITH_ORG_DOMAINS=enron.com``, so Enron addresses become discovered people
   and every internal tie is written), committed.

Each figure is the best of ``--repeat`` rounds, in messages per second. The target is at
least 0.7 times the baseline's rate for parsing.
"""

from __future__ import annotations

import argparse
import mailbox
import re
import tempfile
import time
from collections.abc import Callable
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher

from kith.actions import interactions, people
from kith.app import build_app
from kith.config import Settings
from kith.importers import MailImport
from kith.storage import migrate

T = TypeVar("T")
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "enron-sample"
TARGET = 0.7
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway database
_MESSAGE_ID = re.compile(rb"^(Message-ID:\s*<)", re.MULTILINE | re.IGNORECASE)


def build_input(folder: Path, copies: int) -> tuple[list[Path], int]:
    """``copies`` of every sample file, each copy's Message-IDs made its own."""
    files = []
    for k in range(copies):
        for source in sorted(SAMPLE.glob("*.mbox")):
            data = _MESSAGE_ID.sub(rb"\g<1>copy%d." % k, source.read_bytes())
            target = folder / f"{k:03d}-{source.name}"
            target.write_bytes(data)
            files.append(target)
    return files, sum(f.stat().st_size for f in files)


def best(rounds: int, fn: Callable[[], T]) -> tuple[float, T]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return min(times), result


def bare_loop(files: list[Path]) -> int:
    """The standard library's way: whole messages from mailbox.mbox, then their headers."""
    n = 0
    for path in files:
        box = mailbox.mbox(str(path), create=False)
        for message in box:
            n += 1
            getaddresses(message.get_all("From", []))
            getaddresses(message.get_all("To", []) + message.get_all("Cc", []) + message.get_all("Bcc", []))
            parsedate_to_datetime(message["Date"])
            message.get("Message-ID")
        box.close()
    return n


def parse_only(folder: Path) -> int:
    importer = MailImport([folder])
    for _ in importer.records():
        pass
    return importer.stats["messages"]


def parse_and_load(folder: Path, work: Path, round_: list[int]) -> int:
    round_[0] += 1
    database = work / f"bench-{round_[0]}.db"
    settings = Settings(database_url=f"sqlite:///{database}", demo=True, org_domains="enron.com")
    app = build_app(settings, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    try:
        migrate.upgrade(app.db)
        people.do_bootstrap_admin(app, email="admin@bench.example", display_name="Admin", password=PASSWORD)
        result = interactions.check_import(app, None, "email", [folder])
        return int(result.stats["messages"])
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=10, help="Copies of the sample (default 10).")
    parser.add_argument("--repeat", type=int, default=3, help="Rounds; the best is kept (default 3).")
    args = parser.parse_args()
    if not SAMPLE.is_dir():
        raise SystemExit(f"the Enron sample is not at {SAMPLE}")
    with tempfile.TemporaryDirectory(prefix="kith-bench-mail-") as tmp:
        folder = Path(tmp) / "mail"
        folder.mkdir()
        files, size = build_input(folder, args.copies)
        mib = size / 2**20
        print(f"input: {len(files)} mbox files, {mib:.1f} MiB ({args.copies} copies of the Enron sample)")
        bare_time, bare_n = best(args.repeat, lambda: bare_loop(files))
        ours_time, ours_n = best(args.repeat, lambda: parse_only(folder))
        counter = [0]
        load_time, load_n = best(args.repeat, lambda: parse_and_load(folder, Path(tmp), counter))
    assert bare_n == ours_n == load_n, (bare_n, ours_n, load_n)
    rows = (
        ("baseline: mailbox.mbox + header parsing", bare_time),
        ("ours: MailImport, parse only", ours_time),
        ("ours: parse + load into SQLite", load_time),
    )
    print(f"{'what':<42} {'time':>8} {'messages/s':>11} {'MiB/s':>7}")
    for what, seconds in rows:
        print(f"{what:<42} {seconds:>7.2f}s {bare_n / seconds:>11,.0f} {size / 2**20 / seconds:>7.1f}")
    ratio = bare_time / ours_time
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"parse rate, ours / baseline: {ratio:.2f}x (target >= {TARGET}x: {verdict})")
    print(f"parse + load rate, ours / baseline: {bare_time / load_time:.2f}x")


if __name__ == "__main__":
    main()
