"""The periodic jobs the server runs for itself (digests, scheduled posts, question routing,
overdue facts, daily metrics): each is an action over the whole organisation, safe to run
in several processes at once (each claims its work inside a write transaction) and safe to
run late (it does what is due, however long ago it fell due).

The runner that calls them lives at the edge (:mod:`kith.api.scheduler`), started with the
server; ``kith jobs run`` runs them once from the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kith.app import App


@dataclass(frozen=True, slots=True)
class Job:
    """``run(app)`` does what is due now and returns how many things it did."""

    name: str
    every_seconds: float
    run: Callable[[App], int]


def all_jobs() -> list[Job]:
    """Every periodic job, in the order one pass runs them."""
    # Imported here: each job's module imports much of the actions layer.
    from kith.actions.digest import send_due
    from kith.actions.facts import flag_overdue
    from kith.actions.metrics import do_store_daily_metrics
    from kith.actions.routing import widen_due
    from kith.actions.scheduled import send_due as send_scheduled

    jobs: list[Job] = []
    jobs.append(Job("facts.overdue", 300, flag_overdue))
    jobs.append(Job("digests", 60, send_due))
    jobs.append(Job("scheduled.send", 15, send_scheduled))
    jobs.append(Job("routing.widen", 60, widen_due))
    jobs.append(Job("metrics.daily", 3600, do_store_daily_metrics))
    return jobs
