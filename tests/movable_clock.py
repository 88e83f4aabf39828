"""A clock a test moves by hand, and an App built on it over the test's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import FAST_HASHER, Factory, make_settings, truncate_all

from kith.api.factory import create_api
from kith.app import App, Clock, build_app


@dataclass
class MovableClock:
    """Stands still until a test moves it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def clocked_app(database_url: str, clock: Clock, **settings: Any) -> Iterator[App]:
    """An App whose time is ``clock``, on the same database the ``app`` fixture would use."""
    kith = build_app(make_settings(database_url, **settings), clock=clock, hasher=FAST_HASHER)
    if kith.db.dialect == "postgresql":
        truncate_all(kith.db)
    try:
        yield kith
    finally:
        kith.close()


@dataclass
class Timed:
    """An App on a clock the test moves, its HTTP client and a factory of people."""

    app: App
    clock: MovableClock
    client: TestClient
    make: Factory


@contextmanager
def timed_app(database_url: str, **settings: Any) -> Iterator[Timed]:
    clock = MovableClock()
    with clocked_app(database_url, clock, **settings) as kith, TestClient(create_api(kith)) as client:
        yield Timed(kith, clock, client, Factory(kith))
