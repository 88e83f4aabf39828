"""``kith db``: the schema."""

from __future__ import annotations

import typer

from kith.cli.common import console, friendly, opened
from kith.storage import migrate

app = typer.Typer(help="Database schema: upgrade to the newest revision, show the current one.")


@app.command("upgrade")
@friendly
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create the database or bring its schema up to date."""
    with opened() as kith:
        migrate.upgrade(kith.db, revision)
        console.print(f"database at revision {migrate.current_revision(kith.db)}")


@app.command("current")
@friendly
def current() -> None:
    """Print the schema revision of the database."""
    with opened() as kith:
        rev = migrate.current_revision(kith.db) or "(empty)"
        state = "up to date" if migrate.is_current(kith.db) else "needs `kith db upgrade`"
        console.print(f"{rev} ({state})")
