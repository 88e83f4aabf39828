"""``kith report``: how fast information moves in a space (docs/metrics.md)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from kith.actions import metrics
from kith.cli.common import console, friendly, opened

app = typer.Typer(help="Reports.")


@app.command("space")
@friendly
def space(
    slug: str = typer.Argument(..., help="The space's slug."),
    start: str = typer.Option(
        None, "--from", help="First UTC day, YYYY-MM-DD (default: 27 days before --to)."
    ),
    end: str = typer.Option(None, "--to", help="Last UTC day, YYYY-MM-DD (default: today)."),
    k: int = typer.Option(metrics.DEFAULT_K, "--k", help="Coverage: hours with at least k members at work."),
    as_json: bool = typer.Option(False, "--json", help="Print the API's JSON instead of tables."),
) -> None:
    """Information-velocity metrics of a space: questions, reach, waits, coverage, facts.

    The command line acts for the operator and reports on any space, private ones too.
    """
    with opened() as kith:
        found = metrics.report_space(kith, slug, start=start, end=end, k=k)
    if as_json:
        console.print_json(json.dumps(metrics.metrics_json(found)))
        return
    console.print(_summary(found, slug))
    console.print(_days(found))


def _summary(m: metrics.SpaceMetrics, slug: str) -> Table:
    s = m.summary
    q, reach = s["questions"], s["reach"]
    table = Table("metric", "value", title=f"{slug}: {m.first} to {m.last} (UTC)", title_justify="left")
    table.add_row("questions asked", str(q["asked"]))
    for label, key in (("first reply", "first_reply"), ("accepted answer", "accepted_answer")):
        part = q[key]
        table.add_row(
            f"time to {label}: median / p90",
            f"{duration(part['median_seconds'])} / {duration(part['p90_seconds'])}  "
            f"({part['done']} done, {part['open']} open)",
        )
    late = q["unanswered_24h"]
    table.add_row(
        "unanswered after 24 h", f"{percent(late['share'])}  ({late['unanswered']} of {late['eligible']})"
    )
    waits = q["timezone_waits"]
    table.add_row(
        "waits caused by time zones",
        f"{waits['waited']} of {waits['questions']} ({percent(waits['share'])}), median "
        f"{duration(waits['median_wait_seconds'])}, total {duration(waits['total_wait_seconds'])}",
    )
    table.add_row("posts measured for reach", str(reach["posts"]))
    table.add_row("reach: " + ", ".join(c["after"] for c in reach["curve"]), curve(reach))
    for name in ("t50", "t90"):
        part = reach[name]
        table.add_row(
            f"{name.upper()} (median over posts)",
            f"{duration(part['median_seconds'])}  ({part['reached']} reached, {part['not_reached']} not yet)",
        )
    cover = s["coverage"]
    table.add_row(
        f"hours of the UTC day with >= {cover['k']} at work", f"{cover['hours_with_k']} (mean per day)"
    )
    table.add_row("facts overdue for review", str(s["facts"]["overdue"]))
    fixes = s["corrections"]
    table.add_row(
        "corrections: made / told / seen since",
        f"{fixes['count']} / {fixes['recipients']} / {fixes['seen']} ({percent(fixes['seen_share'])})",
    )
    return table


def _days(m: metrics.SpaceMetrics) -> Table:
    table = Table(
        "day",
        "questions",
        "first reply",
        "unanswered 24 h",
        "waits",
        "posts",
        "reach 1h",
        "reach 24h",
        "T50",
        f"hours >= {m.k}",
        title="by day",
        title_justify="left",
    )
    for day in m.days:
        q, reach = day["questions"], day["reach"]
        by_label = {c["after"]: c["share"] for c in reach["curve"]}
        table.add_row(
            day["day"],
            str(q["asked"]),
            duration(q["first_reply"]["median_seconds"]),
            percent(q["unanswered_24h"]["share"]),
            str(q["timezone_waits"]["waited"]),
            str(reach["posts"]),
            percent(by_label["1h"]),
            percent(by_label["24h"]),
            duration(reach["t50"]["median_seconds"]),
            f"{day['coverage']['hours_with_k']:g}",
        )
    return table


def curve(reach: dict[str, Any]) -> str:
    return " ".join(percent(c["share"]) for c in reach["curve"])


def duration(seconds: int | None) -> str:
    """``95`` -> ``1m 35s``, ``90000`` -> ``1d 1h``; None -> ``-``."""
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{value}{unit}" for value, unit in parts if value][:2]
    return " ".join(shown) or "0s"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"
