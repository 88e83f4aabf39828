"""Who each person talks to, by kind of tie, and fast weighted sampling from those lists.

A :class:`Contacts` table is a sparse row per person (or per community): the people they
address and how often, relative to each other. :meth:`Contacts.sample` draws one contact
for each of a million rows in one ``searchsorted``, because every row's cumulative weights
are laid end to end, row ``i`` occupying the interval ``(i, i + 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Contacts:
    """Rows of weighted contacts: ``indices[indptr[i]:indptr[i + 1]]`` are row ``i``'s."""

    indptr: Ints
    indices: Ints
    cumulative: Floats  # row i's normalised running sum, shifted by i

    @classmethod
    def from_pairs(cls, rows: int, row: Ints, col: Ints, weight: Floats) -> Contacts:
        """A table from (row, contact, weight) triples; duplicates add up when sampled."""
        keep = weight > 0
        row, col, weight = row[keep], col[keep], weight[keep]
        order = np.lexsort((col, row))
        row, col, weight = row[order], col[order], weight[order]
        counts = np.bincount(row, minlength=rows)
        indptr = np.zeros(rows + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        running = np.cumsum(weight)
        before = np.concatenate([[0.0], running])[indptr[:-1]]
        totals = np.bincount(row, weights=weight, minlength=rows)
        within = (running - before[row]) / totals[row]
        within[indptr[1:][counts > 0] - 1] = 1.0  # exact ends, whatever the rounding
        return cls(indptr, col.astype(np.int64), row + within)

    @property
    def size(self) -> Ints:
        """The number of contacts in each row."""
        return np.diff(self.indptr)

    def sample(self, rng: np.random.Generator, rows: Ints) -> Ints:
        """One contact per entry of ``rows`` (each row must have contacts), by weight."""
        spot = np.searchsorted(self.cumulative, rows + rng.random(rows.size), side="right")
        spot = np.clip(spot, self.indptr[rows], self.indptr[rows + 1] - 1)
        return self.indices[spot]


def community_ties(
    rng: np.random.Generator,
    members: list[Ints],
    popularity: Floats,
    office: Ints,
    typical: float = 12.0,
) -> tuple[Ints, Ints, Floats]:
    """Each member's contacts inside their community, as (person, contact, weight) triples.

    A member knows about ``typical`` others (fewer in a small community, everyone in one of
    a dozen), chosen by the others' popularity, so every community has its hubs and its
    periphery; colleagues in the same office talk twice as much.
    """
    rows, cols, weights = [], [], []
    for group in members:
        size = group.size
        if size < 2:
            continue
        pull = popularity[group][None, :] * rng.lognormal(0.0, 0.5, (size, size))
        pull *= np.where(office[group][:, None] == office[group][None, :], 2.0, 1.0)
        np.fill_diagonal(pull, 0.0)
        known = np.clip(np.round(rng.lognormal(np.log(typical), 0.4, size)), 4, size - 1).astype(np.int64)
        # The ``known[i]`` strongest pulls, perturbed (Gumbel keys), stay; the rest are dropped.
        keys = np.log(pull + 1e-300) + rng.gumbel(size=(size, size))
        np.fill_diagonal(keys, -np.inf)
        rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
        kept = rank < known[:, None]
        i, j = np.nonzero(kept)
        rows.append(group[i])
        cols.append(group[j])
        weights.append(pull[i, j])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
