"""Fixtures: a real App on a real database, SQLite always and PostgreSQL when configured.

``KITH_TEST_DATABASE_URL`` names a PostgreSQL database; each xdist worker gets its own
database next to it (``<name>_kith_<worker>``), migrated once, truncated between tests.
Under ``CI=true`` the PostgreSQL half must run: a missing URL is an error, not a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from kith.actions import auth, people
from kith.actions.people import PersonInput
from kith.api.factory import create_api
from kith.app import App, build_app
from kith.config import Settings
from kith.domain.models import Person, Role, Viewer
from kith.storage import migrate
from kith.storage.database import Database, normalise_url
from kith.storage.tables import metadata, space_members

PASSWORD = "correct horse battery"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def postgres_url() -> str | None:
    url = os.environ.get("KITH_TEST_DATABASE_URL")
    if not url and os.environ.get("CI") == "true":
        pytest.fail("CI=true but KITH_TEST_DATABASE_URL is not set: the PostgreSQL suite must run")
    return url


def _create_database(base: str, name: str) -> str:
    url = sa.make_url(normalise_url(base))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_database(base: str, name: str) -> None:
    admin = sa.create_engine(sa.make_url(normalise_url(base)), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id_str(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "kith.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database(worker_id_str: str) -> Iterator[str | None]:
    base = postgres_url()
    if not base:
        yield None
        return
    # One database per test process: concurrent runs and xdist workers never meet.
    name = f"{sa.make_url(normalise_url(base)).database}_kith_{worker_id_str}_{os.getpid()}"
    url = _create_database(base, name)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    _drop_database(base, name)


def truncate_all(db: Database) -> None:
    """Empty every table and restart its ids: DELETE in reverse dependency order is ten
    times faster than TRUNCATE on tables this small."""
    with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.execute(sa.text("SELECT sequence_name FROM information_schema.sequences")).scalars()
        for name in sequences:
            conn.execute(sa.text(f'ALTER SEQUENCE "{name}" RESTART WITH 1'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_database: str | None,
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "kith.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    if postgres_database is None:
        pytest.skip("set KITH_TEST_DATABASE_URL to run the PostgreSQL half")
    return postgres_database


def make_settings(url: str, **overrides: Any) -> Settings:
    # Presence writes in the background every second; tests that count statements or
    # commits would see it at random. Tests of presence flush by hand or set it themselves.
    overrides.setdefault("presence_flush_seconds", 60.0)
    # The periodic jobs (digests...) would run at random too; tests of them turn them on.
    overrides.setdefault("scheduler", False)
    return Settings(database_url=url, demo=True, **overrides)


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    kith = build_app(make_settings(database_url), hasher=FAST_HASHER)
    if kith.db.dialect == "postgresql":
        truncate_all(kith.db)
    yield kith
    kith.close()


@pytest.fixture
def sqlite_app(tmp_path: Path, sqlite_template: Path) -> Iterator[App]:
    """An App on SQLite only, for tests of SQLite-specific behaviour."""
    path = tmp_path / "kith.db"
    shutil.copy(sqlite_template, path)
    kith = build_app(make_settings(f"sqlite:///{path}"), hasher=FAST_HASHER)
    yield kith
    kith.close()


@pytest.fixture
def postgres_app(postgres_database: str | None) -> Iterator[App]:
    """An App on PostgreSQL only, for tests of PostgreSQL-specific behaviour (skipped
    outside CI when KITH_TEST_DATABASE_URL is unset; under CI=true it must run)."""
    if postgres_database is None:
        pytest.skip("set KITH_TEST_DATABASE_URL to run the PostgreSQL half")
    kith = build_app(make_settings(postgres_database), hasher=FAST_HASHER)
    truncate_all(kith.db)
    yield kith
    kith.close()


@dataclass
class Actor:
    """A signed-in person, with their bearer token ready for the API."""

    person: Person
    role: Role
    token: str

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.person, self.role)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> int:
        return self.person.id


class Factory:
    """Makes people through actions (never raw inserts), signed in and ready."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.count = 0
        self._admin: Actor | None = None

    @property
    def admin(self) -> Actor:
        if self._admin is None:
            person = people.do_bootstrap_admin(
                self.app, email="root@example.com", display_name="Root Admin", password=PASSWORD
            )
            self._admin = self._signed_in(person, Role.ADMIN)
        return self._admin

    def person(self, name: str | None = None, *, role: Role = Role.MEMBER, **fields: Any) -> Actor:
        self.count += 1
        name = name or f"Person {self.count}"
        email = fields.pop("email", f"{name.lower().replace(' ', '.')}{self.count}@example.com")
        data = PersonInput(email=email, display_name=name, role=role, password=PASSWORD, **fields)
        person = people.check_create_person(self.app, self.admin.viewer, data)
        return self._signed_in(person, role)

    def _signed_in(self, person: Person, role: Role) -> Actor:
        session = auth.check_login(self.app, person.email, PASSWORD)
        return Actor(person, role, session.token)


@pytest.fixture
def make(app: App) -> Factory:
    return Factory(app)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_api(app)) as test_client:
        yield test_client


def backdate_members(app: App, space_id: int, days: int) -> None:
    """The space's members joined ``days`` days ago: charts over past days (coverage of
    working hours...) then have them whatever the hour the test runs at."""
    with app.db.transaction() as tx:
        tx.conn.execute(
            space_members.update()
            .where(space_members.c.space_id == space_id)
            .values(joined_at=app.clock() - timedelta(days=days))
        )
