"""Whether this process can serve: the database answers and its schema is current."""

from __future__ import annotations

from dataclasses import dataclass

from kith.app import App
from kith.storage import migrate


@dataclass(frozen=True, slots=True)
class Health:
    database: bool
    schema_current: bool

    @property
    def ok(self) -> bool:
        return self.database and self.schema_current


def get_health(app: App) -> Health:
    if not app.db.ping():
        return Health(database=False, schema_current=False)
    return Health(database=True, schema_current=migrate.is_current(app.db))
