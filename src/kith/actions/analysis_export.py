"""Exports of an analysis run: JSON, and GEXF or GraphML that open in Gephi.

With person-level results allowed (``KITH_PERSON_LEVEL_ANALYSIS``), the JSON lists each
community's members by e-mail and the graph files hold people and their ties. Without, the
JSON holds the aggregates an analyst may see, and the graph files hold the communities (of
at least ``KITH_MIN_GROUP_SIZE`` people) as nodes and the summed tie strength between them
as edges. Every person-level export is written to the access log.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx

from kith.actions import analysis_views
from kith.actions.analysis import require_analyst
from kith.analysis.graph import GraphParams, build
from kith.app import App
from kith.domain.errors import NotFound, invalid
from kith.domain.models import Viewer
from kith.storage import analysis as store
from kith.storage import interactions as interaction_store

FORMATS = ("gexf", "graphml")


def export_json(app: App, viewer: Viewer | None, run_id: int) -> dict[str, Any]:
    """The run, its communities, silos and flow; members' e-mails when allowed."""
    require_analyst(viewer)
    data = {
        "run": analysis_views.get_run(app, viewer, run_id),
        **analysis_views.list_communities(app, viewer, run_id),
        "silos": analysis_views.get_silos(app, viewer, run_id),
        "flow": analysis_views.get_flow(app, viewer, run_id),
        "person_level": analysis_views.person_level_allowed(app, viewer),
    }
    if data["person_level"]:
        with app.db.transaction() as tx:
            members = store.members(tx.conn, run_id)
            store.log_access(
                tx.conn, viewer.id if viewer else None, run_id, "export: members (json)", app.clock()
            )
        by_community: dict[int, list[str]] = defaultdict(list)
        for m in members:
            if m["community_id"] is not None:
                by_community[m["community_id"]].append(m["email"])
        for community in data["communities"]:
            community["member_emails"] = sorted(by_community.get(community["id"], []))
    return data


def export_graph(app: App, viewer: Viewer | None, run_id: int, path: Path, fmt: str) -> dict[str, int]:
    """Write the run's network to ``path`` as ``gexf`` or ``graphml``; returns its size."""
    require_analyst(viewer)
    if fmt not in FORMATS:
        raise invalid("format", f"must be one of {', '.join(FORMATS)}")
    graph = _graph(app, viewer, run_id)
    if fmt == "gexf":
        nx.write_gexf(graph, path)
    else:
        nx.write_graphml(graph, path)
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}


def _graph(app: App, viewer: Viewer | None, run_id: int) -> nx.Graph:
    k = app.settings.min_group_size
    person_level = analysis_views.person_level_allowed(app, viewer)
    with app.db.read() as conn:
        run = store.get_run(conn, run_id)
        if run is None or run["status"] != "done":
            raise NotFound(f"no finished analysis run with id {run_id}")
        columns = interaction_store.window(conn, run["since"], run["until"])
        members = store.members(conn, run_id)
        communities = {c["community_id"]: c for c in store.communities(conn, run_id)}
    params = run["params"]
    net = build(
        columns["source"],
        columns["target"],
        columns["at"],
        columns["weight"],
        until=run["until"].timestamp(),
        params=GraphParams(params["half_life_days"], params["reciprocity"], params["min_strength"]),
    )
    community_of = {m["person_id"]: m["community_id"] for m in members}
    person_ids = net.person_ids.tolist()
    graph = nx.Graph(name=f"Kith analysis run {run_id}")
    if person_level:
        with app.db.transaction() as tx:
            store.log_access(
                tx.conn, viewer.id if viewer else None, run_id, "export: person graph", app.clock()
            )
        for m in members:
            graph.add_node(
                m["person_id"],
                label=m["display_name"] or m["email"],
                community=m["community_id"] if m["community_id"] is not None else -1,
                department=m["department"] or "",
                location=m["location"] or "",
                timezone=m["timezone"] or "",
                role=m["role"],
            )
        for a, b, s in zip(net.u.tolist(), net.v.tolist(), net.strength.tolist(), strict=True):
            graph.add_edge(person_ids[a], person_ids[b], weight=round(s, 4))
        return graph
    shown = {cid for cid, c in communities.items() if c["size"] >= k}
    for cid in sorted(shown):
        c = communities[cid]
        graph.add_node(
            cid, label=c["name"], size=c["size"], cross_boundary=bool(c["details"].get("cross_boundary"))
        )
    between: dict[tuple[int, int], float] = defaultdict(float)
    for a, b, s in zip(net.u.tolist(), net.v.tolist(), net.strength.tolist(), strict=True):
        ca, cb = community_of.get(person_ids[a]), community_of.get(person_ids[b])
        if ca is None or cb is None or ca == cb or ca not in shown or cb not in shown:
            continue
        between[(min(ca, cb), max(ca, cb))] += s
    for (ca, cb), weight in sorted(between.items()):
        graph.add_edge(ca, cb, weight=round(weight, 4))
    return graph
