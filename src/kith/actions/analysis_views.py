"""What people see of analysis runs, with the privacy rules applied (docs/privacy.md).

- Analysts and administrators see aggregates. Any group of fewer than
  ``KITH_MIN_GROUP_SIZE`` people is suppressed: a community that small is not listed (only
  counted), a cell of a department × community table that small is folded into a
  "suppressed" bucket, and when that bucket alone would be smaller than the threshold the
  next smallest cells join it (complementary suppression), so no suppressed number can be
  worked out from a total. Silos and flows between groups are shown only when both groups
  are large enough.
- Person-level results (who is in a community, each person's role, the people carrying
  the cross-community load, single points of failure) are shown to analysts and
  administrators only when ``KITH_PERSON_LEVEL_ANALYSIS`` is on, and each such access is
  written to the access log.
- Everyone may see their own place in the network (:func:`get_me`).
"""

from __future__ import annotations

from typing import Any

from kith.actions.analysis import require_analyst
from kith.app import App
from kith.domain import views
from kith.domain.errors import Forbidden, NotFound
from kith.domain.models import Viewer
from kith.storage import analysis as store

SUPPRESSED = "suppressed"


def person_level_allowed(app: App, viewer: Viewer | None) -> bool:
    """Whether this viewer may see person-level results of other people."""
    return app.settings.person_level_analysis and (
        viewer is None or viewer.role.value in ("analyst", "admin")
    )


def suppress(counts: dict[str, int], k: int) -> dict[str, Any]:
    """A table row with every cell under ``k`` folded into one ``suppressed`` bucket, itself
    at least ``k`` (or empty): the smallest shown cells join it until it is."""
    shown = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    hidden = {name: n for name, n in shown.items() if n < k}
    for name in hidden:
        del shown[name]
    bucket = sum(hidden.values())
    while 0 < bucket < k and shown:
        name = min(shown, key=lambda key: (shown[key], key))
        bucket += shown.pop(name)
    result: dict[str, Any] = {"cells": shown}
    if bucket:
        result[SUPPRESSED] = {"groups": len(counts) - len(shown), "people": bucket if bucket >= k else None}
    return result


def _run(app: App, run_id: int) -> dict[str, Any]:
    with app.db.read() as conn:
        run = store.get_run(conn, run_id)
    if run is None:
        raise NotFound(f"no analysis run with id {run_id}")
    return run


def run_view(run: dict[str, Any], *, k: int, person_level: bool) -> dict[str, Any]:
    summary = dict(run["summary"] or {})
    if summary:
        summary["overload"] = {
            key: value
            for key, value in (summary.get("overload") or {}).items()
            if key != "person_ids" or person_level
        }
        summary.pop("silos", None)
        summary.pop("flow", None)
    return {
        "id": run["id"],
        "status": run["status"],
        "params": run["params"],
        "since": views.iso(run["since"]),
        "until": views.iso(run["until"]),
        "started_at": views.iso(run["started_at"]),
        "finished_at": views.iso(run["finished_at"]),
        "error": run["error"] or None,
        "summary": summary,
        "min_group_size": k,
    }


def list_runs(app: App, viewer: Viewer | None) -> list[dict[str, Any]]:
    require_analyst(viewer)
    with app.db.read() as conn:
        runs = store.list_runs(conn)
    k, person_level = app.settings.min_group_size, person_level_allowed(app, viewer)
    return [run_view(run, k=k, person_level=person_level) for run in runs]


def get_run(app: App, viewer: Viewer | None, run_id: int) -> dict[str, Any]:
    require_analyst(viewer)
    return run_view(
        _run(app, run_id), k=app.settings.min_group_size, person_level=person_level_allowed(app, viewer)
    )


def _community_view(row: dict[str, Any], k: int, person_level: bool) -> dict[str, Any]:
    details = row["details"]
    view = {
        "id": row["community_id"],
        "size": row["size"],
        "name": row["name"],
        "stability": round(float(row["stability"]), 4),
        "change": row["change"],
        "previous_ids": details.get("previous_ids", []),
        "cross_boundary": bool(details.get("cross_boundary")),
        "sub_communities": details.get("sub_communities", 0),
        "departments": suppress(details.get("departments", {}), k),
        "locations": suppress(details.get("locations", {}), k),
        "timezones": suppress(details.get("timezones", {}), k),
        "roles": suppress(details.get("roles", {}), k),
        "flow": details.get("flow"),
    }
    if person_level:
        view["articulation_points"] = details.get("articulation_points", [])
        view["bridges"] = details.get("bridges", [])
    return view


def list_communities(app: App, viewer: Viewer | None, run_id: int) -> dict[str, Any]:
    """The run's communities of at least ``KITH_MIN_GROUP_SIZE`` people, largest first."""
    require_analyst(viewer)
    run = _run(app, run_id)
    k, person_level = app.settings.min_group_size, person_level_allowed(app, viewer)
    with app.db.read() as conn:
        rows = store.communities(conn, run_id)
    shown = [row for row in rows if row["size"] >= k]
    return {
        "run_id": run["id"],
        "communities": [_community_view(row, k, person_level) for row in shown],
        "suppressed_communities": len(rows) - len(shown),
        "min_group_size": k,
    }


def get_community(
    app: App, viewer: Viewer | None, community_id: int, run_id: int | None = None
) -> dict[str, Any]:
    """One community (in the newest run that has it, or in ``run_id``); its members when
    person-level results are allowed, and then the access is logged."""
    require_analyst(viewer)
    k, person_level = app.settings.min_group_size, person_level_allowed(app, viewer)
    with app.db.read() as conn:
        run_id = run_id or store.latest_run_with(conn, community_id)
        row = store.community(conn, run_id, community_id) if run_id else None
    if row is None or run_id is None or row["size"] < k:
        raise NotFound(f"no community with id {community_id}")
    view = _community_view(row, k, person_level)
    view["run_id"] = run_id
    if person_level:
        with app.db.transaction() as tx:
            members = store.members(tx.conn, run_id, community_id)
            store.log_access(
                tx.conn,
                viewer.id if viewer else None,
                run_id,
                f"members of community {community_id}",
                app.clock(),
            )
        view["members"] = [_member_view(m) for m in members]
    return view


def _member_view(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "person_id": m["person_id"],
        "display_name": m.get("display_name"),
        "email": m.get("email"),
        "department": m.get("department"),
        "location": m.get("location"),
        "timezone": m.get("timezone"),
        "active": m.get("active"),
        "community_id": m["community_id"],
        "sub_community": m["sub_community"],
        "role": m["role"],
        "metrics": m["metrics"],
    }


def get_silos(app: App, viewer: Viewer | None, run_id: int) -> dict[str, Any]:
    """Department and community pairs with far fewer ties than expected (groups ≥ k)."""
    require_analyst(viewer)
    run = _run(app, run_id)
    k = app.settings.min_group_size
    silos = (run["summary"] or {}).get("silos", {})
    with app.db.read() as conn:
        sizes = {row["community_id"]: row["size"] for row in store.communities(conn, run_id)}
        members = store.members(conn, run_id)
    dept_sizes: dict[str, int] = {}
    for m in members:
        name = m.get("department") or "(none)"
        dept_sizes[name] = dept_sizes.get(name, 0) + 1
    return {
        "run_id": run_id,
        "departments": [s for s in silos.get("departments", []) if _both(dept_sizes, s, k)],
        "communities": [s for s in silos.get("communities", []) if _both(sizes, s, k)],
        "min_group_size": k,
    }


def _both(sizes: dict[Any, int], pair: dict[str, Any], k: int) -> bool:
    return sizes.get(pair.get("a"), 0) >= k and sizes.get(pair.get("b"), 0) >= k


def get_flow(app: App, viewer: Viewer | None, run_id: int) -> dict[str, Any]:
    """Information latency and reach, overall, per community and between communities."""
    require_analyst(viewer)
    run = _run(app, run_id)
    k = app.settings.min_group_size
    flow = (run["summary"] or {}).get("flow", {})
    with app.db.read() as conn:
        rows = store.communities(conn, run_id)
    sizes = {row["community_id"]: row["size"] for row in rows}
    return {
        "run_id": run_id,
        "overall": flow.get("overall"),
        "communities": [
            {"community_id": row["community_id"], **(row["details"].get("flow") or {})}
            for row in rows
            if row["size"] >= k and row["details"].get("flow")
        ],
        "between": [
            f for f in flow.get("between", []) if sizes.get(f["from"], 0) >= k and sizes.get(f["to"], 0) >= k
        ],
        "sampled": flow.get("sampled", False),
        "sources_used": flow.get("sources_used"),
        "min_group_size": k,
    }


def get_me(app: App, viewer: Viewer) -> dict[str, Any]:
    """My own place in the newest network: my community, my role and my measures."""
    with app.db.read() as conn:
        run_id = store.latest_done(conn)
        mine = store.member(conn, run_id, viewer.id) if run_id else None
        community = (
            store.community(conn, run_id, mine["community_id"])
            if run_id and mine and mine["community_id"]
            else None
        )
    if run_id is None or mine is None:
        return {"run_id": run_id, "in_network": False}
    k = app.settings.min_group_size
    return {
        "run_id": run_id,
        "in_network": True,
        "community": None
        if community is None
        else {
            "id": community["community_id"],
            "name": community["name"],
            "size": community["size"] if community["size"] >= k else None,
            "cross_boundary": bool(community["details"].get("cross_boundary")),
        },
        "role": mine["role"],
        "metrics": mine["metrics"],
    }


def access_log(app: App, viewer: Viewer) -> list[dict[str, Any]]:
    """Who looked at person-level results; administrators only."""
    if not viewer.is_admin:
        raise Forbidden("the access log is for administrators")
    with app.db.read() as conn:
        rows = store.access_log(conn)
    return [{**row, "at": views.iso(row["at"])} for row in rows]


def community_membership(app: App, viewer: Viewer | None, run_id: int | None = None) -> dict[int, set[int]]:
    """Each community of a run (the latest done by default) and its members' person ids.

    Person-level: only where :func:`person_level_allowed` (or for Kith itself, ``viewer``
    None, as the demo builder is); logged like every person-level view.
    """
    if not person_level_allowed(app, viewer):
        raise Forbidden("person-level analysis is off in this deployment")
    with app.db.transaction() as tx:
        found = run_id if run_id is not None else store.latest_done(tx.conn)
        if found is None:
            raise NotFound("no finished analysis run")
        if viewer is not None:
            store.log_access(tx.conn, viewer.id, found, "community membership", app.clock())
        return store.community_members(tx.conn, found)
