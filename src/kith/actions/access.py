"""``access_*``: fetch a thing with the viewer's right to it checked.

Everything inside a space the viewer may not read answers NotFound, exactly as if it did
not exist: a private space leaks not even its existence through ids.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from kith.domain import permissions
from kith.domain.errors import NotFound
from kith.domain.models import Membership, Post, Space, Topic, Viewer
from kith.storage import posts, spaces, topics


def access_space(conn: Connection, viewer: Viewer, space_id: int) -> tuple[Space, Membership | None]:
    """The space and the viewer's membership, if the viewer may know it exists."""
    found = spaces.get_with_membership(conn, space_id, viewer.id)
    if found is None or not permissions.can_see_space(viewer, *found):
        raise NotFound(f"no space with id {space_id}")
    return found


def access_readable_space(conn: Connection, viewer: Viewer, space_id: int) -> tuple[Space, Membership | None]:
    """The space, if the viewer may read its content."""
    found = spaces.get_with_membership(conn, space_id, viewer.id)
    if found is None or not permissions.can_read_space(viewer, *found):
        raise NotFound(f"no space with id {space_id}")
    return found


def access_topic(conn: Connection, viewer: Viewer, topic_id: int) -> tuple[Topic, Space, Membership | None]:
    """The topic, its space and the viewer's membership, if the viewer may read it."""
    found = topics.get_in_space(conn, topic_id, viewer.id)
    if found is None or not permissions.can_read_space(viewer, found[1], found[2]):
        raise NotFound(f"no topic with id {topic_id}")
    return found


def access_post(conn: Connection, viewer: Viewer, post_id: int) -> tuple[Post, Space, Membership | None]:
    """The post, its space and the viewer's membership, if the viewer may read it."""
    post = posts.get(conn, post_id)
    if post is None:
        raise NotFound(f"no post with id {post_id}")
    try:
        space, membership = access_readable_space(conn, viewer, post.space_id)
    except NotFound:
        raise NotFound(f"no post with id {post_id}") from None
    return post, space, membership
