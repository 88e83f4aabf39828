"""Formal against informal structure: tables, NMI/ARI, cross-boundary communities, silos."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from tests.test_roles import managers, network

from kith.analysis.formal import formal_vs_informal, silos
from kith.analysis.graph import Network


def chain(n: int) -> Network:
    """Everyone tied to the next, so that nobody is isolated."""
    return network([(i, i + 1) for i in range(n - 1)], n)


# --- tables, agreement, cross-boundary ---------------------------------------------


def test_nmi_and_ari_on_a_tiny_example_worked_by_hand() -> None:
    membership = [0, 0, 1, 1, 1]
    departments = ["a", "a", "a", "b", "b"]
    report = formal_vs_informal(chain(5), membership, departments, ["x"] * 5, ["UTC"] * 5)
    # joint p: (0,a) 2/5, (1,a) 1/5, (1,b) 2/5; both marginals (2/5, 3/5)
    mi = 0.4 * np.log(0.4 / 0.24) + 0.2 * np.log(0.2 / 0.36) + 0.4 * np.log(0.4 / 0.24)
    entropy = -(0.4 * np.log(0.4) + 0.6 * np.log(0.6))
    assert report.nmi_departments == pytest.approx(mi / entropy)  # 0.4325
    # pairs together: both 2, in a cell 2, expected 4·4/10, max 4
    assert report.ari_departments == pytest.approx((2 - 1.6) / (4 - 1.6))  # 1/6
    assert report.nmi_departments == pytest.approx(normalized_mutual_info_score(departments, membership))
    assert report.ari_departments == pytest.approx(adjusted_rand_score(departments, membership))
    assert report.dept_by_community == {0: {"a": 2}, 1: {"a": 1, "b": 2}}
    assert report.community_sizes == {0: 2, 1: 3}


def test_locations_and_time_zones_are_tabulated_and_scored() -> None:
    membership = [0, 0, 0, 1, 1, 1]
    locations = ["Oslo", "Oslo", "Oslo", "Lima", "Lima", "Lima"]
    zones = ["Europe/Oslo"] * 3 + ["America/Lima"] * 2 + ["Europe/Oslo"]
    report = formal_vs_informal(chain(6), membership, ["d"] * 6, locations, zones)
    assert report.location_by_community == {0: {"Oslo": 3}, 1: {"Lima": 3}}
    assert report.timezone_by_community[1] == {"America/Lima": 2, "Europe/Oslo": 1}
    assert report.nmi_locations == pytest.approx(1.0)
    assert report.ari_locations == pytest.approx(1.0)
    assert report.nmi_departments == pytest.approx(0.0)


def test_isolated_people_are_left_out_unless_asked() -> None:
    net = network([(0, 1), (1, 2)], 4)  # node 3 has no tie
    args = (net, [0, 0, 0, 9], ["a", "a", "a", "b"], ["x"] * 4, ["UTC"] * 4)
    report = formal_vs_informal(*args)
    assert report.people == 3
    assert 9 not in report.dept_by_community
    everyone = formal_vs_informal(*args, include_isolated=True)
    assert everyone.people == 4
    assert everyone.dept_by_community[9] == {"b": 1}
    assert everyone.nmi_departments == pytest.approx(1.0)


def test_cross_boundary_needs_three_departments_and_three_zones_that_count() -> None:
    spread = (["a", "b", "c"] * 2, ["Asia/Tokyo", "Europe/Paris", "America/Chicago"] * 2)
    one_zone = (["a", "b", "c"] * 2, ["Europe/Paris"] * 6)
    # 20 members: 10 in a, 9 in b and one stray in c (1 member, 5%: does not count)
    stray = (
        ["a"] * 10 + ["b"] * 9 + ["c"],
        ["Asia/Tokyo", "Europe/Paris", "America/Chicago"] * 6 + ["UTC"] * 2,
    )
    # 5 members in 3 departments: one member is 20% of a small community, so it counts
    small = (["a", "a", "b", "c", "c"], ["Asia/Tokyo", "Asia/Tokyo", "UTC", "Europe/Paris", "UTC"])
    groups = [spread, one_zone, stray, small]
    membership = [c for c, (d, _) in enumerate(groups) for _ in d]
    departments = [x for d, _ in groups for x in d]
    zones = [x for _, z in groups for x in z]
    n = len(membership)
    report = formal_vs_informal(chain(n), membership, departments, ["x"] * n, zones)
    assert report.departments_spanned == {0: 3, 1: 3, 2: 2, 3: 3}
    assert report.timezones_spanned == {0: 3, 1: 1, 2: 4, 3: 3}
    assert report.cross_boundary == [0, 3]
    strict = formal_vs_informal(chain(n), membership, departments, ["x"] * n, zones, min_share=0.5)
    assert strict.cross_boundary == [0]


def test_wrong_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="timezones"):
        formal_vs_informal(chain(3), [0, 0, 0], ["a"] * 3, ["x"] * 3, ["UTC"] * 2)
    with pytest.raises(ValueError, match="groups"):
        silos(chain(3), ["a", "b"])


# --- silos --------------------------------------------------------------------------


def planted(seed: int = 1) -> tuple[Network, list[str]]:
    """Four departments of 25; ties at random with p = 0.3 inside and 0.08 across, except
    that Sales and Legal never talk."""
    rng = np.random.default_rng(seed)
    departments = [d for d in ("Sales", "Legal", "Ops", "R&D") for _ in range(25)]
    u, v = np.triu_indices(100, 1)
    same = (u // 25) == (v // 25)
    p = np.where(same, 0.3, 0.08)
    p[(u // 25 == 0) & (v // 25 == 1)] = 0.0
    keep = rng.random(u.size) < p
    strength = rng.integers(1, 4, keep.sum()).astype(float).tolist()
    return network(np.column_stack([u[keep], v[keep]]), 100, strength), departments


def test_two_departments_that_never_talk_are_a_silo() -> None:
    net, departments = planted()
    rows = {(s.a, s.b): s for s in silos(net, departments)}
    assert len(rows) == 10  # 4 within, 6 between
    silo = rows[("Legal", "Sales")]
    assert silo.observed == 0.0
    assert silo.ties == 0
    assert silo.expected > 100
    assert silo.ratio == 0.0
    assert silo.z < -5
    assert silo.flagged
    mixed = [s for (a, b), s in rows.items() if a != b and {a, b} != {"Legal", "Sales"}]
    assert all(not s.flagged and s.ratio > 0.25 for s in mixed)
    assert all(not rows[(d, d)].flagged and rows[(d, d)].ratio > 1 for d in set(departments))
    assert 0.2 < rows[("Ops", "Ops")].density < 0.4  # within-group density, p = 0.3
    assert 0.04 < rows[("Ops", "R&D")].density < 0.12


def test_expected_follows_the_configuration_model() -> None:
    net, departments = planted()
    strength = net.node_strength()
    total = float(net.strength.sum())
    group = np.asarray(departments)
    s_ops = strength[group == "Ops"].sum()
    s_rnd = strength[group == "R&D"].sum()
    rows = {(s.a, s.b): s for s in silos(net, departments)}
    assert rows[("Ops", "R&D")].expected == pytest.approx(s_ops * s_rnd / (2 * total))
    assert rows[("Ops", "Ops")].expected == pytest.approx(s_ops**2 / (4 * total))
    assert sum(s.expected for s in rows.values()) == pytest.approx(total)
    assert sum(s.observed for s in rows.values()) == pytest.approx(total)


def test_small_groups_that_never_talk_are_not_flagged_by_noise() -> None:
    # two big groups, plus two pairs that happen not to talk to each other
    edges = [(a, b) for a in range(20) for b in range(a + 1, 20)]
    edges += [(20, 0), (21, 1), (22, 2), (23, 3), (20, 21), (22, 23)]
    groups = [0] * 10 + [1] * 10 + [2, 2, 3, 3]
    rows = {(s.a, s.b): s for s in silos(network(edges, 24), groups)}
    assert (2, 3) not in rows  # nothing seen, too little expected (0.04) to judge
    assert not any(s.flagged for s in rows.values())
    loose = {(s.a, s.b): s for s in silos(network(edges, 24), groups, min_expected=0.01)}
    assert loose[(2, 3)].flagged
    assert isinstance(loose[(2, 3)].a, int)


def test_pairs_with_nothing_seen_or_expected_are_left_out() -> None:
    net = network([(0, 1), (2, 3)], 6)  # 4 and 5 are isolated, alone in their groups
    rows = [(s.a, s.b) for s in silos(net, ["a", "a", "b", "b", "c", "d"], min_expected=2)]
    assert rows == [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d")]  # a–b: 1 expected


@pytest.mark.parametrize("min_expected", [0.0, 0.5, 3.0, 50.0])
def test_rows_are_the_groups_the_pairs_seen_and_the_pairs_expected(min_expected: float) -> None:
    rng = np.random.default_rng(11)
    n = 400
    groups = rng.integers(0, 60, n)  # a few groups left empty of ties below
    u, v = rng.integers(0, 300, (2, 600))
    keep = u != v
    ties = np.unique(np.sort(np.column_stack([u[keep], v[keep]]), axis=1), axis=0)
    net = network(ties, n, (rng.pareto(1.5, len(ties)) + 1).tolist())
    rows = {(s.a, s.b): s for s in silos(net, groups.tolist(), min_expected=min_expected)}

    ids = np.unique(groups)
    total = np.array([net.node_strength()[groups == g].sum() for g in ids])
    weight = float(net.strength.sum())
    seen = {tuple(sorted(pair)) for pair in zip(groups[net.u], groups[net.v], strict=True)}
    wanted = {(int(g), int(g)) for g in ids} | {(int(a), int(b)) for a, b in seen}
    for i, j in zip(*np.triu_indices(ids.size, 1), strict=True):
        if total[i] * total[j] / (2 * weight) >= min_expected:
            wanted.add((int(ids[i]), int(ids[j])))
    assert set(rows) == wanted
    assert list(rows) == sorted(rows)


# --- Krackhardt's managers ----------------------------------------------------------


def test_krackhardt_advice_communities_do_not_follow_departments() -> None:
    data = managers()
    levels = [str(level) for level in data.level]
    report = formal_vs_informal(data.advice, data.communities, data.department, levels, ["local"] * 21)
    assert report.community_sizes == {0: 8, 1: 13}
    assert report.nmi_departments < 0.2
    assert abs(report.ari_departments) < 0.05
    assert report.departments_spanned == {0: 3, 1: 3}  # both advice communities span 3
    assert report.cross_boundary == []  # one site, one time zone


def test_krackhardt_no_department_pair_is_an_advice_silo() -> None:
    data = managers()
    rows = silos(data.advice, data.department)
    between = [s for s in rows if s.a != s.b and s.expected >= 10]
    assert len(between) == 6
    assert not any(s.flagged for s in rows)
    assert min(s.ratio for s in between) > 0.5
    assert max(abs(s.z) for s in rows) < 2  # every pair within two standard scores
