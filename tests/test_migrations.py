"""Migrations from an empty database, on SQLite and on PostgreSQL, and SQLite's connection settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from tests.conftest import _create_database, _drop_database, make_settings, postgres_url

from kith.app import build_app
from kith.storage import migrate
from kith.storage.database import Database, normalise_url
from kith.storage.tables import metadata

# Full-text search lives outside the metadata: FTS5 tables and triggers on SQLite, a generated
# tsvector column with its index on PostgreSQL. Alembic cannot reflect the expression index.
SEARCH_TABLES = {"posts_fts", "posts_fts_data", "posts_fts_idx", "posts_fts_docsize", "posts_fts_config"}
NOT_IN_METADATA = {"uq_people_email_lower", "ix_posts_search_vector", "search_vector", *SEARCH_TABLES}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield db
        db.dispose()
        return
    base = postgres_url()
    if not base:
        pytest.skip("set KITH_TEST_DATABASE_URL to run the PostgreSQL half")
    name = f"{sa.make_url(normalise_url(base)).database}_kith_migrations_{os.getpid()}"
    db = Database(_create_database(base, name))
    try:
        yield db
    finally:
        db.dispose()
        _drop_database(base, name)


def table_names(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def column_names(db: Database, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def schema_differences(db: Database) -> list[Any]:
    """What alembic's autogenerate would change to make the database match the metadata."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return name not in NOT_IN_METADATA

    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include, "target_metadata": metadata}
        )
        return list(compare_metadata(context, metadata))


def test_upgrade_downgrade_upgrade_from_empty(empty_db: Database) -> None:
    db = empty_db
    assert table_names(db) == set()
    assert migrate.current_revision(db) is None
    assert not migrate.is_current(db)

    migrate.upgrade(db)
    tables = table_names(db)
    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables
    if db.dialect == "sqlite":
        assert "posts_fts" in tables
    else:
        assert "search_vector" in column_names(db, "posts")
    assert migrate.is_current(db)

    migrate.downgrade(db, "base")
    assert table_names(db) - {"alembic_version"} == set()
    assert migrate.current_revision(db) is None

    migrate.upgrade(db)
    assert table_names(db) == tables
    assert migrate.is_current(db)


@pytest.mark.filterwarnings("ignore:.*uq_people_email_lower")
def test_migrated_schema_matches_the_metadata(empty_db: Database) -> None:
    migrate.upgrade(empty_db)
    differences = schema_differences(empty_db)
    assert differences == [], "\n".join(map(str, differences))


def test_migrated_schema_enforces_what_the_metadata_says(empty_db: Database) -> None:
    """The objects compare cannot see: the case-blind e-mail index and search."""
    migrate.upgrade(empty_db)
    now = sa.func.current_timestamp()
    person = {"handle": "ana", "display_name": "Ana", "created_at": now, "updated_at": now}
    people = metadata.tables["people"]
    with empty_db.engine.begin() as conn:
        conn.execute(sa.insert(people).values(email="ana@example.com", **person))
    with pytest.raises(sa.exc.IntegrityError), empty_db.engine.begin() as conn:
        conn.execute(sa.insert(people).values(email="ANA@example.com", **{**person, "handle": "ana2"}))
    with pytest.raises(sa.exc.IntegrityError), empty_db.engine.begin() as conn:
        conn.execute(sa.insert(people).values(email="bo@example.com", **{**person, "work_days": 0}))


# SQLite's connection settings


def test_sqlite_pragmas(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kith.db'}"
    app = build_app(make_settings(url, sqlite_busy_timeout_ms=1234))
    try:
        migrate.upgrade(app.db)
        with app.db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        # Foreign keys are enforced, not merely declared.
        topics = metadata.tables["topics"]
        with pytest.raises(sa.exc.IntegrityError), app.db.transaction() as tx:
            tx.conn.execute(
                sa.insert(topics).values(
                    space_id=999,
                    title="orphan",
                    author_id=999,
                    created_at=sa.func.current_timestamp(),
                    last_activity_at=sa.func.current_timestamp(),
                )
            )
    finally:
        app.close()


def test_sqlite_pragmas_hold_on_every_pooled_connection(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'kith.db'}", busy_timeout_ms=4321)
    try:
        connections = [db.engine.connect() for _ in range(3)]
        for conn in connections:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
            conn.close()
    finally:
        db.dispose()
