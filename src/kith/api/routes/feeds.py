"""Atom feeds: the personal one at a secret address, one per public space; and the
personal feed's token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from kith.actions import feeds
from kith.api.deps import AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import FeedTokenOut

# Under /api/v1.
router = APIRouter(tags=["feeds"], responses=ERROR_RESPONSES)
# At the root: feed readers follow these addresses without signing in.
public = APIRouter(tags=["feeds"], responses={404: ERROR_RESPONSES[404]})

_ATOM: dict[int | str, dict[str, Any]] = {
    200: {"content": {feeds.MEDIA_TYPE: {}}, "description": "An Atom 1.0 feed."}
}


@router.post("/me/feed-token")
def rotate_feed_token(app: AppDep, viewer: ViewerDep) -> FeedTokenOut:
    """Make a new secret address for my personal feed (the old one stops working).

    The address is shown this once; only a hash of its secret is kept."""
    return FeedTokenOut(url=feeds.do_rotate_feed_token(app, viewer))


@public.get("/feeds/person/{token}.atom", response_class=Response, responses=_ATOM)
def person_feed(app: AppDep, token: str) -> Response:
    """My notifications and catch-up of the last 7 days, in spaces I may read now."""
    body = feeds.person_feed(app, token)
    headers = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
    return Response(body, media_type=feeds.MEDIA_TYPE, headers=headers)


@public.get("/feeds/spaces/{slug}.atom", response_class=Response, responses=_ATOM)
def space_feed(app: AppDep, slug: str) -> Response:
    """The recent posts of a public space (a private space has no feed)."""
    return Response(feeds.space_feed(app, slug), media_type=feeds.MEDIA_TYPE)
