"""Full-text search over posts: SQLite FTS5 or PostgreSQL ``tsvector``, ranked, with snippets.

Snippets are built from the Markdown source, which is untrusted: the engine marks matches
with control characters that cannot occur in stored text, the snippet is HTML-escaped, and
only then are the marks turned into ``<mark>`` elements.

PostgreSQL's ``ts_headline`` reads its document as HTML and drops whatever looks like a tag,
so a post about ``<details>`` would lose the word from its snippet. It is given the source
with ``&``, ``<`` and ``>`` escaped (kept whole as entity tokens) and its result unescaped
back to the exact text before the one escaping that counts.
"""

from __future__ import annotations

import html
import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kith.domain.models import SearchHit
from kith.storage.types import UTCDateTime

START, STOP = "\x02", "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)

_SQLITE = sa.text(
    """
    SELECT p.id, p.topic_id, p.space_id, t.title, p.author_id, p.created_at,
           snippet(posts_fts, 0, :start, :stop, '…', 16) AS snippet, posts_fts.rank AS rank
    FROM posts_fts
    JOIN posts p ON p.id = posts_fts.rowid
    JOIN topics t ON t.id = p.topic_id
    WHERE posts_fts MATCH :query
      AND p.deleted_at IS NULL
      AND p.space_id IN (
          SELECT s.id FROM spaces s
          WHERE s.visibility = 'public'
             OR s.id IN (SELECT m.space_id FROM space_members m WHERE m.person_id = :viewer))
      AND (:space_id IS NULL OR p.space_id = :space_id)
    ORDER BY posts_fts.rank, p.id DESC
    LIMIT :limit OFFSET :offset
    """
).columns(created_at=UTCDateTime)

_POSTGRES = sa.text(
    """
    SELECT p.id, p.topic_id, p.space_id, t.title, p.author_id, p.created_at,
           ts_headline('english',
                       replace(replace(replace(p.source, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                       q,
                       'StartSel=' || :start || ', StopSel=' || :stop
                       || ', MaxFragments=2, MaxWords=24, MinWords=8, FragmentDelimiter=…')
               AS snippet,
           -ts_rank_cd(p.search_vector, q) AS rank
    FROM posts p
    JOIN topics t ON t.id = p.topic_id,
         to_tsquery('english', :query) AS q
    WHERE p.search_vector @@ q
      AND p.deleted_at IS NULL
      AND p.space_id IN (
          SELECT s.id FROM spaces s
          WHERE s.visibility = 'public'
             OR s.id IN (SELECT m.space_id FROM space_members m WHERE m.person_id = :viewer))
      AND (CAST(:space_id AS INTEGER) IS NULL OR p.space_id = CAST(:space_id AS INTEGER))
    ORDER BY rank, p.id DESC
    LIMIT :limit OFFSET :offset
    """
).columns(created_at=UTCDateTime)


def fts5_query(text: str) -> str | None:
    """Turn free text into a safe FTS5 query: every word must match, the last as a prefix.

    Both engines get the same query, so that they find the same posts (PostgreSQL also
    drops English stop words, which SQLite keeps).

    >>> fts5_query('tariff "Japan" AND rules*')
    '"tariff" "japan" "and" "rules"*'
    """
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(text: str) -> str | None:
    """The same query for PostgreSQL: every word must match, the last as a prefix.

    Only word characters reach ``to_tsquery``, so its operators cannot be injected.

    >>> tsquery('tariff "Japan" AND rules*')
    "'tariff' & 'japan' & 'and' & 'rules':*"
    """
    words = [f"'{w.lower()}'" for w in _WORD.findall(text)]
    if not words:
        return None
    words[-1] += ":*"
    return " & ".join(words)


def highlight(snippet: str) -> str:
    """Escape a raw snippet and turn the engine's match marks into ``<mark>`` elements."""
    escaped = html.escape(snippet, quote=True)
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")


def search_posts(
    conn: Connection,
    text: str,
    *,
    viewer_id: int,
    space_id: int | None,
    limit: int,
    offset: int,
) -> list[SearchHit]:
    """Posts the viewer may read that match ``text``, best first."""
    params: dict[str, object] = {
        "viewer": viewer_id,
        "space_id": space_id,
        "limit": limit,
        "offset": offset,
        "start": START,
        "stop": STOP,
    }
    if conn.dialect.name == "sqlite":
        query = fts5_query(text)
        if query is None:
            return []
        rows = conn.execute(_SQLITE, {**params, "query": query})
    else:
        query = tsquery(text)
        if query is None:
            return []
        rows = conn.execute(_POSTGRES, {**params, "query": query})
    unescape = conn.dialect.name != "sqlite"
    return [
        SearchHit(
            post_id=row[0],
            topic_id=row[1],
            space_id=row[2],
            topic_title=row[3],
            author_id=row[4],
            created_at=row[5],
            snippet_html=highlight(html.unescape(row[6] or "") if unescape else row[6] or ""),
            rank=float(row[7]),
        )
        for row in rows
    ]
