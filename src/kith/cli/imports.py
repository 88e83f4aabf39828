"""``kith import``: bring people in from files, and who communicates with whom."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from kith.actions import interactions, people, roster
from kith.actions.interactions import ImportFailed
from kith.cli.common import console, err_console, fail, friendly, opened
from kith.domain.errors import RosterInvalid
from kith.domain.interactions import BROADCAST_RECIPIENTS

app = typer.Typer(
    help="Import people (a roster) and who communicates with whom (mail, Slack, edge lists).",
    no_args_is_help=True,
)


@app.command("roster")
@friendly
def import_roster(
    file: Path = typer.Argument(..., help="The roster CSV: email,name,...,manager_email,timezone,..."),
) -> None:
    """Create and update people from a roster CSV: all of it lands, or none of it.

    Columns: email and name (required), title, department, location, manager_email,
    timezone, work_start, work_end, work_days. People are matched by e-mail, so importing
    the file again updates them and never duplicates them.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(escape(f"{file}: cannot read it ({exc.strerror or exc})")) from None
    with opened() as kith:
        try:
            result = roster.check_import_roster(kith, people.system_viewer(kith), data)
        except RosterInvalid as exc:
            for row in exc.rows:
                err_console.print(
                    f"{file}:{row.line}: {row.field}: {row.message}", markup=False, soft_wrap=True
                )
            problems = f"{len(exc.rows)} problem" + ("" if len(exc.rows) == 1 else "s")
            raise fail(escape(f"{file}: {problems}; nothing was imported")) from None
    table = Table("created", "updated", "unchanged", title=escape(str(file)))
    table.add_row(str(result.created), str(result.updated), str(result.unchanged))
    console.print(table)


# Communication data: mail, chat exports, edge lists


@app.command("email")
@friendly
def import_email(
    paths: list[Path] = typer.Argument(
        ..., help="mbox files, Maildir folders, message files, folders or zip archives of them."
    ),
    broadcast: int = typer.Option(
        BROADCAST_RECIPIENTS,
        min=1,
        help="Mail to more recipients than this is a broadcast: each tie weighs 1/n.",
    ),
) -> None:
    """Import who mailed whom from mail headers (never bodies): one run, undoable.

    Addresses are matched to people case-insensitively; unknown ones of the organisation's
    domains (KITH_ORG_DOMAINS) become inactive discovered people, others are external and
    left out. A mail in several files (sent folder and inbox) counts once; importing again
    adds nothing.
    """
    _run_import("email", paths, broadcast=broadcast)


@app.command("slack")
@friendly
def import_slack(
    path: Path = typer.Argument(..., help="A Slack export: the zip archive, or its unpacked folder."),
) -> None:
    """Import messages, thread replies, mentions and reactions from a Slack export.

    Users are matched to people by their profile's e-mail address; message text is read for
    mentions only and never kept.
    """
    _run_import("slack", [path])


@app.command("edges")
@friendly
def import_edges(
    path: Path = typer.Argument(
        ..., help="A CSV edge list: source,target[,timestamp,kind,weight], or the enron-v1 columns."
    ),
    at: str = typer.Option(
        None, help="ISO 8601 time for rows without a timestamp; default: the file's modification time."
    ),
) -> None:
    """Import a CSV edge list; any bad row refuses the whole file, naming its line."""
    default_at = None
    if at is not None:
        try:
            default_at = datetime.fromisoformat(at)
        except ValueError:
            raise fail(escape(f"--at: {at!r} is not an ISO 8601 time such as 2025-02-03T09:00:00Z")) from None
        default_at = default_at.replace(tzinfo=UTC) if default_at.tzinfo is None else default_at
    _run_import("edges", [path], default_at=default_at)


@app.command("runs")
@friendly
def import_runs() -> None:
    """List import runs, newest first, with their status and counts."""
    with opened() as kith:
        runs = interactions.list_runs(kith, people.system_viewer(kith))
    table = Table("run", "kind", "status", "started", "records", "new", "source", "error")
    for run in runs:
        stats = run["stats"] or {}
        table.add_row(
            str(run["id"]),
            run["kind"],
            run["status"],
            f"{run['started_at']:%Y-%m-%d %H:%M}",
            f"{stats.get('records', 0):,}",
            f"{stats.get('interactions_new', 0):,}",
            escape(run["source"]),
            escape(_one_line(run["error"])[:120]),
        )
    console.print(table if runs else "no import runs yet")


@app.command("undo")
@friendly
def import_undo(run: int = typer.Argument(..., help="The run's id, as `kith import runs` lists it.")) -> None:
    """Remove everything an import run wrote, and the people only it discovered."""
    with opened() as kith:
        result = interactions.undo(kith, people.system_viewer(kith), run)
    stats = result.stats
    console.print(
        f"import run {run} {result.status}: {stats.get('undone_interactions', 0):,} interactions and "
        f"{stats.get('undone_people', 0):,} discovered people removed",
        highlight=False,
    )


_SHOWN = (
    "files",
    "messages",
    "message_ids",
    "duplicates",
    "messages_skipped",
    "broadcasts",
    "replies",
    "addresses",
    "users",
    "channels",
    "rows",
    "ties",
    "people_discovered",
    "ties_external",
    "ties_unknown_person",
    "interactions_new",
    "interactions_already_known",
)


def _run_import(kind: str, paths: list[Path], **options: Any) -> None:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[counts]}"),
    )
    with opened() as kith, Progress(*columns, console=err_console, transient=True) as bar:
        viewer = people.system_viewer(kith)
        task = bar.add_task(f"importing {kind}", total=None, counts="")

        def show(progress: interactions.ImportProgress) -> None:
            stats = progress.stats
            bar.update(
                task,
                total=stats.get("bytes_total") or None,
                completed=stats.get("bytes_read", 0),
                counts=f"{progress.records:,} records",
            )

        try:
            result = interactions.check_import(
                kith, viewer, kind, paths, [str(p) for p in paths], on_progress=show, **options
            )
        except ImportFailed as exc:
            failed = f" (import run {exc.run_id} failed)" if exc.run_id else ""
            raise fail(escape(_one_line(f"{exc}; nothing was imported{failed}"))) from None
    table = Table(
        "", "count", title=escape(f"import run {result.run_id}: {_one_line(', '.join(map(str, paths)))}")
    )
    shown = [name for name in _SHOWN if name in result.stats]
    shown += sorted(name for name in result.stats if name.startswith("skipped_"))
    for name in shown:
        table.add_row(name.replace("_", " "), f"{result.stats[name]:,}")
    console.print(table)


def _one_line(text: str) -> str:
    return " ".join(text.split())
