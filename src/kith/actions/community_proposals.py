"""The space Kith proposes for a detected community: its name, description, make-up,
members and owners (see docs/community-spaces.md).

Analysts and administrators see proposals. They show aggregates, suppressed as in every
analysis view (:mod:`kith.actions.analysis_views`); the people (members, owners) only
where person-level results are on (``KITH_PERSON_LEVEL_ANALYSIS``), each such look written
to the access log. :mod:`kith.actions.community_spaces` makes the space.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Connection

from kith.actions.analysis import require_analyst
from kith.actions.analysis_views import SUPPRESSED, person_level_allowed, suppress
from kith.app import App
from kith.domain import validate
from kith.domain.errors import NotFound
from kith.domain.models import Space, SpaceKind, Viewer, Visibility
from kith.storage import analysis as analysis_store
from kith.storage import community_spaces as store

# A department or office "dominates" a community from this share of its people (and at
# least KITH_MIN_GROUP_SIZE of them, so that a name never points at a small group).
DEPARTMENT_SHARE = 0.25
OFFICE_SHARE = 0.2
# A topic word names a community when this share of its people (and at least k) used it.
TOPIC_SHARE = 0.25
OWNERS_MIN, OWNERS_MAX = 2, 3
NAME_MAX, DESCRIPTION_MAX = 120, 2000
NO_DEPARTMENT = "(none)"
_WORD = re.compile(r"[^\W\d_]{3,}")
_STOPWORDS = frozenset(
    """about after again all also and any are around back been before being between both but
    can could did does doing done down each even ever every for from get gets got had has have
    how into its just know last like make many may more most much need new next not now off
    only our out over please question quick same should since some still such than that the
    their them then there these they this those through today too under until upon use used
    using very via was way week were what when where which while who why will with without
    would yet you your""".split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True, slots=True)
class Community:
    """One community of one run, with its active members (analysis rows with directory)."""

    run: dict[str, Any]
    row: dict[str, Any]
    members: list[dict[str, Any]]

    @property
    def id(self) -> int:
        return int(self.row["community_id"])

    @property
    def run_id(self) -> int:
        return int(self.run["id"])


# -- proposals -------------------------------------------------------------------------


def get_proposal(
    app: App, viewer: Viewer | None, community_id: int, run_id: int | None = None
) -> dict[str, Any]:
    """The space Kith proposes for a community (in the newest run that has it, or in
    ``run_id``); 404 for a community under ``KITH_MIN_GROUP_SIZE``, as for a missing one."""
    require_analyst(viewer)
    k, person_level = app.settings.min_group_size, person_level_allowed(app, viewer)
    with app.db.read() as conn:
        community = load_community(conn, k, community_id, run_id)
        titles = store.public_topic_titles(conn, [m["person_id"] for m in community.members])
        space = store.spaces_of(conn, [community_id]).get(community_id)
        proposal = _propose(conn, k, community, titles, space, person_level=person_level)
    if person_level:
        log_access(app, viewer, community.run_id, f"proposal for community {community_id}")
    return proposal


def list_proposals(app: App, viewer: Viewer | None, run_id: int | None = None) -> dict[str, Any]:
    """A proposed space for every community of a run (the newest finished by default) of
    at least ``KITH_MIN_GROUP_SIZE`` people, largest first."""
    require_analyst(viewer)
    k, person_level = app.settings.min_group_size, person_level_allowed(app, viewer)
    with app.db.read() as conn:
        run_id = run_id or analysis_store.latest_done(conn)
        run = analysis_store.get_run(conn, run_id) if run_id else None
        if run is None:
            raise NotFound(
                "no finished analysis run" if run_id is None else f"no analysis run with id {run_id}"
            )
        rows = analysis_store.communities(conn, run["id"])
        shown = [row for row in rows if row["size"] >= k]
        by_community: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for member in analysis_store.members(conn, run["id"]):
            if member["community_id"] is not None and member["active"]:
                by_community[member["community_id"]].append(member)
        everyone = [m["person_id"] for row in shown for m in by_community[row["community_id"]]]
        titles = store.public_topic_titles(conn, everyone)
        made = store.spaces_of(conn, [row["community_id"] for row in shown])
        proposals = [
            _propose(
                conn,
                k,
                Community(run, row, by_community[row["community_id"]]),
                titles,
                made.get(row["community_id"]),
                person_level=person_level,
            )
            for row in shown
        ]
    if person_level and proposals:
        log_access(app, viewer, run["id"], f"proposals for run {run['id']}")
    return {
        "run_id": run["id"],
        "proposals": proposals,
        "suppressed_communities": len(rows) - len(shown),
        "min_group_size": k,
        "person_level": person_level,
    }


def load_community(conn: Connection, k: int, community_id: int, run_id: int | None) -> Community:
    run_id = run_id or analysis_store.latest_run_with(conn, community_id)
    row = analysis_store.community(conn, run_id, community_id) if run_id else None
    run = analysis_store.get_run(conn, run_id) if run_id and row else None
    if run is None or row is None or row["size"] < k or run["status"] != "done":
        raise NotFound(f"no community with id {community_id}")
    members = [m for m in analysis_store.members(conn, run["id"], community_id) if m["active"]]
    return Community(run, row, members)


def _propose(
    conn: Connection,
    k: int,
    community: Community,
    titles: Sequence[tuple[int, str]],
    space: Space | None,
    *,
    person_level: bool,
) -> dict[str, Any]:
    row, details = community.row, community.row["details"]
    words = topic_words(titles, {m["person_id"] for m in community.members}, community.row["size"], k)
    name = suggest_name(details, row["size"], k, [w for w, _ in words])
    owners = suggest_owners(community.members)
    proposal: dict[str, Any] = {
        "community_id": community.id,
        "run_id": community.run_id,
        "size": row["size"],
        "stability": round(float(row["stability"]), 4),
        "change": row["change"],
        "name": name,
        "slug": free_slug(conn, slug_for(name) or f"community-{community.id}"),
        "description": describe(community, k),
        "kind": SpaceKind.COMMUNITY.value,
        "visibility": Visibility.PRIVATE.value,
        "makeup": makeup(details, row["size"], k, community.run["until"]),
        "topics": [{"word": word, "people": n} for word, n in words],
        "member_count": len(community.members),
        "owner_count": len(owners),
        "person_level": person_level,
        "space": None if space is None else _space_ref(space),
    }
    if person_level:
        proposal["owners"] = [person_view(m) for m in owners]
        proposal["members"] = [person_view(m) for m in community.members]
    return proposal


def suggest_owners(members: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The community's hubs (role ``hub``), most central first (within-community strength
    z-score, then ties), at most 3; when fewer than 2 are hubs, the most central others
    make up 2. Ties are broken by person id, so the choice is deterministic."""

    def centrality(m: dict[str, Any]) -> tuple[float, int, int]:
        z = m["metrics"].get("z")
        return (-(z if z is not None else -math.inf), -int(m["metrics"].get("degree") or 0), m["person_id"])

    ranked = sorted(members, key=centrality)
    chosen = [m for m in ranked if m["role"] == "hub"][:OWNERS_MAX]
    for m in ranked:
        if len(chosen) >= OWNERS_MIN:
            break
        if m not in chosen:
            chosen.append(m)
    return chosen


def _dominant(counts: dict[str, int], size: int, share: float, k: int) -> list[str]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [name for name, n in ranked if name != NO_DEPARTMENT and n >= k and n / max(size, 1) >= share]


def suggest_name(details: dict[str, Any], size: int, k: int, words: Sequence[str]) -> str:
    """``Departments · Offices``, e.g. ``Sales & Support · Singapore–London``.

    The left side: the (at most two) departments each holding at least 25% of the
    community and at least ``k`` people; when none does, its (at most two) topic words;
    else the number of departments. The right: the (at most two) offices each holding at
    least 20% and ``k``; else the number of offices.
    """
    departments = details.get("departments", {})
    offices = details.get("locations", {})
    top_departments = _dominant(departments, size, DEPARTMENT_SHARE, k)[:2]
    top_offices = _dominant(offices, size, OFFICE_SHARE, k)[:2]
    if top_departments:
        left = " & ".join(top_departments)
    elif words:
        left = " & ".join(word.capitalize() for word in words[:2])
    else:
        left = _count(len(departments), "department")
    right = "–".join(top_offices) if top_offices else _count(len(offices), "office")
    return f"{left} · {right}"[:NAME_MAX]


def topic_words(
    titles: Sequence[tuple[int, str]], member_ids: set[int], size: int, k: int
) -> list[tuple[str, int]]:
    """Words of the titles of topics the community's members started in public spaces,
    with how many of its members used each: those used by at least ``k`` members and 25%
    of the community, most used first (then alphabetical), at most five."""
    users: dict[str, set[int]] = defaultdict(set)
    for author, title in titles:
        if author in member_ids:
            for word in set(_WORD.findall(title.lower())) - _STOPWORDS:
                users[word].add(author)
    needed = max(k, math.ceil(TOPIC_SHARE * size))
    ranked = sorted(
        ((w, len(p)) for w, p in users.items() if len(p) >= needed), key=lambda wn: (-wn[1], wn[0])
    )
    return ranked[:5]


def slug_for(name: str) -> str:
    """A slug from a name, accents folded (``São Paulo`` -> ``sao-paulo``)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return validate.slugify(folded)


def free_slug(conn: Connection, base: str) -> str:
    """``base``, or the first of ``base-2``, ``base-3``... that no space has."""
    base = base[:64].strip("-")
    taken = store.slugs_like(conn, base)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = base[: 64 - len(suffix)].strip("-") + suffix
    return candidate


def makeup(details: dict[str, Any], size: int, k: int, at: datetime) -> dict[str, Any]:
    """The community's make-up, every table suppressed as in the analysis views."""
    departments = details.get("departments", {})
    zones = details.get("timezones", {})
    largest = max(departments.values(), default=0)
    offsets = [offset for zone in zones if (offset := _utc_offset(zone, at)) is not None]
    countries = _countries(zones)
    return {
        "departments": suppress(departments, k),
        "locations": suppress(details.get("locations", {}), k),
        "timezones": suppress(zones, k),
        "department_count": len(departments),
        "office_count": len(details.get("locations", {})),
        "timezone_count": len(zones),
        "country_count": countries,
        "utc_offset_span_hours": (max(offsets) - min(offsets)) if offsets else None,
        "outside_largest_department": round(1 - largest / size, 3) if size and largest >= k else None,
        "cross_boundary": bool(details.get("cross_boundary")),
    }


def describe(community: Community, k: int) -> str:
    """A plain-text description of the community's make-up, for the space."""
    row, details = community.row, community.row["details"]
    size = row["size"]
    shape = makeup(details, size, k, community.run["until"])
    lines = [
        f"Made from community {community.id} of analysis run {community.run_id}: {size} people across "
        f"{_count(shape['department_count'], 'department')} and {_count(shape['office_count'], 'office')}.",
        f"Departments: {_shares(shape['departments'], size, k, 'department')}.",
        f"Offices: {_shares(shape['locations'], size, k, 'office')}.",
    ]
    zones = f"Time zones: {shape['timezone_count']}"
    if shape["utc_offset_span_hours"]:
        zones += f", {shape['utc_offset_span_hours']:g} hours apart at most"
    if shape["country_count"]:
        zones += f"; {_count(shape['country_count'], 'country', 'countries')}"
    lines.append(zones + ".")
    if shape["outside_largest_department"] is not None:
        lines.append(
            f"{round(100 * shape['outside_largest_department'])}% work outside its largest department."
        )
    if shape["cross_boundary"]:
        lines.append("It crosses the formal structure: its ties run across departments and offices.")
    return "\n".join(lines)[:DESCRIPTION_MAX]


def _shares(table: dict[str, Any], size: int, k: int, noun: str) -> str:
    parts = [
        f"{'no ' + noun if name == NO_DEPARTMENT else name} {round(100 * n / size)}%"
        for name, n in table["cells"].items()
    ]
    hidden = table.get(SUPPRESSED)
    if hidden:
        groups = _count(hidden["groups"], "other " + noun, "other " + noun + "s")
        if hidden["people"] is None:
            parts.append(f"{groups}, each under {k} people")
        else:
            parts.append(f"{groups} {round(100 * hidden['people'] / size)}%")
    return ", ".join(parts) or "none"


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def _utc_offset(zone: str, at: datetime) -> float | None:
    try:
        offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return offset.total_seconds() / 3600 if offset is not None else None


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO country code, from the system's ``zone.tab`` (empty if none)."""
    for folder in TZPATH:
        path = Path(folder) / "zone.tab"
        if path.is_file():
            found = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                fields = line.split("\t")
                if len(fields) >= 3 and not line.startswith("#"):
                    found[fields[2]] = fields[0]
            return found
    return {}


def _countries(zones: dict[str, int]) -> int | None:
    table = _zone_countries()
    known = {table[zone] for zone in zones if zone in table}
    return len(known) or None


def person_view(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "person_id": m["person_id"],
        "display_name": m.get("display_name"),
        "department": m.get("department"),
        "location": m.get("location"),
        "timezone": m.get("timezone"),
        "role": m.get("role"),
        "z": m["metrics"].get("z") if m.get("metrics") else None,
        "degree": m["metrics"].get("degree") if m.get("metrics") else None,
    }


def _space_ref(space: Space) -> dict[str, Any]:
    return {
        "id": space.id,
        "slug": space.slug,
        "name": space.name,
        "visibility": space.visibility.value,
        "archived": space.archived,
    }


def log_access(app: App, viewer: Viewer | None, run_id: int | None, what: str) -> None:
    with app.db.transaction() as tx:
        analysis_store.log_access(tx.conn, viewer.id if viewer else None, run_id, what, app.clock())
