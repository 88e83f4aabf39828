"""The runner of the periodic jobs inside a server process.

One background thread per process runs each job of :func:`kith.actions.jobs.all_jobs` at
its interval (the first pass at start). Jobs are synchronous actions, so a thread suits
them and keeps the event loop free. A job that raises is logged and tried again at its next
interval; the others go on. Each job claims its work in a write transaction, so the
schedulers of several processes (``kith serve --workers N``) never do the same work twice.

Started and stopped with the server's lifespan when ``KITH_SCHEDULER`` is on (the default).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from kith.actions.jobs import Job, all_jobs
from kith.app import App

log = logging.getLogger(__name__)


def run_once(app: App, jobs: Sequence[Job], *, name: str | None = None) -> dict[str, int | None]:
    """Run each job (or the one called ``name``) once; what each did, None where it failed."""
    return {job.name: run_job(app, job) for job in jobs if name is None or job.name == name}


def run_job(app: App, job: Job) -> int | None:
    """Run one job; its count, or None (logged) if it raised."""
    try:
        done = job.run(app)
    except Exception:
        log.exception("job %s failed; it will run again in %ss", job.name, job.every_seconds)
        return None
    if done:
        log.info("job %s did %d", job.name, done)
    return done


class Scheduler:
    """Runs ``jobs`` (default: all of them) in a daemon thread until stopped."""

    def __init__(
        self,
        app: App,
        jobs: Sequence[Job] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.jobs = list(all_jobs() if jobs is None else jobs)
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs: dict[str, int] = {job.name: 0 for job in self.jobs}

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running or not self.jobs:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="kith-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the job it runs, if any, to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        due = dict.fromkeys(range(len(self.jobs)), self._monotonic())
        while not self._stop.is_set():
            now = self._monotonic()
            for index, job in enumerate(self.jobs):
                if self._stop.is_set():
                    return
                if due[index] <= now:
                    run_job(self.app, job)
                    self.runs[job.name] += 1
                    due[index] = self._monotonic() + job.every_seconds
            self._stop.wait(max(0.0, min(due.values()) - self._monotonic()))
