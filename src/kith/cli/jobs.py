"""``kith jobs``: the periodic jobs, run by hand."""

from __future__ import annotations

import typer

from kith.actions.jobs import all_jobs
from kith.api.scheduler import run_once
from kith.cli.common import console, fail, friendly, opened

app = typer.Typer(help="The periodic jobs the server runs for itself (digests, ...).", no_args_is_help=True)


@app.command("run")
@friendly
def run(name: str = typer.Option(None, "--name", help="Run only this job.")) -> None:
    """Run the jobs once: each does what is due now (safe beside a running server)."""
    jobs = all_jobs()
    if name is not None and name not in {job.name for job in jobs}:
        raise fail(f"--name: no job {name!r}; the jobs are {', '.join(job.name for job in jobs)}")
    with opened() as kith:
        results = run_once(kith, jobs, name=name)
    failed = [job for job, done in results.items() if done is None]
    for job, done in results.items():
        console.print(f"{job}: {'failed (see the log)' if done is None else f'{done} done'}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_jobs() -> None:
    """The jobs and how often the server runs each."""
    for job in all_jobs():
        console.print(f"{job.name}: every {job.every_seconds:g} s", highlight=False)
