"""An analysis run end to end: a simulated organisation's history in, communities out,
through the real loaders, the stored run, the API, the CLI and the exports."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import networkx as nx
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import normalized_mutual_info_score
from tests.conftest import Factory
from typer.testing import CliRunner

from kith.actions import analysis, analysis_export
from kith.api.factory import create_api
from kith.app import App
from kith.cli.main import cli
from kith.domain.errors import Conflict, Forbidden
from kith.domain.models import Role
from kith.simulate.load import load_org
from kith.simulate.org import SimulatedOrg, simulate_org
from kith.storage import analysis as store


@pytest.fixture(scope="module")
def org() -> SimulatedOrg:
    return simulate_org(people=160, days=45, seed=5)


@pytest.fixture
def loaded(app: App, make: Factory, org: SimulatedOrg) -> App:
    make.admin  # noqa: B018 - the loaders act as the first administrator
    load_org(app, org)
    return app


def _until(org: SimulatedOrg) -> analysis.AnalysisParams:
    return analysis.AnalysisParams(until=org.start + timedelta(days=org.days), seed=1)


def test_a_run_finds_the_planted_communities_and_keeps_their_ids(loaded: App, org: SimulatedOrg) -> None:
    first = analysis.check_run(loaded, None, _until(org))
    summary = first["summary"]
    assert first["status"] == "done"
    assert summary["people"] >= len(org.people)
    with loaded.db.read() as conn:
        members = store.members(conn, first["id"])
    planted = {p.email: p.community for p in org.people}
    found = [
        (planted[m["email"]], m["community_id"] or -m["person_id"]) for m in members if m["email"] in planted
    ]
    score = normalized_mutual_info_score([a for a, _ in found], [b for _, b in found])
    assert score >= 0.9, score
    assert summary["changes"] == {"new": summary["communities"]}
    assert summary["nmi_departments"] is not None

    second = analysis.check_run(loaded, None, _until(org))
    assert second["summary"]["previous_run"] == first["id"]
    assert second["summary"]["changes"] == {"continued": summary["communities"]}
    with loaded.db.read() as conn:
        before = {c["community_id"]: c["size"] for c in store.communities(conn, first["id"])}
        after = {c["community_id"]: c["size"] for c in store.communities(conn, second["id"])}
    assert before == after  # the same data and seed: the same communities, the same ids


def test_only_analysts_run_and_one_run_at_a_time(loaded: App, make: Factory, org: SimulatedOrg) -> None:
    with pytest.raises(Forbidden):
        analysis.check_start(loaded, make.person("Member").viewer, _until(org))
    started = analysis.check_start(loaded, None, _until(org))
    with pytest.raises(Conflict):
        analysis.check_start(loaded, None, _until(org))
    done = analysis.do_complete(loaded, started)
    assert done["status"] == "done"


def test_the_api_starts_a_run_and_shows_it(loaded: App, make: Factory, org: SimulatedOrg) -> None:
    analyst = make.person("Ana Lyst", role=Role.ANALYST)
    with TestClient(create_api(loaded)) as client:
        until = (org.start + timedelta(days=org.days)).isoformat()
        started = client.post(
            "/api/v1/analysis/runs", json={"seed": 2, "until": until}, headers=analyst.headers
        )
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        deadline = time.monotonic() + 60
        while (run := client.get(f"/api/v1/analysis/runs/{run_id}", headers=analyst.headers).json())[
            "status"
        ] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert run["status"] == "done", run
        listed = client.get(f"/api/v1/analysis/runs/{run_id}/communities", headers=analyst.headers).json()
        assert listed["communities"]
        assert all(c["size"] >= loaded.settings.min_group_size for c in listed["communities"])
        one = listed["communities"][0]["id"]
        detail = client.get(f"/api/v1/analysis/communities/{one}", headers=analyst.headers)
        assert detail.status_code == 200
        assert "members" not in detail.json()
        assert client.get(f"/api/v1/analysis/runs/{run_id}/flow", headers=analyst.headers).json()["overall"]
        assert (
            "departments"
            in client.get(f"/api/v1/analysis/runs/{run_id}/silos", headers=analyst.headers).json()
        )
        me = client.get("/api/v1/analysis/me", headers=analyst.headers).json()
        assert me["run_id"] == run_id


def test_exports_open_as_json_gexf_and_graphml(loaded: App, org: SimulatedOrg, tmp_path: Path) -> None:
    run = analysis.check_run(loaded, None, _until(org))
    data = analysis_export.export_json(loaded, None, run["id"])
    assert json.loads(json.dumps(data, default=str))["run"]["id"] == run["id"]
    assert "member_emails" not in data["communities"][0]  # person-level is off by default
    gexf, graphml = tmp_path / "run.gexf", tmp_path / "run.graphml"
    size = analysis_export.export_graph(loaded, None, run["id"], gexf, "gexf")
    analysis_export.export_graph(loaded, None, run["id"], graphml, "graphml")
    assert nx.read_gexf(gexf).number_of_nodes() == size["nodes"]  # as Gephi reads it
    graph = nx.read_graphml(graphml)
    assert graph.number_of_nodes() == size["nodes"] > 1  # communities, not people
    assert all("size" in attrs for _node, attrs in graph.nodes(data=True))


def test_the_cli_analyses_and_exports(
    loaded: App, org: SimulatedOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KITH_DATABASE_URL", loaded.settings.database_url)
    monkeypatch.setenv("KITH_DEMO", "true")
    until = (org.start + timedelta(days=org.days)).date().isoformat()
    out = tmp_path / "run.json"
    result = CliRunner().invoke(
        cli, ["analyze", "--until", until, "--export", str(out), "--gexf", str(tmp_path / "g.gexf")]
    )
    assert result.exit_code == 0, result.output
    assert "communities" in result.output or "Run" in result.output
    assert json.loads(out.read_text())["run"]["status"] == "done"
    bad = CliRunner().invoke(cli, ["analyze", "--since", "last tuesday"])
    assert bad.exit_code != 0
    assert "--since" in bad.output
