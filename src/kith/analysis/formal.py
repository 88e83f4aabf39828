"""Formal and informal structure: how the communities found in communication sit across the
departments, locations and time zones of the org chart, and where groups do not talk.

- :func:`formal_vs_informal` cross-tabulates communities with departments, locations and
  time zones, scores how far the partitions agree (normalised mutual information and the
  adjusted Rand index, scikit-learn) and flags the communities that cross boundaries.
- :func:`silos` compares the tie strength observed between two groups (departments or
  communities) with what a weighted configuration model expects from how much each
  group communicates at all, and flags the pairs with far less than expected.

The rules and their defaults are documented in ``docs/analysis.md`` (section "Formal and
informal structure").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kith.analysis.graph import FloatArray, IntArray, Network


@dataclass(frozen=True, slots=True)
class FormalReport:
    """Communities against the formal structure; every table is community -> value -> people.

    ``departments_spanned`` and ``timezones_spanned`` count, per community, the departments
    (time zones) that hold enough of its members to count (see :func:`formal_vs_informal`);
    ``cross_boundary`` lists the communities spanning enough of both. ``people`` is how many
    people were counted (by default those with at least one tie)."""

    dept_by_community: dict[int, dict[str, int]]
    location_by_community: dict[int, dict[str, int]]
    timezone_by_community: dict[int, dict[str, int]]
    nmi_departments: float
    ari_departments: float
    nmi_locations: float
    ari_locations: float
    cross_boundary: list[int]
    departments_spanned: dict[int, int]
    timezones_spanned: dict[int, int]
    community_sizes: dict[int, int]
    nmi_timezones: float = float("nan")
    ari_timezones: float = float("nan")
    people: int = 0


@dataclass(frozen=True, slots=True)
class Silo:
    """Tie strength between groups a and b (a == b: within a) against a configuration model.

    ``ratio`` is observed / expected (nan when nothing is expected), ``z`` a Poisson-like
    score ``(observed − expected) / sqrt(expected · w̄₂)`` with ``w̄₂ = Σw² / Σw`` over all
    ties (the variance of a sum of independently placed ties of the observed strengths);
    ``ties`` counts the ties and ``density`` is ties over possible pairs. Only pairs of
    different groups are ever flagged."""

    a: str | int
    b: str | int
    observed: float
    expected: float
    ratio: float
    flagged: bool
    z: float = float("nan")
    ties: int = 0
    density: float = float("nan")


def formal_vs_informal(
    net: Network,
    membership: Sequence[int],
    departments: Sequence[str],
    locations: Sequence[str],
    timezones: Sequence[str],
    *,
    min_departments: int = 3,
    min_timezones: int = 3,
    min_members: int = 2,
    min_share: float = 0.10,
    include_isolated: bool = False,
) -> FormalReport:
    """Tabulate and compare the communities ``membership`` with the formal attributes.

    A department (time zone) counts towards a community's span when it holds at least
    ``min_members`` of the community's members **or** at least ``min_share`` of them, so
    that one stray member does not make a large community "span" a department, while a
    small community (under ``min_members / min_share`` people) may count single members.
    A community is cross-boundary when it spans at least ``min_departments`` departments
    and ``min_timezones`` time zones.

    People without ties are left out (``include_isolated=False``): community detection
    puts each of them alone, which says nothing about the organisation and would inflate
    the agreement scores. NMI uses scikit-learn's arithmetic-mean normalisation.

    Example::

        >>> from kith.analysis.graph import Network
        >>> e = np.zeros(0, dtype=np.int64)
        >>> net = Network(np.arange(4), np.array([0, 2]), np.array([1, 3]), np.ones(2),
        ...               e, e, np.zeros(0))
        >>> r = formal_vs_informal(net, [0, 0, 1, 1], ["a", "a", "b", "b"], ["x"] * 4, ["z"] * 4)
        >>> r.nmi_departments, r.dept_by_community
        (1.0, {0: {'a': 2}, 1: {'b': 2}})
    """
    n = net.n
    columns = {"membership": membership, "departments": departments}
    columns |= {"locations": locations, "timezones": timezones}
    for name, values in columns.items():
        if len(values) != n:
            raise ValueError(f"{name} must give one value per node ({n}), got {len(values)}")
    keep = np.ones(n, dtype=bool) if include_isolated else net.degree() > 0
    people = np.flatnonzero(keep).tolist()
    comm = [int(membership[i]) for i in people]
    dept = [str(departments[i]) for i in people]
    loc = [str(locations[i]) for i in people]
    zone = [str(timezones[i]) for i in people]

    dept_table, loc_table, zone_table = _table(comm, dept), _table(comm, loc), _table(comm, zone)
    sizes = dict(sorted(Counter(comm).items()))
    dept_span = {c: _spanned(row, sizes[c], min_members, min_share) for c, row in dept_table.items()}
    zone_span = {c: _spanned(row, sizes[c], min_members, min_share) for c, row in zone_table.items()}
    cross = [c for c in sizes if dept_span[c] >= min_departments and zone_span[c] >= min_timezones]
    nmi_d, ari_d = _agreement(comm, dept)
    nmi_l, ari_l = _agreement(comm, loc)
    nmi_z, ari_z = _agreement(comm, zone)
    return FormalReport(
        dept_by_community=dept_table,
        location_by_community=loc_table,
        timezone_by_community=zone_table,
        nmi_departments=nmi_d,
        ari_departments=ari_d,
        nmi_locations=nmi_l,
        ari_locations=ari_l,
        cross_boundary=cross,
        departments_spanned=dept_span,
        timezones_spanned=zone_span,
        community_sizes=sizes,
        nmi_timezones=nmi_z,
        ari_timezones=ari_z,
        people=len(people),
    )


def silos(
    net: Network,
    groups: Sequence[str] | Sequence[int],
    *,
    min_expected: float = 10.0,
    ratio_below: float = 0.25,
) -> list[Silo]:
    """Observed against expected tie strength for every group and pair of groups.

    Under the weighted configuration model (ties placed at random, each person keeping
    their total strength s_i), the expected strength between groups g ≠ h is
    ``S_g·S_h / (2W)`` and within g ``S_g² / (4W)``, where ``S_g = Σ_{i∈g} s_i`` and W is
    the total tie strength. A pair is flagged when ``expected ≥ min_expected`` (in units of
    tie strength: with the default graph parameters a tie weighs at least 1, so about ten
    ties) and ``observed / expected < ratio_below``.

    Returns one row per group (within, never flagged) and one per pair that has ties or
    enough expected strength to be judged, ordered by group; the other pairs (nothing seen,
    too little expected) are left out, so that many tiny groups do not make the answer
    quadratic.

    Example: two departments that never talk are flagged::

        >>> from kith.analysis.graph import Network
        >>> e = np.zeros(0, dtype=np.int64)
        >>> u, v = np.triu_indices(8, 1)
        >>> cut = ~((u < 4) & (v >= 4)) | ((u == 0) & (v == 4))  # one tie between the halves
        >>> net = Network(np.arange(8), u[cut], v[cut], np.ones(cut.sum()), e, e, np.zeros(0))
        >>> [(s.a, s.b, s.flagged) for s in silos(net, list("aaaabbbb"), min_expected=1)]
        [('a', 'a', False), ('a', 'b', True), ('b', 'b', False)]
    """
    values = np.asarray(groups)
    if values.shape != (net.n,):
        raise ValueError(f"groups must give one value per node ({net.n}), got {values.shape}")
    ids, group = np.unique(values, return_inverse=True)
    group = group.reshape(net.n).astype(np.int64)
    size = ids.size
    members = np.bincount(group, minlength=size)
    total = np.bincount(group, net.node_strength(), minlength=size).astype(np.float64)
    weight = float(net.strength.sum())

    ga, gb = group[net.u], group[net.v]
    key = np.minimum(ga, gb) * size + np.maximum(ga, gb)
    seen, inverse = np.unique(key, return_inverse=True)
    observed = np.bincount(inverse, net.strength, minlength=seen.size)
    ties = np.bincount(inverse, minlength=seen.size)
    within = np.arange(size) * (size + 1)
    pairs = np.union1d(np.union1d(seen, within), _expected_pairs(total, weight, min_expected))
    a, b = pairs // size, pairs % size
    obs = _lookup(seen, observed, pairs)
    tie_count = _lookup(seen, ties, pairs).astype(np.int64)

    expected = _expected(total[a], total[b], a == b, weight)
    spread = float((net.strength**2).sum()) / weight if weight > 0 else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, obs / expected, np.nan)
        z = np.where(expected > 0, (obs - expected) / np.sqrt(expected * spread), np.nan)
        possible = np.where(a == b, members[a] * (members[a] - 1) / 2, members[a] * members[b])
        density = np.where(possible > 0, tie_count / possible, np.nan)
    flagged = (a != b) & (expected >= min_expected) & (ratio < ratio_below)
    labels = ids.tolist()
    return [
        Silo(
            labels[i],
            labels[j],
            float(o),
            float(e),
            float(r),
            bool(f),
            float(s),
            int(t),
            float(d),
        )
        for i, j, o, e, r, f, s, t, d in zip(
            a.tolist(),
            b.tolist(),
            obs.tolist(),
            expected.tolist(),
            ratio.tolist(),
            flagged.tolist(),
            z.tolist(),
            tie_count.tolist(),
            density.tolist(),
            strict=True,
        )
    ]


def _lookup(keys: IntArray, values: npt.NDArray[Any], wanted: IntArray) -> FloatArray:
    """``values`` at each of ``wanted`` in the sorted ``keys``, 0 where absent."""
    if keys.size == 0:
        return np.zeros(wanted.size)
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return np.where(keys[at] == wanted, values[at], 0).astype(np.float64)


def _expected(s_a: FloatArray, s_b: FloatArray, same: npt.NDArray[np.bool_], weight: float) -> FloatArray:
    if weight <= 0:
        return np.zeros(s_a.size)
    return np.where(same, s_a * s_b / (4 * weight), s_a * s_b / (2 * weight))


def _expected_pairs(total: FloatArray, weight: float, min_expected: float) -> IntArray:
    """Keys a·G + b (a < b) of the pairs with ``S_a·S_b / 2W ≥ min_expected``.

    There are at most ``W / min_expected`` of them (the expectations sum to at most W), so
    they are enumerated from the groups sorted by strength rather than from all pairs."""
    size = total.size
    if weight <= 0:
        return np.zeros(0, dtype=np.int64)
    if min_expected <= 0:
        a, b = np.triu_indices(size, 1)
        return (a * size + b).astype(np.int64)
    order = np.argsort(-total, kind="stable")
    ranked = total[order]
    with np.errstate(divide="ignore"):
        need = np.where(total > 0, 2 * weight * min_expected / total, np.inf)
    # how many groups (by rank) reach each group's need
    count = np.searchsorted(-ranked, -need, side="right")
    rows = np.repeat(np.arange(size), count)
    starts = np.repeat(np.cumsum(count) - count, count)
    partners = order[np.arange(rows.size) - starts]
    keep = rows != partners
    lo, hi = np.minimum(rows, partners)[keep], np.maximum(rows, partners)[keep]
    return np.unique(lo * size + hi).astype(np.int64)


def _table(community: list[int], attribute: list[str]) -> dict[int, dict[str, int]]:
    counts = Counter(zip(community, attribute, strict=True))
    table: dict[int, dict[str, int]] = {}
    for (c, value), count in sorted(counts.items()):
        table.setdefault(c, {})[value] = count
    return table


def _spanned(row: dict[str, int], size: int, min_members: int, min_share: float) -> int:
    return sum(1 for count in row.values() if count >= min_members or count >= min_share * size)


def _agreement(labels_a: list[int], labels_b: list[str]) -> tuple[float, float]:
    if not labels_a:
        return float("nan"), float("nan")
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # slow import

    nmi = float(normalized_mutual_info_score(labels_b, labels_a))
    ari = float(adjusted_rand_score(labels_b, labels_a))
    return nmi, ari
