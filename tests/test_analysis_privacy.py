"""Privacy of analysis results: small groups suppressed, person-level results switched off
by default and logged when on, analysts only, and everyone sees their own place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Actor, Factory
from tests.movable_clock import timed_app

from kith.actions import analysis_export
from kith.actions.analysis_views import suppress
from kith.app import App
from kith.domain.models import Role
from kith.storage import analysis as store

UNTIL = datetime(2026, 3, 1, tzinfo=UTC)


def test_small_cells_are_folded_so_that_none_can_be_worked_out() -> None:
    assert suppress({"Sales": 6, "Product": 5, "Legal": 2}, 5) == {
        "cells": {"Sales": 6},
        "suppressed": {"groups": 2, "people": 7},
    }
    # A suppressed bucket that would still be small takes the smallest cells until it is not.
    assert suppress({"Sales": 5, "Ops": 2, "Legal": 1}, 5) == {
        "cells": {},
        "suppressed": {"groups": 3, "people": 8},
    }
    assert suppress({"Sales": 9, "Ops": 7}, 5) == {"cells": {"Sales": 9, "Ops": 7}}
    # Nothing to fold into: the few people of one small group are not shown at all.
    assert suppress({"Ops": 3}, 5) == {"cells": {}, "suppressed": {"groups": 1, "people": None}}


def _seed_run(app: App, make: Factory) -> dict[str, Any]:
    """A finished run with one community of 10 and one of 3, stored as a run would be."""
    big = [make.person(f"Big {i}", department="Sales" if i < 5 else "Product") for i in range(10)]
    small = [make.person(f"Small {i}", department="Legal") for i in range(3)]
    loner = make.person("Loner", department="Legal")
    with app.db.transaction() as tx:
        params = {"half_life_days": 60, "reciprocity": 1, "min_strength": 1, "seed": 0}
        run_id = store.create_run(tx.conn, params, None, UNTIL, UNTIL, None)
        communities = [
            {
                "community_id": 11,
                "size": 10,
                "stability": 0.9,
                "change": "new",
                "name": "Sales & Product · Paris",
                "details": {
                    "departments": {"Sales": 5, "Product": 5},
                    "locations": {"Paris": 10},
                    "timezones": {"Europe/Paris": 10},
                    "roles": {"hub": 1, "peripheral": 9},
                    "cross_boundary": False,
                    "flow": {"pairs": 56, "median_latency_hours": 3.0},
                    "articulation_points": [big[0].id],
                    "bridges": [],
                },
            },
            {
                "community_id": 12,
                "size": 3,
                "stability": 0.5,
                "change": "new",
                "name": "Legal · Paris",
                "details": {"departments": {"Legal": 3}, "flow": {"pairs": 6}},
            },
        ]
        members = [
            {"person_id": a.id, "community_id": 11, "sub_community": 0, "role": role, "metrics": {"z": 1.0}}
            for a, role in zip(big, ["hub"] + ["peripheral"] * 9, strict=True)
        ] + [
            {"person_id": a.id, "community_id": 12, "sub_community": 0, "role": "peripheral", "metrics": {}}
            for a in small
        ]
        store.save(tx.conn, run_id, communities, members)
        summary = {
            "people": 11,
            "ties": 20,
            "interactions": 100,
            "communities": 2,
            "method": "test",
            "silos": {
                "departments": [
                    {"a": "Sales", "b": "Product", "flagged": False},
                    {"a": "Sales", "b": "Legal", "flagged": True},
                ],
                "communities": [{"a": 11, "b": 12, "flagged": True}],
            },
            "flow": {
                "overall": {"pairs": 110},
                "between": [{"from": 11, "to": 12, "pairs": 24}],
                "sampled": False,
                "sources_used": 11,
            },
            "overload": {"people": 1, "share_of_people": 0.09, "person_ids": [big[0].id]},
        }
        store.finish_run(tx.conn, run_id, "done", summary, UNTIL)
    return {"run_id": run_id, "big": big, "small": small, "loner": loner}


def _analyst(make: Factory) -> Actor:
    return make.person("Ana Lyst", role=Role.ANALYST)


def test_members_may_not_read_analyst_endpoints(client: TestClient, app: App, make: Factory) -> None:
    seeded = _seed_run(app, make)
    member, analyst = make.person("Member"), _analyst(make)
    run = seeded["run_id"]
    paths = [
        "/api/v1/analysis/runs",
        f"/api/v1/analysis/runs/{run}",
        f"/api/v1/analysis/runs/{run}/communities",
        "/api/v1/analysis/communities/11",
        f"/api/v1/analysis/runs/{run}/silos",
        f"/api/v1/analysis/runs/{run}/flow",
    ]
    for path in paths:
        assert client.get(path, headers=member.headers).status_code == 403, path
        assert client.get(path, headers=analyst.headers).status_code == 200, path
        assert client.get(path).status_code == 401, path
    assert client.post("/api/v1/analysis/runs", json={}, headers=member.headers).status_code == 403


def test_analysts_see_aggregates_with_small_groups_suppressed(
    client: TestClient, app: App, make: Factory
) -> None:
    seeded = _seed_run(app, make)
    analyst = _analyst(make)
    run = seeded["run_id"]
    listed = client.get(f"/api/v1/analysis/runs/{run}/communities", headers=analyst.headers).json()
    assert [c["id"] for c in listed["communities"]] == [11]
    assert listed["suppressed_communities"] == 1
    big = listed["communities"][0]
    assert big["departments"] == {"cells": {"Product": 5, "Sales": 5}}
    assert big["locations"] == {"cells": {"Paris": 10}}
    # The one hub cannot be shown, and the 9 others would give it away (10 - 9): both folded.
    assert big["roles"] == {"cells": {}, "suppressed": {"groups": 2, "people": 10}}
    assert "members" not in big
    assert "articulation_points" not in big
    assert client.get("/api/v1/analysis/communities/12", headers=analyst.headers).status_code == 404
    detail = client.get("/api/v1/analysis/communities/11", headers=analyst.headers).json()
    assert "members" not in detail
    silos = client.get(f"/api/v1/analysis/runs/{run}/silos", headers=analyst.headers).json()
    assert silos["departments"] == [{"a": "Sales", "b": "Product", "flagged": False}]  # Legal: 3 people
    assert silos["communities"] == []
    flow = client.get(f"/api/v1/analysis/runs/{run}/flow", headers=analyst.headers).json()
    assert [c["community_id"] for c in flow["communities"]] == [11]
    assert flow["between"] == []
    got = client.get(f"/api/v1/analysis/runs/{run}", headers=analyst.headers).json()
    assert "person_ids" not in got["summary"]["overload"]
    exported = analysis_export.export_json(app, analyst.viewer, run)
    assert "member_emails" not in exported["communities"][0]
    assert client.get("/api/v1/analysis/access-log", headers=make.admin.headers).json() == []


def test_person_level_results_when_switched_on_are_logged(database_url: str) -> None:
    with timed_app(database_url, person_level_analysis=True) as t:
        seeded = _seed_run(t.app, t.make)
        analyst = _analyst(t.make)
        detail = t.client.get("/api/v1/analysis/communities/11", headers=analyst.headers).json()
        assert sorted(m["person_id"] for m in detail["members"]) == sorted(a.id for a in seeded["big"])
        assert detail["articulation_points"] == [seeded["big"][0].id]
        exported = analysis_export.export_json(t.app, analyst.viewer, seeded["run_id"])
        assert len(exported["communities"][0]["member_emails"]) == 10
        log = t.client.get("/api/v1/analysis/access-log", headers=t.make.admin.headers)
        assert log.status_code == 200
        assert [entry["what"] for entry in log.json()] == [
            "export: members (json)",
            "members of community 11",
        ]
        assert all(entry["viewer_id"] == analyst.id for entry in log.json())
        assert t.client.get("/api/v1/analysis/access-log", headers=analyst.headers).status_code == 403
        # Still nothing of the small community, even person-level.
        assert t.client.get("/api/v1/analysis/communities/12", headers=analyst.headers).status_code == 404


def test_everyone_sees_their_own_place(client: TestClient, app: App, make: Factory) -> None:
    seeded = _seed_run(app, make)
    hub, small, loner = seeded["big"][0], seeded["small"][0], seeded["loner"]
    mine = client.get("/api/v1/analysis/me", headers=hub.headers).json()
    assert mine["community"]["id"] == 11
    assert mine["community"]["size"] == 10
    assert mine["role"] == "hub"
    theirs = client.get("/api/v1/analysis/me", headers=small.headers).json()
    assert theirs["community"]["size"] is None  # a group of 3: not even its size
    assert client.get("/api/v1/analysis/me", headers=loner.headers).json()["in_network"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-01-01T00:00:00"}, "until"),
        ({"since": "2026-02-01T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"}, "since"),
        ({"half_life_days": 0}, "half_life_days"),
        ({"seed": -1}, "seed"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_run_requests_name_the_field(
    client: TestClient, make: Factory, body: dict[str, Any], field: str
) -> None:
    analyst = _analyst(make)
    refused = client.post("/api/v1/analysis/runs", json=body, headers=analyst.headers)
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["error"]["fields"]
