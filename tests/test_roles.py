"""Roles: z-score, participation, betweenness, constraint, labels, single points of failure,
collaborative overload; on textbook graphs and on Krackhardt's managers."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import igraph as ig
import networkx as nx
import numpy as np
import pytest

from kith.analysis.graph import GraphParams, Network, build
from kith.analysis.roles import CutPair, RoleThresholds, betweenness, burt_constraint, person_roles

KRACKHARDT = Path(__file__).resolve().parents[2] / "shared" / "data" / "krackhardt"
KITE = ["Andre", "Beverley", "Carol", "Diane", "Ed", "Fernando", "Garth", "Heather", "Ike", "Jane"]
NO_CONTACTS = np.zeros(0, dtype=np.int64)


def network(
    edges: list[tuple[int, int]] | np.ndarray, n: int, strength: list[float] | None = None
) -> Network:
    """A Network with nodes 0..n-1 (person id = node) and the given undirected ties."""
    pairs = np.sort(np.asarray(edges, dtype=np.int64).reshape(-1, 2), axis=1)
    s = np.ones(len(pairs)) if strength is None else np.asarray(strength, dtype=np.float64)
    return Network(np.arange(n), pairs[:, 0], pairs[:, 1], s, NO_CONTACTS, NO_CONTACTS, np.zeros(0))


def kite() -> Network:
    return network(list(nx.krackhardt_kite_graph().edges()), 10)


def by_name(values: np.ndarray) -> dict[str, float]:
    return {name: float(value) for name, value in zip(KITE, values, strict=True)}


# --- the Krackhardt kite ------------------------------------------------------------


def test_kite_betweenness_is_brandes_and_heather_is_highest() -> None:
    roles = person_roles(kite(), [0] * 10, ["x"] * 10)
    expected = nx.betweenness_centrality(nx.krackhardt_kite_graph())
    assert roles.betweenness == pytest.approx([expected[i] for i in range(10)])
    assert KITE[int(np.argmax(roles.betweenness))] == "Heather"
    assert by_name(roles.betweenness)["Heather"] == pytest.approx(14 / 36)
    assert roles.betweenness_pivots is None  # exact below sample_above


def test_kite_diane_has_the_highest_degree_and_z() -> None:
    net = kite()
    roles = person_roles(net, [0] * 10, ["x"] * 10)
    assert KITE[int(np.argmax(net.degree()))] == "Diane"
    assert KITE[int(np.argmax(roles.z))] == "Diane"
    # degrees 4 4 3 6 3 5 5 3 2 1: mean 3.6, population std sqrt(2.04)
    assert by_name(roles.z)["Diane"] == pytest.approx((6 - 3.6) / np.sqrt(2.04))


def test_kite_constraint_matches_burt_and_its_known_order() -> None:
    roles = person_roles(kite(), [0] * 10, ["x"] * 10)
    expected = nx.constraint(nx.krackhardt_kite_graph())
    assert roles.constraint == pytest.approx([expected[i] for i in range(10)])
    c = by_name(roles.constraint)
    # Heather spans the hole between the kite and its tail; Jane has one contact
    assert c["Fernando"] == pytest.approx(c["Garth"])
    assert c["Andre"] == pytest.approx(c["Beverley"])
    assert c["Carol"] == pytest.approx(c["Ed"])
    order = ["Heather", "Fernando", "Diane", "Ike", "Andre", "Carol", "Jane"]
    assert [c[name] for name in order] == sorted(c[name] for name in order)
    assert len({round(c[name], 9) for name in order}) == len(order)
    assert c["Jane"] == 1.0


def test_kite_labels_heather_broker_and_the_tail_peripheral() -> None:
    roles = person_roles(kite(), [0] * 10, ["x"] * 10)
    labels = dict(zip(KITE, roles.label, strict=True))
    assert labels["Heather"] == "broker"
    assert labels["Ike"] == labels["Jane"] == "peripheral"
    assert labels["Diane"] == "member"  # most ties, but z = 1.68 is short of a hub's 2.5
    assert roles.articulation == {0: [7, 8]}  # Heather and Ike hold the tail on
    assert roles.bridges == {0: [(7, 8), (8, 9)]}
    assert "articulation_point" in roles.flags[7]


def test_weighted_constraint_matches_networkx() -> None:
    graph = nx.gnm_random_graph(40, 150, seed=3)
    rng = np.random.default_rng(3)
    for a, b in graph.edges():
        graph[a][b]["weight"] = float(rng.integers(1, 6))
    edges = list(graph.edges())
    net = network(edges, 40, [graph[a][b]["weight"] for a, b in edges])
    expected = nx.constraint(graph, weight="weight")
    assert burt_constraint(net) == pytest.approx([expected[i] for i in range(40)])


def test_betweenness_on_inverse_strength_uses_it_as_length() -> None:
    graph = nx.gnm_random_graph(30, 80, seed=5)
    rng = np.random.default_rng(5)
    edges = list(graph.edges())
    # strengths 1, 2, 4: lengths 1, 1/2, 1/4 add up exactly, so equal paths tie exactly
    strength = (2.0 ** rng.integers(0, 3, len(edges))).tolist()
    for (a, b), s in zip(edges, strength, strict=True):
        graph[a][b]["length"] = 1 / s
    expected = nx.betweenness_centrality(graph, weight="length")
    got = betweenness(network(edges, 30, strength), path_length="inverse_strength")
    assert got == pytest.approx([expected[i] for i in range(30)])


def test_betweenness_above_the_threshold_is_a_seeded_estimate() -> None:
    graph = nx.barabasi_albert_graph(400, 3, seed=2)
    net = network(list(graph.edges()), 400)
    exact = betweenness(net)
    roles = person_roles(net, [0] * 400, ["x"] * 400, sample_above=300, pivots=200, seed=4)
    again = person_roles(net, [0] * 400, ["x"] * 400, sample_above=300, pivots=200, seed=4)
    other = betweenness(net, pivots=200, seed=5)
    assert roles.betweenness_pivots == 200
    assert np.array_equal(roles.betweenness, again.betweenness)  # reproducible
    assert not np.array_equal(roles.betweenness, other)
    assert np.corrcoef(roles.betweenness, exact)[0, 1] > 0.95
    top = np.argsort(-exact)[:10]
    assert np.abs(roles.betweenness[top] / exact[top] - 1).max() < 0.25


# --- participation and z on small graphs worked by hand -----------------------------


def test_participation_and_dept_participation_by_hand() -> None:
    # node 0: strength 3 to its own community (node 1), 1 to community 1 (node 2)
    # node 3: strength 2 to community 0, 1 to community 1 and 1 to community 2
    net = network([(0, 1), (0, 2), (3, 1), (3, 2), (3, 4)], 5, [3, 1, 2, 1, 1])
    membership = [0, 0, 1, 3, 2]
    departments = ["a", "a", "a", "b", "b"]
    roles = person_roles(net, membership, departments)
    assert roles.participation[0] == pytest.approx(1 - (0.75**2 + 0.25**2))  # 0.375
    assert roles.participation[3] == pytest.approx(1 - (0.5**2 + 0.25**2 + 0.25**2))  # 0.625
    assert roles.dept_participation[0] == 0.0  # all of node 0's ties stay in department a
    assert roles.dept_participation[3] == pytest.approx(1 - (0.75**2 + 0.25**2))
    assert roles.label[3] == "connector"  # P = 0.625 ≥ 0.62 (Guimerà & Amaral)
    assert roles.label[0] != "connector"


def test_z_score_is_within_community_strength_standardised() -> None:
    # community 0: a weighted star, within strengths 3, 1, 1, 1; community 1 is a pair
    net = network([(0, 1), (0, 2), (0, 3), (4, 5), (3, 4)], 6, [1, 1, 1, 2, 5])
    roles = person_roles(net, [0, 0, 0, 0, 1, 1], ["x"] * 6)
    std = np.sqrt((1.5**2 + 3 * 0.5**2) / 4)
    assert roles.z[0] == pytest.approx(1.5 / std)
    assert roles.z[1] == pytest.approx(-0.5 / std)
    assert roles.z[4] == roles.z[5] == 0.0  # no spread in community 1
    assert roles.within_strength.tolist() == [3, 1, 1, 1, 2, 2]
    assert roles.total_strength[3] == 6


def test_a_big_star_centre_is_a_hub_and_thresholds_are_parameters() -> None:
    net = network([(0, leaf) for leaf in range(1, 13)], 14)  # node 13 has no ties
    roles = person_roles(net, [0] * 14, ["x"] * 14)
    within = np.array([12] + [1] * 12 + [0])
    assert roles.z[0] == pytest.approx((12 - within.mean()) / within.std())  # 3.59
    assert roles.label[0] == "hub"
    assert roles.label[13] == "isolated"
    assert np.isnan(roles.constraint[13])
    assert set(roles.label[1:13]) == {"peripheral"}  # one tie each
    strict = person_roles(net, [0] * 14, ["x"] * 14, thresholds=RoleThresholds(hub_z=4.0))
    assert strict.label[0] == "broker"


# --- single points of failure -------------------------------------------------------


def star_bridge_cliques() -> Network:
    """Cliques 0-3 and 4-7 joined by the single tie 3–4; a star 8 (leaves 9, 10, 11)
    hanging from clique 0-3 by two ties, both through its centre 8."""
    edges = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    edges += [(a, b) for a in range(4, 8) for b in range(a + 1, 8)]
    edges += [(3, 4), (8, 9), (8, 10), (8, 11), (0, 8), (1, 8)]
    return network(edges, 12)


def test_articulation_points_and_bridges_within_communities() -> None:
    roles = person_roles(star_bridge_cliques(), [0] * 4 + [1] * 4 + [2] * 4, ["x"] * 12)
    assert roles.articulation == {0: [], 1: [], 2: [8]}
    assert roles.bridges == {0: [], 1: [], 2: [(8, 9), (8, 10), (8, 11)]}
    assert "articulation_point" in roles.flags[8]


def test_cut_pairs_name_the_single_tie_and_the_single_person() -> None:
    roles = person_roles(star_bridge_cliques(), [0] * 4 + [1] * 4 + [2] * 4, ["x"] * 12)
    assert roles.cut_pairs == [CutPair(0, 1, "tie", (3, 4)), CutPair(0, 2, "person", (8,))]
    for node in (3, 4, 8):
        assert "sole_link" in roles.flags[node]
    assert "sole_link" not in roles.flags[0] + roles.flags[1]


def test_community_ids_are_kept_as_given() -> None:
    roles = person_roles(star_bridge_cliques(), [7] * 4 + [-2] * 4 + [30] * 4, ["x"] * 12)
    assert roles.articulation[30] == [8]
    assert CutPair(-2, 7, "tie", (3, 4)) in roles.cut_pairs
    assert CutPair(7, 30, "person", (8,)) in roles.cut_pairs


def test_whole_graph_articulation_agrees_with_networkx_per_community() -> None:
    graph = nx.gnm_random_graph(120, 220, seed=9)
    membership = [i % 4 for i in range(120)]
    roles = person_roles(network(list(graph.edges()), 120), membership, ["x"] * 120)
    for c in range(4):
        sub = graph.subgraph([i for i in range(120) if membership[i] == c])
        assert roles.articulation[c] == sorted(nx.articulation_points(sub))
        assert roles.bridges[c] == sorted(tuple(sorted(e)) for e in nx.bridges(sub))


# --- collaborative overload ---------------------------------------------------------


def test_one_person_carrying_every_cross_tie_is_overload() -> None:
    # four cliques of ten; every tie between them goes through node 0
    edges = [(a, b) for c in range(4) for a in range(10 * c, 10 * c + 10) for b in range(a + 1, 10 * c + 10)]
    edges += [(0, 10), (0, 20), (0, 30), (0, 15)]
    net = network(edges, 40)
    roles = person_roles(net, [i // 10 for i in range(40)], ["x"] * 40)
    assert roles.overload.nodes == [0]
    assert roles.overload.share_of_people == pytest.approx(1 / 40)
    assert roles.overload.share_of_cross_strength == pytest.approx(0.5)
    assert roles.overloaded
    assert "overload" in roles.flags[0]


def test_spread_cross_ties_are_not_overload() -> None:
    edges = [(a, b) for c in range(4) for a in range(10 * c, 10 * c + 10) for b in range(a + 1, 10 * c + 10)]
    edges += [(i, (i + 10) % 40) for i in range(40)]  # everyone has two cross ties
    roles = person_roles(network(edges, 40), [i // 10 for i in range(40)], ["x"] * 40)
    nodes, share_people, share_strength = roles.overload
    assert len(nodes) == 20
    assert share_people == 0.5
    assert share_strength == pytest.approx(0.5)
    assert not roles.overloaded
    assert not any("overload" in f for f in roles.flags)


def test_wrong_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="membership"):
        person_roles(kite(), [0] * 9, ["x"] * 10)
    with pytest.raises(ValueError, match="departments"):
        person_roles(kite(), [0] * 10, ["x"] * 11)


# --- Krackhardt's high-tech managers ------------------------------------------------


@dataclass(frozen=True)
class Managers:
    """Krackhardt's 21 managers: node i is manager i + 1."""

    advice: Network  # symmetrised advice ties: 1 one way, 3 both ways
    nominations: set[tuple[int, int]]  # (asks, is asked), manager numbers
    boss: dict[int, int]  # reports-to chart, manager -> boss
    level: list[int]  # 1 = CEO, 2 = vice-president (department head), 3 = manager
    department: list[str]
    communities: list[int]  # walktrap on the advice ties (deterministic)


def _pairs(name: str) -> list[tuple[int, int]]:
    rows = (KRACKHARDT / name).read_text().split()[1:]
    return [(int(a), int(b)) for a, b, edge in (row.split(";") for row in rows) if edge == "1"]


@functools.cache
def managers() -> Managers:
    """Read ../shared/data/krackhardt; skip when absent (fail under CI=true)."""
    if not KRACKHARDT.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the Krackhardt data is missing at {KRACKHARDT}")
        pytest.skip(f"Krackhardt's managers not found at {KRACKHARDT} (../shared/data)")
    advice = _pairs("Advice.csv")
    rows = (KRACKHARDT / "Krack-High-Tec-Attributes.csv").read_text().split()[1:]
    attributes = sorted((row.replace(",", ".").split(";") for row in rows), key=lambda r: int(r[0]))
    asks, asked = np.array(advice).T
    net = build(asks, asked, np.zeros(asks.size), np.ones(asks.size), until=0.0, people=range(1, 22))
    graph = ig.Graph(n=net.n, edges=np.column_stack([net.u, net.v]).tolist())
    walktrap = graph.community_walktrap(weights=net.strength.tolist()).as_clustering()
    return Managers(
        advice=net,
        nominations=set(advice),
        boss=dict(_pairs("Reports_To.csv")),
        level=[int(row[3]) for row in attributes],
        department=[row[4] for row in attributes],
        communities=list(walktrap.membership),
    )


HEADS = [2, 14, 18, 21]  # level 2, each reporting to 7


def test_krackhardt_data_and_chart_are_read() -> None:
    data = managers()
    assert data.advice.n == 21
    assert data.advice.m == 145  # 190 nominations, 45 of them returned
    assert sorted(np.unique(data.advice.strength).tolist()) == [1.0, 3.0]
    assert [m for m in range(1, 22) if data.level[m - 1] == 1] == [7]
    assert sorted(m for m, boss in data.boss.items() if boss == 7) == HEADS
    assert GraphParams().min_strength == 1.0  # the one-way ties (1) survive the default


def test_krackhardt_the_chart_runs_along_advice() -> None:
    data = managers()
    ties = set(zip((data.advice.u + 1).tolist(), (data.advice.v + 1).tolist(), strict=True))
    assert all(tuple(sorted(pair)) in ties for pair in data.boss.items())  # all 20
    assert sum(pair in data.nominations for pair in data.boss.items()) == 19  # ask their boss
    assert sum((b, m) in data.nominations for m, b in data.boss.items()) == 10  # boss asks back


def test_krackhardt_the_ceo_and_department_heads_are_never_peripheral() -> None:
    data = managers()
    formal = person_roles(data.advice, [int(d) for d in data.department], data.department)
    informal = person_roles(data.advice, data.communities, data.department)
    for roles in (formal, informal):
        for manager in [7, *HEADS]:
            assert roles.label[manager - 1] != "peripheral", manager
    assert informal.label[21 - 1] == "hub"  # the most sought-after in its advice community


def test_krackhardt_advice_brokers_outside_management() -> None:
    data = managers()
    roles = person_roles(data.advice, data.communities, data.department)
    brokers = {i + 1 for i in range(21) if "broker" in [roles.label[i], *roles.flags[i]]}
    assert brokers == {2, 9, 15}
    not_managers = {m for m in brokers if data.level[m - 1] == 3}
    assert not_managers == {9, 15}
    assert {data.boss[m] for m in not_managers} == {14}
    # 15 has the highest betweenness of all; their head, 14, the lowest of the five managers
    assert int(np.argmax(roles.betweenness)) + 1 == 15
    managers_by_betweenness = sorted([7, *HEADS], key=lambda m: roles.betweenness[m - 1])
    assert managers_by_betweenness[0] == 14


def test_krackhardt_advice_crosses_departments() -> None:
    data = managers()
    roles = person_roles(data.advice, [int(d) for d in data.department], data.department)
    assert roles.dept_participation.min() > 0.6  # everyone: most advice leaves the department
    # so all are connectors (P ≥ 0.62) but 13, the newest (3 months), at P = 0.611
    assert [m for m in range(1, 22) if roles.label[m - 1] != "connector"] == [13]
    # inside department 1, managers 12 and 17 exchange advice only with their head, 21
    assert roles.articulation[1] == [21 - 1]
    assert roles.bridges[1] == [(12 - 1, 21 - 1), (17 - 1, 21 - 1)]
