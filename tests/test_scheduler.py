"""The in-process scheduler of the periodic jobs, and `kith jobs run`."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from tests.conftest import FAST_HASHER, make_settings, truncate_all
from typer.testing import CliRunner

from kith.actions import people
from kith.actions.jobs import Job, all_jobs
from kith.api.factory import create_api
from kith.api.scheduler import Scheduler, run_once
from kith.app import App, build_app
from kith.cli.main import cli
from kith.storage import digests


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


def test_the_digest_job_is_registered() -> None:
    jobs = {job.name: job for job in all_jobs()}
    assert jobs["digests"].every_seconds == 60


def test_a_failing_job_is_logged_and_the_others_go_on(app: App, caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    lock = threading.Lock()

    def good(_app: App) -> int:
        with lock:
            ran.append("good")
        return 1

    def bad(_app: App) -> int:
        with lock:
            ran.append("bad")
        raise RuntimeError("boom")

    scheduler = Scheduler(app, [Job("bad", 0.02, bad), Job("good", 0.02, good)])
    with caplog.at_level(logging.ERROR, logger="kith.api.scheduler"):
        scheduler.start()
        try:
            wait_for(lambda: ran.count("good") >= 3 and ran.count("bad") >= 3)
        finally:
            scheduler.stop()
    assert not scheduler.running
    assert scheduler.runs["good"] >= 3
    assert any("job bad failed" in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is not None for r in caplog.records if "job bad failed" in r.getMessage())
    settled = len(ran)
    time.sleep(0.1)
    assert len(ran) == settled  # stopped means stopped


def test_each_job_runs_at_its_own_interval(app: App) -> None:
    ticks = {"fast": 0, "slow": 0}

    def counter(name: str) -> Job:
        def run(_app: App) -> int:
            ticks[name] += 1
            return 0

        return Job(name, 0.05 if name == "fast" else 3600, run)

    scheduler = Scheduler(app, [counter("fast"), counter("slow")])
    scheduler.start()
    try:
        wait_for(lambda: ticks["fast"] >= 5)
    finally:
        scheduler.stop()
    assert ticks["slow"] == 1  # the first pass at start, then not for an hour


def recorded(kith: App, person_id: int) -> list[tuple[date, str]]:
    with kith.db.read() as conn:
        return [(d.local_date, d.status) for d in digests.for_person(conn, person_id)]


def test_the_server_starts_and_stops_the_scheduler_with_its_lifespan(database_url: str) -> None:
    clock_now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    kith = build_app(make_settings(database_url, scheduler=True), clock=lambda: clock_now, hasher=FAST_HASHER)
    try:
        if kith.db.dialect == "postgresql":
            truncate_all(kith.db)
        person = people.do_bootstrap_admin(
            kith, email="root@example.com", display_name="Root", password="x" * 12
        )
        api = create_api(kith)
        scheduler = api.state.scheduler
        assert isinstance(scheduler, Scheduler)
        assert not scheduler.running
        with TestClient(api):
            assert scheduler.running
            # The digests job runs at once: no SMTP host, so the day is recorded as off.
            wait_for(lambda: bool(recorded(kith, person.id)))
            assert recorded(kith, person.id) == [(date(2026, 3, 2), "off")]
        assert not scheduler.running
        off = create_api(build_app(make_settings(database_url, scheduler=False)))
        assert off.state.scheduler is None
    finally:
        kith.close()


def test_run_once_and_the_command_line(app: App, database_url: str) -> None:
    calls: list[str] = []

    def job(name: str) -> Job:
        return Job(name, 60, lambda _app: calls.append(name) or 2)

    assert run_once(app, [job("a"), job("b")], name="b") == {"b": 2}
    assert calls == ["b"]
    assert run_once(app, [Job("x", 60, lambda _app: 1 // 0)]) == {"x": None}
    runner = CliRunner()
    env = {"KITH_DATABASE_URL": database_url, "KITH_DEMO": "true"}
    result = runner.invoke(cli, ["jobs", "run", "--name", "digests"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "digests:" in result.output
    wrong = runner.invoke(cli, ["jobs", "run", "--name", "nope"], env=env)
    assert wrong.exit_code != 0
    assert "no job 'nope'" in wrong.stderr
    listed = runner.invoke(cli, ["jobs", "list"], env=env)
    assert "digests: every 60 s" in listed.output
