"""Who may do what. Pure rules over domain values; actions fetch the values and ask here.

The principle for private spaces: to a non-member they do not exist. Every read path answers
"not found", never "forbidden", so that not even the existence of a private space, topic or
post leaks. Administrators manage people and memberships; they see that a private space
exists (to manage it) but read its content only as members.
"""

from __future__ import annotations

from kith.domain.models import Event, Membership, Post, Space, SpaceKind, Topic, Viewer


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


SPACE_METADATA_EVENTS = frozenset({"space.created", "space.updated", "space.archived"})
MEMBERSHIP_EVENTS = frozenset({"member.added", "member.updated", "member.removed"})


def space_event_is_public(event: Event) -> bool:
    """Whether a space's own event (``space.*``) is about a space that is public, or was
    public until this very event (``previous_visibility``): then everyone saw the space
    before it or sees it after it, and must hear of it, if only to drop it from view."""
    payload = event.payload
    return payload.get("visibility") == "public" or payload.get("previous_visibility") == "public"


def can_receive_event(
    person_id: int, member_of: frozenset[int] | set[int], event: Event, *, is_admin: bool = False
) -> bool:
    """May the stream of ``person_id``, a member of the spaces ``member_of`` (an
    administrator with ``is_admin``), carry ``event``?

    The stream carries what the REST API shows the reader, for the objects a client holds:

    - a personal event goes to its one person; an organisation-wide one (no space) to all;
    - a space's own events (``space.*``: its name, settings and member count) follow
      :func:`can_see_space`: members, everyone for a public space (and for the event that
      turns a public space private, so that non-members learn it is gone), and
      administrators for every space;
    - everything else of a space (members, topics, posts, reactions, presence) goes to its
      members only. Like a non-member of a public space, an administrator who is no member
      of a private space may fetch its member list but does not hold it, and reads none of
      its content (:func:`can_read_space`);
    - a change to one's own membership goes to oneself, so that ``member.removed`` reaches
      the person removed, as the last thing they hear of a private space.
    """
    if event.audience_id is not None:
        return event.audience_id == person_id
    if event.space_id is None or event.space_id in member_of:
        return True
    if event.type in SPACE_METADATA_EVENTS:
        return is_admin or space_event_is_public(event)
    if event.type in MEMBERSHIP_EVENTS:
        return event.payload.get("person_id") == person_id
    return False
