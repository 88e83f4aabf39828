"""Similar questions: the earlier topics and facts most like a question being written.

The corpus is what the viewer may read (public spaces and their own private ones; or one
of them with ``space_id``): each topic's title, first post and accepted answer, and each
fact's title and body. It is ranked by TF-IDF cosine similarity
(:mod:`kith.analysis.similar`), with the weights learnt from that corpus alone, so nothing
of a space the viewer may not read reaches the answer, not even through the weights.

**The cache.** Building an index costs a read of the corpus and a fit; each process keeps
the last few indexes (:data:`CACHE_SIZE`) per App, keyed by the set of spaces they cover,
each with the id of the last event it has accounted for. On each request the index is
reused when no event since that id may have changed the corpus (topics started, accepted
or resolved, posts edited or deleted, facts created, edited or archived:
:data:`kith.storage.similar.CORPUS_EVENTS`); otherwise it is rebuilt. Replies do not
invalidate it: they change no indexed text until one is accepted (``topic.updated``).
Because every such change appends an event in its own transaction (rule 2), an index never
answers from a corpus older than the event log the request read. Spaces' names and
readability are read afresh on every request.

Reads only; publishes nothing.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from kith.actions.access import access_readable_space
from kith.analysis import similar as ranking
from kith.app import App
from kith.domain import markup, validate
from kith.domain.models import SimilarDoc, SimilarItem, Viewer
from kith.storage import events, spaces
from kith.storage import similar as store

# A GET query: long enough for a title and the start of a question (URLs have limits).
QUERY_MAX = 1_000
LIMIT_MAX = 20
# Below this cosine similarity a document shares only incidental words with the query
# (measured on tests/data/similar_questions.json, see docs/faster.md).
MIN_SCORE = 0.05
CACHE_SIZE = 8
EXCERPT_MAX = 200


@dataclass
class Corpus:
    """The documents of a set of spaces, their index, and the last event accounted for."""

    docs: tuple[SimilarDoc, ...]
    index: ranking.SimilarIndex
    checked_up_to: int


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[frozenset[int], Corpus] = OrderedDict()


# One cache per App (a test builds several Apps in one process), dropped with its App.
_CACHES: dict[int, _Cache] = {}
_CACHES_LOCK = threading.Lock()


def _cache_of(app: App) -> _Cache:
    key = id(app)
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = _Cache()
            weakref.finalize(app, _CACHES.pop, key, None)
        return cache


def corpus(app: App, conn: Connection, space_ids: Collection[int]) -> Corpus:
    """The indexed corpus of ``space_ids``, from the cache when nothing changed it."""
    key = frozenset(space_ids)
    cache = _cache_of(app)
    last = events.last_id(conn)
    with cache.lock:
        found = cache.entries.get(key)
        if found is not None:
            cache.entries.move_to_end(key)
    if found is not None and (
        found.checked_up_to >= last or not store.changed_since(conn, found.checked_up_to)
    ):
        found.checked_up_to = max(found.checked_up_to, last)
        return found
    # Read after ``last``: the corpus holds at least everything up to that event.
    docs = (*store.topic_docs(conn, key), *store.fact_docs(conn, key))
    built = Corpus(docs, ranking.build_index([d.text for d in docs]), last)
    with cache.lock:
        cache.entries[key] = built
        cache.entries.move_to_end(key)
        while len(cache.entries) > CACHE_SIZE:
            cache.entries.popitem(last=False)
    return built


def list_similar(
    app: App,
    viewer: Viewer,
    text: str,
    *,
    space_id: int | None = None,
    limit: int = 5,
) -> list[SimilarItem]:
    """The earlier topics and facts most similar to ``text`` in the spaces ``viewer`` may read
    (only ``space_id``, if given: a space they may read), best first, at most ``limit``."""
    query = validate.text("q", text, max_len=QUERY_MAX, multiline=True)
    limit = max(1, min(limit, LIMIT_MAX))
    with app.db.read() as conn:
        if space_id is not None:
            access_readable_space(conn, viewer, space_id)
            space_ids = {space_id}
        else:
            space_ids = store.readable_ids(conn, spaces.readable_space_ids(viewer.id))
        found = corpus(app, conn, space_ids)
        ranked = ranking.rank(found.index, query, limit=limit, min_score=MIN_SCORE)
        names = store.space_names(conn, {found.docs[i].space_id for i, _ in ranked})
    return [
        SimilarItem(
            doc=found.docs[i],
            score=score,
            space_name=names.get(found.docs[i].space_id, ""),
            excerpt=markup.plain_text(found.docs[i].excerpt_source, EXCERPT_MAX),
        )
        for i, score in ranked
    ]


def similar_topics(
    app: App, conn: Connection, space_id: int, text: str, *, exclude_topic_id: int, limit: int
) -> list[tuple[SimilarDoc, float]]:
    """The earlier question topics of one space most similar to ``text`` (for routing)."""
    found = corpus(app, conn, {space_id})
    among = [
        i
        for i, doc in enumerate(found.docs)
        if doc.kind == "topic" and doc.is_question and doc.id != exclude_topic_id
    ]
    ranked = ranking.rank(found.index, text, limit=limit, min_score=MIN_SCORE, among=among)
    return [(found.docs[i], score) for i, score in ranked]
