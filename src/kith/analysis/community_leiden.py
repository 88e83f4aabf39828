"""Leiden at a resolution estimated by maximum likelihood, over an ensemble of seeds.

Three published pieces, put together in :func:`consensus_fit`:

1. **The resolution, from the data** (Newman 2016): maximising modularity at resolution
   ``gamma`` is maximum-likelihood inference of a degree-corrected planted partition, and
   the likelihood's own parameters give ``gamma`` back (:func:`planted_resolution`). So
   alternate: find the partition at ``gamma``, re-estimate ``gamma`` from it, until it
   settles (:func:`ml_path`). Each step starts from the previous partition.
2. **Leiden** (Traag, Waltman & van Eck 2019, igraph's C implementation) optimises each
   step; its communities are connected.
3. **An ensemble of seeds, and a consensus** (Lancichinetti & Fortunato 2012; the
   reweighting of Poulin & Théberge 2019, "ECG"): the whole path is run from several seeds;
   every edge is reweighted by how often the runs put its ends together, and the path is run
   once more on the reweighted graph, starting from the most central run.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import igraph as ig
import numpy as np

from kith.analysis.community_graph import Labels, WeightedGraph, co_membership, planted_resolution

# igraph draws from one process-wide generator; a detection sets it, runs, and puts the
# default back, under this lock, so that two threads cannot disturb each other's seeds.
_IGRAPH_RNG = threading.Lock()

MAX_STEPS = 12  # of the resolution path; at high mixing it creeps upwards and is cut here
TOLERANCE = 0.01  # relative change of the resolution at which the path has settled
FLOOR = 0.05  # ECG's minimum weight: an edge no run kept inside keeps 5 % of its weight
LARGE_EDGES = 200_000  # from here on the ensemble is cheaper (see consensus_fit)
LARGE_STEPS = 1  # steps of the consensus path on a large graph
COARSE_START = 0.125  # the second start of the resolution path (see consensus_fit)
MARGIN = 0.02  # how much more the coarse runs must agree to be chosen over Newman's start


@dataclass(frozen=True, slots=True)
class Fit:
    """One partition with the resolution it was found at."""

    membership: Labels
    resolution: float
    steps: int
    settled: bool


@dataclass(frozen=True, slots=True)
class Consensus:
    """The consensus partition, the runs it came from and how much they agreed."""

    fit: Fit
    members: list[Labels]
    agreement: float  # mean pairwise NMI between the runs
    central: int  # index of the most central run
    settled: bool  # whether every run's resolution path settled before its step limit
    start: float  # the resolution the chosen runs started from
    rival: float | None  # agreement of the runs from the other start, if they found structure


def derive_seed(*key: int) -> int:
    """A 32-bit seed for one step of one run, derived from the caller's seed."""
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def leiden(
    g: WeightedGraph, resolution: float, seed: int, initial: Labels | None = None, iterations: int = 2
) -> Labels:
    """One Leiden optimisation of modularity at ``resolution`` (igraph), seeded."""
    start = None if initial is None else initial.tolist()
    weights = g.weight.tolist()
    with _IGRAPH_RNG:
        ig.set_random_number_generator(random.Random(seed))
        try:
            found = g.graph.community_leiden(
                objective_function="modularity",
                weights=weights,
                resolution=resolution,
                initial_membership=start,
                n_iterations=iterations,
            )
        finally:
            ig.set_random_number_generator(random)
    return np.asarray(found.membership, dtype=np.int64)


def ml_path(
    g: WeightedGraph,
    key: Sequence[int],
    *,
    start: float = 1.0,
    initial: Labels | None = None,
    max_steps: int = MAX_STEPS,
    iterations: int = 2,
) -> Fit:
    """Alternate Leiden at ``gamma`` and Newman's estimate of ``gamma`` until it settles.

    Stops when the estimate moves by less than ``TOLERANCE`` (relative), when the partition
    shows no assortative structure (then the partition at the current ``gamma`` stands), or
    after ``max_steps``. Returns the last partition and the resolution it was found at.
    """
    gamma = start
    membership = initial
    for step in range(1, max_steps + 1):
        membership = leiden(g, gamma, derive_seed(*key, step), membership, iterations)
        estimate = planted_resolution(g, membership)
        if estimate is None or abs(estimate - gamma) <= TOLERANCE * gamma:
            return Fit(membership, gamma, step, True)
        if step < max_steps:
            gamma = estimate
    assert membership is not None
    return Fit(membership, gamma, max_steps, False)


def consensus_fit(g: WeightedGraph, seed: int, runs: int) -> Consensus:
    """The ensemble and its consensus (see the module docstring).

    The resolution path can settle at more than one fixed point. Newman's start,
    ``gamma = 1``, can be too fine for a graph of a few large groups with random insides: it
    cuts them, and the cuts then justify a higher resolution (a group of 400 people who talk
    at random comes out as a dozen pieces). So, up to ``LARGE_EDGES`` edges, paths are also
    started from ``COARSE_START``, where they climb to the lowest fixed point instead; when
    that is a real partition (not one group) and its runs agree more than the others, by
    more than ``MARGIN``, it is chosen: the answer-free criterion is reproducibility.

    Up to ``LARGE_EDGES`` edges every run is a whole resolution path with its own seed. On
    larger graphs that would cost ``runs`` times a path, so the first run is a path and the
    others are single Leiden runs at the resolution it found (from singletons, their own
    seeds), each with one Leiden iteration instead of two, and the consensus path takes at
    most ``LARGE_STEPS`` steps.
    """
    large = g.m > LARGE_EDGES
    fits = _ensemble(g, seed, runs, 1.0, large)
    agreement, central = _centre([f.membership for f in fits])
    start, rival = 1.0, None
    if not large:
        probe = ml_path(g, (seed, 3, 0), start=COARSE_START)
        if planted_resolution(g, probe.membership) is not None:
            coarse = [probe, *_ensemble(g, seed + 1, runs - 1, COARSE_START, large)]
            coarse_agreement, coarse_central = _centre([f.membership for f in coarse])
            if coarse_agreement > agreement + MARGIN:
                rival, start = agreement, COARSE_START
                fits, agreement, central = coarse, coarse_agreement, coarse_central
            else:
                rival = coarse_agreement
    members = [f.membership for f in fits]
    together = co_membership(g, members)
    reweighted = g.reweighted(g.weight * (FLOOR + (1.0 - FLOOR) * together))
    final = ml_path(
        reweighted,
        (seed, 2),
        start=fits[central].resolution,
        initial=members[central],
        max_steps=LARGE_STEPS if large else MAX_STEPS,
        iterations=1 if large else 2,
    )
    settled = all(f.settled for f in fits)
    return Consensus(final, members, agreement, central, settled, start, rival)


def _ensemble(g: WeightedGraph, seed: int, runs: int, start: float, large: bool) -> list[Fit]:
    """``runs`` seeded runs from resolution ``start`` (cheaper ones on a large graph)."""
    tag = 1 if start == 1.0 else 3
    if not large:
        return [ml_path(g, (seed, tag, r), start=start) for r in range(runs)]
    first = ml_path(g, (seed, tag, 0), start=start, iterations=1)
    fits = [first]
    for r in range(1, runs):
        labels = leiden(g, first.resolution, derive_seed(seed, tag, r), None, 1)
        fits.append(Fit(labels, first.resolution, 1, first.settled))
    return fits


def _centre(members: list[Labels]) -> tuple[float, int]:
    """Mean pairwise NMI of the runs, and the run with the highest mean NMI to the others."""
    k = len(members)
    if k < 2:
        return 1.0, 0
    # imported here: scikit-learn takes a second to import, and every `kith` command
    # (and every `kith serve` worker) imports this module
    from sklearn.metrics import normalized_mutual_info_score

    nmi = np.ones((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            nmi[i, j] = nmi[j, i] = normalized_mutual_info_score(members[i], members[j])
    mean_to_others = (nmi.sum(axis=1) - 1.0) / (k - 1)
    return float(mean_to_others.mean()), int(np.argmax(mean_to_others))
