"""Analysis runs: from the stored interactions to communities, roles, silos and flow.

A run reads the usable interactions of its window (Kith's own, and imports that finished),
builds the network (:mod:`kith.analysis.graph`), finds communities
(:mod:`kith.analysis.communities`), labels roles (:mod:`kith.analysis.roles`), sets the
informal structure against the formal one (:mod:`kith.analysis.formal`), measures
information flow (:mod:`kith.analysis.flow`), matches its communities to the previous run's
(:mod:`kith.analysis.evolution`) so that their ids stay put, and stores it all.

What anyone sees of a run goes through :mod:`kith.actions.analysis_views`, which applies
the privacy rules (docs/privacy.md).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from kith.analysis.communities import detect
from kith.analysis.evolution import match
from kith.analysis.flow import information_flow
from kith.analysis.formal import formal_vs_informal, silos
from kith.analysis.graph import GraphParams, build
from kith.analysis.roles import person_roles
from kith.app import App
from kith.domain.errors import Conflict, Forbidden, NotFound, invalid
from kith.domain.models import Role, Viewer
from kith.storage import analysis as store
from kith.storage import interactions as interaction_store

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

# A run still "running" after this long belongs to a process that stopped.
STALE_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class AnalysisParams:
    """What a run looks at and how; ``None`` takes the setting's default."""

    since: datetime | None = None
    until: datetime | None = None
    half_life_days: float | None = None
    min_strength: float | None = None
    seed: int = 0


def can_analyse(viewer: Viewer | None) -> bool:
    return viewer is None or viewer.role in (Role.ANALYST, Role.ADMIN)


def require_analyst(viewer: Viewer | None) -> None:
    if not can_analyse(viewer):
        raise Forbidden("analysis is for analysts and administrators")


def check_run(
    app: App, viewer: Viewer | None, params: AnalysisParams, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Run an analysis now, in the caller's thread; returns the stored run."""
    run_id = check_start(app, viewer, params)
    return do_complete(app, run_id, progress=progress)


def check_start(app: App, viewer: Viewer | None, params: AnalysisParams) -> int:
    """Record a new run (``running``) and return its id; :func:`do_complete` does the work.
    One run at a time: another one still running is a conflict."""
    require_analyst(viewer)
    until = params.until or app.clock()
    since = params.since or until - timedelta(days=app.settings.analysis_window_days)
    if since >= until:
        raise invalid("since", "must be before until")
    if params.half_life_days is not None and not 0 < params.half_life_days <= 3650:
        raise invalid("half_life_days", "must be between 0 and 3650 days")
    if params.min_strength is not None and not 0 <= params.min_strength <= 1000:
        raise invalid("min_strength", "must be between 0 and 1000")
    stored_params = {
        "half_life_days": params.half_life_days or app.settings.analysis_half_life_days,
        "reciprocity": 1.0,
        "min_strength": app.settings.analysis_min_strength
        if params.min_strength is None
        else params.min_strength,
        "seed": params.seed,
    }
    now = app.clock()
    with app.db.transaction() as tx:
        for run in store.list_runs(tx.conn, limit=20):
            if run["status"] != "running":
                continue
            if now - run["started_at"] < STALE_AFTER:
                raise Conflict(f"analysis run {run['id']} is still running", {"run": "one at a time"})
            store.finish_run(tx.conn, run["id"], "failed", {}, now, "abandoned: its process stopped")
        return store.create_run(tx.conn, stored_params, since, until, now, viewer.id if viewer else None)


def do_complete(app: App, run_id: int, *, progress: Progress | None = None) -> dict[str, Any]:
    """Do the work of a started run and store what it found (or that it failed)."""
    with app.db.read() as conn:
        run = store.get_run(conn, run_id)
    if run is None:
        raise NotFound(f"no analysis run with id {run_id}")
    params = run["params"]
    graph_params = GraphParams(
        half_life_days=params["half_life_days"],
        reciprocity=params["reciprocity"],
        min_strength=params["min_strength"],
    )
    try:
        summary, communities, members = _analyse(
            app, run_id, run["since"], run["until"], graph_params, int(params["seed"]), progress
        )
    except Exception as failure:
        log.exception("analysis run %s failed", run_id)
        with app.db.transaction() as tx:
            store.finish_run(
                tx.conn, run_id, "failed", {}, app.clock(), f"{type(failure).__name__}: {failure}"
            )
        raise
    with app.db.transaction() as tx:
        store.save(tx.conn, run_id, communities, members)
        store.finish_run(tx.conn, run_id, "done", summary, app.clock())
        done = store.get_run(tx.conn, run_id)
    assert done is not None
    return done


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)


def _analyse(
    app: App,
    run_id: int,
    since: datetime,
    until: datetime,
    graph_params: GraphParams,
    seed: int,
    progress: Progress | None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    _say(progress, "reading interactions")
    with app.db.read() as conn:
        columns = interaction_store.window(conn, since, until)
        directory = store.directory(conn)
        previous_run = store.latest_done(conn, before=run_id)
        previous = store.community_members(conn, previous_run) if previous_run else {}
        next_id = store.next_community_id(conn)
    lap("read")
    _say(progress, f"building the network of {columns['source'].size:,} interactions")
    active = [pid for pid, p in directory.items() if p["active"]]
    net = build(
        columns["source"],
        columns["target"],
        columns["at"],
        columns["weight"],
        until=until.timestamp(),
        params=graph_params,
        people=active,
    )
    lap("graph")
    person_ids = net.person_ids.tolist()
    departments = [directory[p]["department"] or "(none)" for p in person_ids]
    locations = [directory[p]["location"] or "(none)" for p in person_ids]
    timezones = [directory[p]["timezone"] or "UTC" for p in person_ids]

    _say(progress, f"finding communities among {net.n:,} people and {net.m:,} ties")
    found = detect(net.n, net.u, net.v, net.strength, seed=seed)
    membership = list(found.membership)
    lap("communities")

    _say(progress, "labelling roles")
    roles = person_roles(net, membership, departments, seed=seed)
    lap("roles")
    _say(progress, "setting communities against departments and offices")
    formal = formal_vs_informal(net, membership, departments, locations, timezones)
    dept_silos = silos(net, departments)
    community_silos = silos(net, membership)
    lap("formal")
    _say(progress, "measuring information flow")
    flow = information_flow(net, membership, until=until.timestamp(), seed=seed)
    lap("flow")

    # Communities of two or more people; a person alone is in none.
    groups: dict[int, list[int]] = defaultdict(list)
    for node, c in enumerate(membership):
        groups[c].append(node)
    kept = sorted((c for c, nodes in groups.items() if len(nodes) >= 2), key=lambda c: (-len(groups[c]), c))
    member_sets = [{person_ids[node] for node in groups[c]} for c in kept]
    evolution = match(previous, member_sets, next_id=next_id)
    stable = dict(zip(kept, evolution.ids, strict=True))
    lap("evolution")

    cross = set(formal.cross_boundary)
    labels = list(roles.label)
    communities: list[dict[str, Any]] = []
    for index, c in enumerate(kept):
        nodes = groups[c]
        change = evolution.changes[index]
        role_counts = Counter(labels[node] for node in nodes)
        flow_stats = flow.per_community.get(c)
        communities.append(
            {
                "community_id": stable[c],
                "size": len(nodes),
                "stability": float(found.stability[c]) if c < len(found.stability) else 0.0,
                "change": change.kind,
                "name": _name(formal.dept_by_community.get(c, {}), formal.location_by_community.get(c, {})),
                "details": {
                    "previous_ids": list(change.previous_ids),
                    "jaccard": change.jaccard,
                    "departments": dict(formal.dept_by_community.get(c, {})),
                    "locations": dict(formal.location_by_community.get(c, {})),
                    "timezones": dict(formal.timezone_by_community.get(c, {})),
                    "cross_boundary": c in cross,
                    "roles": dict(role_counts),
                    "sub_communities": len({found.sub_membership[node] for node in nodes} - {0}),
                    "flow": _plain(flow_stats) if flow_stats is not None else None,
                    # person-level: shown only where person-level results are allowed
                    "articulation_points": [person_ids[n] for n in roles.articulation.get(c, [])],
                    "bridges": [[person_ids[a], person_ids[b]] for a, b in roles.bridges.get(c, [])],
                },
            }
        )
    members: list[dict[str, Any]] = []
    degrees = net.degree()
    for node, person_id in enumerate(person_ids):
        c = membership[node]
        members.append(
            {
                "person_id": person_id,
                "community_id": stable.get(c),
                "sub_community": int(found.sub_membership[node]),
                "role": labels[node],
                "metrics": {
                    "z": _num(roles.z[node]),
                    "participation": _num(roles.participation[node]),
                    "dept_participation": _num(roles.dept_participation[node]),
                    "betweenness": _num(roles.betweenness[node]),
                    "constraint": _num(roles.constraint[node]),
                    "degree": int(degrees[node]),
                    "flags": list(roles.flags[node]),
                },
            }
        )
    lap("store")
    overload_nodes, overload_people_share, overload_strength_share = roles.overload
    summary = {
        "people": net.n,
        "ties": net.m,
        "interactions": int(columns["source"].size),
        "communities": len(kept),
        "method": found.method,
        "quality": {k: float(v) for k, v in found.quality.items()},
        "nmi_departments": _num(formal.nmi_departments),
        "ari_departments": _num(formal.ari_departments),
        "nmi_locations": _num(formal.nmi_locations),
        "ari_locations": _num(formal.ari_locations),
        "cross_boundary": sorted(stable[c] for c in cross if c in stable),
        "changes": dict(Counter(change.kind for change in evolution.changes)),
        "dissolved": [change.community_id for change in evolution.changes if change.kind == "dissolved"],
        "previous_run": previous_run,
        "silos": {
            "departments": [_plain(s) for s in dept_silos],
            "communities": [_relabel_silo(_plain(s), stable) for s in community_silos],
        },
        "flow": {
            "overall": _plain(flow.overall),
            "between": [
                {"from": stable[a], "to": stable[b], **_plain(stats)}
                for (a, b), stats in sorted(flow.between.items())
                if a in stable and b in stable
            ],
            "sampled": bool(flow.sampled),
            "sources_used": int(flow.sources_used),
        },
        "overload": {
            "share_of_people": _num(overload_people_share),
            "share_of_cross_strength": _num(overload_strength_share),
            "people": len(overload_nodes),
            # person-level
            "person_ids": [person_ids[n] for n in overload_nodes],
        },
        "cut_pairs": [
            {"a": stable.get(a), "b": stable.get(b), "kind": kind} for a, b, kind, *_rest in roles.cut_pairs
        ],
        "timings": timings,
    }
    return summary, communities, members


def _name(departments: dict[str, int], locations: dict[str, int]) -> str:
    """A readable label from the community's make-up: its main departments and offices."""
    total = sum(departments.values()) or 1
    top_departments = [
        d for d, n in sorted(departments.items(), key=lambda kv: (-kv[1], kv[0])) if n / total >= 0.25
    ]
    top_locations = [
        loc for loc, n in sorted(locations.items(), key=lambda kv: (-kv[1], kv[0])) if n / total >= 0.2
    ]
    left = " & ".join(top_departments[:2]) if top_departments else f"{len(departments)} departments"
    right = ", ".join(top_locations[:2]) if top_locations else f"{len(locations)} offices"
    return f"{left} · {right}"[:200]


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if np.isnan(number) else round(number, 6)


def _plain(value: Any) -> dict[str, Any]:
    if is_dataclass(value) and not isinstance(value, type):
        data = asdict(value)
    elif isinstance(value, dict):
        data = dict(value)
    else:
        data = dict(vars(value))
    return {k: (_num(v) if isinstance(v, float | np.floating) else v) for k, v in data.items()}


def _relabel_silo(silo: dict[str, Any], stable: dict[int, int]) -> dict[str, Any]:
    for side in ("a", "b"):
        if isinstance(silo.get(side), int) and silo[side] in stable:
            silo[side] = stable[silo[side]]
    return silo
