"""The ``kith`` command."""

from __future__ import annotations

import secrets
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import typer

from kith.actions import people
from kith.app import build_app
from kith.cli import analyze as analyze_cli
from kith.cli import db, imports
from kith.cli import jobs as jobs_cli
from kith.cli import people as people_cli
from kith.cli import report as report_cli
from kith.cli import spaces as spaces_cli
from kith.cli.common import console, fail, friendly, load_settings, opened
from kith.cli.serving import serve_app
from kith.simulate.demo import DemoClock, build_demo
from kith.simulate.files import summary, write_files
from kith.simulate.live import LiveMembers
from kith.simulate.org import MAX_DAYS, MAX_PEOPLE, MIN_PEOPLE, simulate_org
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
cli.add_typer(jobs_cli.app, name="jobs")
cli.add_typer(report_cli.app, name="report")
cli.command(name="analyze")(analyze_cli.analyze)


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
    people_count: int = typer.Option(600, "--people", help="People in the organisation (100 to 3,000)."),
    serve_it: bool = typer.Option(True, "--serve/--no-serve", help="Serve when ready."),
    live: bool = typer.Option(True, "--live/--quiet", help="Keep a few simulated members active."),
) -> None:
    """Build the demo organisation in a fresh SQLite database and serve it.

    A simulated organisation with its mail and chat history imported and analysed, spaces
    made from its main communities (the dispersed customer-facing one first) with three weeks
    of questions, answers, facts and receipts, and a few members who keep posting.
    """
    if not 100 <= people_count <= 3000:
        fail(f"--people must be between 100 and 3,000, not {people_count}")
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = load_settings(database_url=f"sqlite:///{database}", demo=True, person_level_analysis=True)
    clock = DemoClock()
    kith = build_app(settings, clock=clock)
    try:
        migrate.upgrade(kith.db)
        with console.status("building the demo organisation..."):
            org = build_demo(kith, clock, seed=seed, size=people_count)
    finally:
        kith.close()
    url = f"http://{settings.host}:{settings.port}"
    names = ", ".join(s.name for s in org.spaces)
    console.print(
        f"demo ready in {time.perf_counter() - started:.0f} s: {org.people} people, "
        f"{org.interactions:,} imported interactions, spaces {names}; "
        f"{org.topics} topics, {org.posts} posts, {org.facts} facts"
    )
    console.print(f"open [bold]{url}[/]  (API docs: {url}/docs); every password is [bold]{org.password}[/]")
    console.print(f"  member           [bold]{org.member_email}[/]")
    console.print(f"  community owner  [bold]{org.owner_email}[/]")
    console.print(f"  analyst          [bold]{org.analyst_email}[/]")
    console.print(f"  administrator    [bold]{org.admin_email}[/]")
    if not serve_it:
        return
    members = None
    if live:
        members = LiveMembers(
            f"http://{settings.host}:{settings.port}", org.actors, org.password, org.live_material
        )
        members.start()
    try:
        serve_app(settings)
    finally:
        if members is not None:
            members.stop()


@cli.command()
@friendly
def simulate(
    people: int = typer.Option(
        600, help=f"How many people, {MIN_PEOPLE} to {MAX_PEOPLE:,}; 10,000 take a few seconds."
    ),
    days: int = typer.Option(90, help=f"Days of interactions, 1 to {MAX_DAYS}."),
    seed: int = typer.Option(1, help="The same seed gives the same organisation, byte for byte."),
    start: str = typer.Option("2025-02-03", help="The first day (UTC), as YYYY-MM-DD."),
    out: Path = typer.Option(
        None,
        help="Write roster.csv, mail.mbox, chat/, edges.csv and truth.json into this directory "
        "(seconds for 600 people, minutes for 10,000).",
    ),
) -> None:
    """Generate a synthetic organisation with planted communities, and its mail and chat.

    Offices in 15 time zones, departments, a management tree and working hours; informal
    communities across them, among them one dispersed customer-facing community; mail and
    chat that follow everyone's working hours, with noise and broadcasts. Prints a summary;
    with --out, writes the files Kith imports and the planted answer beside them.
    """
    if not MIN_PEOPLE <= people <= MAX_PEOPLE:
        raise fail(f"--people must be between {MIN_PEOPLE} and {MAX_PEOPLE:,}, not {people}")
    if not 1 <= days <= MAX_DAYS:
        raise fail(f"--days must be between 1 and {MAX_DAYS}, not {days}")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise fail(f"--start: {start!r} is not a date as YYYY-MM-DD") from None
    if out is not None:
        _check_out(out)
    with console.status(f"simulating {people:,} people over {days} days"):
        org = simulate_org(people, days, seed, start=first)
    _print_summary(summary(org), days, first)
    if out is not None:
        shutil.rmtree(out / "chat", ignore_errors=True)  # an earlier simulation's, see _check_out
        with console.status("writing") as status:
            written = write_files(org, out, lambda name: status.update(f"writing {out / name}"))
        console.print(f"wrote {', '.join(written)} into [bold]{out}[/]", highlight=False)


def _check_out(out: Path) -> None:
    """--out must be a new or empty directory, or one an earlier simulation wrote (replaced)."""
    if out.exists() and not out.is_dir():
        raise fail(f"--out: {out} is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / "truth.json").is_file():
        raise fail(
            f"--out: {out} is not empty and holds no earlier simulation; name a new or empty directory"
        )


def _print_summary(figures: dict[str, Any], days: int, first: date) -> None:
    voices = figures["customer_facing"]
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in figures["by_kind"].items())
    console.print(
        f"{figures['people']:,} people in {figures['departments']} departments and {figures['offices']} "
        f"offices ({figures['countries']} countries, {figures['timezones']} time zones); "
        f"{figures['communities']} planted communities",
        highlight=False,
    )
    console.print(
        f"{figures['interactions']:,} interactions over {days} days from {first}: {kinds}; "
        f"{figures['broadcasts']:,} broadcasts",
        highlight=False,
    )
    console.print(
        f"dispersed customer-facing community {voices['name']!r}: {voices['size']} people in "
        f"{voices['countries']} countries and {voices['departments']} departments",
        highlight=False,
    )


def main() -> None:
    cli()
