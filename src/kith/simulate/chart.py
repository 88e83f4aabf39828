"""The shape of a synthetic organisation: its planted communities and its chart over them.

Communities come first: each has a profile (departments and offices its members come
from), and people are drawn from the profiles. The formal structure is laid over them:
teams cut from each department in each office, managers, office leads, department heads,
the chief executive. Then what the traffic needs: working hours and days, leave, how
active each person is, second communities. Used by :mod:`kith.simulate.org` only.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from kith.domain.hours import parse_days
from kith.simulate import catalogue as cat
from kith.simulate.clock import WorkClock
from kith.simulate.traffic import Structure

CUSTOMER_VOICES = "Customer Voices"
Ints = npt.NDArray[np.int64]
Hours = tuple[Ints, Ints, npt.NDArray[np.bool_]]  # shift start and end (local minutes), weekdays


# Communities


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    kind: str
    size: int
    departments: npt.NDArray[np.float64]  # probability of each department (the last: Executive)
    offices: npt.NDArray[np.float64]
    forced: tuple[tuple[int, int], ...] = ()  # (department, office) of the first members
    slug: str = ""


DEPT_INDEX = {d.name: i for i, d in enumerate(cat.DEPARTMENTS)}
EXEC = len(cat.DEPARTMENTS)
_OFFICE_INDEX = {o.name: i for i, o in enumerate(cat.OFFICES)}
_DEPT_WEIGHTS = np.array([d.weight for d in cat.DEPARTMENTS] + [0.0]) / sum(d.weight for d in cat.DEPARTMENTS)
_OFFICE_WEIGHTS = np.array([o.weight for o in cat.OFFICES]) / sum(o.weight for o in cat.OFFICES)
# The dispersed community's first members: one office per country, regions interleaved.
_SPREAD = ("London", "New York", "Singapore", "São Paulo", "Berlin", "Tokyo", "Lagos", "Sydney",
           "Paris", "Bangalore", "Toronto", "Dubai", "Mexico City", "Tel Aviv", "San Francisco")  # fmt: skip


def _profile(
    weights: dict[int, float], spread: float, base: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``1 - spread`` of the probability on ``weights`` (normalised), ``spread`` on ``base``."""
    focus = np.zeros_like(base)
    for index, w in weights.items():
        focus[index] += w
    return np.asarray((1 - spread) * focus / focus.sum() + spread * base)


def plan_communities(rng: np.random.Generator, n: int) -> list[Plan]:
    """The communities of an organisation of ``n``: the dispersed customer-facing one, the
    leadership team, then practices, projects and social groups until everyone has one."""
    dispersed = min(100, max(8, round(n / 6)))
    forced_depts = [DEPT_INDEX[d] for d in ("Sales", "Customer Success", "Support", "Professional Services")]
    forced = tuple(
        (forced_depts[i % 4] if i < 4 else -1, _OFFICE_INDEX[_SPREAD[i]])
        for i in range(min(dispersed, len(_SPREAD)))
    )
    plans = [
        Plan(
            CUSTOMER_VOICES,
            "customer-facing",
            dispersed,
            _profile({DEPT_INDEX[d]: w for d, w in cat.CUSTOMER_FACING}, 0.0, _DEPT_WEIGHTS),
            _OFFICE_WEIGHTS,
            forced,
            "customer-voices",
        ),
        _leadership(rng),
    ]
    rest = n - dispersed - plans[1].size
    # Larger organisations have somewhat larger communities (and many more of them).
    scale = max(n / 600, 0.1) ** 0.25
    median, smallest = 22 * scale, max(10, round(10 * scale))
    largest = int(min(250, max(60, n // 40)))
    names = _Names(rng)
    while rest > 0:
        kind = str(rng.choice(["practice", "project", "social"], p=[0.45, 0.35, 0.20]))
        cap = max(25, smallest) if kind == "social" else largest
        size = int(np.clip(round(rng.lognormal(np.log(median), 0.45)), smallest, cap))
        if rest - size < smallest:
            size = rest
        rest -= size
        plans.append(names.plan(kind, size))
    return plans


def _leadership(rng: np.random.Generator) -> Plan:
    hq = [_OFFICE_INDEX[o] for o in cat.HEADQUARTERS]
    london = hq[0]
    forced = [(EXEC, london), (EXEC, london)]
    forced += [(d, int(rng.choice(hq, p=[0.5, 0.35, 0.15]))) for d in range(len(cat.DEPARTMENTS))]
    return Plan(
        "Leadership Team",
        "leadership",
        len(forced),
        _DEPT_WEIGHTS,
        _OFFICE_WEIGHTS,
        tuple(forced),
        "leadership-team",
    )


class _Names:
    """Unique community names: practices by subject (then region), projects by code name."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.taken: set[str] = {CUSTOMER_VOICES, "Leadership Team"}
        self.practices = [cat.PRACTICES[i] for i in rng.permutation(len(cat.PRACTICES))]
        self.projects = [cat.PROJECTS[i] for i in rng.permutation(len(cat.PROJECTS))]
        self.counts = {"practice": 0, "project": 0, "social": 0}

    def unique(self, name: str) -> str:
        candidate, k = name, 2
        while candidate in self.taken:
            candidate, k = f"{name} {k}", k + 1
        self.taken.add(candidate)
        return candidate

    def plan(self, kind: str, size: int) -> Plan:
        rng, k = self.rng, self.counts[kind]
        self.counts[kind] += 1
        if kind == "social":
            office = int(rng.choice(len(cat.OFFICES), p=_OFFICE_WEIGHTS))
            activity = cat.SOCIAL[int(rng.integers(len(cat.SOCIAL)))]
            name = self.unique(f"{cat.OFFICES[office].name} {activity}")
            return _plan(name, kind, size, _DEPT_WEIGHTS, _profile({office: 1.0}, 0.05, _OFFICE_WEIGHTS))
        # Practices live in two to four offices, projects in one to three; a few members elsewhere.
        many = int(rng.integers(2, 5) if kind == "practice" else rng.integers(1, 4))
        homes = rng.choice(len(cat.OFFICES), size=many, replace=False, p=_OFFICE_WEIGHTS)
        shares = rng.dirichlet(np.full(homes.size, 2.0))
        offices = _profile(
            {int(o): float(w) for o, w in zip(homes, shares, strict=True)},
            0.15 if kind == "practice" else 0.1,
            _OFFICE_WEIGHTS,
        )
        if kind == "practice":
            stem, depts = self.practices[k % len(self.practices)]
            region = cat.OFFICES[int(homes[0])].region
            name = self.unique(stem if stem not in self.taken else f"{stem} {region}")
            weights = {DEPT_INDEX[d]: w for d, w in zip(depts, (1.0, 0.6, 0.4), strict=False)}
            return _plan(name, kind, size, _profile(weights, 0.15, _DEPT_WEIGHTS), offices)
        picked = rng.choice(
            len(cat.DEPARTMENTS), size=int(rng.integers(2, 5)), replace=False, p=_DEPT_WEIGHTS[:-1]
        )
        shares = rng.dirichlet(np.full(picked.size, 2.0))
        name = self.unique(f"Project {self.projects[k % len(self.projects)]}")
        depts = _profile({int(d): float(w) for d, w in zip(picked, shares, strict=True)}, 0.1, _DEPT_WEIGHTS)
        return _plan(name, kind, size, depts, offices)


def _plan(
    name: str, kind: str, size: int, depts: npt.NDArray[np.float64], offices: npt.NDArray[np.float64]
) -> Plan:
    return Plan(name, kind, size, depts, offices, (), slug(name))


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_name).split()
    return "-".join(words)[:80]


# People


@dataclass(frozen=True, slots=True)
class Roster:
    """Everyone as columns: primary community, department and office indices."""

    community: Ints
    department: Ints
    office: Ints
    plans: list[Plan]


def populate(rng: np.random.Generator, plans: list[Plan]) -> Roster:
    """Draw each community's members' departments and offices from its profile."""
    community, department, office = [], [], []
    for c, plan in enumerate(plans):
        depts = rng.choice(len(plan.departments), size=plan.size, p=plan.departments)
        offices = rng.choice(len(cat.OFFICES), size=plan.size, p=plan.offices)
        for i, (d, o) in enumerate(plan.forced):
            if d >= 0:
                depts[i] = d
            offices[i] = o
        community.append(np.full(plan.size, c))
        department.append(depts)
        office.append(offices)
    # Leadership first (the chief executive is person 0), everyone else in a random order.
    lead = plans[0].size
    order = np.concatenate(
        [
            np.arange(lead, lead + plans[1].size),
            np.arange(lead),
            np.arange(lead + plans[1].size, sum(p.size for p in plans)),
        ]
    )
    tail = order[plans[1].size :]
    order[plans[1].size :] = tail[rng.permutation(tail.size)]
    cols = [np.concatenate(x).astype(np.int64)[order] for x in (community, department, office)]
    return Roster(cols[0], cols[1], cols[2], plans)


# The management tree

STAFF, MANAGER, LEAD, HEAD, CHIEF = range(5)
_TEAM_SIZE = 8  # at most, when a department's people in one office are cut into teams


@dataclass(frozen=True, slots=True)
class Tree:
    manager: Ints  # -1 for the chief executive
    role: Ints
    team_of: Ints
    teams: list[Ints]
    team_names: list[str]


def management(rng: np.random.Generator, roster: Roster) -> Tree:
    """Teams cut from each department in each office, managers, office leads, heads, one root.

    Person 0 is the chief executive, 1 the chief of staff, ``2 + d`` the head of department
    ``d``. People of a department alone (or two) in an office join a team elsewhere.
    """
    n = roster.community.size
    manager = np.full(n, -1, dtype=np.int64)
    role = np.full(n, STAFF, dtype=np.int64)
    team_of = np.full(n, -1, dtype=np.int64)
    teams: list[Ints] = []
    names: list[str] = []
    role[0], role[1], manager[1] = CHIEF, CHIEF, 0
    for d, dept in enumerate(cat.DEPARTMENTS):
        head = 2 + d
        role[head], manager[head] = HEAD, 0
        staff = np.flatnonzero((roster.department == d) & (roster.community != 1))
        if staff.size == 0:
            continue
        offices = np.bincount(roster.office[staff], minlength=len(cat.OFFICES))
        biggest = int(np.argmax(offices))
        home = np.where(offices[roster.office[staff]] >= 3, roster.office[staff], biggest)
        for o in np.unique(home):
            group = staff[home == o]
            # Two thirds of the people are sorted by community before the cut, so teams partly
            # follow community lines, as real teams do; the rest fall where they fall.
            key = np.where(
                rng.random(group.size) < 0.65, roster.community[group], rng.random(group.size) * 1e6
            )
            group = group[np.argsort(key, kind="stable")]
            chunks = np.array_split(group, -(-group.size // _TEAM_SIZE))
            bosses = []
            for k, chunk in enumerate(chunks):
                boss = int(chunk[rng.integers(chunk.size)])
                manager[chunk[chunk != boss]] = boss
                role[boss] = MANAGER
                team_of[chunk] = len(teams)
                teams.append(chunk)
                suffix = f"-{k + 1}" if len(chunks) > 1 else ""
                names.append(f"team-{slug(dept.name)}-{slug(cat.OFFICES[int(o)].name)}{suffix}")
                bosses.append(boss)
            lead = bosses[0] if len(bosses) >= 3 else head
            if lead != head:
                role[lead] = LEAD
                manager[lead] = head
            for boss in bosses:
                if boss != lead:
                    manager[boss] = lead
    return Tree(manager, role, team_of, teams, names)


# Hours, activity, second communities: what the traffic needs


def working_hours(rng: np.random.Generator, roster: Roster) -> Hours:
    """Each person's shift (local minutes after midnight) and working weekdays (0 = Monday).

    The office's day, moved by up to an hour either way; a few work part-time or four days.
    """
    n = roster.community.size
    office = roster.office
    start = np.array([_minutes(o.work_start) for o in cat.OFFICES])[office]
    end = np.array([_minutes(o.work_end) for o in cat.OFFICES])[office]
    shift = rng.choice([-60, -30, 0, 0, 0, 0, 30, 60], size=n)
    start, end = start + shift, end + shift
    part_time = rng.random(n) < 0.04
    end = np.where(part_time, start + 300, end)
    week = np.array([_weekdays(o.work_days) for o in cat.OFFICES])[office]
    four_days = np.flatnonzero(rng.random(n) < 0.06)
    for p in four_days:
        days = np.flatnonzero(week[p])
        last = next(d for d in days if not week[p][(d + 1) % 7])
        week[p][last] = False
    return start.astype(np.int64), end.astype(np.int64), week


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _weekdays(text: str) -> list[bool]:
    days = parse_days(text)
    return [d in days for d in range(7)]


_PAD = 21  # days after the last one on which late answers are still worked out


def structure(
    rng: np.random.Generator,
    roster: Roster,
    tree: Tree,
    hours: Hours,
    first: date,
    days: int,
) -> Structure:
    """Everything the traffic is drawn from: clocks with leave, activity, out-of-hours habits,
    popularity within communities, second communities, who broadcasts."""
    n = roster.community.size
    start, end, week = hours
    span = days + _PAD
    weekday = (first.weekday() + np.arange(span)) % 7
    working = week[:, weekday]
    # Leave: most people take a week or two off somewhere in the period.
    away = np.flatnonzero(rng.random(n) < 0.6)
    begin = rng.integers(-7, max(days, 1), away.size)
    length = rng.integers(7, 15, away.size)
    for p, b, k in zip(away, begin, length, strict=True):
        working[p, max(b, 0) : max(b + k, 0)] = False
    zones = [o.timezone for o in cat.OFFICES]
    clock = WorkClock.build(first, span, zones, roster.office, start * 60, end * 60, working)
    activity = rng.lognormal(0.0, 0.5, n)
    activity *= np.where(tree.role >= MANAGER, 1.3, 1.0)
    activity /= activity.mean()
    late = rng.choice([0.02, 0.08, 0.2], size=n, p=[0.8, 0.15, 0.05])
    late = np.where(tree.role >= HEAD, np.maximum(late, 0.08), late)
    communities = [np.flatnonzero(roster.community == c) for c in range(len(roster.plans))]
    return Structure(
        community=roster.community,
        secondary=_second_communities(rng, roster, communities),
        office=roster.office,
        department=roster.department,
        manager=tree.manager,
        team_of=tree.team_of,
        teams=tree.teams,
        communities=communities,
        community_slugs=[p.slug for p in roster.plans],
        team_names=tree.team_names,
        clock=clock,
        days=days,
        activity=activity,
        out_of_hours=late,
        popularity=rng.lognormal(0.0, 0.7, n),
        heads=np.arange(2, 2 + len(cat.DEPARTMENTS), dtype=np.int64),
        office_voice=_office_voices(roster, tree),
        people_head=2 + DEPT_INDEX["People"],
    )


def _second_communities(rng: np.random.Generator, roster: Roster, communities: list[Ints]) -> Ints:
    """A quarter of the people take part in a second community, one near them (office or department)."""
    n, count = roster.community.size, len(communities)
    second = np.full(n, -1, dtype=np.int64)
    joined = np.flatnonzero(rng.random(n) < 0.25)
    if count < 3 or joined.size == 0:  # nothing to join but one's own and the leadership
        return second
    offices = np.zeros((count, len(cat.OFFICES)))
    depts = np.zeros((count, EXEC + 1))
    np.add.at(offices, (roster.community, roster.office), 1.0)
    np.add.at(depts, (roster.community, roster.department), 1.0)
    sizes = np.array([c.size for c in communities], dtype=np.float64)[:, None]
    offices, depts = offices / sizes, depts / sizes
    score = offices[:, roster.office[joined]].T + depts[:, roster.department[joined]].T + 0.15
    score[np.arange(joined.size), roster.community[joined]] = 0.0
    score[:, 1] = 0.0  # the leadership team admits no one loosely
    cumulative = np.cumsum(score, axis=1)
    pick = (cumulative < rng.random(joined.size)[:, None] * cumulative[:, -1:]).sum(axis=1)
    second[joined] = pick
    return second


def _office_voices(roster: Roster, tree: Tree) -> Ints:
    """Per office, who writes to everyone there: its most senior person (operations first)."""
    voices = np.full(len(cat.OFFICES), -1, dtype=np.int64)
    operations = roster.department == DEPT_INDEX["Operations"]
    rank = tree.role * 2 + operations
    for o in range(len(cat.OFFICES)):
        here = np.flatnonzero(roster.office == o)
        if here.size:
            voices[o] = here[np.argmax(rank[here])]
    return voices
