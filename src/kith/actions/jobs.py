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
    jobs: list[Job] = []
    return jobs
