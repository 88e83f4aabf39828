"""How communities change from one analysis to the next, with ids that stay put.

The communities of a new run are matched to the previous run's by the Jaccard index of their
members, ``|A ∩ B| / |A ∪ B|``; pairs at or above ``threshold`` (0.3, after Greene, Doyle &
Cunningham 2010, "Tracking the evolution of communities in dynamic social networks") are
matches. Then each new community is labelled:

- ``new``: no match;
- ``merged``: matches two or more earlier communities;
- ``split``: one of two or more matches of one earlier community;
- ``grown`` / ``shrunk``: one match both ways, at least 10 % larger / smaller;
- ``continued``: one match both ways, about the same size;

and each earlier community with no match is ``dissolved``.

Ids: matched pairs are taken in order of decreasing Jaccard (ties: larger overlap, then the
lower earlier id); a new community inherits the id of its best match unless a better match
took it first, so in a split the largest successor keeps the id and in a merge the id of
the earlier community that overlaps most survives. Everything else gets a fresh id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

THRESHOLD = 0.3
SIZE_CHANGE = 0.10


@dataclass(frozen=True)
class Change:
    """What became of a community: ``kind``, its id now, the earlier ids it came from."""

    kind: str
    community_id: int
    previous_ids: tuple[int, ...]
    jaccard: float | None = None


@dataclass(frozen=True)
class Evolution:
    ids: list[int]  # the stable id of each current community, in the given order
    changes: list[Change]  # one per current community, then one per dissolved earlier one

    def kind_of(self, community_id: int) -> str:
        for change in self.changes:
            if change.community_id == community_id and change.kind != "dissolved":
                return change.kind
        raise KeyError(community_id)


def jaccard(a: Set[int], b: Set[int]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def match(
    previous: Mapping[int, Set[int]],
    current: Sequence[Set[int]],
    *,
    next_id: int,
    threshold: float = THRESHOLD,
) -> Evolution:
    """Match ``current`` communities (member sets) to ``previous`` ones (id → members);
    fresh ids start at ``next_id``."""
    if not 0 < threshold <= 1:
        raise ValueError("threshold must be in (0, 1]")
    owner: dict[int, int] = {}
    for pid, members in previous.items():
        for person in members:
            owner[person] = pid
    pairs: list[tuple[float, int, int, int]] = []  # (jaccard, overlap, previous id, current index)
    for index, members in enumerate(current):
        overlaps: dict[int, int] = defaultdict(int)
        for person in members:
            if person in owner:
                overlaps[owner[person]] += 1
        for pid, overlap in overlaps.items():
            score = overlap / (len(members) + len(previous[pid]) - overlap)
            if score >= threshold:
                pairs.append((score, overlap, pid, index))

    predecessors: dict[int, list[int]] = defaultdict(list)
    successors: dict[int, list[int]] = defaultdict(list)
    best: dict[int, float] = {}
    for score, _overlap, pid, index in pairs:
        predecessors[index].append(pid)
        successors[pid].append(index)
        best[index] = max(best.get(index, 0.0), score)

    ids: list[int | None] = [None] * len(current)
    taken: set[int] = set()
    for _score, _overlap, pid, index in sorted(pairs, key=lambda p: (-p[0], -p[1], p[2], p[3])):
        if ids[index] is None and pid not in taken:
            ids[index] = pid
            taken.add(pid)
    fresh = next_id
    for index in range(len(current)):
        if ids[index] is None:
            ids[index] = fresh
            fresh += 1
    final = [i for i in ids if i is not None]

    changes: list[Change] = []
    for index, members in enumerate(current):
        preds = sorted(predecessors.get(index, ()))
        if not preds:
            kind = "new"
        elif len(preds) > 1:
            kind = "merged"
        elif len(successors[preds[0]]) > 1:
            kind = "split"
        else:
            before = len(previous[preds[0]])
            if len(members) >= before * (1 + SIZE_CHANGE):
                kind = "grown"
            elif len(members) <= before * (1 - SIZE_CHANGE):
                kind = "shrunk"
            else:
                kind = "continued"
        changes.append(Change(kind, final[index], tuple(preds), best.get(index)))
    for pid in sorted(previous):
        if pid not in successors:
            changes.append(Change("dissolved", pid, (pid,)))
    return Evolution(final, changes)
