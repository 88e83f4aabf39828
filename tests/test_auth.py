"""Signing in and out, bearer tokens, the login rate limit, and one's own profile."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.conftest import PASSWORD, Actor, Factory
from tests.movable_clock import Timed, timed_app

from kith.app import App
from kith.storage.tables import accounts, tokens

LOGIN = "/api/v1/auth/login"


def login(client: TestClient, email: str, password: str = PASSWORD) -> tuple[int, dict[str, object]]:
    response = client.post(LOGIN, json={"email": email, "password": password})
    return response.status_code, response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape: {"error": {"code", "message", "fields"}}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url, login_max_failures=3, login_window_seconds=60) as timed:
        yield timed


# signing in


def test_login_returns_a_token_that_works(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    status, body = login(client, ana.person.email)
    assert status == 200, body
    assert body["token_type"] == "bearer"
    assert body["person_id"] == ana.id
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == ana.person.email


def test_login_ignores_the_case_of_the_address(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    status, _ = login(client, f"  {ana.person.email.upper()} ")
    assert status == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ana.silva1@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("not an address", PASSWORD),
    ],
)
def test_bad_credentials_get_401_with_one_message(
    client: TestClient, make: Factory, email: str, password: str
) -> None:
    make.person("Ana Silva")
    response = client.post(LOGIN, json={"email": email, "password": password})
    error = assert_error(response, 401, "unauthorized")
    assert error["message"] == "wrong e-mail address or password"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": ""},
        {"email": "a@example.com", "password": "x", "remember": True},
        {"email": 5, "password": "x"},
    ],
)
def test_malformed_login_is_422(client: TestClient, body: dict[str, object]) -> None:
    assert_error(client.post(LOGIN, json=body), 422, "invalid_input")


@pytest.mark.parametrize("email", ["nul\x00@example.com", "\ud800@example.com", "a@example.com\x00"])
def test_login_with_unstorable_characters_is_refused_not_crashed(client: TestClient, email: str) -> None:
    # json.dumps escapes NUL and lone surrogates, which httpx's json= would refuse to encode.
    body = json.dumps({"email": email, "password": "x"})
    response = client.post(LOGIN, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (401, 422), response.text
    assert_error(response, response.status_code, response.json()["error"]["code"])


def test_missing_or_malformed_authorization_is_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nonsense"}):
        response = client.get("/api/v1/me", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    long_token = {"Authorization": "Bearer " + "x" * 5000}
    assert_error(client.get("/api/v1/me", headers=long_token), 401, "unauthorized")


def test_tokens_are_stored_hashed(client: TestClient, make: Factory, app: App) -> None:
    ana = make.person("Ana Silva")
    status, body = login(client, ana.person.email)
    assert status == 200
    raw = str(body["token"])
    with app.db.read() as conn:
        rows = conn.execute(sa.select(tokens).where(tokens.c.person_id == ana.id)).mappings().all()
    stored = [str(value) for row in rows for value in row.values()]
    assert not any(raw in value for value in stored)
    assert hashlib.sha256(raw.encode()).hexdigest() in {row["token_hash"] for row in rows}


def test_password_hashes_are_argon2id(make: Factory, app: App) -> None:
    ana = make.person("Ana Silva")
    with app.db.read() as conn:
        stored = conn.execute(sa.select(accounts.c.password_hash).where(accounts.c.person_id == ana.id))
        password_hash = stored.scalar_one()
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash


# signing out and losing access


def test_logout_revokes_only_that_token(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    _, second = login(client, ana.person.email)
    other = {"Authorization": f"Bearer {second['token']}"}
    assert client.post("/api/v1/auth/logout", headers=ana.headers).status_code == 204
    response = client.get("/api/v1/me", headers=ana.headers)
    assert_error(response, 401, "unauthorized")
    assert_error(client.post("/api/v1/auth/logout", headers=ana.headers), 401, "unauthorized")
    assert client.get("/api/v1/me", headers=other).status_code == 200


def test_tokens_expire(timed: Timed) -> None:
    ana = timed.make.person("Ana Silva")
    ttl_days = timed.app.settings.token_ttl_days
    timed.clock.advance(days=ttl_days, seconds=-1)
    assert timed.client.get("/api/v1/me", headers=ana.headers).status_code == 200
    timed.clock.advance(seconds=1)
    response = timed.client.get("/api/v1/me", headers=ana.headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    status, _ = login(timed.client, ana.person.email)
    assert status == 200


def test_login_reports_when_the_token_expires(timed: Timed) -> None:
    ana = timed.make.person("Ana Silva")
    status, body = login(timed.client, ana.person.email)
    assert status == 200
    ttl = timedelta(days=timed.app.settings.token_ttl_days)
    assert body["expires_at"] == (timed.clock.now + ttl).isoformat()


def test_deactivated_people_lose_their_tokens_and_cannot_sign_in(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    assert client.get("/api/v1/me", headers=ana.headers).status_code == 200
    response = client.post(f"/api/v1/people/{ana.id}/deactivate", headers=make.admin.headers)
    assert response.status_code == 200, response.text
    assert_error(client.get("/api/v1/me", headers=ana.headers), 401, "unauthorized")
    status, _ = login(client, ana.person.email)
    assert status == 401
    # Reactivating lets them sign in again, but the old token stays dead.
    response = client.patch(f"/api/v1/people/{ana.id}", json={"active": True}, headers=make.admin.headers)
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/me", headers=ana.headers).status_code == 401
    status, _ = login(client, ana.person.email)
    assert status == 200


def test_a_new_password_signs_out_everywhere(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    response = client.patch(
        f"/api/v1/people/{ana.id}", json={"password": "a new long secret"}, headers=make.admin.headers
    )
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/me", headers=ana.headers).status_code == 401
    assert login(client, ana.person.email)[0] == 401
    assert login(client, ana.person.email, "a new long secret")[0] == 200


# the rate limit


def test_too_many_failures_lock_the_address_until_the_window_passes(timed: Timed) -> None:
    ana = timed.make.person("Ana Silva")
    email = ana.person.email
    limit = timed.app.settings.login_max_failures
    for _ in range(limit):
        assert login(timed.client, email, "wrong")[0] == 401
        timed.clock.advance(seconds=1)
    for password in ("wrong", PASSWORD):
        response = timed.client.post(LOGIN, json={"email": email, "password": password})
        assert_error(response, 429, "rate_limited")
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= timed.app.settings.login_window_seconds + 1
    # The case of the address does not open a second door.
    assert login(timed.client, email.upper())[0] == 429
    timed.clock.advance(seconds=retry_after)
    assert login(timed.client, email)[0] == 200


def test_a_success_clears_earlier_failures(timed: Timed) -> None:
    ana = timed.make.person("Ana Silva")
    email = ana.person.email
    limit = timed.app.settings.login_max_failures
    for _ in range(limit - 1):
        assert login(timed.client, email, "wrong")[0] == 401
    assert login(timed.client, email)[0] == 200
    for _ in range(limit - 1):
        assert login(timed.client, email, "wrong")[0] == 401
    assert login(timed.client, email)[0] == 200


def test_the_limit_is_per_address(timed: Timed) -> None:
    ana = timed.make.person("Ana Silva")
    bo = timed.make.person("Bo Chen")
    for _ in range(timed.app.settings.login_max_failures):
        login(timed.client, ana.person.email, "wrong")
    assert login(timed.client, ana.person.email)[0] == 429
    assert login(timed.client, bo.person.email)[0] == 200


def test_unknown_addresses_are_limited_too(timed: Timed) -> None:
    for _ in range(timed.app.settings.login_max_failures):
        assert login(timed.client, "ghost@example.com", "guess")[0] == 401
    assert login(timed.client, "ghost@example.com", "guess")[0] == 429


# one's own profile


def test_get_me(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva", timezone="Asia/Tokyo", department="Sales")
    body = client.get("/api/v1/me", headers=ana.headers).json()
    assert body["id"] == ana.id
    assert body["role"] == "member"
    assert body["timezone"] == "Asia/Tokyo"
    assert body["department"] == "Sales"
    assert (body["work_start"], body["work_end"], body["work_days"]) == (
        "09:00",
        "17:00",
        "mon,tue,wed,thu,fri",
    )
    assert client.get("/api/v1/me", headers=make.admin.headers).json()["role"] == "admin"


def patch_me(client: TestClient, actor: Actor, **changes: object) -> tuple[int, dict[str, object]]:
    response = client.patch("/api/v1/me", json=changes, headers=actor.headers)
    return response.status_code, response.json()


def test_patch_me_sets_time_zone_and_hours(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    status, body = patch_me(
        client, ana, timezone="America/Sao_Paulo", work_start="08:30", work_end="16:45", work_days="sun-thu"
    )
    assert status == 200, body
    assert body["timezone"] == "America/Sao_Paulo"
    assert (body["work_start"], body["work_end"]) == ("08:30", "16:45")
    assert body["work_days"] == "mon,tue,wed,thu,sun"
    assert body["role"] == "member"
    again = client.get("/api/v1/me", headers=ana.headers).json()
    assert again == body


def test_patch_me_keeps_what_is_not_given(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva", timezone="Europe/Paris")
    status, body = patch_me(client, ana, work_end="18:00")
    assert status == 200, body
    assert (body["timezone"], body["work_start"], body["work_end"]) == ("Europe/Paris", "09:00", "18:00")
    status, body = patch_me(client, ana)
    assert status == 200
    assert body["work_end"] == "18:00"


DAY_LISTS = [
    ("mon-fri", "mon,tue,wed,thu,fri"),
    ("sun-thu", "mon,tue,wed,thu,sun"),
    ("fri-mon", "mon,fri,sat,sun"),
    ("mon,wed,fri", "mon,wed,fri"),
    ("Sat, Sun", "sat,sun"),
    ("sat", "sat"),
]


def test_patch_me_day_lists(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    for days, expected in DAY_LISTS:
        status, body = patch_me(client, ana, work_days=days)
        assert status == 200, (days, body)
        assert body["work_days"] == expected, days


def test_patch_me_accepts_an_overnight_shift(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    status, body = patch_me(client, ana, work_start="22:00", work_end="06:00", work_days="mon-fri")
    assert status == 200, body
    assert (body["work_start"], body["work_end"]) == ("22:00", "06:00")


BAD_PROFILE_CHANGES: list[tuple[dict[str, object], str]] = [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "europe/paris"}, "timezone"),
    ({"timezone": " Europe/Paris"}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": "Europe/Paris\x00"}, "timezone"),
    ({"timezone": "x" * 65}, "timezone"),
    ({"work_start": "25:00"}, "work_start"),
    ({"work_start": "09:60"}, "work_start"),
    ({"work_start": "0900"}, "work_start"),
    ({"work_start": "nine"}, "work_start"),
    ({"work_start": "-1:00"}, "work_start"),
    ({"work_start": "²:00"}, "work_start"),
    ({"work_start": "009:000"}, "work_start"),
    ({"work_end": ""}, "work_end"),
    ({"work_end": "09:00"}, "work_end"),
    ({"work_days": "someday"}, "work_days"),
    ({"work_days": "mon-funday"}, "work_days"),
    ({"work_days": ""}, "work_days"),
    ({"work_days": ","}, "work_days"),
    ({"display_name": ""}, "display_name"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "a\nb"}, "display_name"),
    ({"display_name": "x" * 201}, "display_name"),
    ({"timezone": 5}, "timezone"),
    ({"role": "admin"}, "role"),
    ({"email": "new@example.com"}, "email"),
]


def test_patch_me_errors_name_the_field_and_change_nothing(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    before = client.get("/api/v1/me", headers=ana.headers).json()
    for changes, field in BAD_PROFILE_CHANGES:
        response = client.patch("/api/v1/me", json=changes, headers=ana.headers)
        error = assert_error(response, 422, "invalid_input")
        assert field in error["fields"], (changes, error)
        assert field in str(error["message"]), (changes, error)
    assert client.get("/api/v1/me", headers=ana.headers).json() == before


def test_patch_me_reports_every_bad_field_at_once(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    response = client.patch(
        "/api/v1/me", json={"work_start": "25:00", "work_days": "someday"}, headers=ana.headers
    )
    error = assert_error(response, 422, "invalid_input")
    assert set(error["fields"]) == {"work_start", "work_days"}


def test_error_messages_do_not_leak_python(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    response = client.patch("/api/v1/me", json={"work_start": "²:00"}, headers=ana.headers)
    error = assert_error(response, 422, "invalid_input")
    assert "int()" not in str(error["message"])
    assert "HH:MM" in str(error["fields"]["work_start"])
