"""Matching communities across runs: stable ids and what became of each."""

from __future__ import annotations

import pytest

from kith.analysis.evolution import jaccard, match


def test_a_community_that_stays_keeps_its_id() -> None:
    evo = match({7: set(range(10))}, [set(range(10))], next_id=100)
    assert evo.ids == [7]
    assert evo.kind_of(7) == "continued"


def test_grown_shrunk_new_and_dissolved() -> None:
    previous = {1: set(range(10)), 2: set(range(100, 110)), 3: set(range(200, 205))}
    current = [set(range(12)), set(range(100, 108)), set(range(300, 306))]
    evo = match(previous, current, next_id=50)
    assert evo.ids == [1, 2, 50]
    assert [c.kind for c in evo.changes] == ["grown", "shrunk", "new", "dissolved"]
    assert evo.changes[-1].community_id == 3


def test_a_split_keeps_the_id_on_the_larger_part() -> None:
    evo = match({4: set(range(20))}, [set(range(8)), set(range(8, 20))], next_id=9)
    assert evo.ids == [9, 4]
    assert [c.kind for c in evo.changes] == ["split", "split"]
    assert all(c.previous_ids == (4,) for c in evo.changes)


def test_a_merge_keeps_the_id_of_the_closest_earlier_community() -> None:
    evo = match({1: set(range(6)), 2: set(range(6, 20))}, [set(range(20))], next_id=3)
    assert evo.ids == [2]
    assert evo.changes[0].kind == "merged"
    assert evo.changes[0].previous_ids == (1, 2)


def test_below_the_threshold_is_not_a_match() -> None:
    # 3 shared of 17 people: Jaccard 0.18 < 0.3
    evo = match({1: set(range(10))}, [set(range(7, 17))], next_id=5)
    assert evo.ids == [5]
    assert [c.kind for c in evo.changes] == ["new", "dissolved"]
    assert jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="threshold"):
        match({}, [], next_id=1, threshold=0)
