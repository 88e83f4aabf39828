"""Ninety days of mail and chat between the people of a synthetic organisation, as columns.

Every conversation starts in its author's working hours (a few in their evening or on a
day off) and goes to people drawn from one of the author's kinds of tie:

=============  =====  ==========================================================
tie            share  who
=============  =====  ==========================================================
community      62 %   the author's planted community: a dozen colleagues, hubs first
second         7 %    a few members of the author's second community, if any
team           18 %   team-mates, the manager, direct reports
loose          7 %    three standing acquaintances, half of them in the same office
noise          6 %    anyone at all
=============  =====  ==========================================================

A conversation is a mail (to one to eight people), a chat-channel post (mentioning none,
one or two, answered in a thread and reacted to by people of the same tie) or a direct
message. Answers come in the answerer's working hours, after a delay counted in their
working time (a mail about an hour and a quarter, a chat about ten minutes, typically);
the few people who work out of hours sometimes answer at once. Leaders, offices and the
customer-facing community broadcast on top: mail to more than
:data:`~kith.domain.interactions.BROADCAST_RECIPIENTS` people weighs 1/recipients per tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kith.domain.interactions import BROADCAST_RECIPIENTS, Kind
from kith.simulate.clock import DAY, WorkClock
from kith.simulate.contacts import Contacts, community_ties

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

KIND_NAMES: tuple[Kind, ...] = ("mail", "chat", "reply", "mention", "reaction")
MAIL, CHAT, REPLY, MENTION, REACTION = range(5)
COMMUNITY, SECOND, TEAM, LOOSE, NOISE = range(5)
TIE_SHARE = np.array([0.62, 0.07, 0.18, 0.07, 0.06])
CONVERSATIONS_PER_DAY = 1.2  # started by a person of average activity on a working day
# Median answer delays in working seconds, and their spread (sigma of the log).
MAIL_DELAY, CHAT_DELAY, REACT_DELAY = (4500.0, 1.0), (600.0, 1.1), (480.0, 1.0)
GIVE_UP = 5 * DAY
NO_MESSAGE = -1
DM = -2  # a direct-message channel, resolved once every pair is known


@dataclass(frozen=True, slots=True)
class Structure:
    """What the traffic is generated from: the people as columns, their ties and clocks."""

    community: Ints
    secondary: Ints  # -1 for none
    office: Ints
    department: Ints
    manager: Ints  # -1 for the root
    team_of: Ints  # -1 for people in no team (the leadership)
    teams: list[Ints]
    communities: list[Ints]
    community_slugs: list[str]
    team_names: list[str]
    clock: WorkClock
    days: int
    activity: Floats
    out_of_hours: Floats
    popularity: Floats
    heads: Ints  # per department
    office_voice: Ints  # per office: who writes to everyone there (-1 for an empty office)
    people_head: int
    ceo: int = 0

    @property
    def size(self) -> int:
        return int(self.community.size)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    name: str
    kind: str
    members: list[int]


@dataclass(frozen=True, slots=True)
class Traffic:
    source: npt.NDArray[np.int32]
    target: npt.NDArray[np.int32]
    at: Ints
    kind: npt.NDArray[np.int8]
    weight: Floats
    context: Ints
    message_author: npt.NDArray[np.int32]
    message_at: Ints
    message_parent: Ints
    message_channel: npt.NDArray[np.int32]
    channels: list[ChannelSpec]
    dm_pairs: npt.NDArray[np.int32]  # (k, 2): the two people of direct-message channel k


def generate_traffic(rng: np.random.Generator, s: Structure) -> Traffic:
    """Every message and interaction of the organisation ``s``, drawn from ``rng``."""
    ties = _ties(rng, s)
    log = _Log(s.size)
    channels = _channels(s)
    _conversations(rng, s, ties, log)
    _broadcasts(rng, s, log, len(s.communities) + len(s.teams) + 1)
    return log.finish(s, channels)


# Ties


def _ties(rng: np.random.Generator, s: Structure) -> list[Contacts]:
    """The contact tables for the community, second, team and loose ties, in that order."""
    n = s.size
    community = Contacts.from_pairs(n, *community_ties(rng, s.communities, s.popularity, s.office))
    members = np.concatenate(s.communities)
    rows = np.concatenate([np.full(m.size, c) for c, m in enumerate(s.communities)])
    by_community = Contacts.from_pairs(len(s.communities), rows, members, s.popularity[members])
    joined = np.flatnonzero(s.secondary >= 0)
    person = np.repeat(joined, rng.integers(3, 7, joined.size))
    second = Contacts.from_pairs(
        n, person, by_community.sample(rng, s.secondary[person]), np.ones(person.size)
    )
    return [community, second, _team_ties(s), _loose_ties(rng, s)]


def _team_ties(s: Structure) -> Contacts:
    rows, cols, weights = [], [], []
    for team in s.teams:
        i, j = np.meshgrid(team, team, indexing="ij")
        off = i != j
        rows.append(i[off])
        cols.append(j[off])
        weights.append(np.ones(int(off.sum())))
    managed = np.flatnonzero(s.manager >= 0)
    boss = s.manager[managed]
    rows += [managed, boss]
    cols += [boss, managed]
    weights += [np.full(managed.size, 1.5), np.full(managed.size, 1.5)]
    return Contacts.from_pairs(s.size, np.concatenate(rows), np.concatenate(cols), np.concatenate(weights))


def _loose_ties(rng: np.random.Generator, s: Structure, each: int = 3) -> Contacts:
    n = s.size
    person = np.repeat(np.arange(n), each)
    by_office = np.argsort(s.office, kind="stable")
    first = np.searchsorted(s.office[by_office], s.office[person])
    count = np.bincount(s.office, minlength=int(s.office.max()) + 1)[s.office[person]]
    local = by_office[first + (rng.random(person.size) * count).astype(np.int64)]
    anyone = rng.integers(0, n, person.size)
    contact = np.where(rng.random(person.size) < 0.5, local, anyone)
    keep = contact != person
    return Contacts.from_pairs(n, person[keep], contact[keep], np.ones(int(keep.sum())))


def _channels(s: Structure) -> list[ChannelSpec]:
    everyone = list(range(s.size))
    channels = []
    for c, (members, slug) in enumerate(zip(s.communities, s.community_slugs, strict=True)):
        loose = np.flatnonzero(s.secondary == c)
        channels.append(ChannelSpec(slug, "community", sorted([*members.tolist(), *loose.tolist()])))
    channels += [
        ChannelSpec(name, "team", sorted(t.tolist())) for name, t in zip(s.team_names, s.teams, strict=True)
    ]
    channels += [
        ChannelSpec("general", "general", everyone),
        ChannelSpec("announcements", "announcements", everyone),
    ]
    return channels


# The log every message and interaction is written to


class _Log:
    """Messages and interactions as lists of column chunks, joined and ordered at the end."""

    def __init__(self, people: int) -> None:
        self.people = people
        self.messages = 0
        self.m: dict[str, list[Any]] = {k: [] for k in ("author", "at", "parent", "channel", "pair")}
        self.i: dict[str, list[Any]] = {
            k: [] for k in ("source", "target", "at", "kind", "weight", "context")
        }

    def message(self, author: Ints, at: Ints, parent: Ints, channel: Ints, pair: Ints) -> Ints:
        """Record messages; returns their ids."""
        ids = np.arange(self.messages, self.messages + author.size, dtype=np.int64)
        self.messages += author.size
        for key, value in zip(self.m, (author, at, parent, channel, pair), strict=True):
            self.m[key].append(np.asarray(value, dtype=np.int64))
        return ids

    def interact(
        self,
        source: Ints,
        target: Ints,
        at: Ints,
        kind: int | Ints,
        context: Ints,
        weight: float | Floats = 1.0,
    ) -> None:
        size = source.size
        self.i["source"].append(source.astype(np.int32))
        self.i["target"].append(target.astype(np.int32))
        self.i["at"].append(at.astype(np.int64))
        self.i["kind"].append(np.broadcast_to(np.asarray(kind, dtype=np.int8), (size,)))
        self.i["weight"].append(np.broadcast_to(np.asarray(weight, dtype=np.float64), (size,)))
        self.i["context"].append(context.astype(np.int64))

    def finish(self, s: Structure, channels: list[ChannelSpec]) -> Traffic:
        """Keep what falls within the days, number messages in time order, sort interactions.

        Columns are joined one at a time and their chunks let go at once, so that two million
        interactions never exist in more than a couple of copies.
        """
        start, end = s.clock.base, s.clock.base + s.days * DAY
        at, parent = self._joined(self.m, "at"), self._joined(self.m, "parent")
        valid = (at >= start) & (at < end)
        for _ in range(3):  # an answer goes with what it answers (threads are three deep at most)
            valid &= np.where(parent >= 0, valid[np.maximum(parent, 0)], True)
        kept = np.flatnonzero(valid)
        kept = kept[np.argsort(at[kept], kind="stable")]
        renumber = np.full(self.messages, -1, dtype=np.int64)
        renumber[kept] = np.arange(kept.size)
        parent = parent[kept]
        parent = np.where(parent >= 0, renumber[np.maximum(parent, 0)], -1)
        channel = self._joined(self.m, "channel")[kept]
        direct = channel == DM
        pairs, which = _groups(self._joined(self.m, "pair")[kept][direct])
        channel[direct] = len(channels) + which
        context = renumber[self._joined(self.i, "context")]
        when = self._joined(self.i, "at")
        ok = np.flatnonzero((when >= start) & (when < end) & (context >= 0))
        # In time order, then message order; a message's recipients stay in generation order.
        pick = ok[np.argsort((when[ok] - start) * max(kept.size, 1) + context[ok], kind="stable")]
        del ok
        n = self.people
        return Traffic(
            source=self._joined(self.i, "source")[pick],
            target=self._joined(self.i, "target")[pick],
            at=when[pick],
            kind=self._joined(self.i, "kind")[pick],
            weight=self._joined(self.i, "weight")[pick],
            context=context[pick],
            message_author=self._joined(self.m, "author")[kept].astype(np.int32),
            message_at=at[kept],
            message_parent=parent,
            message_channel=channel.astype(np.int32),
            channels=channels,
            dm_pairs=np.column_stack([pairs // n, pairs % n]).astype(np.int32),
        )

    @staticmethod
    def _joined(columns: dict[str, list[Any]], name: str) -> Any:
        joined = np.concatenate(columns[name])
        columns[name] = []
        return joined


def _distinct(keys: Ints) -> Ints:
    """The distinct values of ``keys``, sorted (``np.unique`` without its slow hashing path)."""
    ordered = np.sort(keys)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if ordered.size else ordered


def _groups(keys: Ints) -> tuple[Ints, Ints]:
    """The distinct values of ``keys`` and, for each key, the index of its value among them."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if ordered.size else ordered.astype(bool)
    which = np.empty(keys.size, dtype=np.int64)
    which[order] = np.cumsum(first) - 1
    return ordered[first], which


# Conversations


def _conversations(rng: np.random.Generator, s: Structure, ties: list[Contacts], log: _Log) -> None:
    """Conversations started by everyone, the answers to them, and the answers to those."""
    clock = s.clock
    started = rng.poisson(CONVERSATIONS_PER_DAY * s.activity[:, None] * clock.working[:, : s.days])
    who, day = np.nonzero(started)
    author = np.repeat(who, started[who, day]).astype(np.int64)
    at = _start_times(rng, s, author, np.repeat(day, started[who, day]).astype(np.int64))
    tie = rng.choice(len(TIE_SHARE), size=author.size, p=TIE_SHARE)
    for t in (SECOND, TEAM, LOOSE):
        tie[(tie == t) & (ties[t].size[author] == 0)] = COMMUNITY
    channel = _post_channel(s, tie, author)
    chat = rng.random(author.size) < 0.55
    post = chat & (channel >= 0) & (rng.random(author.size) < 0.6)
    mail = ~chat
    direct = chat & ~post
    channel = np.where(post, channel, np.where(direct, DM, NO_MESSAGE))
    wanted = np.ones(author.size, dtype=np.int64)
    group_mail = mail & (tie <= TEAM)
    wanted[group_mail] = np.minimum(rng.geometric(0.5, int(group_mail.sum())), 8)
    wanted[post] = rng.choice(3, size=int(post.sum()), p=[0.5, 0.38, 0.12])
    root, target = _addressees(rng, s, ties, tie, author, wanted)
    heard = np.bincount(root, minlength=author.size)
    at[(heard == 0) & ~post] = -1  # a mail or direct message to no one is never sent
    pair = np.full(author.size, -1, dtype=np.int64)
    is_dm = direct[root]
    pair[root[is_dm]] = _pair_key(author[root[is_dm]], target[is_dm], s.size)
    ids = log.message(author, at, np.full(author.size, -1), channel, pair)
    kind = np.where(mail[root], MAIL, np.where(direct[root], CHAT, MENTION))
    log.interact(author[root], target, at[root], kind, ids[root])

    first = mail[root] | direct[root]
    answer_p = np.where(direct[root], 0.7, np.where(heard[root] == 1, 0.4, 0.22))
    answering = first & (rng.random(root.size) < answer_p)
    r = root[answering]
    delay = np.where(direct[r, None], CHAT_DELAY, MAIL_DELAY)
    reply_ids, reply_at, replier = _answer(
        rng, s, log, target[answering], author[r], ids[r], at[r], channel[r], pair[r], delay
    )
    again = rng.random(reply_ids.size) < np.where(direct[r], 0.35, 0.3)
    _answer(
        rng,
        s,
        log,
        author[r][again],
        replier[again],
        reply_ids[again],
        reply_at[again],
        channel[r][again],
        pair[r][again],
        delay[again],
    )
    _threads(rng, s, ties, log, tie, author, at, ids, channel, post, root, target)


def _start_times(rng: np.random.Generator, s: Structure, author: Ints, day: Ints) -> Ints:
    """When each conversation starts: in the author's hours, or (rarely) in their evening or day off."""
    clock = s.clock
    start, end = clock.shift_start[author], clock.shift_end[author]
    sec = start + (rng.random(author.size) * (end - start)).astype(np.int64)
    late = rng.random(author.size) < s.out_of_hours[author]
    sec = np.where(late, end + (rng.random(author.size) * 3 * 3600).astype(np.int64), sec)
    off_day = np.flatnonzero(late & (rng.random(author.size) < 0.35))
    moved = np.zeros(off_day.size, dtype=np.bool_)
    for ahead in range(1, 8):
        free = ~moved & ~clock.works(author[off_day], day[off_day] + ahead)
        day[off_day[free]] += ahead
        moved |= free
    sec[off_day] = 10 * 3600 + (rng.random(off_day.size) * 6 * 3600).astype(np.int64)
    return clock.utc(author, day, sec)


def _post_channel(s: Structure, tie: Ints, author: Ints) -> Ints:
    """The channel a post of this tie goes to (-1 where there is none: a direct message then)."""
    first_team = len(s.communities)  # channels: communities, then teams
    team = s.team_of[author]
    return np.select(
        [tie == COMMUNITY, tie == SECOND, (tie == TEAM) & (team >= 0)],
        [s.community[author], s.secondary[author], first_team + team],
        default=-1,
    )


def _addressees(
    rng: np.random.Generator, s: Structure, ties: list[Contacts], tie: Ints, author: Ints, wanted: Ints
) -> tuple[Ints, Ints]:
    """Draw ``wanted[k]`` people for conversation ``k`` from its tie; duplicates collapse."""
    root = np.repeat(np.arange(author.size), wanted)
    who = author[root]
    target = np.empty(root.size, dtype=np.int64)
    kinds = tie[root]
    for t in (COMMUNITY, SECOND, TEAM, LOOSE):
        pick = kinds == t
        target[pick] = ties[t].sample(rng, who[pick])
    noise = kinds == NOISE
    anyone = rng.integers(0, s.size - 1, int(noise.sum()))
    target[noise] = anyone + (anyone >= who[noise])
    keep = target != who
    key = _distinct(root[keep] * s.size + target[keep])
    return key // s.size, key % s.size


def _pair_key(a: Ints, b: Ints, n: int) -> Ints:
    return np.minimum(a, b) * n + np.maximum(a, b)


def _respond_at(
    rng: np.random.Generator, s: Structure, who: Ints, after: Ints, delay: tuple[float, float] | Floats
) -> Ints:
    """When ``who`` answers something that reached them at ``after``; -1 for never.

    ``delay`` is a (median seconds, sigma) pair, or an array of them, one row per answer.
    Something not answered within :data:`GIVE_UP` (someone was away) is left unanswered.
    """
    spec = np.broadcast_to(np.asarray(delay, dtype=np.float64), (who.size, 2))
    wait = np.exp(np.log(spec[:, 0]) + spec[:, 1] * rng.standard_normal(who.size))
    wait = np.clip(wait, 30, 3 * 8 * 3600).astype(np.int64)
    at_once = rng.random(who.size) < s.out_of_hours[who]
    at = np.where(at_once, after + wait, s.clock.after(who, after, wait))
    return np.where((after < 0) | (at < 0) | (at - after > GIVE_UP), -1, at)


def _answer(
    rng: np.random.Generator,
    s: Structure,
    log: _Log,
    who: Ints,
    to: Ints,
    parent: Ints,
    parent_at: Ints,
    channel: Ints,
    pair: Ints,
    delay: tuple[float, float] | Floats,
) -> tuple[Ints, Ints, Ints]:
    """``who`` answers ``to``'s messages ``parent``: new messages and reply interactions."""
    at = _respond_at(rng, s, who, parent_at, delay)
    ids = log.message(who, at, parent, channel, pair)
    log.interact(who, to, at, REPLY, ids)
    return ids, at, who


def _threads(
    rng: np.random.Generator,
    s: Structure,
    ties: list[Contacts],
    log: _Log,
    tie: Ints,
    author: Ints,
    at: Ints,
    ids: Ints,
    channel: Ints,
    post: Bools,
    root: Ints,
    target: Ints,
) -> None:
    """Channel posts: thread replies (the mentioned, and others), reactions, and reactions back."""
    posts = np.flatnonzero(post)
    mentioned = post[root] & (rng.random(root.size) < 0.55)
    crowd = _audience(rng, s, ties, tie, author, posts, 0.8)
    key = _distinct(np.concatenate([root[mentioned] * s.size + target[mentioned], crowd]))
    r, who = key // s.size, key % s.size
    keep = who != author[r]
    r, who = r[keep], who[keep]
    none = np.full(r.size, -1, dtype=np.int64)
    reply_ids, reply_at, _ = _answer(rng, s, log, who, author[r], ids[r], at[r], channel[r], none, CHAT_DELAY)
    fans = _audience(rng, s, ties, tie, author, posts, 0.9)
    f, fan = fans // s.size, fans % s.size
    keep = fan != author[f]
    f, fan = f[keep], fan[keep]
    log.interact(fan, author[f], _respond_at(rng, s, fan, at[f], REACT_DELAY), REACTION, ids[f])
    back = rng.random(r.size) < 0.3
    boss = author[r][back]
    log.interact(
        boss, who[back], _respond_at(rng, s, boss, reply_at[back], REACT_DELAY), REACTION, reply_ids[back]
    )


def _audience(
    rng: np.random.Generator,
    s: Structure,
    ties: list[Contacts],
    tie: Ints,
    author: Ints,
    posts: Ints,
    mean: float,
) -> Ints:
    """Per post, a Poisson(``mean``) number of the author's contacts of its tie, as root * n + who."""
    count = rng.poisson(mean, posts.size)
    root = np.repeat(posts, count)
    who = np.empty(root.size, dtype=np.int64)
    for t in (COMMUNITY, SECOND, TEAM):
        pick = tie[root] == t
        who[pick] = ties[t].sample(rng, author[root[pick]])
    return _distinct(root * s.size + who)


# Broadcasts


def _broadcasts(rng: np.random.Generator, s: Structure, log: _Log, announcements_at: int) -> None:
    """All-hands mail weekly, people news and department and office mail fortnightly,
    the customer-facing community's weekly digest, and a weekly post in #announcements."""
    everyone = np.arange(s.size)
    sends: list[tuple[int, Ints, int]] = []  # (sender, recipients, day)
    voices = s.communities[0]
    digest_sender = int(voices[np.argmax(s.popularity[voices])])
    digest_to = np.union1d(voices, np.flatnonzero(s.secondary == 0))
    for week in range((s.days + 6) // 7):
        day = week * 7
        sends.append((s.ceo, everyone, day))
        sends.append((digest_sender, digest_to, day + 4))
        if week % 2 == 0:
            sends.append((s.people_head, everyone, day + 2))
            sends += [
                (int(v), np.flatnonzero(s.office == o), day + 3)
                for o, v in enumerate(s.office_voice)
                if v >= 0
            ]
        else:
            sends += [(int(h), np.flatnonzero(s.department == d), day + 1) for d, h in enumerate(s.heads)]
    senders = np.array([x[0] for x in sends], dtype=np.int64)
    at = _office_hours(rng, s, senders, np.array([x[2] for x in sends], dtype=np.int64))
    none = np.full(senders.size, -1, dtype=np.int64)
    ids = log.message(senders, at, none, none, none)
    for k, (sender, recipients, _) in enumerate(sends):
        to = recipients[recipients != sender]
        if to.size == 0:
            continue
        weight = 1.0 / to.size if to.size > BROADCAST_RECIPIENTS else 1.0
        log.interact(
            np.full(to.size, sender), to, np.full(to.size, at[k]), MAIL, np.full(to.size, ids[k]), weight
        )
        answering = to[rng.random(to.size) < 0.004]
        size = answering.size
        _answer(
            rng,
            s,
            log,
            answering,
            np.full(size, sender),
            np.full(size, ids[k]),
            np.full(size, at[k]),
            np.full(size, -1),
            np.full(size, -1),
            MAIL_DELAY,
        )
    _announcements(rng, s, log, announcements_at)


def _announcements(rng: np.random.Generator, s: Structure, log: _Log, channel: int) -> None:
    weeks = (s.days + 6) // 7
    ceo = np.full(weeks, s.ceo, dtype=np.int64)
    at = _office_hours(rng, s, ceo, np.arange(weeks, dtype=np.int64) * 7)
    none = np.full(weeks, -1, dtype=np.int64)
    ids = log.message(ceo, at, none, np.full(weeks, channel), none)
    count = rng.poisson(0.03 * s.size, weeks)
    post = np.repeat(np.arange(weeks), count)
    fan = rng.integers(0, s.size, post.size)
    key = _distinct(post * s.size + fan)
    post, fan = key // s.size, key % s.size
    keep = fan != s.ceo
    post, fan = post[keep], fan[keep]
    log.interact(fan, ceo[post], _respond_at(rng, s, fan, at[post], REACT_DELAY), REACTION, ids[post])


def _office_hours(rng: np.random.Generator, s: Structure, who: Ints, day: Ints) -> Ints:
    """A time early in ``who``'s first working day on or after ``day``."""
    day = day.copy()
    for _ in range(7):
        off = ~s.clock.works(who, day) & (day < s.clock.span)
        if not off.any():
            break
        day[off] += 1
    sec = s.clock.shift_start[who] + (1800 + rng.random(who.size) * 5400).astype(np.int64)
    return s.clock.utc(who, day, sec)
