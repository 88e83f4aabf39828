"""Communities: who belongs together, found from who communicates with whom.

:func:`detect` takes an undirected weighted edge list and returns a :class:`Detection`:
connected communities numbered by decreasing size, a stability score for each, an
optional second level inside the large ones, and what was done. The method, its reasons and
its measured accuracy are in ``docs/analysis.md`` ("Communities").

In short: Leiden (Traag, Waltman & van Eck 2019) optimises modularity at a resolution that
is not fixed but estimated from the graph by maximum likelihood (Newman 2016), so it is
neither held to the resolution limit of plain modularity nor tuned to any answer; the
estimate is run from several seeds and the runs are combined into a consensus (Lancichinetti
& Fortunato 2012; Poulin & Théberge 2019), which also gives each community its stability.

Example::

    >>> d = detect(6, [0, 0, 1, 3, 3, 4, 2], [1, 2, 2, 4, 5, 5, 3])
    >>> d.membership
    [0, 0, 0, 1, 1, 1]
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kith.analysis.community_graph import (
    Labels,
    WeightedGraph,
    best_match_jaccard,
    by_size,
    connected_pieces,
    modularity,
    normalise,
)
from kith.analysis.community_leiden import COARSE_START, LARGE_EDGES, consensus_fit, derive_seed

DEFAULT_RUNS = 8  # seeds in the ensemble, up to LARGE_EDGES edges
LARGE_RUNS = 3  # seeds in the ensemble of a larger graph (time: see docs/analysis.md)
SUB_RUNS = 4  # seeds in the ensemble of a second-level split
# A second level is kept only if its communities are at least this stable (mean over the
# nodes of their sub-community's stability). Random graphs, which any modularity method
# splits, give 0.27-0.50 (Erdos-Renyi, 200-1,000 nodes); planted sub-blocks 0.76-1.0.
SPLIT_STABILITY = 2 / 3


@dataclass(frozen=True)
class Detection:
    """The communities of a graph.

    ``membership[i]`` is node ``i``'s community, numbered ``0..k-1`` by decreasing size.
    ``stability[c]`` in [0, 1] says how consistently community ``c``'s members are grouped
    together across the seeded runs of the ensemble: the mean, over the runs, of the Jaccard
    similarity between ``c`` and the run's community that best matches it (Hennig 2007). 1
    means every run found exactly ``c``.
    ``sub_membership[i]`` is node ``i``'s sub-community inside its community when that
    community is larger than ``split_above`` and has a reproducible inner structure (else
    0), numbered ``0..`` by decreasing size within the parent.
    ``method`` says what was run; ``quality`` holds its figures: ``modularity`` (resolution
    1), ``resolution`` (the estimated one), ``agreement`` (mean pairwise NMI between the
    runs), ``stability`` (mean over nodes of their community's stability), ``communities``,
    ``runs``.
    """

    membership: list[int]
    stability: list[float]
    sub_membership: list[int]
    method: str
    quality: dict[str, float]


@dataclass(frozen=True, slots=True)
class _Level:
    membership: Labels
    stability: NDArray[np.float64]
    resolution: float
    agreement: float
    runs: int
    settled: bool
    start: float
    rival: float | None


def detect(
    n: int,
    sources: Sequence[int] | NDArray[np.integer],
    targets: Sequence[int] | NDArray[np.integer],
    weights: Sequence[float] | NDArray[np.floating] | None = None,
    *,
    seed: int = 0,
    split_above: int = 150,
    runs: int | None = None,
) -> Detection:
    """Communities of an undirected weighted graph with nodes 0..n-1 (edges given once;
    isolated nodes get their own singleton communities).

    Parameters
    ----------
    n: the number of nodes; node ids are ``0..n-1``.
    sources, targets: the two ends of each edge. Either direction; repeated edges add up;
        loops and zero weights are ignored.
    weights: a non-negative weight per edge (default 1).
    seed: every random choice derives from it: the same input and seed give the same
        output.
    split_above: communities with more members than this get a second level.
    runs: seeds in the ensemble (at least 2); by default 8, or 3 above 200,000 edges.

    Returns a :class:`Detection`. Every community is connected in the graph.

    Raises ``ValueError`` for bad input (ids outside ``0..n-1``, lengths that differ,
    negative or non-finite weights, a negative seed).

    References: V. A. Traag, L. Waltman, N. J. van Eck, "From Louvain to Leiden", Sci. Rep. 9,
    5233 (2019). M. E. J. Newman, "Equivalence between modularity optimization and maximum
    likelihood methods for community detection", Phys. Rev. E 94, 052315 (2016).
    A. Lancichinetti, S. Fortunato, "Consensus clustering in complex networks", Sci. Rep. 2,
    336 (2012). V. Poulin, F. Théberge, "Ensemble clustering for graphs", Complex Networks
    2018 (2019). C. Hennig, "Cluster-wise assessment of cluster stability", Comput. Stat.
    Data Anal. 52 (2007).
    """
    g = normalise(n, sources, targets, weights)
    _check_options(seed, split_above, runs)
    if g.n == 0:
        return Detection([], [], [], "no nodes", {"communities": 0.0})
    chosen = runs if runs is not None else (LARGE_RUNS if g.m > LARGE_EDGES else DEFAULT_RUNS)
    top = _level(g, (seed, 0), chosen)
    sub = _second_level(g, top.membership, seed, split_above, min(chosen, SUB_RUNS))
    k = len(top.stability)
    sizes = np.bincount(top.membership, minlength=k)
    notes = [f"consensus of {top.runs} seeds from start {top.start:g}", f"agreement {top.agreement:.2f}"]
    if top.rival is not None:
        other = 1.0 if top.start != 1.0 else COARSE_START
        notes.append(f"{top.rival:.2f} from start {other:g}")
    if not top.settled:
        notes.append("resolution still moving at the step limit")
    method = f"leiden-ml gamma={top.resolution:.3g} ({', '.join(notes)})"
    quality = {
        "modularity": modularity(g, top.membership),
        "resolution": top.resolution,
        "agreement": top.agreement,
        "stability": float(np.dot(sizes, top.stability) / g.n),
        "communities": float(k),
        "runs": float(top.runs),
    }
    return Detection(
        membership=top.membership.tolist(),
        stability=[float(s) for s in top.stability],
        sub_membership=sub.tolist(),
        method=method,
        quality=quality,
    )


def _check_options(seed: int, split_above: int, runs: int | None) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    if isinstance(split_above, bool) or not isinstance(split_above, int | np.integer) or split_above < 1:
        raise ValueError(f"split_above must be a positive integer (a community size); got {split_above!r}")
    if runs is not None and (isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 2):
        raise ValueError(f"runs must be an integer of at least 2 (seeds in the ensemble); got {runs!r}")


def _level(g: WeightedGraph, key: tuple[int, ...], runs: int) -> _Level:
    """One level: the consensus, split into connected pieces, and each piece's stability."""
    consensus = consensus_fit(g, derive_seed(*key), runs)
    membership = connected_pieces(g, consensus.fit.membership)
    stability = np.mean([best_match_jaccard(membership, m) for m in consensus.members], axis=0)
    return _Level(
        membership,
        stability,
        consensus.fit.resolution,
        consensus.agreement,
        runs,
        consensus.settled,
        consensus.start,
        consensus.rival,
    )


def _second_level(g: WeightedGraph, membership: Labels, seed: int, split_above: int, runs: int) -> Labels:
    """Sub-communities inside each community larger than ``split_above``.

    The community's own subgraph goes through the same detection. Its split is kept only if
    it is reproducible: the mean stability of its sub-communities, over their nodes, is at
    least ``SPLIT_STABILITY``. (Any graph, even a random one, has a modularity-maximising
    split; only a real one comes back from every seed.)
    """
    sub = np.zeros(g.n, dtype=np.int64)
    sizes = np.bincount(membership)
    for community in np.flatnonzero(sizes > split_above):
        nodes = np.flatnonzero(membership == community)
        inner = _level(g.subgraph(nodes), (seed, 1, int(community)), runs)
        sizes_inside = np.bincount(inner.membership)
        stability = float(np.dot(sizes_inside, inner.stability)) / len(nodes)
        if len(sizes_inside) > 1 and stability >= SPLIT_STABILITY:
            sub[nodes] = inner.membership
    return sub


def coarsen(
    n: int,
    sources: Sequence[int] | NDArray[np.integer],
    targets: Sequence[int] | NDArray[np.integer],
    membership: Sequence[int] | NDArray[np.integer],
    k: int,
    weights: Sequence[float] | NDArray[np.floating] | None = None,
) -> list[int]:
    """Merge communities until ``k`` remain: a coarser view of a :class:`Detection`.

    Each step merges the two linked communities whose merger raises modularity the most (or
    lowers it the least): the greedy agglomeration of Clauset, Newman & Moore (2004), started
    from ``membership`` instead of singletons. It stops early if no two of the remaining
    communities are linked. Returns the merged membership, numbered by decreasing size.
    The graph is read as by :func:`detect`.

    >>> coarsen(6, [0, 0, 1, 3, 3, 4, 2], [1, 2, 2, 4, 5, 5, 3], [0, 0, 1, 2, 2, 3], 2)
    [0, 0, 0, 1, 1, 1]

    Reference: A. Clauset, M. E. J. Newman, C. Moore, "Finding community structure in very
    large networks", Phys. Rev. E 70, 066111 (2004).
    """
    g = normalise(n, sources, targets, weights)
    labels = np.asarray(membership)
    if labels.shape != (g.n,) or labels.dtype.kind not in "iu" or (g.n and labels.min() < 0):
        raise ValueError(f"membership must hold one non-negative integer per node ({g.n} nodes)")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer (the number of communities wanted); got {k!r}")
    if g.n == 0:
        return []
    labels = by_size(labels.astype(np.int64))
    return [int(c) for c in by_size(_merge_greedily(g, labels, int(k)))]


def _merge_greedily(g: WeightedGraph, labels: Labels, k: int) -> Labels:
    """Clauset-Newman-Moore merging with a lazy heap: an entry is stale once either of its
    communities has merged since (its version changed)."""
    count = int(labels.max()) + 1
    two_m = 2.0 * g.total if g.total > 0 else 1.0
    share = np.bincount(labels, g.strength, count) / two_m  # a_c = K_c / 2m
    between: list[dict[int, float]] = [{} for _ in range(count)]  # e_cd / 2m, c != d
    cu, cv = labels[g.u], labels[g.v]
    cross = cu != cv
    for a, b, w in zip(cu[cross].tolist(), cv[cross].tolist(), g.weight[cross].tolist(), strict=True):
        between[a][b] = between[a].get(b, 0.0) + w / two_m
        between[b][a] = between[b].get(a, 0.0) + w / two_m
    version = [0] * count
    heap: list[tuple[float, int, int, int, int]] = []

    def push(a: int, b: int) -> None:
        a, b = min(a, b), max(a, b)
        gain = 2.0 * (between[a][b] - share[a] * share[b])
        heapq.heappush(heap, (-gain, a, b, version[a], version[b]))

    for a in range(count):
        for b in between[a]:
            if a < b:
                push(a, b)
    parent = list(range(count))
    alive = count
    while alive > k and heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if va != version[a] or vb != version[b]:
            continue
        for c, e in between[b].items():  # b into a
            del between[c][b]
            if c != a:
                between[a][c] = between[a].get(c, 0.0) + e
                between[c][a] = between[a][c]
        between[b] = {}
        share[a] += share[b]
        parent[b] = a
        version[a] += 1
        version[b] += 1
        alive -= 1
        for c in between[a]:
            push(a, c)
    root = np.arange(count)
    for c in range(count):
        r = c
        while parent[r] != r:
            r = parent[r]
        root[c] = r
    return root[labels].astype(np.int64)
