"""The community map, a community's page, making its space, and the analysts' flow and
silo dashboard.

Analysts and administrators see the detected communities (aggregates, small groups
suppressed, as the API shows them: :mod:`kith.actions.analysis_views`); people only where
``KITH_PERSON_LEVEL_ANALYSIS`` allows, and then each look is logged by the action. Everyone
else sees their own place in the network (``get_me``) at ``/map``.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.actions import analysis, analysis_views, community_proposals, community_spaces
from kith.app import App
from kith.domain.models import Viewer
from kith.web import charts, netmap
from kith.web.pages import _id
from kith.web.render import WebRoute, render
from kith.web.session import AppDep, CsrfDep, SignedDep

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ROLE_ORDER = ("hub", "broker", "connector", "member", "peripheral", "isolated")
KEY_ROLES = ("hub", "broker", "connector")
ROLE_TEXT = {
    "hub": "Hubs hold the community together: many ties inside it.",
    "broker": "Brokers link groups that would otherwise not talk.",
    "connector": "Connectors spread their ties across many communities.",
    "member": "Members take part without a special position.",
    "peripheral": "Peripheral members have few ties, mostly to one person.",
    "isolated": "Isolated: no recent ties in the analysed window.",
}
Colour = Annotated[str, Query(max_length=12)]


def _colour(value: str | None) -> str:
    return "office" if value == "office" else "department"


def latest_run(app: App, viewer: Viewer) -> dict[str, Any] | None:
    """The newest finished run the viewer may see (analysts and administrators)."""
    return next((r for r in analysis_views.list_runs(app, viewer) if r["status"] == "done"), None)


def _dominant(table: dict[str, Any]) -> str:
    cells = table.get("cells") or {}
    return next(iter(cells), "")


def _ranked(tables: list[dict[str, Any]]) -> list[str]:
    total: Counter[str] = Counter()
    for table in tables:
        total.update(table.get("cells") or {})
    return [name for name, _n in total.most_common()]


def map_context(app: App, viewer: Viewer, run_id: int) -> dict[str, Any]:
    """The map's nodes, links, colours and legend for one run."""
    found = analysis_views.list_communities(app, viewer, run_id)
    communities = found["communities"]
    silos = analysis_views.get_silos(app, viewer, run_id)
    mine = analysis_views.get_me(app, viewer)
    my_id = (mine.get("community") or {}).get("id") if mine.get("run_id") == run_id else None
    departments = netmap.colour_index(_ranked([c["departments"] for c in communities]))
    offices = netmap.colour_index(_ranked([c["locations"] for c in communities]))
    nodes = [
        netmap.Node(
            id=c["id"],
            name=c["name"],
            size=c["size"],
            department=_dominant(c["departments"]),
            office=_dominant(c["locations"]),
            cross_boundary=c["cross_boundary"],
            href=f"/map/communities/{c['id']}?run={run_id}",
            mine=c["id"] == my_id,
        )
        for c in communities
    ]
    shown = {c["id"] for c in communities}
    links = [
        netmap.Link(s["a"], s["b"], float(s["observed"]), int(s["ties"]), bool(s["flagged"]))
        for s in silos["communities"]
        if s["a"] != s["b"] and s["a"] in shown and s["b"] in shown and s["ties"] > 0
    ]
    placed = netmap.layout(nodes, links)
    return {
        "communities": communities,
        "suppressed_communities": found["suppressed_communities"],
        "min_group_size": found["min_group_size"],
        "svg": netmap.draw(placed, links, departments, offices),
        "links": links,
        "legend_departments": list(departments.items()),
        "legend_offices": list(offices.items()),
        "names": {c["id"]: c["name"] for c in communities},
    }


@router.get("/map")
def community_map(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    colour: Colour = "department",
    run: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    if not analysis.can_analyse(viewer):
        return render(
            request, "map_me.html", {"active": "map", "me_in_network": analysis_views.get_me(app, viewer)}
        )
    chosen = analysis_views.get_run(app, viewer, run) if run else latest_run(app, viewer)
    context: dict[str, Any] = {"active": "map", "run": chosen, "colour": _colour(colour)}
    if chosen is not None and chosen["status"] == "done":
        context.update(map_context(app, viewer, chosen["id"]))
    return render(request, "map.html", context)


def _member_dots(members: list[dict[str, Any]]) -> dict[str, Any]:
    """Members grouped by role, each with its colour classes (department, office)."""
    departments = netmap.colour_index(
        [n for n, _ in Counter(m["department"] or "" for m in members).most_common()]
    )
    offices = netmap.colour_index([n for n, _ in Counter(m["location"] or "" for m in members).most_common()])
    groups = []
    for role in sorted(
        {m["role"] for m in members}, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else 99
    ):
        people = sorted(
            (m for m in members if m["role"] == role), key=lambda m: (m["display_name"] or "").lower()
        )
        groups.append(
            {
                "role": role,
                "text": ROLE_TEXT.get(role, ""),
                "key": role in KEY_ROLES,
                "people": [
                    {
                        **m,
                        "d": departments.get(m["department"] or "", netmap.PALETTE - 1),
                        "o": offices.get(m["location"] or "", netmap.PALETTE - 1),
                    }
                    for m in people
                ],
            }
        )
    return {
        "groups": groups,
        "legend_departments": list(departments.items()),
        "legend_offices": list(offices.items()),
    }


@router.get("/map/communities/{community_id}")
def community_page(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    community_id: int,
    colour: Colour = "department",
    run: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    made: Annotated[str | None, Query(max_length=4)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    community = analysis_views.get_community(app, viewer, _id(community_id), run)
    proposal = community_proposals.get_proposal(app, viewer, community_id, community["run_id"])
    size = community["size"]
    context: dict[str, Any] = {
        "active": "map",
        "community": community,
        "proposal": proposal,
        "colour": _colour(colour),
        "made": made == "1",
        "person_level": "members" in community,
        "departments": charts.share_bars("Departments", "makeup-departments", community["departments"], size),
        "offices": charts.share_bars("Offices", "makeup-offices", community["locations"], size),
        "zones": charts.share_bars("Time zones", "makeup-zones", community["timezones"], size),
        "roles": community["roles"],
        "flow_chart": _flow_chart(community),
    }
    if "members" in community:
        context["dots"] = _member_dots([m for m in community["members"] if m.get("active", True)])
    return render(request, "community.html", context)


def _flow_chart(community: dict[str, Any]) -> Any:
    flow = community.get("flow") or {}
    if not flow:
        return None
    bars = [
        charts.Bar("within 24 h", flow.get("reach_24h")),
        charts.Bar("within 7 days", flow.get("reach_7d")),
    ]
    chart = charts.Chart(
        "community-reach",
        "How far news travels inside the community",
        "Share of member pairs whose news reached the other within 24 hours and within 7 days.",
        charts.percent,
    )
    return charts.bar_chart(chart, bars, value_header="share of pairs reached")


@router.post("/map/communities/{community_id}/space")
def make_space(
    app: AppDep,
    signed: CsrfDep,
    community_id: int,
) -> Response:
    made = community_spaces.check_create_space(app, signed.viewer, _id(community_id))
    return RedirectResponse(f"/map/communities/{made.community_id}?run={made.run_id}&made=1", status_code=303)


@router.get("/analysis")
def analysis_dashboard(request: Request, app: AppDep, signed: SignedDep) -> HTMLResponse:
    """Analysts: the silo table and the flow between communities of the newest run."""
    viewer = signed.viewer
    analysis.require_analyst(viewer)
    run = latest_run(app, viewer)
    context: dict[str, Any] = {"active": "analysis", "run": run}
    if run is not None:
        found = analysis_views.list_communities(app, viewer, run["id"])
        names = {c["id"]: c["name"] for c in found["communities"]}
        silos = analysis_views.get_silos(app, viewer, run["id"])
        flow = analysis_views.get_flow(app, viewer, run["id"])
        order = [c["id"] for c in found["communities"]]
        short = [f"C{cid}" for cid in order]
        where = {cid: i for i, cid in enumerate(order)}
        cells = {
            (where[f["from"]], where[f["to"]]): float(f["reach_7d"])
            for f in flow["between"]
            if f["from"] in where and f["to"] in where
        }
        for f in flow["communities"]:
            if f["community_id"] in where:
                cells[(where[f["community_id"]], where[f["community_id"]])] = float(f["reach_7d"])
        heat = charts.heat_map(
            charts.Chart(
                "flow-between",
                "News reaching another community within 7 days",
                "Share of pairs (a person in the row's community, one in the column's) where news "
                "reached the column's person within 7 days; the diagonal is within one community.",
                charts.percent,
            ),
            short,
            cells,
            row_header="from \\ to",
        )
        context.update(
            {
                "names": names,
                "order": order,
                "dept_silos": [s for s in silos["departments"] if s["a"] != s["b"]],
                "community_silos": [s for s in silos["communities"] if s["a"] != s["b"]],
                "flow": flow,
                "heat": heat,
            }
        )
    return render(request, "analysis.html", context)
