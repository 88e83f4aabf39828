"""End-to-end analysis of a simulated organisation: the stored interactions in, a finished
run out (network, communities, roles, formal structure, silos, flow, evolution, storage).

    .venv/bin/python bench/analyze_org.py                  # 10,000 people, 90 days (~2M interactions)
    .venv/bin/python bench/analyze_org.py --people 2000    # smaller

Targets (issue 4): at most 60 s and 4 GB peak memory for 10,000 people and 2,000,000
interactions. The analysis runs in a child process, so that its peak resident memory is its
own. Beside it, in the same run, the baseline: reading the same interactions and running
igraph's Leiden on modularity once over the same network, the least any analysis does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import igraph as ig

from kith.actions import analysis, people, roster
from kith.analysis.graph import GraphParams, build
from kith.app import build_app
from kith.config import Settings
from kith.simulate.files import write_roster
from kith.simulate.org import KIND_NAMES, simulate_org
from kith.storage import interactions as store
from kith.storage import migrate

ORIGINS = {"mail": "email", "reply": "email"}
BENCH_PASSWORD = "bench-" + "password-1"  # a throwaway database


def prepare(url: str, n: int, days: int, seed: int) -> tuple[float, int]:
    """Simulate and store the organisation; returns the end of its window and the count."""
    app = build_app(Settings(database_url=url, demo=True))
    migrate.upgrade(app.db)
    people.do_bootstrap_admin(app, email="root@bench.example", display_name="Root", password=BENCH_PASSWORD)
    org = simulate_org(people=n, days=days, seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        write_roster(org, path)
        roster.check_import_roster(app, people.system_viewer(app), path.read_bytes())
    with app.db.read() as conn:
        ids = people_ids(conn, [p.email for p in org.people])
    # The bulk path the importers use, fed straight from the columns (records() would cost
    # about 15 us each in Python objects; loading is not what is measured here).
    kinds = [KIND_NAMES[k] for k in range(len(KIND_NAMES))]
    with app.db.transaction() as tx:
        run_id = store.create_run(tx.conn, "edges", "bench", org.start, None)
    total = len(org.source)
    for start in range(0, total, 100_000):
        end = min(start + 100_000, total)
        rows = []
        for i, (s, t, at, k, w) in enumerate(
            zip(
                org.source[start:end].tolist(),
                org.target[start:end].tolist(),
                org.at[start:end].tolist(),
                org.kind[start:end].tolist(),
                org.weight[start:end].tolist(),
                strict=True,
            ),
            start=start,
        ):
            kind = kinds[k]
            rows.append(
                (
                    ids[s],
                    ids[t],
                    kind,
                    _utc(at),
                    w,
                    ORIGINS.get(kind, "slack"),
                    "",
                    run_id,
                    f"bench-{i}",
                )
            )
        with app.db.transaction() as tx:
            store.insert_imported(tx.conn, rows)
    with app.db.transaction() as tx:
        store.finish_run(tx.conn, run_id, "done", {"records": total}, org.start)
    app.close()
    return (org.start + timedelta(days=org.days)).timestamp(), total


def people_ids(conn: object, emails: list[str]) -> list[int]:
    from kith.storage import people as people_store

    found = people_store.ids_by_emails(conn, emails)  # type: ignore[arg-type]
    return [found[e.lower()] if e.lower() in found else found[e] for e in emails]


def _utc(seconds: int) -> object:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


def child_analyse(url: str, until: float) -> None:
    from datetime import UTC, datetime

    app = build_app(Settings(database_url=url, demo=True))
    started = time.perf_counter()
    run = analysis.check_run(
        app, None, analysis.AnalysisParams(until=datetime.fromtimestamp(until, UTC), since=None)
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": elapsed, "peak_bytes": peak, "summary": run["summary"]}, default=str))


def child_baseline(url: str, until: float) -> None:
    app = build_app(Settings(database_url=url, demo=True))
    started = time.perf_counter()
    with app.db.read() as conn:
        columns = store.window(conn, None, None)
    net = build(columns["source"], columns["target"], columns["at"], columns["weight"], until=until,
                params=GraphParams())  # fmt: skip
    graph = ig.Graph(n=net.n, edges=list(zip(net.u.tolist(), net.v.tolist(), strict=True)))
    parts = graph.community_leiden(
        objective_function="modularity", weights=net.strength.tolist(), n_iterations=-1
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": elapsed, "peak_bytes": peak, "communities": len(parts)}))


def run_child(mode: str, url: str, until: float) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, f"--{mode}", url, str(until)], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("URL", "UNTIL"), help=argparse.SUPPRESS)
    parser.add_argument("--baseline", nargs=2, metavar=("URL", "UNTIL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_analyse(args.child[0], float(args.child[1]))
        return
    if args.baseline:
        child_baseline(args.baseline[0], float(args.baseline[1]))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
        started = time.perf_counter()
        until, total = prepare(url, args.people, args.days, args.seed)
        took = time.perf_counter() - started
        print(f"prepared {args.people:,} people and {total:,} interactions in {took:.1f} s")
        base = run_child("baseline", url, until)
        ours = run_child("child", url, until)
    summary = ours["summary"]
    assert isinstance(summary, dict)
    gib = 1024**3
    print()
    print(f"{'':34} {'seconds':>8} {'peak GiB':>9}")
    print(f"{'baseline: read + network + Leiden':34} {base['seconds']:8.1f} {base['peak_bytes'] / gib:9.2f}")  # type: ignore[operator]
    print(f"{'Kith: the whole analysis run':34} {ours['seconds']:8.1f} {ours['peak_bytes'] / gib:9.2f}")  # type: ignore[operator]
    print(f"ratio: {ours['seconds'] / base['seconds']:.1f}x the baseline")  # type: ignore[operator]
    print(f"targets: <= 60 s and <= 4 GiB; stages: {summary['timings']}")
    print(f"{summary['people']:,} people, {summary['ties']:,} ties, {summary['communities']} communities")
    print(f"method: {summary['method']}")


if __name__ == "__main__":
    main()
