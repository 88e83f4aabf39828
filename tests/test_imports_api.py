"""The imports API: uploads run in the background, runs are followed and undone; admins only."""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from tests.conftest import DATA, Actor, Factory

from kith.actions import interactions
from kith.app import App
from kith.storage.tables import import_runs
from kith.storage.tables import interactions as interactions_table

ENRON_FILE = DATA / "enron-sample" / "enron.lay-k.sent_items.mbox"
EDGES = b"source,target,timestamp,kind,weight\nana@example.com,ben@example.com,2025-02-03T09:15:00Z,mail,1\n"


def count(app: App, table: sa.Table) -> int:
    with app.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def upload(client: TestClient, actor: Actor, body: bytes, **params: str) -> Response:
    headers = {"Content-Type": "application/octet-stream", **actor.headers}
    return client.post("/api/v1/imports", params=params, content=body, headers=headers)


def finished(client: TestClient, actor: Actor, run_id: int) -> dict[str, Any]:
    """The run once it is no longer running (the import runs in a background thread)."""
    deadline = time.monotonic() + 60
    while True:
        response = client.get(f"/api/v1/imports/{run_id}", headers=actor.headers)
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        if run["status"] != "running":
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.05)


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where uploads are written, so a test can see that none is left behind."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.skipif(not ENRON_FILE.is_file(), reason=f"the Enron sample is not at {ENRON_FILE}")
def test_an_mbox_upload_is_imported_in_the_background_and_undone(
    app: App, client: TestClient, make: Factory, temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.settings, "org_domains", "enron.com")
    admin = make.admin
    response = upload(client, admin, ENRON_FILE.read_bytes(), kind="email", name="C:\\mail\\sent.mbox")
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["status"] in ("running", "done")
    assert (started["kind"], started["source"], started["created_by"]) == ("email", "sent.mbox", admin.id)
    assert response.headers["location"] == f"/api/v1/imports/{started['id']}"
    run = finished(client, admin, started["id"])
    assert run["status"] == "done", run
    stats = run["stats"]
    assert (stats["messages"], stats["message_ids"]) == (13, 13)
    assert stats["bytes_read"] == stats["bytes_total"] == ENRON_FILE.stat().st_size
    assert stats["interactions_new"] == count(app, interactions_table) > 0
    assert stats["people_discovered"] > 0
    assert run["finished_at"] is not None
    assert not list(temp_dir.iterdir())

    listed = client.get("/api/v1/imports", headers=admin.headers)
    assert [r["id"] for r in listed.json()] == [run["id"]]
    undone = client.delete(f"/api/v1/imports/{run['id']}", headers=admin.headers)
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "undone"
    assert undone.json()["stats"]["undone_interactions"] == stats["interactions_new"]
    assert count(app, interactions_table) == 0


def test_a_multipart_csv_and_a_slack_zip(app: App, client: TestClient, make: Factory, temp_dir: Path) -> None:
    admin = make.admin
    for name in ("Ana", "Ben"):
        make.person(name, email=f"{name.lower()}@example.com")
    response = client.post(
        "/api/v1/imports",
        params={"kind": "edges"},
        files={"note": (None, "ignored"), "file": ("team edges.csv", EDGES, "text/csv")},
        headers=admin.headers,
    )
    assert response.status_code == 202, response.text
    run = finished(client, admin, response.json()["id"])
    assert (run["status"], run["source"], run["stats"]["interactions_new"]) == ("done", "team edges.csv", 1)

    export = io.BytesIO()
    with zipfile.ZipFile(export, "w") as z:
        z.writestr(
            "export/users.json",
            '[{"id": "U1", "profile": {"email": "ana@example.com"}},'
            ' {"id": "U2", "profile": {"email": "ben@example.com"}}]',
        )
        z.writestr("export/channels.json", '[{"id": "C1", "name": "general"}]')
        z.writestr(
            "export/general/2025-02-03.json", '[{"user": "U1", "text": "hi <@U2>", "ts": "1738574100.0"}]'
        )
    response = upload(client, admin, export.getvalue(), kind="slack", name="export.zip")
    assert response.status_code == 202, response.text
    run = finished(client, admin, response.json()["id"])
    assert run["status"] == "done", run
    assert run["stats"]["interactions_new"] == 1  # the mention
    assert not list(temp_dir.iterdir())


@pytest.mark.parametrize(
    ("kind", "name", "body", "error"),
    [
        ("email", "garbage.mbox", bytes(range(256)) * 8, "garbage.mbox: is neither an mbox file"),
        ("slack", "export.zip", b"PK\x03\x04 not a zip at all", "export.zip: is not a zip archive"),
        ("edges", "edges.csv", EDGES + b"ana@example.com,,,\n", "edges.csv, line 3: target: is empty"),
    ],
)
def test_a_corrupt_upload_fails_its_run_naming_the_file(
    app: App, client: TestClient, make: Factory, temp_dir: Path, kind: str, name: str, body: bytes, error: str
) -> None:
    admin = make.admin
    for person in ("Ana", "Ben"):
        make.person(person, email=f"{person.lower()}@example.com")
    response = upload(client, admin, body, kind=kind, name=name)
    assert response.status_code == 202, response.text
    run = finished(client, admin, response.json()["id"])
    assert run["status"] == "failed"
    assert run["error"].startswith(error), run["error"]
    assert count(app, interactions_table) == 0
    assert not list(temp_dir.iterdir())
    # A failed run has nothing to undo: it stays as it is.
    again = client.delete(f"/api/v1/imports/{run['id']}", headers=admin.headers)
    assert (again.status_code, again.json()["status"]) == (200, "failed")


def test_members_may_not_import_and_nothing_is_read(
    app: App, client: TestClient, make: Factory, temp_dir: Path
) -> None:
    member = make.person("Member")
    response = upload(client, member, EDGES, kind="edges")
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    for method, path in (
        ("GET", "/api/v1/imports"),
        ("GET", "/api/v1/imports/1"),
        ("DELETE", "/api/v1/imports/1"),
    ):
        assert client.request(method, path, headers=member.headers).status_code == 403
    assert count(app, import_runs) == 0
    assert not list(temp_dir.iterdir())
    assert client.post("/api/v1/imports?kind=edges", content=EDGES).status_code == 401


def test_unknown_runs_bad_parameters_and_empty_bodies(
    app: App, client: TestClient, make: Factory, temp_dir: Path
) -> None:
    admin = make.admin
    for method in ("GET", "DELETE"):
        response = client.request(method, "/api/v1/imports/999", headers=admin.headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["message"] == "no import run with id 999"
    assert upload(client, admin, EDGES, kind="pdf").status_code == 422
    assert upload(client, admin, EDGES).status_code == 422  # kind is required
    bad_at = upload(client, admin, EDGES, kind="edges", at="soon")
    assert bad_at.status_code == 422
    assert bad_at.json()["error"]["fields"] == {
        "at": "must be an ISO 8601 time, such as 2025-02-03T09:00:00Z"
    }
    empty = upload(client, admin, b"", kind="email")
    assert empty.status_code == 422
    assert "is empty" in empty.json()["error"]["message"]
    no_file = client.post(
        "/api/v1/imports",
        params={"kind": "edges"},
        files={"note": (None, "no file here")},
        headers=admin.headers,
    )
    assert no_file.status_code == 422
    assert "holds no file" in no_file.json()["error"]["message"]
    assert count(app, import_runs) == 0
    assert not list(temp_dir.iterdir())


def test_a_file_over_the_limit_is_refused_with_413(
    app: App, client: TestClient, make: Factory, temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.settings, "import_max_bytes", 2048)
    admin = make.admin
    declared = upload(client, admin, b"x" * 4096, kind="email")
    assert declared.status_code == 413, declared.text
    assert "KITH_IMPORT_MAX_BYTES" in declared.json()["error"]["message"]

    def chunks() -> Any:  # no Content-Length: refused while streaming
        for _ in range(8):
            yield b"x" * 512

    streamed = client.post(
        "/api/v1/imports", params={"kind": "email"}, content=chunks(), headers=admin.headers
    )
    assert streamed.status_code == 413, streamed.text
    assert count(app, import_runs) == 0
    assert not list(temp_dir.iterdir())


def test_one_import_at_a_time(app: App, client: TestClient, make: Factory, temp_dir: Path) -> None:
    admin = make.admin
    running = interactions.check_start_import(app, admin.viewer, "email", "big.mbox")
    response = upload(client, admin, EDGES, kind="edges")
    assert response.status_code == 409, response.text
    assert f"import run {running} is still running" in response.json()["error"]["message"]
    assert client.delete(f"/api/v1/imports/{running}", headers=admin.headers).status_code == 409
    shown = client.get(f"/api/v1/imports/{running}", headers=admin.headers).json()
    assert (shown["status"], shown["source"]) == ("running", "big.mbox")
    assert not list(temp_dir.iterdir())


def test_openapi_documents_the_imports(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    post = schema["paths"]["/api/v1/imports"]["post"]
    # Any raw body is the file (text/csv, application/zip...); the schema names the generic one.
    assert set(post["requestBody"]["content"]) == {"application/octet-stream", "multipart/form-data"}
    assert {"202", "409", "413", "403", "422"} <= set(post["responses"])
    assert {p["name"] for p in post["parameters"]} == {"kind", "name", "at", "broadcast"}
    assert set(schema["paths"]["/api/v1/imports/{run_id}"]) == {"get", "delete"}
