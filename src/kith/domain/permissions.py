"""Who may do what. Pure rules over domain values; actions fetch the values and ask here.

The principle for private spaces: to a non-member they do not exist. Every read path answers
"not found", never "forbidden", so that not even the existence of a private space, topic or
post leaks. Administrators manage people and memberships; they see that a private space
exists (to manage it) but read its content only as members.
"""

from __future__ import annotations

from kith.domain.models import Membership, Post, Space, SpaceKind, Topic, Viewer


def can_see_space(viewer: Viewer, space: Space, membership: Membership | None) -> bool:
    """May ``viewer`` know that ``space`` exists (name, description, members)?"""
    return space.is_public or membership is not None or viewer.is_admin


def can_read_space(viewer: Viewer, space: Space, membership: Membership | None) -> bool:
    """May ``viewer`` read the topics and posts of ``space``?"""
    return space.is_public or membership is not None


def can_manage_space(viewer: Viewer, membership: Membership | None) -> bool:
    """Owners of the space and administrators manage its settings and members."""
    return viewer.is_admin or (membership is not None and membership.is_owner)


def can_start_topic(viewer: Viewer, space: Space, membership: Membership | None) -> bool:
    """Members start topics; in an announcements space only its owners do."""
    if membership is None or space.archived:
        return False
    return space.kind is not SpaceKind.ANNOUNCEMENTS or membership.is_owner


def can_reply(viewer: Viewer, space: Space, membership: Membership | None) -> bool:
    """Members reply in every kind of space (comments on announcements included)."""
    return membership is not None and not space.archived


def can_react(viewer: Viewer, space: Space, membership: Membership | None) -> bool:
    """Anyone who may read a space that is not archived may react in it."""
    return can_read_space(viewer, space, membership) and not space.archived


def can_edit_post(viewer: Viewer, space: Space, post: Post) -> bool:
    """Only the author edits a post, and not once it is deleted or the space archived."""
    return post.author_id == viewer.id and not post.deleted and not space.archived


def can_delete_post(viewer: Viewer, space: Space, membership: Membership | None, post: Post) -> bool:
    """The author deletes their post; owners and administrators may moderate it away."""
    if post.deleted:
        return False
    return post.author_id == viewer.id or can_manage_space(viewer, membership)


def can_resolve_topic(viewer: Viewer, membership: Membership | None, topic: Topic) -> bool:
    """The topic's author, the space's owners and administrators mark it resolved."""
    return topic.author_id == viewer.id or can_manage_space(viewer, membership)


def can_accept_answer(viewer: Viewer, membership: Membership | None, topic: Topic) -> bool:
    """The asker or an owner of the space accepts an answer."""
    return topic.author_id == viewer.id or (membership is not None and membership.is_owner)


def can_join(viewer: Viewer, space: Space) -> bool:
    """Anyone joins a public space that is not archived; private ones are by invitation."""
    return space.is_public and not space.archived


def can_manage_people(viewer: Viewer) -> bool:
    return viewer.is_admin
