"""Information flow: how stale each person's view of each other person is, and how far news
travels in a day and in a week, per community and between communities.

Definitions (docs/analysis.md has the full text and the reasons):

- A **time-respecting path** from u to v is a chain of contacts
  ``(u→x1, τ1), (x1→x2, τ2), ..., (xl-1→v, τl)`` with strictly increasing times
  ``τ1 < τ2 < ... < τl`` and no other delay: a contact carries what its sender knew
  before it, so two contacts in the same second are never chained.
- **Information latency** (Kossinets, Kleinberg & Watts 2008, "The structure of information
  pathways in a social communication network", KDD): at an observation time t,
  ``φ_t(u, v)`` is the latest τ such that a time-respecting path leaves u at or after τ and
  reaches v before t (all its contacts in ``[τ, t)``), and the latency of v's view of u is
  ``λ_t(u, v) = t − φ_t(u, v)`` (infinite if there is no such path).
- **Observation times**: ``t_k = until − k·8 days`` for ``k = 0, 1, ...`` as long as the
  seven days before ``t_k`` lie inside the window. Each observation looks back 7 days
  (the horizon: a latency beyond 7 days counts as "not within 7 days"); spacing them 8
  days apart means every contact is looked at once at most, and the weekday of the
  observation moves back one day each time, so a window of 8 weeks sees every weekday.
- **Reach within Δ** (24 h, 7 days): the share of (observation, ordered pair) with
  ``λ_t(u, v) ≤ Δ``, which is exactly the share for which something u sent at
  ``s = t − Δ`` reached v before ``s + Δ``: a grid of start times, one per observation.
  So the four figures describe one distribution: reach is its value at 24 h and 7 days,
  the median and p90 are where it crosses 0.5 and 0.9 (``None`` when that is beyond 7
  days, i.e. when fewer than half, or 90 %, are reached within 7 days).
- **Active members**: people with at least one contact (sent or received) in
  ``[since, until)``; pairs are ordered pairs of distinct active members. A community is
  reported when it has at least ``min_members`` active members.

Method: for each observation t, a scan backwards in time over its 7-day look-back keeps,
for every person u, the set of observers u can still reach before t (a row of bits; the
reverse-time form of the vector clock): a contact ``u→w`` does ``R[u] |= R[w]``. A pair's
latency is fixed the moment its bit is first set, so the bits each contact adds are counted
by latency minute, u's community and the observer's community. Contacts are processed in
batches with no dependency inside (no row read in a batch was written earlier in it at
another time), so each numpy call handles dozens of contacts. Cost: O(m·n/64) word
operations and O(n²/64) words of memory for the m contacts in look-backs and n active
people, plus a histogram of at most 2^25 counters; a 10,000-person organisation with
2,000,000 contacts over 90 days takes about 10 s (docs/performance.md).

Above ``sample_above`` active people, the observers (the receiving end v of each pair)
are a random sample of ``sample_above`` people: the scan runs backwards from them, so they
are the sources of the computation (``sources_used``), while every active person remains
a source of news and a relay. The sample is split into 10 random groups and the standard
error of each figure comes from its spread across the groups (random-group variance, with
the finite-population correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kith.analysis.graph import DAY, Network

HORIZON = 7 * DAY
SPACING = 8 * DAY
REPLICATES = 10
# Latency bins (minutes): the finest whose histogram fits in MAX_CELLS counters (the
# random groups' histograms, used only for the standard errors, in REPLICATE_CELLS). Every
# width divides 24 h, so the 24-hour and 7-day shares are exact whatever the width.
WIDTHS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 360, 720, 1440)
MAX_CELLS = 1 << 25
REPLICATE_CELLS = 1 << 24
BATCH = 256  # time groups examined at a time when growing a batch

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
WordArray = npt.NDArray[np.uint64]
FULL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True)
class FlowStats:
    """Figures for one set of ordered pairs (u, v): u's news reaching v."""

    pairs: int  # ordered pairs counted (at each observation)
    median_latency_hours: float | None
    p90_latency_hours: float | None
    reach_24h: float  # share of (observation, pair) with latency ≤ 24 h
    reach_7d: float
    stderr: dict[str, float] = field(default_factory=dict)  # 0 when exact


@dataclass(frozen=True)
class FlowReport:
    per_community: dict[int, FlowStats]
    between: dict[tuple[int, int], FlowStats]  # (a, b): from a's members to b's members
    overall: FlowStats
    sampled: bool
    sources_used: int  # observers the scan ran from: all active members unless sampled
    active: int = 0
    observation_times: tuple[float, ...] = ()
    resolution_minutes: int = 1  # latencies are counted in bins this wide, rounded up


@dataclass(frozen=True)
class _Layout:
    """Where each observer's bit sits: grouped by (replicate, community), so that each
    group is one run of bits; ``pieces`` cut the words at the runs' edges."""

    rows: int  # active people
    words: int
    community: IntArray  # per active person: index 0..k-1, or k for "other"
    observer_bit: IntArray  # per active person: bit position, or -1
    piece_word: IntArray
    piece_mask: WordArray
    piece_group: IntArray  # per piece: its (replicate, community) group
    groups: int  # replicates · communities
    communities: int  # k + 1
    observers: IntArray  # per (replicate, community): how many observers


def information_flow(
    net: Network,
    membership: Sequence[int],
    *,
    until: float | None = None,
    sample_above: int = 10_000,
    seed: int = 0,
    since: float | None = None,
    min_members: int = 5,
) -> FlowReport:
    """Latency and reach of information per community, between communities and overall.

    Parameters: ``membership[i]`` is node i's community (negative: none); the window is
    ``[since, until)``, by default from the first contact to just after the last; above
    ``sample_above`` active people the observers are sampled with ``seed``; communities
    with fewer than ``min_members`` active members are counted only in ``overall``.

    Returns a :class:`FlowReport`. Example: in ``a→b`` at 10:00 then ``b→c`` at 11:00,
    observed at 12:00, c's view of a is 2 hours old, c's of b 1 hour, b's of a 2 hours,
    and the other three pairs are unreached: median 2.0 h, reach 0.5.
    """
    if len(membership) != net.n:
        raise ValueError(f"membership has {len(membership)} entries for {net.n} people")
    if sample_above < 2 or min_members < 1:
        raise ValueError("sample_above must be at least 2 and min_members at least 1")
    at = np.asarray(net.at, dtype=np.float64)
    if until is None:
        until = float(np.nextafter(at[-1], np.inf)) if at.size else 0.0
    if since is None:
        since = float(at[0]) if at.size else until
    inside = (at >= since) & (at < until) & (net.src != net.dst)
    src, dst, at = net.src[inside], net.dst[inside], at[inside]
    active = np.unique(np.concatenate([src, dst]))
    ids, community = _communities(np.asarray(membership, dtype=np.int64)[active], min_members)
    k = ids.size
    count = max(1, int((until - since - HORIZON) // SPACING) + 1)
    times = until - SPACING * np.arange(count, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sampled = active.size > sample_above
    replicates = REPLICATES if sampled else 1
    observers = rng.choice(active.size, sample_above, replace=False) if sampled else np.arange(active.size)
    replicate = rng.permutation(observers.size) % replicates
    layout = _layout(community, k, np.sort(observers), replicate)
    width = _width((k + 1) ** 2, MAX_CELLS)
    widths = (width, _width((k + 1) ** 2 * replicates, REPLICATE_CELLS)) if sampled else (width,)
    hists = _scan(np.searchsorted(active, src), np.searchsorted(active, dst), at, times, widths, layout)
    per_community, between, overall = _report(hists, widths, layout, k, ids, count, active.size)
    return FlowReport(
        per_community=per_community,
        between=between,
        overall=overall,
        sampled=sampled,
        sources_used=int(observers.size),
        active=int(active.size),
        observation_times=tuple(float(t) for t in times),
        resolution_minutes=width,
    )


def _communities(groups: IntArray, min_members: int) -> tuple[IntArray, IntArray]:
    """The reported community ids (sorted) and each person's index among them (k: other)."""
    ids, sizes = np.unique(groups[groups >= 0], return_counts=True)
    ids = ids[sizes >= min_members]
    index = np.searchsorted(ids, groups)
    known = (groups >= 0) & (index < ids.size)
    known[known] = ids[index[known]] == groups[known]
    return ids, np.where(known, index, ids.size).astype(np.int64)


def _width(per_bin: int, cells: int) -> int:
    """The finest bin width (minutes) with at most ``cells`` counters in all (whole days
    when nothing fits: more than 2,000 communities)."""
    for width in WIDTHS:
        if per_bin * (HORIZON / 60 / width) <= cells:
            return width
    return WIDTHS[-1]


def _layout(community: IntArray, k: int, who: IntArray, replicate: IntArray) -> _Layout:
    """Bits for the observers ``who`` (indices of active people), each in a replicate."""
    n = community.size
    group = replicate * (k + 1) + community[who]
    order = np.argsort(group, kind="stable")
    bit = np.full(n, -1, dtype=np.int64)
    bit[who[order]] = np.arange(who.size)
    ngroups = int(replicate.max(initial=0) + 1) * (k + 1)
    sizes = np.bincount(group, minlength=ngroups)
    edges = np.concatenate([[0], np.cumsum(sizes)])
    words = max(1, -(-who.size // 64))
    # pieces: every word, cut again where a group's run of bits starts
    cuts = np.unique(np.concatenate([np.arange(0, who.size, 64), edges[:-1]]))
    cuts = cuts[cuts < who.size]
    ends = np.append(cuts[1:], who.size)
    word = cuts >> 6
    low = (cuts & 63).astype(np.uint64)
    high = (ends - (word << 6)).astype(np.uint64)  # 1..64
    upper = np.where(high >= 64, FULL, (np.uint64(1) << (high & np.uint64(63))) - np.uint64(1))
    mask = upper & ~((np.uint64(1) << low) - np.uint64(1))
    owner = (np.searchsorted(edges, cuts, side="right") - 1).astype(np.int64)
    return _Layout(
        n, words, community, bit, word.astype(np.int64), mask, owner, ngroups, k + 1, sizes.astype(np.int64)
    )


@dataclass(frozen=True)
class _Schedule:
    """Contacts in processing order (latest first), cut into batches. In a batch each
    sender's contacts make one row, which reads its first contact's receiver; a row with
    more contacts (a message to several people) also ORs in the other receivers' rows,
    listed in a ``fanout``-wide block per such row, padded with the all-zero row n."""

    slot: IntArray  # per batch: observation index
    row_bound: IntArray  # batch b has rows row_bound[b]:row_bound[b+1]
    sender: IntArray  # per row
    receiver: IntArray  # per row: its first contact's receiver
    bin: IntArray  # per row: latency bin
    more_bound: IntArray  # batch b's rows with more contacts: more_bound[b]:more_bound[b+1]
    more_row: IntArray  # such a row, counted from its batch's first row
    fanout: IntArray  # per batch: the most other contacts of one of its rows
    others: IntArray  # the other receivers: per such row, ``fanout`` of its batch


def _schedule(
    sender: IntArray, receiver: IntArray, at: FloatArray, slot: IntArray, bins: IntArray, n: int
) -> _Schedule:
    """Cut the contacts (already latest first) into batches and group them into rows."""
    m = sender.size
    starts = _batches(sender, receiver, at, slot, bins)
    batch = np.repeat(np.arange(starts.size, dtype=np.int64), np.diff(np.append(starts, m)))
    order = np.argsort(batch * (int(sender.max()) + 1) + sender, kind="stable")
    sender, receiver, bins = sender[order], receiver[order], bins[order]
    row_head = np.ones(m, dtype=bool)
    row_head[1:] = (sender[1:] != sender[:-1]) | (batch[1:] != batch[:-1])
    row_start = np.flatnonzero(row_head)
    row_bound = np.searchsorted(batch[row_start], np.arange(starts.size + 1))
    row_of = np.cumsum(row_head) - 1
    # the other contacts of each row: the k-th goes to column k-1 of the row's block
    extra = np.flatnonzero(~row_head)
    rank = extra - row_start[row_of[extra]]
    extra_batch = batch[extra]
    fanout = np.zeros(starts.size, dtype=np.int64)
    np.maximum.at(fanout, extra_batch, rank)
    more = np.unique(row_of[extra])  # rows with more contacts, in batch order
    more_bound = np.searchsorted(batch[row_start[more]], np.arange(starts.size + 1))
    block = np.zeros(more.size + 1, dtype=np.int64)
    block[1:] = np.cumsum(fanout[batch[row_start[more]]])
    others = np.full(block[-1], n, dtype=np.int64)
    others[block[np.searchsorted(more, row_of[extra])] + rank - 1] = receiver[extra]
    return _Schedule(
        slot=slot[starts],
        row_bound=row_bound.astype(np.int64),
        sender=sender[row_start],
        receiver=receiver[row_start],
        bin=bins[row_start],
        more_bound=more_bound.astype(np.int64),
        more_row=more - row_bound[batch[row_start[more]]],
        fanout=fanout,
        others=others,
    )


def _batches(
    sender: IntArray, receiver: IntArray, at: FloatArray, slot: IntArray, bins: IntArray
) -> IntArray:
    """Where each batch starts: the longest runs of contacts without a dependency inside.

    A contact reads its receiver's row and writes its sender's row. It may join a batch
    unless its receiver's row was written earlier in the batch at another time (it would
    read a stale row) or its sender's row was written earlier in the batch in another
    latency bin (the new bits would be credited to the wrong bin). Contacts of one time
    stay in one batch: all rows are read before any is written, which is what makes
    same-second contacts unchainable.
    """
    m = sender.size
    index = np.arange(m)
    same_slot = slot[1:] == slot[:-1]
    time_head = np.ones(m, dtype=bool)
    time_head[1:] = (at[1:] != at[:-1]) | ~same_slot
    bin_head = np.ones(m, dtype=bool)
    bin_head[1:] = (bins[1:] != bins[:-1]) | ~same_slot
    time_first = np.maximum.accumulate(np.where(time_head, index, 0))
    bin_first = np.maximum.accumulate(np.where(bin_head, index, 0))
    by_sender = _by_node(sender)
    conflict = np.maximum(
        _last_write(sender, by_sender, receiver, time_first),
        _last_write(sender, by_sender, sender, bin_first),
    )
    heads = np.flatnonzero(time_head)
    head_conflict = np.maximum.reduceat(conflict, heads)
    head_slot = slot[heads]
    starts: list[int] = []
    group = 0
    while group < heads.size:
        first, end = int(heads[group]), group + 1
        while end < heads.size:  # extend the batch one chunk of time groups at a time
            stop = min(end + BATCH, heads.size)
            cut = np.flatnonzero(
                (head_conflict[end:stop] >= first) | (head_slot[end:stop] != head_slot[group])
            )
            if cut.size:
                end += int(cut[0])
                break
            end = stop
        starts.append(first)
        group = end
    return np.array(starts, dtype=np.int64)


def _last_write(sender: IntArray, by_sender: IntArray, node: IntArray, before: IntArray) -> IntArray:
    """For each i, the last position p < before[i] with ``sender[p] == node[i]``, or -1.
    ``by_sender`` orders the positions by (sender, position); ``before`` never decreases."""
    span = sender.size + 1
    writes = sender[by_sender] * span + by_sender
    order = _by_node(node)  # by (node, before), as before never decreases
    found = np.empty(node.size, dtype=np.int64)
    found[order] = np.searchsorted(writes, node[order] * span + before[order]) - 1
    position = by_sender[np.maximum(found, 0)]
    return np.where((found >= 0) & (sender[position] == node), position, -1)


def _by_node(node: IntArray) -> IntArray:
    """A stable order by person (radix sort when the ids fit 16 bits)."""
    small = node.astype(np.uint16) if node.size and int(node.max()) < 1 << 16 else node
    return np.argsort(small, kind="stable")


def _scan(
    src: IntArray, dst: IntArray, at: FloatArray, times: FloatArray, widths: tuple[int, ...], layout: _Layout
) -> list[FloatArray]:
    """Counts of newly reached (observation, pair)s by latency bin, source community and
    observer community: ``bins × (k+1) × (k+1)``; when sampled, also by random group at
    ``widths[1]``: ``bins × (k+1) × groups``."""
    communities = layout.communities
    columns = [(widths[0], communities, layout.piece_group % communities)]
    if len(widths) > 1:
        columns.append((widths[1], layout.groups, layout.piece_group))
    hists = [np.zeros((_bins(w), communities, c), dtype=np.float64) for w, c, _ in columns]
    slot = np.clip(np.ceil((times[0] - at) / SPACING).astype(np.int64) - 1, 0, times.size - 1)
    latency = times[slot] - at
    keep = np.flatnonzero((latency > 0) & (latency <= HORIZON))[::-1]  # latest first
    if keep.size == 0:
        return hists
    # a contact's bin in every histogram, as one number (rows merge only within it)
    bins = np.zeros(keep.size, dtype=np.int64)
    for w, _, _ in columns:
        bins = bins * _bins(w) + np.minimum(
            np.ceil(latency[keep] / (60 * w)).astype(np.int64) - 1, _bins(w) - 1
        )
    plan = _schedule(src[keep], dst[keep], at[keep], slot[keep], bins, layout.rows)
    # each row's counts land at key (bin, source community) × column; a batch's rows share
    # few keys, numbered 0.. within the batch (local) and listed batch by batch
    tables = []
    for i, (w, c, piece_column) in enumerate(columns):
        row_bin = plan.bin // math.prod(_bins(later) for later, _, _ in columns[i + 1 :]) % _bins(w)
        local, keys, bound = _keys(row_bin * communities + layout.community[plan.sender], plan.row_bound)
        tables.append((hists[i].reshape(-1, c), c, piece_column[:, None], local, keys, bound))
    identity = _identity(layout)
    bits = identity.copy()
    piece_word, piece_mask = layout.piece_word, layout.piece_mask[:, None]
    current = int(plan.slot[0])
    rows_at, more_at, fanout = plan.row_bound.tolist(), plan.more_bound.tolist(), plan.fanout.tolist()
    # The hot loop: each pass is one batch of contacts, a dozen vectorised calls.
    o0 = 0
    for b, observation in enumerate(plan.slot.tolist()):
        if observation != current:
            np.copyto(bits, identity)
            current = observation
        r0, r1 = rows_at[b], rows_at[b + 1]
        heard = bits[plan.receiver[r0:r1]]
        if more_at[b + 1] > more_at[b]:  # messages to several people: OR the others in
            o1 = o0 + (more_at[b + 1] - more_at[b]) * fanout[b]
            others = bits[plan.others[o0:o1]].reshape(-1, fanout[b], bits.shape[1])
            heard[plan.more_row[more_at[b] : more_at[b + 1]]] |= np.bitwise_or.reduce(others, axis=1)
            o0 = o1
        rows = plan.sender[r0:r1]
        had = bits[rows]
        bits[rows] = heard | had
        new = np.bitwise_and(heard, np.invert(had, out=had), out=had)
        pieces = new.T[piece_word]  # pieces × rows
        pieces &= piece_mask
        counted = np.bitwise_count(pieces).ravel()
        for table, c, piece_column, local, keys, bound in tables:
            k0, k1 = bound[b], bound[b + 1]
            where = (local[r0:r1] * c + piece_column).ravel()
            table[keys[k0:k1]] += np.bincount(where, weights=counted, minlength=(k1 - k0) * c).reshape(
                k1 - k0, c
            )
    return hists


def _bins(width: int) -> int:
    return int(HORIZON // (60 * width))


def _keys(key: IntArray, bound: IntArray) -> tuple[IntArray, IntArray, list[int]]:
    """Number the distinct keys of each batch's rows (``bound`` as in _Schedule.row_bound):
    each row's number within its batch, the keys batch by batch, and their bounds."""
    batch = np.repeat(np.arange(bound.size - 1), np.diff(bound))
    order = np.argsort(batch * (int(key.max()) + 1) + key, kind="stable")
    head = np.ones(key.size, dtype=bool)
    head[1:] = (key[order][1:] != key[order][:-1]) | (batch[order][1:] != batch[order][:-1])
    number = np.empty(key.size, dtype=np.int64)
    number[order] = np.cumsum(head) - 1
    key_bound = np.searchsorted(batch[order][head], np.arange(bound.size))
    return number - key_bound[batch], key[order][head], key_bound.tolist()


def _identity(layout: _Layout) -> WordArray:
    """Everyone's own news, and nobody else's: bit ``observer_bit[u]`` in row u; and a last
    row that stays empty, for padding."""
    bits = np.zeros((layout.rows + 1, layout.words), dtype=np.uint64)
    who = np.flatnonzero(layout.observer_bit >= 0)
    position = layout.observer_bit[who]
    bits[who, position >> 6] = np.uint64(1) << (position & 63).astype(np.uint64)
    return bits


def _report(
    hists: list[FloatArray],
    widths: tuple[int, ...],
    layout: _Layout,
    k: int,
    ids: IntArray,
    observations: int,
    active: int,
) -> tuple[dict[int, FlowStats], dict[tuple[int, int], FlowStats], FlowStats]:
    """FlowStats for each community, each ordered pair of communities and everyone."""
    replicates = layout.groups // (k + 1)
    members = np.bincount(layout.community, minlength=k + 1)
    observers = layout.observers.reshape(replicates, k + 1)
    # pairs[a, r, b]: sources in a times observers of random group r in b, less u = v
    pairs = members[:, None, None] * observers[None, :, :]
    pairs -= np.eye(k + 1, dtype=np.int64)[:, None, :] * observers[None, :, :]
    fine = np.cumsum(hists[0], axis=0, out=hists[0])  # cumulative over latency from here on
    point = _figures(fine, pairs.sum(axis=1) * observations, widths[0])
    point_all = _figures(
        fine.sum(axis=(1, 2))[:, None], pairs.sum(keepdims=True).ravel() * observations, widths[0]
    )
    groups = all_groups = None
    if len(hists) > 1:  # by random group, for the standard errors
        coarse = hists[1].reshape(hists[1].shape[0], k + 1, replicates, k + 1)
        reached = np.cumsum(coarse, axis=0, out=coarse)
        groups = _figures(reached, pairs * observations, widths[1], interpolate=True)
        all_groups = _figures(
            reached.sum(axis=(1, 3)), pairs.sum(axis=(0, 2)) * observations, widths[1], True
        )
    share = observers.sum() / max(active, 1)  # the sampled fraction of observers
    per_community: dict[int, FlowStats] = {}
    between: dict[tuple[int, int], FlowStats] = {}
    for a in range(k):
        for b in range(k):
            found = _stats(pairs[a, :, b], point, (a, b), groups, (a, slice(None), b), share)
            if found is None:
                continue
            if a == b:
                per_community[int(ids[a])] = found
            else:
                between[(int(ids[a]), int(ids[b]))] = found
    everyone = _stats(pairs.sum(axis=(0, 2)), point_all, (0,), all_groups, (slice(None),), share)
    return per_community, between, everyone or FlowStats(0, None, None, 0.0, 0.0, _exact())


NAMES = ("median_latency_hours", "p90_latency_hours", "reach_24h", "reach_7d")
Figures = tuple[FloatArray, FloatArray, FloatArray, FloatArray]  # as NAMES; NaN: undefined


def _exact() -> dict[str, float]:
    return dict.fromkeys(NAMES, 0.0)


def _stats(
    pairs: IntArray,
    point: Figures,
    at: tuple[int, ...],
    groups: Figures | None,
    where: tuple[int | slice, ...],
    sampled_share: float,
) -> FlowStats | None:
    """FlowStats of one set of pairs (``pairs`` per random group): the figures at ``at``
    of ``point``, and their standard errors from those at ``where`` of ``groups``."""
    total = int(pairs.sum())
    if total <= 0:
        return None
    figures = [float(values[at]) for values in point]
    stderr = _exact()
    if groups is not None:
        used = pairs > 0
        for name, estimate, values in zip(NAMES, figures, groups, strict=True):
            stderr[name] = _stderr(estimate, values[where][used], sampled_share)
    return FlowStats(
        pairs=total,
        median_latency_hours=None if math.isnan(figures[0]) else figures[0],
        p90_latency_hours=None if math.isnan(figures[1]) else figures[1],
        reach_24h=figures[2],
        reach_7d=figures[3],
        stderr=stderr,
    )


def _figures(reached: FloatArray, total: IntArray, width: int, interpolate: bool = False) -> Figures:
    """From ``reached[bin, ...]``, the cumulative count of (observation, pair)s with a
    latency up to each bin's end, and ``total[...]``: median and p90 latency (hours; NaN
    beyond the horizon) and the shares within 24 h and 7 days. A q-quantile is the smallest
    L with at least q of the values ≤ L, given as the upper edge of its bin; with
    ``interpolate``, linearly within the bin instead (for the random groups' figures, so
    that their spread is not rounded away by wide bins)."""
    bins = reached.shape[0]
    safe = np.maximum(total, 1)
    quantiles = []
    for num, den in ((1, 2), (9, 10)):
        needed = num * total / den if interpolate else -(-num * total // den)
        below = (reached < needed).sum(axis=0)
        if interpolate:
            index = np.minimum(below, bins - 1)
            upper = np.take_along_axis(reached, index[None], axis=0)[0]
            lower = np.where(
                below > 0, np.take_along_axis(reached, np.maximum(index - 1, 0)[None], axis=0)[0], 0
            )
            at = below + (needed - lower) / np.maximum(upper - lower, 1e-12)
        else:
            at = below + 1.0
        quantiles.append(np.where(below < bins, at * width / 60, np.nan))
    day = int(DAY // (60 * width))
    return quantiles[0], quantiles[1], reached[day - 1] / safe, reached[-1] / safe


def _stderr(estimate: float, values: FloatArray, sampled_share: float) -> float:
    """Random-group standard error with the finite-population correction; NaN when the
    figure itself is undefined, infinite when some groups leave it undefined."""
    if math.isnan(estimate) or values.size < 2:
        return math.nan
    if np.isnan(values).any():
        return math.inf
    spread = float(np.sum((values - values.mean()) ** 2)) / (values.size * (values.size - 1))
    return math.sqrt(max(0.0, 1 - sampled_share) * spread)
