"""Similar texts: TF-IDF vectors compared by cosine similarity.

Kith shows the earlier topics and facts most like a question being written, and question
routing credits the people who answered the earlier topics most like a new one. Both ask
this module, which knows nothing of topics or spaces: plain texts in, positions and scores
out.

Method (Manning, Raghavan and Schütze, *Introduction to Information Retrieval*, 2008,
ch. 6): each document becomes a vector of its word unigrams and bigrams (lower-cased,
accents stripped, English stop words removed) weighted by sublinear term frequency
``1 + log(tf)`` times smoothed inverse document frequency ``1 + log((1 + n) / (1 + df))``,
normalised to unit length; a query is vectorised with the same vocabulary and weights, and
its cosine similarity with a document is the dot product of the two unit vectors, in
[0, 1]. The weights are learnt from the corpus the index is built on, so an index built
on the spaces one person may read learns nothing from the others.

Optionally (``char_ngrams=True``), character 3- to 5-grams within word boundaries are
added, which matches "invoice" with "invoicing"; on the labelled set in
``tests/data/similar_questions.json`` it did not rank better (``docs/faster.md``), so it
is off by default.

>>> index = build_index(["Okta single sign-on", "Invoices in yen", "SSO with Azure AD"])
>>> [position for position, _ in rank(index, "single sign-on through Okta", limit=2)]
[0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    # scikit-learn takes about a second to import; the server and the CLI import this
    # module, so it is imported on the first index built, not at start-up
    from sklearn.feature_extraction.text import TfidfVectorizer


@dataclass(frozen=True, slots=True)
class SimilarIndex:
    """Unit-length TF-IDF rows of a corpus and the vectorisers that made them.

    ``matrix`` is None when the corpus has no indexable word (empty, or stop words only).
    """

    size: int
    vectorizers: tuple[TfidfVectorizer, ...]
    matrix: sp.csr_matrix | None


def _vectorizers(char_ngrams: bool) -> tuple[TfidfVectorizer, ...]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(
        lowercase=True,
        strip_accents="unicode",
        stop_words="english",
        ngram_range=(1, 2),
        sublinear_tf=True,
        dtype=np.float64,
    )
    if not char_ngrams:
        return (words,)
    chars = TfidfVectorizer(
        lowercase=True,
        strip_accents="unicode",
        analyzer="char_wb",
        ngram_range=(3, 5),
        sublinear_tf=True,
        dtype=np.float64,
    )
    return (words, chars)


def build_index(texts: Sequence[str], *, char_ngrams: bool = False) -> SimilarIndex:
    """Fit TF-IDF weights on ``texts`` and keep each text's unit vector.

    Parameters: ``texts``, one string per document (its position is its key in
    :func:`rank`); ``char_ngrams`` adds character n-grams to the word n-grams.
    Returns a :class:`SimilarIndex`.
    """
    if not texts:
        return SimilarIndex(0, (), None)
    fitted: list[TfidfVectorizer] = []
    blocks: list[sp.csr_matrix] = []
    for vectorizer in _vectorizers(char_ngrams):
        try:
            blocks.append(vectorizer.fit_transform(texts))
        except ValueError:  # "empty vocabulary": only stop words, digits of one character...
            continue
        fitted.append(vectorizer)
    if not blocks:
        return SimilarIndex(len(texts), (), None)
    return SimilarIndex(len(texts), tuple(fitted), _unit_rows(blocks))


def _unit_rows(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    from sklearn.preprocessing import normalize

    joined = blocks[0] if len(blocks) == 1 else sp.hstack(blocks, format="csr")
    return sp.csr_matrix(normalize(joined, norm="l2", copy=False))


def similarities(index: SimilarIndex, query: str) -> np.ndarray:
    """The cosine similarity of ``query`` with every document of ``index``, by position."""
    if index.matrix is None or not query.strip():
        return np.zeros(index.size)
    vector = _unit_rows([v.transform([query]) for v in index.vectorizers])
    scores = index.matrix @ vector.T
    return np.asarray(scores.toarray()).ravel()


def rank(
    index: SimilarIndex,
    query: str,
    *,
    limit: int,
    min_score: float = 1e-9,
    among: Sequence[int] | None = None,
) -> list[tuple[int, float]]:
    """The positions of the documents most similar to ``query``, best first, with their scores.

    Only documents scoring at least ``min_score`` are returned (by default every one sharing
    a weighted term with the query), at most ``limit``; ``among`` restricts the answer to
    those positions. Ties go to the earlier position, so the order is deterministic.
    """
    scores = similarities(index, query)
    positions = np.arange(index.size) if among is None else np.asarray(sorted(set(among)), dtype=np.int64)
    if positions.size == 0 or limit <= 0:
        return []
    chosen = scores[positions]
    keep = chosen >= min_score
    positions, chosen = positions[keep], chosen[keep]
    order = np.lexsort((positions, -chosen))[:limit]
    return [(int(positions[i]), float(chosen[i])) for i in order]
