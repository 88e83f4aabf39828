"""Schemathesis against ``/openapi.json`` of a live server: no 5xx, nothing the schema does not say.

A real Uvicorn server runs in a background thread on a free port, serving the API of an App
on a fresh database (SQLite, and PostgreSQL when ``KITH_TEST_DATABASE_URL`` is set; the
conftest's ``app`` fixture makes both, and under ``CI=true`` the PostgreSQL half must run).
The database is seeded through actions so that ids 1..5 name real people, spaces and
topics; schemathesis draws path and body ids (and emoji, and well-formed cursors) from
those values part of the time, so it reaches the code behind the 404s and the decoders too.

Each pass runs ``schemathesis run`` (the CLI, in a subprocess: the pytest plugin's
``from_fixture`` needs ``Function._nodeid``, which pytest 9.2 removed) against the live
server: examples, coverage (boundary and invalid values) and fuzzing phases, in
deterministic mode so CI is reproducible. It exits non-zero on any failed check: a 5xx, an
undocumented status code, content type or header, a body that does not match its schema,
plus the extras listed in ``CHECKS``. Three passes per engine: a member's token over
everything but logout (which would revoke the token) and the endless event stream, an
administrator's over what only administrators (or space owners) can do, and logout with a
token of its own.

Whatever the server logs as an error during a pass fails the pass too, with the traceback,
so a 500 is easy to trace to its line. The failure message is schemathesis' report, with a
``curl`` line that reproduces each failure against a server seeded the same way.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import Factory
from tests.live import serving

from kith.actions import posts, spaces, topics
from kith.api.factory import create_api
from kith.app import App
from kith.domain.cursors import encode as cursors_encode
from kith.domain.models import Role

pytestmark = pytest.mark.slow

SEED = 20240611
CHECKS = [
    # What the issue asks: no 5xx, and nothing the schema does not describe.
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    # Cheap extras that hold today: invalid input is refused, every operation that
    # declares the bearer scheme refuses a request without it, a deleted thing stays
    # gone, a created thing can be read back, and a 405 names the methods the path has.
    "negative_data_rejection",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "allow_header_conformance",
]
KNOWN_EMOJI = ["thumbsup", "+1", "tada", ":thumbsup:"]
# Well-formed cursors (the shapes the lists return, with edge values), so that paging code
# runs past the decoder: base64 of JSON keys, as kith.domain.cursors.encode makes them.
CURSOR_KEYS = [
    [1],
    [2_147_483_647],
    ["Ana Silva", 2],
    ["2024-01-01T00:00:00+00:00", 1],
    ["9999-12-31T23:59:59.999999+00:00", 2_147_483_647],
    ["0001-01-01T00:00:00+00:00", 0],
]
# Ids that exist after seeding; schemathesis picks from them part of the time.
KNOWN_IDS = [1, 2, 3, 4, 5]
ID_PARAMETERS = [
    "path.person_id",
    "path.space_id",
    "path.topic_id",
    "path.post_id",
    "body.person_id",
    "body.post_id",
    "body.reply_to_id",
    "body.manager_id",
    "query.space_id",
]


@dataclass(frozen=True)
class Pass:
    """One schemathesis run: whose token, which operations, how many examples each."""

    who: str
    max_examples: int
    select: tuple[str, ...]


PASSES = {
    # Everything as a member, but logging out, which would revoke the token mid-run.
    # The event stream never ends by design (tests/test_stream.py covers it).
    "member": Pass(
        "member", 25, ("--exclude-path", "/api/v1/auth/logout", "--exclude-path", "/api/v1/stream/sse")
    ),
    # What only administrators (or owners of a space) get past the permission check with.
    "admin": Pass(
        "admin",
        15,
        (
            "--include-name-regex",
            r"^(POST|PATCH) /api/v1/people"
            r"|^(PATCH|DELETE) /api/v1/spaces/\{space_id\}"
            r"|^POST /api/v1/spaces/\{space_id\}/(archive|members)",
        ),
    ),
    # Logging out, with a token of its own: after the first call it is revoked (a 401).
    "logout": Pass("other", 5, ("--include-path", "/api/v1/auth/logout")),
}


@dataclass(frozen=True)
class Seeded:
    """Who is who after seeding (ids are the same on both engines)."""

    tokens: dict[str, str]  # "admin", "member" (Ana, person 2), "other" (Ben, person 3)


def seed(app: App, make: Factory) -> Seeded:
    """People, spaces (public and private) and topics 1..5; posts 1..8, an edit, reactions."""
    admin = make.admin  # person 1
    ana = make.person("Ana Silva", department="Sales", location="Lisbon", timezone="Europe/Lisbon")
    ben = make.person("Ben Okafor", department="Support", location="Lagos", manager_id=ana.id)
    make.person("Chen Wei", role=Role.ANALYST, department="Research", location="Taipei")
    make.person("Dana Levi", department="Sales", location="Tel Aviv", manager_id=ana.id)
    assert [admin.id, ana.id, ben.id] == [1, 2, 3]

    general = spaces.check_create_space(app, ana.viewer, name="General", description="Everyone")
    secret = spaces.check_create_space(app, ben.viewer, name="Secret plans", visibility="private")
    news = spaces.check_create_space(app, admin.viewer, name="News", kind="announcements")
    team = spaces.check_create_space(app, ana.viewer, name="Sales team", kind="team", visibility="private")
    support = spaces.check_create_space(app, ben.viewer, name="Support")
    spaces.check_join(app, ben.viewer, general.space.id)
    spaces.check_join(app, ana.viewer, news.space.id)
    spaces.check_add_member(app, ana.viewer, team.space.id, ben.id, role="owner")

    question, _ = topics.check_create_topic(
        app, ana.viewer, general.space.id, title="Prices?", body="Has **X** cut prices?", is_question=True
    )
    hidden, _ = topics.check_create_topic(
        app, ben.viewer, secret.space.id, title="Hush", body="Nobody else sees this, @ana.silva"
    )
    topics.check_create_topic(app, admin.viewer, news.space.id, title="Welcome", body="Hello @space")
    sales, _ = topics.check_create_topic(app, ana.viewer, team.space.id, title="Q3", body="Targets")
    topics.check_create_topic(app, ben.viewer, support.space.id, title="Printer", body="Jammed again")
    answer = posts.check_create_post(app, ben.viewer, question.id, "Yes, by 10% - see @ana.silva")
    posts.check_create_post(app, ana.viewer, question.id, "Thanks!", reply_to_id=answer.id)
    posts.check_create_post(app, ben.viewer, hidden.id, "Still secret")
    posts.check_create_post(app, ben.viewer, sales.id, "On track")
    posts.check_edit_post(app, ben.viewer, answer.id, "Yes, by 12% - see @ana.silva")
    topics.check_accept_answer(app, ana.viewer, question.id, answer.id)
    for who, emoji in ((ana, "thumbsup"), (ben, "thumbsup"), (ana, "+1"), (ben, "tada")):
        posts.check_react(app, who.viewer, 1, emoji)
        posts.check_react(app, who.viewer, answer.id, emoji)
    return Seeded({"admin": admin.token, "member": ana.token, "other": ben.token})


class _Collect(logging.Handler):
    """Records the server logs at ERROR and above (the unexpected-error handler, Uvicorn)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Live:
    url: str
    seeded: Seeded
    errors: _Collect


@pytest.fixture
def live(app: App, make: Factory) -> Iterator[Live]:
    """The API of ``app``, seeded, served by Uvicorn on a free port of 127.0.0.1."""
    seeded = seed(app, make)
    collect = _Collect()
    loggers = [logging.getLogger(name) for name in ("kith", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(collect)
    try:
        with serving(app, lifespan=False) as url:
            yield Live(url, seeded, collect)
    finally:
        for logger in loggers:
            logger.removeHandler(collect)


def _config_toml(token: str) -> str:
    """Schemathesis settings for one pass, as a ``schemathesis.toml``."""
    ids = ", ".join(str(i) for i in KNOWN_IDS)
    emoji = ", ".join(json.dumps(e) for e in KNOWN_EMOJI)
    cursors = ", ".join(json.dumps(cursors_encode(key)) for key in CURSOR_KEYS)
    bindings = "\n".join(f'"{name}" = {{ dictionary = "ids", probability = 0.7 }}' for name in ID_PARAMETERS)
    return f"""
seed = {SEED}
suppress-health-check = ["all"]

[generation]
deterministic = true
database = "none"

[phases.stateful]
enabled = false

[dictionaries.ids]
values = [{ids}]

[dictionaries.emoji]
values = [{emoji}]

[dictionaries.cursors]
values = [{cursors}]

[parameters]
{bindings}
"path.emoji" = {{ dictionary = "emoji", probability = 0.5 }}
"query.cursor" = {{ dictionary = "cursors", probability = 0.5 }}

[auth.openapi.HTTPBearer]
bearer = {json.dumps(token)}
"""


@pytest.mark.parametrize("name", list(PASSES))
def test_api_matches_its_schema(live: Live, name: str, tmp_path: Path) -> None:
    """Run ``schemathesis run`` against the live server; it exits non-zero on any failed check."""
    run = PASSES[name]
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config_toml(live.seeded.tokens[run.who]), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{live.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(run.max_examples),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        *run.select,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    logged = "\n\n".join(logging.Formatter().format(record) for record in live.errors.records)
    report = f"schemathesis (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    assert not logged, f"the server logged errors:\n{logged}\n\n{report}"
    assert result.returncode == 0, report


def test_every_error_response_is_the_one_error_shape(sqlite_app: App) -> None:
    """FastAPI's own 422 schema is replaced; every 4xx documents ErrorResponse."""
    schema = create_api(sqlite_app).openapi()
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert "ValidationError" not in components
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
            if operation.get("security"):
                assert "401" in operation["responses"], (method, path)
