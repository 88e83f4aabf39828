"""The roster import through the real API and CLI, on SQLite and PostgreSQL.

A good file lands whole; a file with any bad line is refused whole, every bad line is
reported with its line number and field, and nothing is written; importing again updates
and never duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import Actor, Factory
from typer.testing import CliRunner

from kith.actions import events, people
from kith.actions.roster import check_import_roster, cycles
from kith.api.routes import roster as roster_route
from kith.app import App
from kith.cli.main import cli
from kith.domain.errors import RosterInvalid
from kith.domain.models import Person
from kith.storage.tables import people as people_table

HEADER = "email,name,title,department,location,manager_email,timezone,work_start,work_end,work_days"
GOOD = [
    "ana@example.com,Ana Silva,Head of Sales,Sales,Tokyo,,Asia/Tokyo,08:30,17:30,sun-thu",
    "ben@example.com,Ben Okafor,Account Executive,Sales,Lagos,ana@example.com,Africa/Lagos,,,",
    # A manager may come later in the file than the people who report to them.
    "cai@example.com,Cai Chen,Engineer,Engineering,,dee@example.com,,,,",
    "dee@example.com,Dee Rossi,Engineering Lead,Engineering,Rome,ana@example.com,"
    "Europe/Rome,09:00,18:00,mon-fri",
]


def csv_of(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def post_roster(client: TestClient, actor: Actor | None, body: bytes) -> Response:
    headers = {"Content-Type": "text/csv", **(actor.headers if actor else {})}
    return client.post("/api/v1/people/import", content=body, headers=headers)


def count_people(app: App) -> int:
    with app.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(people_table)).scalar_one())


def person(app: App, email: str) -> Person:
    found = people.find_person_by_email(app, email)
    assert found is not None, email
    return found


def imported_events(app: App) -> list[dict[str, Any]]:
    return [e.payload for e in events.list_since(app, 0) if e.type == "people.imported"]


def test_a_good_file_lands_with_managers_hours_and_zones(app: App, client: TestClient, make: Factory) -> None:
    response = post_roster(client, make.admin, csv_of(*GOOD))
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 4, "updated": 0, "unchanged": 0}
    ana, ben, cai, dee = (person(app, f"{n}@example.com") for n in ("ana", "ben", "cai", "dee"))
    assert (ana.display_name, ana.title, ana.department, ana.location) == (
        "Ana Silva",
        "Head of Sales",
        "Sales",
        "Tokyo",
    )
    assert ana.timezone == "Asia/Tokyo"
    assert (ana.hours.start, ana.hours.end, ana.hours.days) == (clock(8, 30), clock(17, 30), {6, 0, 1, 2, 3})
    assert (ben.hours.start, ben.hours.end, ben.hours.days) == (clock(9), clock(17), {0, 1, 2, 3, 4})
    assert cai.timezone == "UTC"
    assert ana.manager_id is None
    assert (ben.manager_id, cai.manager_id, dee.manager_id) == (ana.id, dee.id, ana.id)
    assert (ana.handle, ben.handle) == ("ana", "ben")
    assert ana.active
    [payload] = imported_events(app)
    assert payload["created"] == 4
    assert payload["updated"] == 0
    assert sorted(payload["person_ids"]) == sorted(p.id for p in (ana, ben, cai, dee))


def test_bom_crlf_quoted_fields_and_header_in_any_case_and_order(
    app: App, client: TestClient, make: Factory
) -> None:
    body = (
        "\ufeffName,EMAIL,Notes,Time Zone,timezone,Manager_Email\r\n"
        '"Okafor, ""Ben""",ben@example.com,"likes, commas",x,Africa/Lagos,\r\n'
        '"Müller, Jürgen",j@example.com,"two\r\nlines",,Europe/Berlin,ben@example.com\r\n'
    ).encode()
    response = post_roster(client, make.admin, body)
    assert response.status_code == 200, response.text
    ben, jurgen = person(app, "ben@example.com"), person(app, "j@example.com")
    assert ben.display_name == 'Okafor, "Ben"'
    assert (ben.timezone, jurgen.timezone) == ("Africa/Lagos", "Europe/Berlin")
    assert jurgen.display_name == "Müller, Jürgen"
    assert jurgen.manager_id == ben.id


def test_semicolons_or_tabs_when_the_header_has_no_comma(app: App, client: TestClient, make: Factory) -> None:
    admin = make.admin
    body = b'email;name;department\nana@example.com;"Silva; Ana";Sales\n'
    assert post_roster(client, admin, body).status_code == 200
    assert person(app, "ana@example.com").display_name == "Silva; Ana"
    assert post_roster(client, admin, b"email\tname\nben@example.com\tBen\n").status_code == 200
    assert person(app, "ben@example.com").display_name == "Ben"


def test_text_input_and_handles_avoid_taken_ones(app: App, make: Factory) -> None:
    make.person("Ana Existing", email="ana@elsewhere.org")
    result = check_import_roster(app, make.admin.viewer, csv_of("ana@example.com,Ana Silva").decode())
    assert result.created == 1
    assert person(app, "ana@example.com").handle == "ana2"


BAD_ROWS = [
    ("nobody-at-example.com,No One,,,,,,,,", "email", "is not an e-mail address"),
    (",No Address,,,,,,,,", "email", "is required"),
    ("eve@example.com,,,,,,,,,", "name", "must not be empty"),
    ("eve@example.com,Eve,,,,,Mars/Olympus,,,", "timezone", "'Mars/Olympus' is not an IANA time zone"),
    ("eve@example.com,Eve,,,,,,25:00,,", "work_start", "is not a time of day as HH:MM"),
    ("eve@example.com,Eve,,,,,,,5pm,", "work_end", "is not a time of day as HH:MM"),
    ("eve@example.com,Eve,,,,,,,,mon-funday", "work_days", "is not a list of days"),
    ("eve@example.com,Eve,,,,,,09:00,09:00,", "work_end", "must differ from work_start"),
    ("eve@example.com,Eve,,,,boss@example.com,,,,", "manager_email", "no one has the e-mail address"),
    ("eve@example.com,Eve,,,,not an address,,,,", "manager_email", "is not an e-mail address"),
    ("eve@example.com,Eve,,,,EVE@example.com,,,,", "manager_email", "makes a cycle"),
    ("ANA@Example.com,Ana Again,,,,,,,,", "email", "is already on line 2"),
    ("eve@example.com,Smith, Eve,,,,,,,,mon-fri", "row", "quote values that contain commas"),
    ('eve@example.com,"Eve" Smith,,,,,,,,', "csv", "cannot be read as CSV"),
]


@pytest.mark.parametrize(
    ("line", "field", "message"), BAD_ROWS, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD_ROWS)]
)
def test_every_kind_of_bad_row_is_refused_and_named(
    app: App, client: TestClient, make: Factory, line: str, field: str, message: str
) -> None:
    admin = make.admin
    before = count_people(app)
    response = post_roster(client, admin, csv_of(GOOD[0], line))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert [(r["line"], r["field"]) for r in error["rows"]] == [(3, field)]
    assert message in error["rows"][0]["message"]
    assert list(error["fields"]) == [f"line 3: {field}"]
    assert "nothing was imported" in error["message"]
    assert count_people(app) == before
    assert imported_events(app) == []


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (b"", 1, "file", "is empty"),
        (b"name,title\nEve,CEO\n", 1, "email", "the required column email is missing"),
        (b"email,name,Email\n", 1, "email", "appears twice"),
        (b"email,name\nana@example.com,Ana\nbo@example.com,Bj\xf6rn\n", 3, "encoding", "is not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(
    app: App, client: TestClient, make: Factory, body: bytes, line: int, field: str, message: str
) -> None:
    response = post_roster(client, make.admin, body)
    assert response.status_code == 422, response.text
    [row] = response.json()["error"]["rows"]
    assert (row["line"], row["field"]) == (line, field)
    assert message in row["message"]


def test_several_bad_rows_are_all_reported_and_nothing_is_written(
    app: App, client: TestClient, make: Factory
) -> None:
    admin = make.admin
    before = count_people(app)
    body = csv_of(
        GOOD[0],
        "bad-address,Eve,,,,,,,,",
        GOOD[1],
        "fay@example.com,Fay,,,,ghost@example.com,Moon/Base,,,",
        "",  # a blank line still counts as a line
        "gus@example.com,,,,,,,10:00,10:00,",
        GOOD[2],
        GOOD[3],
    )
    response = post_roster(client, admin, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert [(r["line"], r["field"]) for r in error["rows"]] == [
        (3, "email"),
        (5, "manager_email"),
        (5, "timezone"),
        (7, "name"),
        (7, "work_end"),
    ]
    assert set(error["fields"]) == {
        "line 3: email",
        "line 5: manager_email",
        "line 5: timezone",
        "line 7: name",
        "line 7: work_end",
    }
    assert error["message"].startswith("nothing was imported: 5 problems on 3 lines")
    assert count_people(app) == before
    assert people.find_person_by_email(app, "ana@example.com") is None


def test_reimport_updates_never_duplicates_and_matches_email_in_any_case(
    app: App, client: TestClient, make: Factory
) -> None:
    admin = make.admin
    assert post_roster(client, admin, csv_of(*GOOD)).json()["created"] == 4
    total = count_people(app)
    ana_id = person(app, "ana@example.com").id

    again = post_roster(client, admin, csv_of(*GOOD))
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 4}
    assert len(imported_events(app)) == 1, "an import that changes nothing publishes nothing"

    changed = [
        GOOD[0].replace("ana@example.com", "Ana@Example.COM").replace("Head of Sales", "VP Sales"),
        GOOD[1],
        GOOD[2].replace("dee@example.com", "ana@example.com"),  # Cai now reports to Ana
        GOOD[3],
        "eli@example.com,Eli,,,,cai@example.com,,,,",
    ]
    response = post_roster(client, admin, csv_of(*changed))
    assert response.json() == {"created": 1, "updated": 2, "unchanged": 2}
    assert count_people(app) == total + 1
    ana = person(app, "ana@example.com")
    assert (ana.id, ana.email, ana.title) == (ana_id, "Ana@Example.COM", "VP Sales")
    assert person(app, "cai@example.com").manager_id == ana_id
    assert person(app, "eli@example.com").manager_id == person(app, "cai@example.com").id
    assert [p["updated"] for p in imported_events(app)] == [0, 2]


def test_columns_left_out_keep_their_values(app: App, client: TestClient, make: Factory) -> None:
    admin = make.admin
    post_roster(client, admin, csv_of(*GOOD))
    response = post_roster(client, admin, csv_of("ana@example.com,Ana S.", header="email,name"))
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0}
    ana = person(app, "ana@example.com")
    assert (ana.display_name, ana.title, ana.timezone) == ("Ana S.", "Head of Sales", "Asia/Tokyo")
    assert ana.hours.start == clock(8, 30)
    assert person(app, "ben@example.com").manager_id == ana.id


def test_an_empty_manager_cell_removes_the_manager(app: App, client: TestClient, make: Factory) -> None:
    admin = make.admin
    post_roster(client, admin, csv_of(*GOOD))
    response = post_roster(
        client, admin, csv_of("ben@example.com,Ben Okafor", header="email,name,manager_email")
    )
    assert response.json()["updated"] == 1
    assert person(app, "ben@example.com").manager_id is None


def test_a_manager_already_in_the_directory_is_found(app: App, client: TestClient, make: Factory) -> None:
    admin = make.admin
    line = f"zed@example.com,Zed,,,,{admin.person.email.upper()},,,,"
    assert post_roster(client, admin, csv_of(line)).status_code == 200
    assert person(app, "zed@example.com").manager_id == admin.id


def test_a_cycle_within_the_file_names_every_line_on_it(app: App, client: TestClient, make: Factory) -> None:
    body = csv_of(
        "a@example.com,A,,,,b@example.com,,,,",
        "top@example.com,Top,,,,,,,,",
        "b@example.com,B,,,,c@example.com,,,,",
        "c@example.com,C,,,,a@example.com,,,,",
        "d@example.com,D,,,,a@example.com,,,,",  # reports into the cycle but is not on it
    )
    response = post_roster(client, make.admin, body)
    assert response.status_code == 422
    rows = response.json()["error"]["rows"]
    assert [(r["line"], r["field"]) for r in rows] == [
        (2, "manager_email"),
        (4, "manager_email"),
        (5, "manager_email"),
    ]
    assert "a@example.com -> b@example.com -> c@example.com -> a@example.com" in rows[0]["message"]


def test_a_cycle_through_people_already_in_the_directory(app: App, client: TestClient, make: Factory) -> None:
    admin = make.admin
    boss = make.person("Boss Existing", email="boss@example.com")
    make.person("Mid Existing", email="mid@example.com", manager_id=boss.id)
    # The file makes Boss report to Amy, who reports to Mid, who (in the directory) reports to Boss.
    body = csv_of(
        "amy@example.com,Amy,,,,mid@example.com,,,,",
        "boss@example.com,Boss Existing,,,,amy@example.com,,,,",
    )
    before = count_people(app)
    response = post_roster(client, admin, body)
    assert response.status_code == 422, response.text
    rows = response.json()["error"]["rows"]
    assert [(r["line"], r["field"]) for r in rows] == [(2, "manager_email"), (3, "manager_email")]
    assert "mid@example.com" in rows[0]["message"]
    assert count_people(app) == before
    assert person(app, "boss@example.com").manager_id is None


def test_only_administrators_import(app: App, client: TestClient, make: Factory) -> None:
    member = make.person("Mo Member")
    before = count_people(app)
    refused = post_roster(client, member, csv_of(*GOOD))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert post_roster(client, None, csv_of(*GOOD)).status_code == 401
    assert count_people(app) == before


def test_a_body_over_the_limit_is_refused_with_413(
    app: App, client: TestClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make.admin
    monkeypatch.setattr(roster_route, "MAX_BYTES", 100)
    response = post_roster(client, admin, csv_of(*GOOD))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert "split it" in response.json()["error"]["message"]


def test_openapi_documents_the_csv_body_and_the_rows_of_an_error(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/people/import"]["post"]
    assert "text/csv" in operation["requestBody"]["content"]
    assert {"200", "403", "413", "422"} <= set(operation["responses"])
    assert "rows" in schema["components"]["schemas"]["ErrorBody"]["properties"]


@contextmanager
def counted_statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(app.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(app.db.engine, "before_cursor_execute", count)


def roster_lines(n: int, offset: int = 0) -> list[str]:
    lines = [f"p{offset}@example.com,Person {offset},,,,,Europe/Paris,,,"]
    lines += [
        f"p{i}@example.com,Person {i},,,,p{offset}@example.com,,,," for i in range(offset + 1, offset + n)
    ]
    return lines


def test_the_number_of_statements_does_not_grow_with_the_file(app: App, make: Factory) -> None:
    viewer = make.admin.viewer
    with counted_statements(app) as small:
        check_import_roster(app, viewer, csv_of(*roster_lines(20)))
    with counted_statements(app) as large:
        check_import_roster(app, viewer, csv_of(*roster_lines(400, offset=1000)))
    assert len(large) == len(small)
    assert count_people(app) == 421


def run_cli(app: App, *args: str) -> Any:
    env = {"KITH_DATABASE_URL": app.settings.database_url, "COLUMNS": "200"}
    return CliRunner().invoke(cli, list(args), env=env)


def test_cli_imports_a_roster(app: App, make: Factory, tmp_path: Path) -> None:
    make.admin  # noqa: B018 - the CLI acts as the first administrator
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_of(*GOOD))
    result = run_cli(app, "import", "roster", str(path))
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout
    assert "4" in result.stdout
    assert person(app, "ben@example.com").manager_id == person(app, "ana@example.com").id
    again = run_cli(app, "import", "roster", str(path))
    assert again.exit_code == 0
    assert count_people(app) == 5


def test_cli_prints_every_bad_line_as_file_line_field(app: App, make: Factory, tmp_path: Path) -> None:
    make.admin  # noqa: B018
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_of(GOOD[0], "eve@example.com,Eve,,,,,Mars/Olympus,,,", "bad,[b]Bad[/b],,,,,,,,"))
    before = count_people(app)
    result = run_cli(app, "import", "roster", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert (
        lines[0] == f"{path}:3: timezone: 'Mars/Olympus' is not an IANA time zone such as Europe/Paris or UTC"
    )
    assert lines[1] == f"{path}:4: email: 'bad' is not an e-mail address"
    assert lines[2] == f"error: {path}: 2 problems; nothing was imported"
    assert count_people(app) == before


def test_cli_names_a_missing_file_in_one_line(app: App, make: Factory, tmp_path: Path) -> None:
    make.admin  # noqa: B018
    missing = tmp_path / "nowhere.csv"
    result = run_cli(app, "import", "roster", str(missing))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {missing}: cannot read it (No such file or directory)"
    ]


def test_the_whole_roster_error_carries_every_row(app: App, make: Factory) -> None:
    with pytest.raises(RosterInvalid) as caught:
        check_import_roster(app, make.admin.viewer, csv_of("x,,,,,,,,,", "y,,,,,,,,,"))
    assert [(r.line, r.field) for r in caught.value.rows] == [
        (2, "email"),
        (2, "name"),
        (3, "email"),
        (3, "name"),
    ]


@pytest.mark.slow
def test_ten_thousand_rows_in_one_go(app: App, make: Factory) -> None:
    viewer = make.admin.viewer
    lines = ["p0@example.com,Boss,,,,,America/New_York,,,"]
    lines += [
        f"p{i}@example.com,Person {i},,Dept {i % 40},,p{i // 10}@example.com,,,," for i in range(1, 10_000)
    ]
    result = check_import_roster(app, viewer, csv_of(*lines))
    assert (result.created, result.updated) == (10_000, 0)
    assert person(app, "p123@example.com").manager_id == person(app, "p12@example.com").id
    again = check_import_roster(app, viewer, csv_of(*lines))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10_000)


@given(st.dictionaries(st.integers(0, 12), st.integers(0, 12) | st.none(), max_size=13))
def test_cycles_finds_exactly_the_nodes_that_lead_back_to_themselves(graph: dict[int, int | None]) -> None:
    boss = {str(k): (str(v) if v is not None else None) for k, v in graph.items()}
    found = cycles(boss, sorted(boss))
    on_cycles = [node for cycle in found for node in cycle]
    assert len(on_cycles) == len(set(on_cycles))

    def returns(node: str) -> bool:
        current = boss.get(node)
        for _ in range(len(boss) + 1):
            if current == node:
                return True
            current = boss.get(current) if current is not None else None
        return False

    assert set(on_cycles) == {node for node in boss if returns(node)}
