"""The undirected weighted graph that community detection works on, and the measures it
needs of a partition: planted-partition rates, connected pieces, sizes, agreement.

Pure numpy/scipy/igraph; :mod:`kith.analysis.communities` is the public face.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import igraph as ig
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

Labels = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WeightedGraph:
    """A simple undirected graph on nodes ``0..n-1``: each edge once (``u < v``), no loops.

    ``weight`` is the total weight of the edge, ``strength`` each node's weighted degree and
    ``total`` the sum of all edge weights (``m`` of the papers).
    """

    n: int
    u: Labels
    v: Labels
    weight: Floats
    strength: Floats
    total: float
    graph: ig.Graph

    @property
    def m(self) -> int:
        return len(self.u)

    def reweighted(self, weight: Floats) -> WeightedGraph:
        """The same edges with other (positive) weights."""
        strength = _strength(self.n, self.u, self.v, weight)
        return WeightedGraph(self.n, self.u, self.v, weight, strength, float(weight.sum()), self.graph)

    def subgraph(self, nodes: Labels) -> WeightedGraph:
        """The graph induced by ``nodes`` (sorted), renumbered ``0..len(nodes)-1``."""
        index = np.full(self.n, -1, dtype=np.int64)
        index[nodes] = np.arange(len(nodes), dtype=np.int64)
        keep = (index[self.u] >= 0) & (index[self.v] >= 0)
        return build(len(nodes), index[self.u[keep]], index[self.v[keep]], self.weight[keep])


def normalise(
    n: object,
    sources: Sequence[int] | NDArray[np.integer],
    targets: Sequence[int] | NDArray[np.integer],
    weights: Sequence[float] | NDArray[np.floating] | None,
) -> WeightedGraph:
    """Check the caller's edge list and turn it into a :class:`WeightedGraph`.

    Edges may come in either direction and more than once: parallel edges add up. Loops
    (a person writing to themselves) say nothing about communities and are dropped, as are
    edges of weight 0. Raises :class:`ValueError` saying what was wrong.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative integer (the number of nodes); got {n!r}")
    src = _ids("sources", sources, int(n))
    dst = _ids("targets", targets, int(n))
    if len(src) != len(dst):
        raise ValueError(f"sources and targets must have the same length; got {len(src)} and {len(dst)}")
    if weights is None:
        w = np.ones(len(src), dtype=np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if len(w) != len(src):
            raise ValueError(
                f"weights must have one value per edge; got {len(w)} weights for {len(src)} edges"
            )
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if len(bad):
            raise ValueError(f"weights must be finite and non-negative; weights[{bad[0]}] is {w[bad[0]]!r}")
    keep = (src != dst) & (w > 0)
    lo = np.minimum(src[keep], dst[keep])
    hi = np.maximum(src[keep], dst[keep])
    merged = sp.coo_matrix((w[keep], (lo, hi)), shape=(int(n), int(n))).tocsr()
    merged.sum_duplicates()
    coo = merged.tocoo()
    return build(int(n), coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float64))


def _ids(name: str, values: Sequence[int] | NDArray[np.integer], n: int) -> Labels:
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of node ids; got an array of shape {raw.shape}")
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    integral = raw.dtype.kind in "iub" or (
        raw.dtype.kind == "f" and bool(np.all(np.isfinite(raw))) and bool(np.all(raw == np.round(raw)))
    )
    if not integral:
        raise ValueError(f"{name} must hold integer node ids; got values of type {raw.dtype}")
    ids = raw.astype(np.int64)
    bad = np.flatnonzero((ids < 0) | (ids >= n))
    if len(bad):
        raise ValueError(
            f"node ids must lie in 0..n-1 (n={n}); {name}[{bad[0]}] is {ids[bad[0]]}. "
            "Number the nodes from 0 and pass n = the number of nodes."
        )
    return ids


def build(n: int, u: Labels, v: Labels, weight: Floats) -> WeightedGraph:
    """A :class:`WeightedGraph` from edges already simple (``u < v``, each once)."""
    strength = _strength(n, u, v, weight)
    # pairs of Python ints: the fastest of igraph's inputs (a numpy array is 3-4x slower)
    graph = ig.Graph(n=n, edges=list(zip(u.tolist(), v.tolist(), strict=True)))
    return WeightedGraph(n, u, v, weight, strength, float(weight.sum()), graph)


def _strength(n: int, u: Labels, v: Labels, weight: Floats) -> Floats:
    return (np.bincount(u, weight, n) + np.bincount(v, weight, n)).astype(np.float64)


def planted_resolution(g: WeightedGraph, membership: Labels) -> float | None:
    """The resolution at which modularity maximisation is maximum-likelihood inference of a
    degree-corrected planted partition whose groups are ``membership`` (Newman 2016, eqs.
    19-21), or ``None`` when the partition shows no assortative structure.

    With ``m_in`` the weight inside groups and ``kappa_r`` the strength of group ``r``::

        omega_in  = 2 m_in / (sum_r kappa_r^2 / 2m)
        omega_out = (2m - 2 m_in) / (2m - sum_r kappa_r^2 / 2m)
        gamma     = (omega_in - omega_out) / (ln omega_in - ln omega_out)
    """
    if g.total <= 0:
        return None
    two_m = 2.0 * g.total
    m_in = float(g.weight[membership[g.u] == membership[g.v]].sum())
    kappa = np.bincount(membership, g.strength)
    expected = float(np.dot(kappa, kappa)) / two_m
    if m_in <= 0 or expected >= two_m * (1 - 1e-12) or m_in >= g.total * (1 - 1e-12):
        return None
    omega_in = 2.0 * m_in / expected
    omega_out = (two_m - 2.0 * m_in) / (two_m - expected)
    if omega_in <= omega_out * (1 + 1e-9):
        return None
    return (omega_in - omega_out) / (math.log(omega_in) - math.log(omega_out))


def connected_pieces(g: WeightedGraph, membership: Labels) -> Labels:
    """``membership`` with every community split into its connected pieces (through edges
    inside the community), numbered 0..k-1 by decreasing size, ties by smallest node id."""
    same = membership[g.u] == membership[g.v]
    adjacency = sp.coo_matrix((np.ones(int(same.sum())), (g.u[same], g.v[same])), shape=(g.n, g.n)).tocsr()
    _, pieces = connected_components(adjacency, directed=False)
    return by_size(pieces.astype(np.int64))


def by_size(labels: Labels) -> Labels:
    """Relabel ``0..k-1`` by decreasing community size; ties go to the community holding
    the smaller node id."""
    if len(labels) == 0:
        return labels.astype(np.int64)
    _, first, dense = np.unique(labels, return_index=True, return_inverse=True)
    sizes = np.bincount(dense)
    order = np.lexsort((first, -sizes))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[dense]


def co_membership(g: WeightedGraph, partitions: Sequence[Labels]) -> Floats:
    """Per edge, the fraction of ``partitions`` that put its two ends together."""
    together = np.zeros(g.m, dtype=np.float64)
    for p in partitions:
        together += p[g.u] == p[g.v]
    return together / len(partitions)


def best_match_jaccard(final: Labels, other: Labels) -> Floats:
    """For each community ``C`` of ``final``, ``max_D |C & D| / |C | D|`` over the
    communities ``D`` of ``other`` (Hennig 2007's cluster-wise Jaccard similarity)."""
    k = int(final.max()) + 1
    _, other_dense = np.unique(other, return_inverse=True)
    inter = sp.coo_matrix(
        (np.ones(len(final)), (final, other_dense)), shape=(k, int(other_dense.max()) + 1)
    ).tocsr()
    inter.sum_duplicates()
    size_c = np.bincount(final, minlength=k).astype(np.float64)
    size_d = np.bincount(other_dense).astype(np.float64)
    coo = inter.tocoo()
    jaccard = coo.data / (size_c[coo.row] + size_d[coo.col] - coo.data)
    best = np.zeros(k, dtype=np.float64)
    np.maximum.at(best, coo.row, jaccard)
    return best


def modularity(g: WeightedGraph, membership: Labels, resolution: float = 1.0) -> float:
    """Newman-Girvan modularity (``resolution`` 1) of ``membership`` on ``g``."""
    if g.total <= 0:
        return 0.0
    two_m = 2.0 * g.total
    inside = float(g.weight[membership[g.u] == membership[g.v]].sum())
    kappa = np.bincount(membership, g.strength)
    return inside / g.total - resolution * float(np.dot(kappa, kappa)) / (two_m * two_m)
