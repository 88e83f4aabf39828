"""Roles per person: who holds a community together, who links communities, who would be missed.

Given the tie network and a community per person (from community detection) plus the
formal department, :func:`person_roles` measures each person and gives one primary label
with flags. The measures:

- **within-community z-score** (Guimerà & Amaral 2005), on tie *strength*:
  ``z_i = (κ_i − mean κ_c) / std κ_c`` where κ_i is the strength of i's ties inside its
  community c and the mean and (population) standard deviation run over c's members;
  0 when every member of c has the same κ.
- **participation coefficient** (same paper), on strength:
  ``P_i = 1 − Σ_s (κ_is / k_i)²`` with κ_is the strength of i's ties into community s and
  k_i its total strength; 0 with no ties. 0 means every tie stays in one community; the
  maximum with ties spread evenly over m communities is ``1 − 1/m``. The same formula over
  departments gives ``dept_participation``.
- **betweenness** (Brandes 2001; igraph's C implementation), normalised by the number of
  pairs ``(n−1)(n−2)/2``, on hop counts by default (see :func:`betweenness`). Above
  ``sample_above`` people it is estimated from ``pivots`` seeded random sources (Brandes &
  Pich 2007).
- **Burt's constraint** (Burt 1992), weighted: ``c_i = Σ_j (p_ij + Σ_q p_iq·p_qj)²`` with
  ``p_ij = w_ij / Σ_k w_ik``; nan for a person without ties. Low constraint: contacts who do
  not know one another (structural holes).

The labels, thresholds and the reasons for them are in ``docs/analysis.md`` (section
"Roles"). Every threshold is a field of :class:`RoleThresholds`.

References: R. Guimerà & L. A. N. Amaral (2005), "Functional cartography of complex
metabolic networks", Nature 433; R. S. Burt (1992), *Structural Holes*; U. Brandes (2001),
"A faster algorithm for betweenness centrality", J. Math. Sociol. 25; U. Brandes & C. Pich
(2007), "Centrality estimation in large networks", Int. J. Bifurcation and Chaos 17.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import igraph as ig
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kith.analysis.graph import FloatArray, IntArray, Network

ISOLATED = "isolated"
HUB = "hub"
CONNECTOR = "connector"
BROKER = "broker"
PERIPHERAL = "peripheral"
MEMBER = "member"
# flags that are not labels
ARTICULATION = "articulation_point"
SOLE_LINK = "sole_link"
OVERLOAD = "overload"

PathLength = Literal["hops", "inverse_strength"]


@dataclass(frozen=True, slots=True)
class RoleThresholds:
    """The thresholds of the labels; the defaults and their sources are in docs/analysis.md."""

    hub_z: float = 2.5  # Guimerà & Amaral: hubs have z ≥ 2.5
    connector_participation: float = 0.62  # G&A: non-hub connectors have P > 0.62
    connector_hub_participation: float = 0.30  # G&A: connector hubs have P > 0.30
    connector_communities: int = 3  # ... or ties into this many other communities,
    connector_share: float = 0.10  # ... each holding this share of the person's strength
    broker_betweenness_quantile: float = 0.9  # top decile of betweenness in the community
    broker_constraint_quantile: float = 0.5  # and constraint at most the community's median
    peripheral_z: float = -1.0  # z below this ...
    peripheral_degree: int = 1  # ... or at most this many ties inside the community
    overload_strength_share: float = 0.5  # the set carrying half the cross-community strength
    overload_people_share: float = 0.05  # is "overloaded" when it is under 5% of people

    def __post_init__(self) -> None:
        for name in ("broker_betweenness_quantile", "broker_constraint_quantile"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("connector_share", "overload_strength_share", "overload_people_share"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]")
        if self.connector_communities < 1:
            raise ValueError("connector_communities must be at least 1")


class CutPair(NamedTuple):
    """Two communities joined by a single tie (``kind="tie"``, ``nodes=(u, v)``) or by ties
    that all go through one person (``kind="person"``, ``nodes=(person,)``)."""

    a: int
    b: int
    kind: str
    nodes: tuple[int, ...]


class Overload(NamedTuple):
    """The fewest people carrying ``share_of_cross_strength`` (≥ the threshold) of the
    cross-community tie strength, most loaded first; ``share_of_people`` is their share of
    everyone in the network."""

    nodes: list[int]
    share_of_people: float
    share_of_cross_strength: float


@dataclass(frozen=True, slots=True)
class Roles:
    """Per-node measures (index = node), labels and the single points of failure."""

    z: FloatArray
    participation: FloatArray
    dept_participation: FloatArray
    betweenness: FloatArray
    constraint: FloatArray
    label: list[str]
    flags: list[list[str]]
    articulation: dict[int, list[int]]
    bridges: dict[int, list[tuple[int, int]]]
    cut_pairs: list[CutPair]
    overload: Overload
    # True when fewer than overload_people_share of the people carry the threshold share
    overloaded: bool = False
    # per-node strength inside the community and total, and ties inside the community
    within_strength: FloatArray = field(default_factory=lambda: np.zeros(0))
    total_strength: FloatArray = field(default_factory=lambda: np.zeros(0))
    within_degree: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    betweenness_pivots: int | None = None  # None: exact
    thresholds: RoleThresholds = field(default_factory=RoleThresholds)


def person_roles(
    net: Network,
    membership: Sequence[int],
    departments: Sequence[str],
    *,
    seed: int = 0,
    sample_above: int = 5000,
    pivots: int = 1000,
    path_length: PathLength = "hops",
    thresholds: RoleThresholds | None = None,
) -> Roles:
    """Measure and label every person of ``net``.

    Parameters: ``membership[i]`` is node i's community, ``departments[i]`` its department;
    ``seed``, ``sample_above`` and ``pivots`` control the betweenness estimate (exact up to
    ``sample_above`` people); ``path_length`` how betweenness counts a path's length;
    ``thresholds`` the labelling rules.

    Returns a :class:`Roles`. Example: the Krackhardt kite as one community labels
    Heather (node 7, the only way to Ike and Jane) a broker and Jane (node 9, one tie)
    peripheral::

        >>> import networkx as nx
        >>> from kith.analysis.graph import Network
        >>> u, v = np.array(nx.krackhardt_kite_graph().edges()).T
        >>> none = np.zeros(0, dtype=np.int64)
        >>> net = Network(np.arange(10), u, v, np.ones(u.size), none, none, np.zeros(0))
        >>> r = person_roles(net, [0] * 10, ["x"] * 10)
        >>> r.label[7], r.label[9]
        ('broker', 'peripheral')
    """
    th = thresholds or RoleThresholds()
    community = _indices(membership, net.n, "membership")
    dept = _indices(departments, net.n, "departments")
    ids = np.unique(np.asarray(membership, dtype=np.int64))
    comm_spread = _spread(net, community, th.connector_share)
    dept_spread = _spread(net, dept, th.connector_share)
    z = _zscores(comm_spread.within, community)
    within_degree = _within_degree(net, community)

    exact = net.n <= sample_above
    bet = betweenness(net, seed=seed, pivots=None if exact else pivots, path_length=path_length)
    constraint = burt_constraint(net)

    articulation, bridges = _single_points(net, community, ids)
    cut_pairs = _cut_pairs(net, community, ids)
    overload, overloaded = _overload(net, community, th)

    flag_sets = _role_flags(net, th, z, comm_spread, within_degree, bet, constraint, community)
    for nodes in articulation.values():
        for node in nodes:
            flag_sets[node].append(ARTICULATION)
    for pair in cut_pairs:
        for node in pair.nodes:
            if SOLE_LINK not in flag_sets[node]:
                flag_sets[node].append(SOLE_LINK)
    if overloaded:
        for node in overload.nodes:
            flag_sets[node].append(OVERLOAD)
    labels, flags = _primary(flag_sets)
    return Roles(
        z=z,
        participation=comm_spread.participation,
        dept_participation=dept_spread.participation,
        betweenness=bet,
        constraint=constraint,
        label=labels,
        flags=flags,
        articulation=articulation,
        bridges=bridges,
        cut_pairs=cut_pairs,
        overload=overload,
        overloaded=overloaded,
        within_strength=comm_spread.within,
        total_strength=comm_spread.total,
        within_degree=within_degree,
        betweenness_pivots=None if exact else min(pivots, net.n),
        thresholds=th,
    )


def betweenness(
    net: Network, *, seed: int = 0, pivots: int | None = None, path_length: PathLength = "hops"
) -> FloatArray:
    """Normalised betweenness of every node (Brandes 2001, undirected), in [0, 1].

    ``path_length="hops"`` (the default) counts each tie as one step: a message passes
    through a person once however strong the tie, and hop paths are many and tied, so
    credit is shared among the alternatives instead of following small differences of
    strength. ``"inverse_strength"`` takes ``1/strength`` as the length of a tie.

    With ``pivots`` set (and smaller than n), shortest paths are followed from that many
    sources drawn without replacement with ``seed`` and the sum is scaled by n/pivots: an
    unbiased estimate whose error shrinks like ``1/sqrt(pivots)`` (Brandes & Pich 2007).
    """
    n = net.n
    if n < 3 or net.m == 0:
        return np.zeros(n)
    graph = _igraph(net)
    weights = (1.0 / net.strength).tolist() if path_length == "inverse_strength" else None
    if pivots is None or pivots >= n:
        raw = np.asarray(graph.betweenness(directed=False, weights=weights), dtype=np.float64)
    else:
        rng = np.random.default_rng(seed)
        sources = np.sort(rng.choice(n, size=max(pivots, 1), replace=False))
        sampled = graph.betweenness(directed=False, weights=weights, sources=sources.tolist())
        raw = np.asarray(sampled, dtype=np.float64) * (n / sources.size)
    return raw / ((n - 1) * (n - 2) / 2)


def burt_constraint(net: Network) -> FloatArray:
    """Burt's (1992) constraint on tie strength, nan for people without ties (igraph's C
    implementation; it agrees with ``networkx.constraint(G, weight=...)``)."""
    if net.m == 0:
        return np.full(net.n, np.nan)
    graph = _igraph(net)
    return np.asarray(graph.constraint(weights=net.strength.tolist()), dtype=np.float64)


class _Spread(NamedTuple):
    total: FloatArray  # k_i
    within: FloatArray  # κ_i, strength into the node's own group
    participation: FloatArray
    reach: IntArray  # other groups holding at least the connector share of k_i


def _spread(net: Network, group: IntArray, min_share: float) -> _Spread:
    """How each node's tie strength spreads over the groups (one sparse node × group table)."""
    n_groups = int(group.max()) + 1 if group.size else 0
    rows = np.concatenate([net.u, net.v])
    cols = group[np.concatenate([net.v, net.u])]
    both = np.concatenate([net.strength, net.strength])
    table = sp.csr_array((both, (rows, cols)), shape=(net.n, n_groups))  # sums duplicates
    row = np.repeat(np.arange(net.n), np.diff(table.indptr))
    total = np.bincount(row, weights=table.data, minlength=net.n).astype(np.float64)
    share = table.data / np.where(total[row] > 0, total[row], 1.0)
    participation = np.where(total > 0, 1.0 - np.bincount(row, share**2, minlength=net.n), 0.0)
    own = table.indices == group[row]
    within = np.bincount(row[own], table.data[own], minlength=net.n).astype(np.float64)
    reach = np.bincount(row[~own & (share >= min_share)], minlength=net.n)
    return _Spread(total, within, np.clip(participation, 0.0, 1.0), reach.astype(np.int64))


def _zscores(value: FloatArray, group: IntArray) -> FloatArray:
    """(value − group mean) / group population std; 0 where the group has no spread."""
    count = np.bincount(group).astype(np.float64)
    mean = np.bincount(group, value) / count
    centred = value - mean[group]
    std = np.sqrt(np.bincount(group, centred**2) / count)
    spread = std[group]
    scale = np.maximum(np.abs(mean[group]), 1.0)
    ok = spread > 1e-9 * scale
    return np.where(ok, centred / np.where(ok, spread, 1.0), 0.0)


def _within_degree(net: Network, group: IntArray) -> IntArray:
    inside = group[net.u] == group[net.v]
    ends = np.concatenate([net.u[inside], net.v[inside]])
    return np.bincount(ends, minlength=net.n).astype(np.int64)


def _role_flags(
    net: Network,
    th: RoleThresholds,
    z: FloatArray,
    spread: _Spread,
    within_degree: IntArray,
    bet: FloatArray,
    constraint: FloatArray,
    community: IntArray,
) -> list[list[str]]:
    """The role rules each node meets, in precedence order (the first is its label)."""
    isolated = spread.total == 0
    hub = (z >= th.hub_z) & ~isolated
    spans = spread.reach >= th.connector_communities
    connector = ~isolated & (
        np.where(
            hub,
            spread.participation > th.connector_hub_participation,
            spread.participation >= th.connector_participation,
        )
        | spans
    )
    broker = ~isolated & (bet > 0) & _broker_rank(bet, constraint, community, th)
    peripheral = ~isolated & ((z < th.peripheral_z) | (within_degree <= th.peripheral_degree))
    rules = [
        (ISOLATED, isolated),
        (HUB, hub),
        (CONNECTOR, connector),
        (BROKER, broker),
        (PERIPHERAL, peripheral),
    ]
    flag_sets: list[list[str]] = [[] for _ in range(net.n)]
    for name, mask in rules:
        for node in np.flatnonzero(mask).tolist():
            flag_sets[node].append(name)
    return flag_sets


def _broker_rank(
    bet: FloatArray, constraint: FloatArray, community: IntArray, th: RoleThresholds
) -> npt.NDArray[np.bool_]:
    """Betweenness in the community's top (1 − q) and constraint at most its median."""
    result = np.zeros(bet.size, dtype=bool)
    order = np.argsort(community, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(community[order]) != 0])
    for members in np.split(order, starts[1:]):
        c = constraint[members]
        known = ~np.isnan(c)
        if not known.any():
            continue
        top = np.quantile(bet[members], th.broker_betweenness_quantile)
        low = np.quantile(c[known], th.broker_constraint_quantile)
        result[members] = (bet[members] >= top) & known & (np.where(known, c, np.inf) <= low)
    return result


def _primary(flag_sets: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    labels: list[str] = []
    flags: list[list[str]] = []
    for found in flag_sets:
        roles = [f for f in found if f in (ISOLATED, HUB, CONNECTOR, BROKER, PERIPHERAL)]
        label = roles[0] if roles else MEMBER
        labels.append(label)
        flags.append([f for f in found if f != label])
    return labels, flags


def _single_points(
    net: Network, community: IntArray, ids: IntArray
) -> tuple[dict[int, list[int]], dict[int, list[tuple[int, int]]]]:
    """Articulation points and bridges of each community's induced subgraph.

    One graph of every tie inside a community: its components never cross communities, so
    its articulation points and bridges are those of each community's own subgraph."""
    inside = community[net.u] == community[net.v]
    u, v = net.u[inside], net.v[inside]
    graph = ig.Graph(n=net.n, edges=np.column_stack([u, v]).tolist())
    articulation: dict[int, list[int]] = {int(c): [] for c in ids.tolist()}
    bridges: dict[int, list[tuple[int, int]]] = {int(c): [] for c in ids.tolist()}
    for node in sorted(graph.articulation_points()):
        articulation[int(ids[community[node]])].append(int(node))
    for edge in sorted(graph.bridges()):
        a, b = int(u[edge]), int(v[edge])
        bridges[int(ids[community[a]])].append((a, b))
    for ties in bridges.values():
        ties.sort()
    return articulation, bridges


def _cut_pairs(net: Network, community: IntArray, ids: IntArray) -> list[CutPair]:
    """Community pairs whose ties are a single tie, or all go through one person."""
    cu, cv = community[net.u], community[net.v]
    cross = cu != cv
    if not cross.any():
        return []
    swap = cu[cross] > cv[cross]
    ca = np.where(swap, cv[cross], cu[cross])
    cb = np.where(swap, cu[cross], cv[cross])
    na = np.where(swap, net.v[cross], net.u[cross])  # the end in community a
    nb = np.where(swap, net.u[cross], net.v[cross])
    size = int(community.max()) + 1
    key = ca * size + cb
    keys, first, ties = np.unique(key, return_index=True, return_counts=True)
    ends_a = _distinct_per_key(key, na, keys)
    ends_b = _distinct_per_key(key, nb, keys)
    pairs: list[CutPair] = []
    for k, i, t, ea, eb in zip(keys, first, ties, ends_a, ends_b, strict=True):
        a, b = int(ids[k // size]), int(ids[k % size])
        x, y = int(na[i]), int(nb[i])
        if t == 1:
            pairs.append(CutPair(a, b, "tie", (min(x, y), max(x, y))))
        elif ea == 1:
            pairs.append(CutPair(a, b, "person", (x,)))
        elif eb == 1:
            pairs.append(CutPair(a, b, "person", (y,)))
    return pairs


def _distinct_per_key(key: IntArray, node: IntArray, keys: IntArray) -> IntArray:
    """How many different nodes each key (sorted, unique) has."""
    combos = np.unique(np.column_stack([key, node]), axis=0)  # sorted by key
    right = np.searchsorted(combos[:, 0], keys, side="right")
    return (right - np.searchsorted(combos[:, 0], keys, side="left")).astype(np.int64)


def _overload(net: Network, community: IntArray, th: RoleThresholds) -> tuple[Overload, bool]:
    """The fewest people whose cross-community strength reaches the threshold share.

    A cross tie counts for both its ends, so the shares are of ``Σ_i cross_i`` (twice the
    cross-community strength); sorting by cross_i then makes the prefix the smallest set."""
    cross = community[net.u] != community[net.v]
    ends = np.concatenate([net.u[cross], net.v[cross]])
    load = np.bincount(ends, np.tile(net.strength[cross], 2), minlength=net.n)
    total = float(load.sum())
    if total <= 0:
        return Overload([], 0.0, 0.0), False
    order = np.lexsort((np.arange(net.n), -load))
    carried = np.cumsum(load[order])
    count = int(np.searchsorted(carried, th.overload_strength_share * total * (1 - 1e-12))) + 1
    share_people = count / net.n
    overload = Overload(order[:count].tolist(), share_people, float(carried[count - 1]) / total)
    return overload, share_people < th.overload_people_share


def _indices(labels: Sequence[int] | Sequence[str], n: int, name: str) -> IntArray:
    values = np.asarray(labels)
    if values.shape != (n,):
        raise ValueError(f"{name} must give one value per node ({n}), got {values.shape}")
    _, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.int64).reshape(n)


def _igraph(net: Network) -> ig.Graph:
    return ig.Graph(n=net.n, edges=np.column_stack([net.u, net.v]).tolist())
