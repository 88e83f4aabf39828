"""``kith people``: the directory."""

from __future__ import annotations

import typer
from rich.table import Table

from kith.actions import people
from kith.cli.common import console, friendly, opened

app = typer.Typer(help="People in the directory.")


@app.command("list")
@friendly
def list_people(
    query: str = typer.Option(None, "--query", "-q", help="Name, e-mail or handle contains."),
    department: str = typer.Option(None, help="Exact department."),
    location: str = typer.Option(None, help="Exact location."),
    inactive: bool = typer.Option(False, "--inactive", help="Include deactivated people."),
    limit: int = typer.Option(50, min=1, max=200),
) -> None:
    """List people, filtered."""
    with opened() as kith:
        viewer = people.system_viewer(kith)
        page = people.list_people(
            kith,
            viewer,
            query=query,
            department=department,
            location=location,
            include_inactive=inactive,
            limit=limit,
        )
    table = Table("id", "name", "e-mail", "department", "location", "time zone", "hours")
    for p in page.items:
        hours = f"{p.hours.start:%H:%M}-{p.hours.end:%H:%M}"
        table.add_row(str(p.id), p.display_name, p.email, p.department, p.location, p.timezone, hours)
    console.print(table)
    if page.next_cursor:
        console.print(f"(first {len(page.items)} shown; raise --limit or filter)")
