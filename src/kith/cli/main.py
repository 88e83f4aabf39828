"""The ``kith`` command."""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

from kith.actions import people
from kith.cli import db, imports
from kith.cli import people as people_cli
from kith.cli import spaces as spaces_cli
from kith.cli.common import console, friendly, load_settings, opened
from kith.cli.serving import serve_app
from kith.simulate.sample import build_sample
from kith.storage import migrate

cli = typer.Typer(
    name="kith",
    help="Kith: find the real communities in an organisation and help information move through them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cli.add_typer(db.app, name="db")
cli.add_typer(people_cli.app, name="people")
cli.add_typer(spaces_cli.app, name="spaces")
cli.add_typer(imports.app, name="import")


@cli.command()
@friendly
def init(
    email: str = typer.Option("admin@kith.local", help="The administrator's e-mail address."),
    name: str = typer.Option("Administrator", help="The administrator's display name."),
    password: str = typer.Option(None, help="Password; a random one is made and printed if left out."),
) -> None:
    """Create the database and an administrator account, and print the credentials."""
    chosen = password or secrets.token_urlsafe(12)
    with opened() as kith:
        migrate.upgrade(kith.db)
        person = people.do_bootstrap_admin(kith, email=email, display_name=name, password=chosen)
    console.print(f"database ready; administrator [bold]{person.email}[/]")
    if not password:
        console.print(f"password: [bold]{chosen}[/]  (shown once; change it after signing in)")


@cli.command()
@friendly
def serve(
    host: str = typer.Option(None, help="Listen address (KITH_HOST)."),
    port: int = typer.Option(None, help="Listen port (KITH_PORT)."),
    workers: int = typer.Option(None, help="Server processes (KITH_WORKERS)."),
) -> None:
    """Serve the API (and later the web UI) until interrupted."""
    serve_app(load_settings(host=host, port=port, workers=workers))


@cli.command()
@friendly
def demo(
    database: Path = typer.Option(Path("kith-demo.db"), help="SQLite file, made anew each run."),
    seed: int = typer.Option(1, help="Seed of the generated organisation."),
    serve_it: bool = typer.Option(True, "--serve/--no-serve", help="Serve when ready."),
) -> None:
    """Build a sample organisation in a fresh SQLite database and serve it."""
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = load_settings(database_url=f"sqlite:///{database}", demo=True)
    with opened(settings) as kith:
        migrate.upgrade(kith.db)
        org = build_sample(kith, seed=seed)
    console.print(f"sample organisation ready: {org.people} people, {org.spaces} spaces, {org.topics} topics")
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"serving on [bold]{url}[/]  (API docs: {url}/docs)")
    console.print(
        f"sign in as administrator [bold]{org.admin_email}[/] or member "
        f"[bold]{org.member_email}[/], password [bold]{org.password}[/]"
    )
    if serve_it:
        serve_app(settings)


def main() -> None:
    cli()
