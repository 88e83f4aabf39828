"""Search over the posts a person may read."""

from __future__ import annotations

from kith.actions.access import access_readable_space
from kith.app import App
from kith.domain import validate
from kith.domain.models import SearchHit, Viewer
from kith.storage import search


def search_posts(
    app: App,
    viewer: Viewer,
    query: str,
    *,
    space_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[SearchHit]:
    """Ranked matches with highlighted snippets; private spaces only for their members."""
    text = validate.text("q", query, max_len=200)
    limit = max(1, min(limit, app.settings.page_size_max))
    offset = max(0, min(offset, 10_000))
    with app.db.read() as conn:
        if space_id is not None:
            access_readable_space(conn, viewer, space_id)
        return search.search_posts(
            conn, text, viewer_id=viewer.id, space_id=space_id, limit=limit, offset=offset
        )
