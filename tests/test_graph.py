"""Tie strength: decay, reciprocity, threshold, isolated people, directed contacts."""

from __future__ import annotations

import numpy as np
import pytest

from kith.analysis.graph import DAY, GraphParams, build

NOW = 1_000 * DAY


def _tie(net, a: int, b: int) -> float:  # type: ignore[no-untyped-def]
    i, j = sorted((net.index[a], net.index[b]))
    found = np.flatnonzero((net.u == i) & (net.v == j))
    return float(net.strength[found[0]]) if found.size else 0.0


def test_decay_halves_a_tie_every_half_life() -> None:
    params = GraphParams(half_life_days=30, min_strength=0)
    net = build([1, 3], [2, 4], [NOW, NOW - 30 * DAY], [1.0, 1.0], until=NOW, params=params)
    assert _tie(net, 1, 2) == pytest.approx(1.0)
    assert _tie(net, 3, 4) == pytest.approx(0.5)


def test_an_exchange_counts_more_than_one_way_mail() -> None:
    params = GraphParams(reciprocity=1.0, min_strength=0)
    one_way = build([1, 1], [2, 2], [NOW, NOW], [1.0, 1.0], until=NOW, params=params)
    exchange = build([1, 2], [2, 1], [NOW, NOW], [1.0, 1.0], until=NOW, params=params)
    assert _tie(one_way, 1, 2) == pytest.approx(2.0)
    assert _tie(exchange, 1, 2) == pytest.approx(3.0)


def test_weak_ties_self_ties_and_the_future_are_left_out_but_people_stay() -> None:
    net = build(
        [1, 1, 3, 5],
        [2, 1, 4, 6],
        [NOW, NOW, NOW, NOW + DAY],
        [1.0, 5.0, 0.04, 1.0],
        until=NOW,
        params=GraphParams(min_strength=0.5),
        people=[7],
    )
    assert net.m == 1
    assert _tie(net, 1, 2) == pytest.approx(1.0)
    assert 7 in net.index  # an isolated person is a node
    assert 5 not in net.index  # only seen after the window
    assert net.degree()[net.index[7]] == 0
    assert net.src.size == 2  # contacts keep weak ties (3→4) for flow, in time order
    assert np.all(np.diff(net.at) >= 0)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        build([1], [2, 3], [NOW], [1.0], until=NOW)
    with pytest.raises(ValueError, match="half_life_days"):
        GraphParams(half_life_days=0)
