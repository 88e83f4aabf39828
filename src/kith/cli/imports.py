"""``kith import``: bring people in from files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from kith.actions import people, roster
from kith.cli.common import console, err_console, fail, friendly, opened
from kith.domain.errors import RosterInvalid

app = typer.Typer(help="Import people from files.", no_args_is_help=True)


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
