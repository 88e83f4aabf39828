"""``kith analyze``: find the communities, roles, silos and flow, and say what changed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from kith.actions import analysis, analysis_export, analysis_views
from kith.cli.common import console, fail, friendly, opened


def _moment(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--{name}: {text!r} is not a date such as 2026-01-31 or 2026-01-31T09:00+00:00") from None
    return value if value.tzinfo is not None else value.astimezone()


@friendly
def analyze(
    since: str | None = typer.Option(
        None, help="Start of the window (ISO date); default: the window setting."
    ),
    until: str | None = typer.Option(None, help="End of the window (ISO date); default: now."),
    seed: int = typer.Option(0, min=0, help="Seed: the same data and seed give the same result."),
    half_life: float | None = typer.Option(None, "--half-life", min=0.001, help="Days for a tie to halve."),
    min_strength: float | None = typer.Option(None, "--min-strength", min=0, help="Weakest tie kept."),
    export: Path | None = typer.Option(None, help="Write the run as JSON (member e-mails only if allowed)."),
    gexf: Path | None = typer.Option(None, help="Write the network as GEXF (Gephi)."),
    graphml: Path | None = typer.Option(None, help="Write the network as GraphML."),
) -> None:
    """Analyse the organisation's network now and print what was found.

    Person-level results (members of communities, roles of people) appear only with
    KITH_PERSON_LEVEL_ANALYSIS=true; groups smaller than KITH_MIN_GROUP_SIZE are suppressed.
    """
    params = analysis.AnalysisParams(
        since=_moment("since", since),
        until=_moment("until", until),
        half_life_days=half_life,
        min_strength=min_strength,
        seed=seed,
    )
    with opened() as kith:
        with console.status("analysing") as status:
            run = analysis.check_run(kith, None, params, progress=lambda text: status.update(f"{text}…"))
        _print(kith, run)
        if export is not None:
            data = analysis_export.export_json(kith, None, run["id"])
            export.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
            console.print(f"wrote {escape(str(export))}")
        for path, fmt in ((gexf, "gexf"), (graphml, "graphml")):
            if path is not None:
                size = analysis_export.export_graph(kith, None, run["id"], path, fmt)
                console.print(f"wrote {escape(str(path))}: {size['nodes']:,} nodes, {size['edges']:,} edges")


def _print(kith: Any, run: dict[str, Any]) -> None:
    summary = run["summary"]
    console.print(
        f"[bold]Run {run['id']}[/]: {summary['people']:,} people, {summary['ties']:,} ties from "
        f"{summary['interactions']:,} interactions ({run['since']:%Y-%m-%d} to {run['until']:%Y-%m-%d})"
    )
    console.print(f"method: {escape(summary['method'])}")
    listed = analysis_views.list_communities(kith, None, run["id"])
    table = Table(
        "id", "name", "size", "depts", "time zones", "stability", "change", "cross-boundary", "key roles"
    )
    for c in listed["communities"][:30]:
        roles = c["roles"]["cells"]
        key = ", ".join(
            f"{n} {label}" for label, n in roles.items() if label in ("hub", "connector", "broker")
        )
        table.add_row(
            str(c["id"]),
            escape(c["name"]),
            str(c["size"]),
            str(
                len(c["departments"]["cells"])
                + (c["departments"].get("suppressed", {}) or {}).get("groups", 0)
            ),
            str(len(c["timezones"]["cells"]) + (c["timezones"].get("suppressed", {}) or {}).get("groups", 0)),
            f"{c['stability']:.2f}",
            c["change"],
            "yes" if c["cross_boundary"] else "",
            key,
        )
    console.print(table)
    if listed["suppressed_communities"]:
        console.print(
            f"{listed['suppressed_communities']} communities of fewer than {listed['min_group_size']} people "
            "are not shown"
        )
    nmi, ari, offices = (_f(summary[key]) for key in ("nmi_departments", "ari_departments", "nmi_locations"))
    console.print(f"departments vs communities: NMI {nmi}, ARI {ari}; offices: NMI {offices}")
    silos = analysis_views.get_silos(kith, None, run["id"])
    flagged = [s for s in silos["departments"] if s.get("flagged")]
    if flagged:
        console.print("silos between departments: " + "; ".join(f"{s['a']} / {s['b']}" for s in flagged[:8]))
    flow = analysis_views.get_flow(kith, None, run["id"])
    overall = flow.get("overall") or {}
    console.print(
        f"information flow: median latency {_f(overall.get('median_latency_hours'))} h, "
        f"reach within 24 h {_pct(overall.get('reach_24h'))}, within 7 days {_pct(overall.get('reach_7d'))}"
    )
    changes = summary.get("changes", {})
    if summary.get("previous_run"):
        console.print(
            f"since run {summary['previous_run']}: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(changes.items()))
        )


def _f(value: Any) -> str:
    return "–" if value is None else f"{float(value):.2f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.0f}%"
