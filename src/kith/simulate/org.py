"""The synthetic organisation: people, offices, a management tree, planted communities, traffic.

``simulate_org(people=600, days=90, seed=1)`` returns a :class:`SimulatedOrg`: everyone in
the organisation (departments, offices in 15 time zones, managers, working hours), the
informal communities planted in it (the ground truth), and every interaction between them
over ``days`` days, as numpy columns and, on demand, as :class:`InteractionRecord` values.
The same seed gives the same organisation, byte for byte; 10,000 people and about two
million interactions take a few seconds.

How it is built (``docs/simulation.md`` says more):

1. **Communities first.** Every person belongs to one planted community, the place most of
   their conversation happens: the dispersed customer-facing community (about 100 people
   in every office, from sales, customer success, support and services), the leadership
   team, communities of practice (mostly one or two departments, two to four offices),
   projects (two to four departments, one to three offices) and office social groups. A
   quarter of the people also belong, more loosely, to a second community.
2. **Formal structure over them.** Departments and offices come from each community's
   profile; teams of about seven are cut from each department in each office (partly along
   community lines, as real teams are), each with a manager, managers reporting to an
   office lead or the department head, heads to the chief executive: one tree, one root.
3. **Traffic** (:mod:`kith.simulate.traffic`): each person starts conversations in their
   own working hours, mostly inside their community, less with their team and manager,
   some with loose contacts and some at random; others answer in *their* working hours;
   leaders and offices broadcast.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from kith.domain.interactions import InteractionRecord, Kind
from kith.domain.models import WEEKDAYS
from kith.simulate import catalogue as cat
from kith.simulate.chart import (
    CHIEF,
    EXEC,
    HEAD,
    LEAD,
    MANAGER,
    Hours,
    Roster,
    Tree,
    management,
    plan_communities,
    populate,
    structure,
    working_hours,
)
from kith.simulate.traffic import KIND_NAMES, Structure, Traffic, generate_traffic

__all__ = [
    "KIND_CODES",
    "KIND_NAMES",
    "MAX_PEOPLE",
    "MIN_PEOPLE",
    "SimChannel",
    "SimCommunity",
    "SimPerson",
    "SimulatedOrg",
    "simulate_org",
]

MIN_PEOPLE = 50
MAX_PEOPLE = 50_000
MAX_DAYS = 366
DEFAULT_START = date(2025, 2, 3)  # a Monday; the 90 days after it cross three clock changes
Ints = npt.NDArray[np.int64]
KIND_CODES: dict[str, int] = {name: code for code, name in enumerate(KIND_NAMES)}


@dataclass(frozen=True)
class SimPerson:
    """One person of the synthetic organisation, as the roster shows them (plus the truth)."""

    email: str
    name: str
    title: str
    department: str
    office: str
    country: str
    timezone: str
    work_start: str
    work_end: str
    work_days: str
    manager_email: str | None
    community: int  # the planted primary community's index
    secondary: int | None = None  # a second community they take part in, more loosely
    team: int | None = None  # index of their team (people under one manager), if any


@dataclass(frozen=True)
class SimCommunity:
    """A planted informal community: ``members`` are the indices of people whose primary it is."""

    id: int
    name: str
    kind: str  # "customer-facing", "leadership", "practice", "project" or "social"
    members: list[int]
    slug: str = ""  # its chat channel's name


@dataclass(frozen=True)
class SimChannel:
    """A chat channel: a community's, a team's, the whole company's, or a direct message."""

    id: str  # Slack-style: C... for channels, D... for direct messages
    name: str  # empty for direct messages
    kind: str  # "community", "team", "general", "announcements" or "dm"
    members: list[int]


@dataclass
class SimulatedOrg:
    """A generated organisation, its planted communities and its interactions (columnar).

    Interaction ``i`` is ``source[i]`` addressing ``target[i]`` (person indices) at
    ``at[i]`` (unix seconds, UTC) as ``KIND_NAMES[kind[i]]`` with ``weight[i]`` (1, or
    1/recipients for a broadcast), within message ``context[i]``. Messages are columnar too:
    ``message_author``, ``message_at``, ``message_parent`` (the message answered, or -1)
    and ``message_channel`` (-1 for mail; for chat an index into ``channels``, or past its
    end, ``len(channels) + k``, direct-message channel ``k`` between the two people of
    ``dm_pairs[k]``). A reaction is not a message: its context is the message reacted to.
    Interactions are in time order, then message order.
    """

    people: list[SimPerson]
    communities: list[SimCommunity]
    domain: str
    start: datetime
    days: int
    seed: int
    source: npt.NDArray[np.int32]
    target: npt.NDArray[np.int32]
    at: Ints
    kind: npt.NDArray[np.int8]
    weight: npt.NDArray[np.float64]
    context: Ints
    message_author: npt.NDArray[np.int32]
    message_at: Ints
    message_parent: Ints
    message_channel: npt.NDArray[np.int32]
    channels: list[SimChannel]
    dm_pairs: npt.NDArray[np.int32]  # (k, 2): the two people of direct-message channel k
    customer_facing: int = 0  # the id of the planted dispersed customer-facing community
    teams: list[list[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.source.size)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def is_chat(self) -> npt.NDArray[np.bool_]:
        """Per interaction: chat-like (a Slack export) rather than mail-like."""
        return np.asarray(self.message_channel[self.context] >= 0)

    def message_id(self, message: int) -> str:
        """The Message-ID of mail message ``message``."""
        return f"<m{message:07d}.s{self.seed}@{self.domain}>"

    def slack_ts(self, message: int) -> str:
        """The Slack timestamp of chat message ``message``: its second, and a unique fraction."""
        return f"{int(self.message_at[message])}.{message % 1_000_000:06d}"

    def channel_id(self, channel: int) -> str:
        """The Slack id of chat channel ``channel`` (``C…``, or ``D…`` for a direct message)."""
        named = len(self.channels)
        return self.channels[channel].id if channel < named else f"D{channel - named + 1:06d}"

    def context_of(self, message: int) -> str:
        """Where message ``message`` happened: a Message-ID, or a channel id and timestamp."""
        channel = int(self.message_channel[message])
        if channel < 0:
            return self.message_id(message)
        return f"{self.channel_id(channel)}:{self.slack_ts(message)}"

    def records(self, chunk: int = 65_536) -> Iterator[InteractionRecord]:
        """Every interaction as an :class:`InteractionRecord`, in time order.

        Mail-like interactions come from origin ``email`` (context: the Message-ID), chat-like
        ones from ``slack`` (context: ``channel-id:ts``). Columns are read ``chunk`` rows at
        a time: records stream without a second copy of everything, but one object per row
        costs microseconds; where speed matters, use the columns.
        """
        emails = [p.email for p in self.people]
        kinds: tuple[Kind, ...] = KIND_NAMES
        for a in range(0, len(self), chunk):
            b = a + chunk
            messages = self.context[a:b].tolist()
            contexts = {m: self.context_of(m) for m in set(messages)}
            chat = (self.message_channel[self.context[a:b]] >= 0).tolist()
            rows = zip(
                self.source[a:b].tolist(),
                self.target[a:b].tolist(),
                self.kind[a:b].tolist(),
                self.at[a:b].tolist(),
                self.weight[a:b].tolist(),
                messages,
                chat,
                strict=True,
            )
            for source, target, kind, at, weight, message, is_chat in rows:
                yield InteractionRecord(
                    source=emails[source],
                    target=emails[target],
                    kind=kinds[kind],
                    at=datetime.fromtimestamp(at, UTC),
                    origin="slack" if is_chat else "email",
                    weight=weight,
                    context=contexts[message],
                )

    def counts(self) -> dict[str, int]:
        """Interactions by kind."""
        tally = np.bincount(self.kind, minlength=len(KIND_NAMES))
        return {name: int(tally[code]) for code, name in enumerate(KIND_NAMES)}

    def broadcasts(self) -> int:
        """Messages sent to more than :data:`BROADCAST_RECIPIENTS` people."""
        return int(np.unique(self.context[self.weight < 1.0]).size)

    def truth(self) -> dict[str, Any]:
        """The planted answer, JSON-able: each person's communities, and each community."""
        emails = [p.email for p in self.people]
        communities = []
        for c in self.communities:
            members = [self.people[i] for i in c.members]
            communities.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "kind": c.kind,
                    "channel": c.slug,
                    "size": len(c.members),
                    "members": [emails[i] for i in c.members],
                    "secondary_members": [p.email for p in self.people if p.secondary == c.id],
                    "departments": sorted({p.department for p in members}),
                    "offices": sorted({p.office for p in members}),
                    "countries": sorted({p.country for p in members}),
                    "timezones": sorted({p.timezone for p in members}),
                }
            )
        return {
            "domain": self.domain,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "days": self.days,
            "people": len(self.people),
            "interactions": len(self),
            "by_kind": self.counts(),
            "customer_facing": self.customer_facing,
            "community_of": {p.email: p.community for p in self.people},
            "secondary_of": {p.email: p.secondary for p in self.people if p.secondary is not None},
            "communities": communities,
            "teams": [[emails[i] for i in team] for team in self.teams],
        }


def simulate_org(
    people: int = 600, days: int = 90, seed: int = 1, *, start: date | None = None
) -> SimulatedOrg:
    """Generate an organisation of ``people`` and ``days`` of its interactions from ``seed``.

    Deterministic: the same arguments give the same result. ``start`` (default 3 February
    2025, a Monday) is the first day, UTC. Raises ``ValueError`` when ``people`` is outside
    :data:`MIN_PEOPLE`..:data:`MAX_PEOPLE` or ``days`` outside 1..366.

    >>> org = simulate_org(people=120, days=7, seed=3)
    >>> len(org.people), org.communities[org.customer_facing].name
    (120, 'Customer Voices')
    """
    if not MIN_PEOPLE <= people <= MAX_PEOPLE:
        raise ValueError(f"people must be between {MIN_PEOPLE} and {MAX_PEOPLE:,}, not {people}")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, not {days}")
    first = start or DEFAULT_START
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6B697468]))
    plans = plan_communities(rng, people)
    roster = populate(rng, plans)
    tree = management(rng, roster)
    hours = working_hours(rng, roster)
    shape = structure(rng, roster, tree, hours, first, days)
    persons = _persons(rng, roster, tree, hours, shape.secondary)
    traffic = generate_traffic(rng, shape)
    communities = [
        SimCommunity(c, plan.name, plan.kind, members.tolist(), plan.slug)
        for c, (plan, members) in enumerate(zip(plans, shape.communities, strict=True))
    ]
    return _assemble(persons, communities, traffic, shape, first, days, seed)


def _assemble(
    persons: list[SimPerson],
    communities: list[SimCommunity],
    traffic: Traffic,
    structure: Structure,
    first: date,
    days: int,
    seed: int,
) -> SimulatedOrg:
    channels = [
        SimChannel(f"C{n + 1:05d}", c.name, c.kind, c.members) for n, c in enumerate(traffic.channels)
    ]
    return SimulatedOrg(
        people=persons,
        communities=communities,
        domain=cat.DOMAIN,
        start=datetime(first.year, first.month, first.day, tzinfo=UTC),
        days=days,
        seed=seed,
        source=traffic.source,
        target=traffic.target,
        at=traffic.at,
        kind=traffic.kind,
        weight=traffic.weight,
        context=traffic.context,
        message_author=traffic.message_author,
        message_at=traffic.message_at,
        message_parent=traffic.message_parent,
        message_channel=traffic.message_channel,
        channels=channels,
        dm_pairs=traffic.dm_pairs,
        customer_facing=0,
        teams=[members.tolist() for members in structure.teams],
    )


# People as the roster shows them


def _persons(
    rng: np.random.Generator,
    roster: Roster,
    tree: Tree,
    hours: Hours,
    second: Ints,
) -> list[SimPerson]:
    names = _names(rng, roster.office)
    titles = _titles(rng, roster, tree)
    emails = _emails(names)
    start, end, week = hours
    weeks = {key: _days_text(np.array(key)) for key in {tuple(w) for w in week.tolist()}}
    people = []
    for p, (office, d, boss, c, s, t) in enumerate(
        zip(
            roster.office.tolist(),
            roster.department.tolist(),
            tree.manager.tolist(),
            roster.community.tolist(),
            second.tolist(),
            tree.team_of.tolist(),
            strict=True,
        )
    ):
        where = cat.OFFICES[office]
        people.append(
            SimPerson(
                email=emails[p],
                name=" ".join(names[p]),
                title=titles[p],
                department=_department_name(d),
                office=where.name,
                country=where.country,
                timezone=where.timezone,
                work_start=_clock(int(start[p])),
                work_end=_clock(int(end[p])),
                work_days=weeks[tuple(week[p].tolist())],
                manager_email=emails[boss] if boss >= 0 else None,
                community=c,
                secondary=s if s >= 0 else None,
                team=t if t >= 0 else None,
            )
        )
    return people


def _department_name(d: int) -> str:
    return cat.EXECUTIVE if d == EXEC else cat.DEPARTMENTS[d].name


def _names(rng: np.random.Generator, office: Ints) -> list[tuple[str, str]]:
    """Given name and surname from one region's pool: mostly the office's, sometimes anyone's."""
    local = rng.random(office.size) < 0.8
    anywhere = rng.integers(len(cat.POOLS), size=office.size)
    draws = rng.random((office.size, 3))
    names = []
    for p, o in enumerate(office.tolist()):
        pools = cat.OFFICES[o].pools
        pool = pools[int(draws[p, 0] * len(pools))] if local[p] else cat.POOLS[anywhere[p]]
        given, family = cat.NAMES[pool]
        names.append((given[int(draws[p, 1] * len(given))], family[int(draws[p, 2] * len(family))]))
    return names


def _emails(names: list[tuple[str, str]]) -> list[str]:
    """``given.family@domain`` in ASCII, numbered from 2 when the name is taken."""
    taken: dict[str, int] = {}
    emails = []
    for given, family in names:
        local = f"{_ascii(given)}.{_ascii(family)}"
        taken[local] = taken.get(local, 0) + 1
        suffix = str(taken[local]) if taken[local] > 1 else ""
        emails.append(f"{local}{suffix}@{cat.DOMAIN}")
    return emails


_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "đ": "d"})


@functools.cache
def _ascii(text: str) -> str:
    plain = (
        unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
        .encode("ascii", "ignore")
        .decode()
        .lower()
    )
    return "".join(c for c in plain if c.isalnum() or c == "-").strip("-")


def _titles(rng: np.random.Generator, roster: Roster, tree: Tree) -> list[str]:
    draw = rng.random(roster.community.size)
    titles = []
    for p, (d, role) in enumerate(zip(roster.department.tolist(), tree.role.tolist(), strict=True)):
        if role == CHIEF:
            titles.append("Chief Executive Officer" if p == 0 else "Chief of Staff")
            continue
        dept = cat.DEPARTMENTS[d]
        titles.append(
            {HEAD: dept.head, LEAD: dept.lead, MANAGER: dept.manager}.get(role)
            or dept.staff[int(draw[p] * len(dept.staff))]
        )
    return titles


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days_text(week: npt.NDArray[np.bool_]) -> str:
    """``mon-fri``, ``sun-thu`` or ``mon-thu`` when the days run on; a list otherwise."""
    days = [d for d in range(7) if week[d]]
    starts = [d for d in days if not week[(d - 1) % 7]]
    if len(starts) == 1 and len(days) > 1:
        first = starts[0]
        last = next(d for d in days if not week[(d + 1) % 7])
        return f"{WEEKDAYS[first]}-{WEEKDAYS[last]}"
    return ",".join(WEEKDAYS[d] for d in days)
