"""Put a simulated organisation into a Kith: its roster, then its history of interactions.

Everything goes through the real import paths (the roster import, the interaction loader),
as a real organisation's files would; the demo, tests and benchmarks use it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from kith.actions import interactions, roster
from kith.actions.people import system_viewer
from kith.app import App
from kith.simulate.files import write_roster
from kith.simulate.org import SimulatedOrg


@dataclass(frozen=True)
class Loaded:
    people_created: int
    mail_run: int
    chat_run: int
    interactions: int


def load_org(app: App, org: SimulatedOrg) -> Loaded:
    """Import ``org``'s roster and interactions (as an administrator, through the loaders)."""
    admin = system_viewer(app)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        write_roster(org, path)
        created = roster.check_import_roster(app, admin, path.read_bytes()).created
    runs = []
    written = 0
    for origin, kind in (("email", "email"), ("slack", "slack")):
        records = (r for r in org.records() if r.origin == origin)
        result = interactions.load(app, admin, kind, f"simulated organisation (seed {org.seed})", records)
        runs.append(result.run_id)
        written += int(result.stats["interactions_new"])
    return Loaded(created, runs[0], runs[1], written)
