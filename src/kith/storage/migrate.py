"""Alembic, driven from code: ``kith db upgrade`` and the test fixtures call these."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kith.storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    command.upgrade(_config(db), revision)


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(_config(db), revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    return _head()


@lru_cache(maxsize=1)
def _head() -> str | None:
    """The newest revision shipped with this code (read once: it cannot change at run time)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def is_current(db: Database) -> bool:
    return current_revision(db) == head_revision(db)
