"""Community detection (kith.analysis.communities): real computations on real graphs.

LFR graphs come from networkit's generator (a test extra), single-threaded and seeded.
"""

from __future__ import annotations

import doctest
from functools import cache

import networkit as nk
import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi

from kith.analysis import communities
from kith.analysis.communities import Detection, coarsen, detect

Edges = np.ndarray


@cache
def lfr(n: int, mu: float, low: int, high: int, seed: int) -> tuple[Edges, np.ndarray]:
    """An LFR graph (mean degree 20, max 50, exponents 2 and 1) and its planted partition."""
    nk.setNumberOfThreads(1)
    for attempt in range(100):
        nk.setSeed(seed * 1000 + attempt, False)
        gen = nk.generators.LFRGenerator(n)
        gen.generatePowerlawDegreeSequence(20, 50, -2)
        gen.generatePowerlawCommunitySizeSequence(low, high, -1)
        gen.setMu(mu)
        try:
            graph = gen.generate()
        except RuntimeError:  # sequences that cannot be realised: draw again
            continue
        edges = np.array(list(graph.iterEdges()), dtype=np.int64)
        return edges, np.array(gen.getPartition().getVector())
    raise AssertionError("no realisable LFR graph")


def blocks(sizes: list[int], p: np.ndarray, seed: int) -> tuple[int, Edges, np.ndarray]:
    """A stochastic block model: ``p[a, b]`` is the chance of an edge between blocks a, b."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    i, j = np.triu_indices(len(labels), 1)
    keep = np.random.default_rng(seed).random(len(i)) < p[labels[i], labels[j]]
    return len(labels), np.column_stack([i[keep], j[keep]]), labels


def run(n: int, edges: Edges, weights: object = None, **options: int) -> Detection:
    return detect(n, edges[:, 0], edges[:, 1], weights, **options)  # type: ignore[arg-type]


def check_shape(d: Detection, n: int) -> None:
    """The documented shape: numbering by decreasing size, stability per community in [0, 1],
    sub-communities numbered by decreasing size inside each parent."""
    members = np.array(d.membership)
    assert len(members) == n
    sizes = np.bincount(members)
    assert len(sizes) == len(d.stability)
    assert (sizes > 0).all()
    assert (np.diff(sizes) <= 0).all()
    assert all(0.0 <= s <= 1.0 for s in d.stability)
    sub = np.array(d.sub_membership)
    for c in range(len(sizes)):
        inner = np.bincount(sub[members == c])
        assert (inner > 0).all()
        assert (np.diff(inner) <= 0).all()


def assert_connected(d: Detection, n: int, edges: Edges) -> None:
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges.tolist())
    members = np.array(d.membership)
    for c in range(len(d.stability)):
        assert nx.is_connected(graph.subgraph(np.flatnonzero(members == c).tolist()))


# --- Zachary's karate club ---------------------------------------------------------------


def karate() -> tuple[Edges, list[float], np.ndarray]:
    graph = nx.karate_club_graph()
    edges = np.array(graph.edges(), dtype=np.int64)
    weights = [graph[a][b]["weight"] for a, b in graph.edges()]
    officer = np.array([graph.nodes[i]["club"] == "Officer" for i in graph])
    return edges, weights, officer


def on_wrong_side(groups: np.ndarray, officer: np.ndarray) -> int:
    """Members in a group whose majority is the other faction."""
    return sum(
        min(int((officer & (groups == g)).sum()), int((~officer & (groups == g)).sum()))
        for g in np.unique(groups)
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_karate_club_splits_into_the_two_factions_with_at_most_one_misplaced(weighted: bool) -> None:
    edges, weights, officer = karate()
    w = weights if weighted else None
    found = run(34, edges, w)
    check_shape(found, 34)
    # The top level is finer than two (four communities, as modularity finds); every one of
    # them lies inside one faction but for at most one member...
    assert len(found.stability) >= 2
    assert on_wrong_side(np.array(found.membership), officer) <= 1
    # ...and merging them into two, without looking at the factions, gives the split.
    two = np.array(coarsen(34, edges[:, 0], edges[:, 1], found.membership, 2, w))
    assert len(set(two.tolist())) == 2
    assert on_wrong_side(two, officer) <= 1


# --- LFR benchmark graphs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mu", "low", "high"), [(0.2, 10, 50), (0.4, 10, 50), (0.2, 20, 100), (0.4, 20, 100)]
)
def test_lfr_planted_communities_are_found(mu: float, low: int, high: int) -> None:
    edges, truth = lfr(1000, mu, low, high, 1)
    found = run(1000, edges, seed=0)
    check_shape(found, 1000)
    assert nmi(truth, found.membership) >= 0.95
    assert found.quality["stability"] >= 0.9


def test_different_seeds_agree_at_low_mixing() -> None:
    edges, _ = lfr(1000, 0.4, 10, 50, 2)
    results = [run(1000, edges, seed=s).membership for s in (0, 1, 2)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert nmi(results[i], results[j]) >= 0.95


def test_same_seed_same_result() -> None:
    edges, _ = lfr(1000, 0.6, 20, 100, 3)
    first = run(1000, edges, seed=5)
    again = detect(1000, edges[:, 0].tolist(), edges[:, 1].tolist(), seed=5)
    assert first == again


def test_every_community_is_connected_even_at_high_mixing() -> None:
    edges, _ = lfr(1000, 0.7, 10, 50, 4)
    found = run(1000, edges, seed=1)
    check_shape(found, 1000)
    assert_connected(found, 1000, edges)


# --- Input handling ----------------------------------------------------------------------


def test_isolated_nodes_are_singletons() -> None:
    edges = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3], [2, 3]])
    found = run(9, edges)
    check_shape(found, 9)
    members = found.membership
    assert members[0] == members[1] == members[2] != members[3] == members[4] == members[5]
    assert sorted(members[6:]) == [2, 3, 4]  # three singletons, after the two triangles
    assert found.stability[2:] == [1.0, 1.0, 1.0]


def test_graph_without_edges_and_empty_graph() -> None:
    alone = detect(4, [], [])
    assert alone.membership == [0, 1, 2, 3]
    assert alone.stability == [1.0] * 4
    empty = detect(0, [], [])
    assert empty.membership == empty.stability == empty.sub_membership == []


def test_weights_decide_where_structure_is_only_in_the_weights() -> None:
    # Every pair of 40 people talks, but far more within four teams of 10.
    n = 40
    i, j = np.triu_indices(n, 1)
    team = np.arange(n) // 10
    weights = np.where(team[i] == team[j], 10.0, 1.0)
    edges = np.column_stack([i, j])
    unweighted = run(n, edges)
    weighted = run(n, edges, weights)
    assert len(unweighted.stability) == 1
    assert nmi(team, weighted.membership) == pytest.approx(1.0)
    assert weighted.stability == [1.0] * 4


def test_repeated_and_reversed_edges_add_up() -> None:
    edges, weights, _ = karate()
    doubled = np.vstack([edges, edges[:, ::-1]])
    assert run(34, doubled) == run(34, edges, [2.0] * len(edges))
    assert run(34, doubled, weights * 2) == run(34, edges, [2 * w for w in weights])


@pytest.mark.parametrize(
    ("n", "sources", "targets", "weights", "message"),
    [
        (3, [0, -1], [1, 2], None, r"0\.\.n-1.*sources\[1\] is -1"),
        (3, [0, 1], [1, 3], None, r"0\.\.n-1 \(n=3\).*targets\[1\] is 3"),
        (3, [0, 1], [1], None, "same length; got 2 and 1"),
        (3, [0, 1], [1, 2], [1.0], "one value per edge; got 1 weights for 2 edges"),
        (3, [0, 1], [1, 2], [1.0, -2.0], r"finite and non-negative; weights\[1\]"),
        (3, [0, 1], [1, 2], [1.0, float("nan")], "finite and non-negative"),
        (3, [0, 1.5], [1, 2], None, "integer node ids"),
        (-1, [], [], None, "non-negative integer"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    n: int, sources: list[float], targets: list[int], weights: list[float] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        detect(n, sources, targets, weights)  # type: ignore[arg-type]


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        detect(2, [0], [1], seed=-1)
    with pytest.raises(ValueError, match="split_above must be a positive integer"):
        detect(2, [0], [1], split_above=0)
    with pytest.raises(ValueError, match="runs must be an integer of at least 2"):
        detect(2, [0], [1], runs=1)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        coarsen(2, [0], [1], [0, 1], 0)
    with pytest.raises(ValueError, match="one non-negative integer per node"):
        coarsen(2, [0], [1], [0], 1)


# --- Second level ------------------------------------------------------------------------


def test_second_level_splits_a_big_community_with_real_inner_structure() -> None:
    # A big community of 400 made of four teams of 100, next to eight communities of 100.
    k = 12
    p = np.full((k, k), 0.002)
    p[:4, :4] = 0.03
    p[np.arange(4), np.arange(4)] = 0.15
    p[np.arange(4, k), np.arange(4, k)] = 0.2
    n, edges, labels = blocks([100] * k, p, seed=1)
    found = run(n, edges, split_above=150)
    check_shape(found, n)
    members, sub = np.array(found.membership), np.array(found.sub_membership)
    assert np.bincount(members)[0] == 400
    assert nmi(np.where(labels < 4, 0, labels), members) == pytest.approx(1.0)
    assert nmi(labels[members == 0], sub[members == 0]) >= 0.95
    assert (sub[members != 0] == 0).all()
    # With split_above 400 nothing is large enough to split.
    assert set(run(n, edges, split_above=400).sub_membership) == {0}


def test_second_level_leaves_a_random_big_community_whole() -> None:
    # 400 people who all talk at random with one another: any split would be noise.
    p = np.array([[0.05, 0.001], [0.001, 0.2]])
    n, edges, labels = blocks([400, 100], p, seed=2)
    found = run(n, edges)
    members = np.array(found.membership)
    assert nmi(labels, members) == pytest.approx(1.0)
    assert set(found.sub_membership) == {0}


# --- Documentation -----------------------------------------------------------------------


def test_docstring_examples_run() -> None:
    failed, attempted = doctest.testmod(communities)
    assert attempted >= 2
    assert failed == 0
