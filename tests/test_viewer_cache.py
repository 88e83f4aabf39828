"""The short memory of checked bearer tokens (storage/viewers.py): fewer lookups, and
nothing a change must end at once outlives it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.conftest import FAST_HASHER, Factory, make_settings

from kith.actions import auth, people
from kith.app import App, build_app
from kith.domain.errors import Unauthorized
from kith.domain.models import Event, Person, Role, Viewer, WorkingHours
from kith.storage.viewers import ViewerCache

ME = "/api/v1/me"


def token_lookups(app: App) -> list[int]:
    seen = [0]

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen[0] += "FROM tokens JOIN people" in statement

    sa.event.listen(app.db.engine, "before_cursor_execute", count)
    return seen


def test_a_token_is_looked_up_once_while_remembered(client: TestClient, make: Factory, app: App) -> None:
    ana = make.person("Ana Silva")
    lookups = token_lookups(app)
    for _ in range(5):
        assert client.get(ME, headers=ana.headers).status_code == 200
    assert lookups[0] == 1


def test_with_no_memory_every_request_looks_the_token_up(database_url: str, make: Factory) -> None:
    app = build_app(make_settings(database_url, token_cache_seconds=0), hasher=FAST_HASHER)
    try:
        viewer = make.person("Ana Silva")
        lookups = token_lookups(app)
        for _ in range(3):
            auth.access_viewer(app, viewer.token)
        assert lookups[0] == 3
    finally:
        app.close()


def test_signing_out_ends_the_token_at_once(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    assert client.get(ME, headers=ana.headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=ana.headers).status_code == 204
    assert client.get(ME, headers=ana.headers).status_code == 401


def test_a_role_taken_away_is_gone_on_the_next_request(client: TestClient, make: Factory) -> None:
    bo = make.person("Bo Chen", role=Role.ADMIN)
    assert client.get(ME, headers=bo.headers).json()["role"] == "admin"
    response = client.patch(f"/api/v1/people/{bo.id}", json={"role": "member"}, headers=make.admin.headers)
    assert response.status_code == 200, response.text
    assert client.get(ME, headers=bo.headers).json()["role"] == "member"
    response = client.post(
        "/api/v1/people", json={"email": "x@example.com", "display_name": "X"}, headers=bo.headers
    )
    assert response.status_code == 403


def test_ones_own_changes_show_on_the_next_request(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    assert client.get(ME, headers=ana.headers).json()["timezone"] == "UTC"
    response = client.patch(ME, json={"timezone": "Asia/Singapore"}, headers=ana.headers)
    assert response.status_code == 200, response.text
    assert client.get(ME, headers=ana.headers).json()["timezone"] == "Asia/Singapore"


def test_another_process_forgets_a_person_when_it_reads_their_event(database_url: str, make: Factory) -> None:
    """Two Apps on one database are two processes: the second forgets a deactivated
    person's token when the event reaches its dispatcher (here: handed to it by hand)."""
    first = make.app
    second = build_app(make_settings(database_url), hasher=FAST_HASHER)
    try:
        ana = make.person("Ana Silva")
        assert auth.access_viewer(second, ana.token).id == ana.id
        collected: list[Event] = []
        first.hub.subscribe(collected.extend)
        people.do_deactivate_person(first, make.admin.viewer, ana.id)
        # Until the second process hears of it, it still believes the token (the window).
        assert auth.access_viewer(second, ana.token).id == ana.id
        for listener in second.dispatcher.listeners:
            listener(collected)
        with pytest.raises(Unauthorized):
            auth.access_viewer(second, ana.token)
    finally:
        second.close()


# the cache itself, on a clock of our own


def viewer(person_id: int) -> Viewer:
    person = Person(
        id=person_id,
        email=f"p{person_id}@example.com",
        handle=f"p{person_id}",
        display_name=f"P {person_id}",
        title="",
        department="",
        location="",
        manager_id=None,
        timezone="UTC",
        hours=WorkingHours(),
        active=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return Viewer(person, Role.MEMBER)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def test_an_entry_is_believed_for_its_seconds_and_never_past_the_tokens_expiry() -> None:
    ticks = Ticks()
    cache = ViewerCache(2.0, monotonic=ticks)
    cache.put("a", viewer(1), LATER, cache.generation)
    cache.put("b", viewer(2), NOW + timedelta(seconds=1), cache.generation)
    assert cache.get("a", NOW) == viewer(1)
    assert cache.get("b", NOW) == viewer(2)
    assert cache.get("b", NOW + timedelta(seconds=1)) is None  # the token itself expired
    ticks.now += 2.0
    assert cache.get("a", NOW) is None  # the memory's own time is up


def test_a_lookup_that_raced_a_change_is_not_kept() -> None:
    cache = ViewerCache(2.0)
    generation = cache.generation  # a lookup begins...
    cache.forget_person(1)  # ...the person changes meanwhile...
    cache.put("a", viewer(1), LATER, generation)  # ...its answer may be stale
    assert cache.get("a", NOW) is None


def test_events_forget_the_person_or_everyone() -> None:
    cache = ViewerCache(2.0)
    for token, person_id in (("a", 1), ("b", 2), ("c", 1)):
        cache.put(token, viewer(person_id), LATER, cache.generation)

    def event(kind: str, payload: dict[str, object]) -> Event:
        return Event(1, kind, None, None, NOW, payload, None)

    cache.on_events([event("post.created", {"id": 1})])
    assert cache.get("a", NOW) is not None
    cache.on_events([event("person.updated", {"id": 1})])
    assert (cache.get("a", NOW), cache.get("c", NOW)) == (None, None)
    assert cache.get("b", NOW) == viewer(2)
    cache.on_events([event("people.imported", {})])
    assert cache.get("b", NOW) is None


def test_switched_off_it_keeps_nothing() -> None:
    cache = ViewerCache(0.0)
    cache.put("a", viewer(1), LATER, cache.generation)
    assert cache.get("a", NOW) is None


def test_a_change_is_forgotten_at_its_commit_without_waiting_for_the_dispatcher(
    app: App, make: Factory
) -> None:
    """The App here serves nothing (its dispatcher is not running): the hub alone must do."""
    ana = make.person("Ana Silva")
    assert auth.access_viewer(app, ana.token).person.timezone == "UTC"
    auth.check_update_me(app, auth.access_viewer(app, ana.token), timezone="Asia/Singapore")
    assert auth.access_viewer(app, ana.token).person.timezone == "Asia/Singapore"
    people.do_deactivate_person(app, make.admin.viewer, ana.id)
    with pytest.raises(Unauthorized):
        auth.access_viewer(app, ana.token)
