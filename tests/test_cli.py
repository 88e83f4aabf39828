"""The ``kith`` command on a fresh SQLite file: set-up, listing, creating, and its errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import make_settings
from typer.testing import CliRunner, Result

from kith.api.factory import create_api
from kith.app import build_app
from kith.cli import common as cli_common
from kith.cli import serving
from kith.cli.main import cli

# Settings that could leak in from the machine running the tests.
CLEAN_ENV: dict[str, str | None] = {
    "KITH_DEMO": None,
    "KITH_SECRET_KEY": None,
    "KITH_CONFIG_FILE": None,
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kith.db'}"


@pytest.fixture
def kith(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``kith ARGS...`` against the test's database; returns the click Result."""
    # Wide enough that tables show whole addresses (Rich reads COLUMNS only once, at import).
    monkeypatch.setattr(cli_common.console, "_width", 200)
    runner = CliRunner()

    def run(*args: str, **env: str | None) -> Result:
        return runner.invoke(cli, list(args), env={**CLEAN_ENV, "KITH_DATABASE_URL": database_url, **env})

    return run


def succeeded(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def assert_one_line_error(result: Result, *needles: str) -> str:
    """A non-zero exit with one readable line on stderr and no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("error: "), result.output
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


def sign_in(database_url: str, email: str, password: str) -> int:
    app = build_app(make_settings(database_url))
    try:
        with TestClient(create_api(app)) as client:
            response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
            if response.status_code == 200:
                me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.json()['token']}"})
                assert me.json()["role"] == "admin"
            return int(response.status_code)
    finally:
        app.close()


def test_init_prints_credentials_that_work(kith: Any, database_url: str) -> None:
    output = succeeded(kith("init"))
    email = re.search(r"administrator (\S+@\S+)", output)
    password = re.search(r"password: (\S+)", output)
    assert email, output
    assert password, output
    assert sign_in(database_url, email.group(1), password.group(1)) == 200
    assert sign_in(database_url, email.group(1), "not the password") == 401


def test_init_with_chosen_credentials_is_repeatable(kith: Any, database_url: str) -> None:
    output = succeeded(
        kith("init", "--email", "Boss@Example.com", "--name", "Boss", "--password", "first pass")
    )
    assert "Boss@Example.com" in output
    assert "first pass" not in output  # a chosen password is not echoed
    # Running it again keeps one administrator and changes the password.
    succeeded(kith("init", "--email", "boss@example.com", "--password", "second pass"))
    assert sign_in(database_url, "boss@example.com", "first pass") == 401
    assert sign_in(database_url, "boss@example.com", "second pass") == 200
    listed = succeeded(kith("people", "list"))
    assert listed.count("Boss@Example.com") == 1


def test_init_refuses_bad_input_and_writes_nothing(kith: Any) -> None:
    assert_one_line_error(kith("init", "--email", "not-an-address"), "email")
    assert_one_line_error(kith("init", "--password", "short"), "password")
    # No administrator was left behind without a password.
    assert_one_line_error(kith("people", "list"), "kith init")


def test_db_upgrade_and_current(kith: Any) -> None:
    assert "(empty)" in succeeded(kith("db", "current"))
    assert "needs `kith db upgrade`" in succeeded(kith("db", "current"))
    upgraded = succeeded(kith("db", "upgrade"))
    assert re.search(r"database at revision \w+", upgraded), upgraded
    revision = upgraded.split()[-1]
    current = succeeded(kith("db", "current"))
    assert current.strip() == f"{revision} (up to date)"
    # Upgrading an up-to-date database is harmless.
    succeeded(kith("db", "upgrade"))


def test_people_list(kith: Any) -> None:
    succeeded(
        kith("init", "--email", "admin@example.com", "--name", "Ada Admin", "--password", "a long secret")
    )
    listed = succeeded(kith("people", "list"))
    assert "Ada Admin" in listed
    assert "admin@example.com" in listed
    assert "09:00-17:00" in listed
    assert "Ada Admin" in succeeded(kith("people", "list", "--query", "ada"))
    assert "Ada Admin" not in succeeded(kith("people", "list", "--query", "nobody"))


def test_spaces_create_and_list(kith: Any) -> None:
    succeeded(kith("init", "--email", "admin@example.com", "--password", "a long secret"))
    created = succeeded(kith("spaces", "create", "Customer Voices", "--owner", "ADMIN@example.com"))
    assert "created space customer-voices" in created
    private = succeeded(
        kith("spaces", "create", "Core Team", "--owner", "admin@example.com", "--slug", "core", "--private")
    )
    assert "created space core" in private
    listed = succeeded(kith("spaces", "list"))
    assert "customer-voices" in listed
    assert "Customer Voices" in listed
    assert re.search(r"core .*Core Team.*private", listed), listed


def test_cli_errors_are_one_line(kith: Any, tmp_path: Path) -> None:
    succeeded(kith("init", "--email", "admin@example.com", "--password", "a long secret"))
    assert_one_line_error(
        kith("spaces", "create", "Voices", "--owner", "ghost@example.com"), "--owner", "ghost@example.com"
    )
    assert_one_line_error(
        kith("spaces", "create", "Voices", "--owner", "admin@example.com", "--slug", "Bad Slug"), "slug"
    )
    assert_one_line_error(
        kith("spaces", "create", "Voices", "--owner", "admin@example.com", "--kind", "forum"), "kind"
    )
    succeeded(kith("spaces", "create", "Voices", "--owner", "admin@example.com"))
    assert_one_line_error(kith("spaces", "create", "Voices", "--owner", "admin@example.com"), "voices")


def test_database_errors_are_one_line(kith: Any, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'kith.db'}"
    for args in (("db", "upgrade"), ("db", "current"), ("people", "list"), ("init",)):
        assert_one_line_error(kith(*args, KITH_DATABASE_URL=missing), "database")
    assert not (tmp_path / "no").exists()
    assert_one_line_error(kith("people", "list", KITH_DATABASE_URL="mysql://db/kith"), "KITH_DATABASE_URL")
    # A database that exists but was never set up says what to do.
    assert_one_line_error(kith("people", "list"), "kith db upgrade")


def test_serve_refuses_the_default_secret_outside_demo_mode(
    kith: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(serving.uvicorn, "run", no_server)
    assert_one_line_error(kith("serve"), "KITH_SECRET_KEY")
    assert_one_line_error(kith("serve", KITH_SECRET_KEY="short"), "KITH_SECRET_KEY")
