"""Spaces and their members.

Published events: ``space.created``, ``space.updated``, ``space.archived``,
``member.added``, ``member.updated``, ``member.removed``; each carries the space id, so the
stream shows a private space's events to its members only, and its ``space.*`` events also
to the administrators, who see that it exists.
A space's member count is seen by everyone who sees the space (everyone for a public space,
administrators for every space) but its member events reach its members only, so a change
of that count also publishes ``space.updated``.
A ``space.updated`` that changes the visibility says so in ``previous_visibility``: the event
that turns a public space private reaches everyone who saw it, so that they drop it, and
carries nothing of the space that they had not seen (other changes made with it follow in a
second ``space.updated``, for those who still see the space).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from kith.actions.access import access_space
from kith.actions.events import emit
from kith.app import App
from kith.domain import permissions, validate, views
from kith.domain.errors import Conflict, Forbidden, NotFound, invalid
from kith.domain.models import (
    MemberRole,
    Membership,
    NotificationLevel,
    Space,
    SpaceKind,
    Viewer,
    Visibility,
)
from kith.storage import people, receipts, spaces
from kith.storage.database import Tx


@dataclass(frozen=True, slots=True)
class SpaceView:
    """A space as one viewer sees it."""

    space: Space
    membership: Membership | None
    member_count: int
    unread_count: int | None = None
    last_read_post_id: int | None = None


def list_spaces(app: App, viewer: Viewer, *, include_archived: bool = False) -> list[SpaceView]:
    """Public spaces and the viewer's own; administrators see private ones too."""
    with app.db.read() as conn:
        found = spaces.list_visible(
            conn, viewer.id, see_private=viewer.is_admin, include_archived=include_archived
        )
        counts = spaces.member_counts(conn, [s.id for s, _ in found])
        unread = receipts.unread_counts(conn, viewer.id)
        pointers = receipts.read_pointers(conn, viewer.id)
    return [
        SpaceView(
            s,
            m,
            counts.get(s.id, 0),
            unread_count=unread.get(s.id, 0) if m else None,
            last_read_post_id=pointers.get(s.id, 0) if m else None,
        )
        for s, m in found
    ]


def get_space(app: App, viewer: Viewer, space_id: int) -> SpaceView:
    with app.db.read() as conn:
        space, membership = access_space(conn, viewer, space_id)
        count = spaces.member_counts(conn, [space_id]).get(space_id, 0)
    return SpaceView(space, membership, count)


def get_space_by_slug(app: App, viewer: Viewer, slug: str) -> SpaceView:
    with app.db.read() as conn:
        found = spaces.get_by_slug(conn, slug)
    if found is None:
        raise NotFound(f"no space {slug!r}")
    try:
        return get_space(app, viewer, found.id)
    except NotFound:
        raise NotFound(f"no space {slug!r}") from None


def check_create_space(
    app: App,
    viewer: Viewer,
    *,
    name: str,
    slug: str | None = None,
    description: str = "",
    kind: str = SpaceKind.COMMUNITY.value,
    visibility: str = Visibility.PUBLIC.value,
    seen_by_visible: bool = False,
) -> SpaceView:
    """Anyone signed in creates a space and becomes its first owner."""
    clean_name = validate.text("name", name, max_len=120)
    clean_slug = validate.slug("slug", slug) if slug else validate.slugify(clean_name)
    if not clean_slug:
        raise invalid("slug", "cannot be made from this name; give a slug")
    values = {
        "name": clean_name,
        "slug": clean_slug,
        "description": validate.optional_text("description", description, max_len=2000, multiline=True),
        "kind": validate.choice("kind", SpaceKind, kind).value,
        "visibility": validate.choice("visibility", Visibility, visibility).value,
        "seen_by_visible": seen_by_visible,
        "created_by": viewer.id,
        "created_at": app.clock(),
    }
    with app.db.transaction() as tx:
        if spaces.slug_exists(tx.conn, clean_slug):
            raise Conflict(f"the slug {clean_slug!r} is taken", {"slug": "is taken"})
        space = spaces.insert(tx.conn, values)
        owner = spaces.upsert_member(
            tx.conn, space.id, viewer.id, role=MemberRole.OWNER, level=None, now=app.clock()
        )
        emit(
            app,
            tx,
            "space.created",
            space_id=space.id,
            actor_id=viewer.id,
            payload=views.space(space, member_count=1),
        )
        emit(
            app,
            tx,
            "member.added",
            space_id=space.id,
            actor_id=viewer.id,
            payload=views.membership(owner),
        )
    return SpaceView(space, owner, 1)


def check_update_space(
    app: App,
    viewer: Viewer,
    space_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
    kind: str | None = None,
    seen_by_visible: bool | None = None,
) -> SpaceView:
    """Owners and administrators rename, describe and change a space's visibility."""
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = validate.text("name", name, max_len=120)
    if description is not None:
        values["description"] = validate.optional_text(
            "description", description, max_len=2000, multiline=True
        )
    if visibility is not None:
        values["visibility"] = validate.choice("visibility", Visibility, visibility).value
    if seen_by_visible is not None:
        values["seen_by_visible"] = seen_by_visible
    if kind is not None:
        values["kind"] = validate.choice("kind", SpaceKind, kind).value
    with app.db.transaction() as tx:
        space, membership = _managed(tx.conn, viewer, space_id)
        count = spaces.member_counts(tx.conn, [space_id]).get(space_id, 0)
        previous = space.visibility.value
        turns = values.get("visibility", previous) != previous
        steps = [values] if values else []
        if turns and values["visibility"] == Visibility.PRIVATE.value and len(values) > 1:
            # Non-members hear of the change to private (to drop the space), but not of
            # what else changed with it: that follows for those who still see the space.
            steps = [{"visibility": values.pop("visibility")}, values]
        for step in steps:
            space = spaces.update(tx.conn, space_id, step)
            payload = views.space(space, member_count=count)
            if turns and "visibility" in step:
                payload["previous_visibility"] = previous
            emit(app, tx, "space.updated", space_id=space_id, actor_id=viewer.id, payload=payload)
    return SpaceView(space, membership, count)


def do_archive_space(app: App, viewer: Viewer, space_id: int, *, archived: bool = True) -> SpaceView:
    """Archive (read-only from now on) or unarchive a space."""
    with app.db.transaction() as tx:
        space, membership = _managed(tx.conn, viewer, space_id)
        count = spaces.member_counts(tx.conn, [space_id]).get(space_id, 0)
        if space.archived != archived:
            space = spaces.update(tx.conn, space_id, {"archived_at": app.clock() if archived else None})
            emit(
                app,
                tx,
                "space.archived" if archived else "space.updated",
                space_id=space_id,
                actor_id=viewer.id,
                payload=views.space(space, member_count=count),
            )
    return SpaceView(space, membership, count)


def list_members(app: App, viewer: Viewer, space_id: int) -> list[Membership]:
    with app.db.read() as conn:
        access_space(conn, viewer, space_id)
        return spaces.list_members(conn, space_id)


def check_add_member(
    app: App,
    viewer: Viewer,
    space_id: int,
    person_id: int,
    *,
    role: str = MemberRole.MEMBER.value,
    notification_level: str | None = None,
) -> Membership:
    """Owners and administrators add people (or change their role in the space)."""
    member_role = validate.choice("role", MemberRole, role)
    level = (
        validate.choice("notification_level", NotificationLevel, notification_level)
        if notification_level
        else None
    )
    with app.db.transaction() as tx:
        space, _membership = _managed(tx.conn, viewer, space_id)
        person = people.get(tx.conn, person_id)
        if person is None:
            raise invalid("person_id", f"no person with id {person_id}")
        if not person.active:
            raise invalid("person_id", f"{person.display_name} is deactivated")
        existed = spaces.get_membership(tx.conn, space_id, person_id)
        if existed and existed.is_owner and member_role is MemberRole.MEMBER:
            _keep_an_owner(tx.conn, space_id)
        membership = spaces.upsert_member(
            tx.conn, space_id, person_id, role=member_role, level=level, now=app.clock()
        )
        if membership != existed:
            kind = "member.updated" if existed else "member.added"
            emit(
                app,
                tx,
                kind,
                space_id=space_id,
                actor_id=viewer.id,
                payload=views.membership(membership),
            )
            if not existed:
                _announce_member_count(app, tx, viewer, space)
    return membership


def check_remove_member(app: App, viewer: Viewer, space_id: int, person_id: int) -> None:
    """Owners and administrators remove anyone; everyone may remove themself (leave)."""
    with app.db.transaction() as tx:
        space, membership = access_space(tx.conn, viewer, space_id)
        if person_id != viewer.id and not permissions.can_manage_space(viewer, membership):
            raise Forbidden("only owners and administrators remove members")
        existing = spaces.get_membership(tx.conn, space_id, person_id)
        if existing is None:
            raise NotFound(f"person {person_id} is not a member of this space")
        if existing.is_owner:
            _keep_an_owner(tx.conn, space_id)
        spaces.delete_member(tx.conn, space_id, person_id)
        emit(
            app,
            tx,
            "member.removed",
            space_id=space_id,
            actor_id=viewer.id,
            payload=views.membership(existing),
        )
        _announce_member_count(app, tx, viewer, space)


def check_join(app: App, viewer: Viewer, space_id: int) -> Membership:
    """Join a public space."""
    with app.db.transaction() as tx:
        space, membership = access_space(tx.conn, viewer, space_id)
        if membership is not None:
            return membership
        if not permissions.can_join(viewer, space):
            raise Forbidden("private spaces are joined by invitation from an owner")
        return do_add_member(app, tx, viewer, space, viewer.id, MemberRole.MEMBER)


def do_add_member(
    app: App, tx: Tx, viewer: Viewer, space: Space, person_id: int, role: MemberRole
) -> Membership:
    """Make ``person_id`` (not a member yet) a member with ``role``, in ``tx``: the
    ``member.added`` event, then the space with its new member count."""
    membership = spaces.upsert_member(tx.conn, space.id, person_id, role=role, level=None, now=app.clock())
    emit(
        app,
        tx,
        "member.added",
        space_id=space.id,
        actor_id=viewer.id,
        payload=views.membership(membership),
    )
    _announce_member_count(app, tx, viewer, space)
    return membership


def check_leave(app: App, viewer: Viewer, space_id: int) -> None:
    check_remove_member(app, viewer, space_id, viewer.id)


def check_set_notification_level(app: App, viewer: Viewer, space_id: int, level: str) -> Membership:
    """A member chooses how much of a space reaches them."""
    new_level = validate.choice("notification_level", NotificationLevel, level)
    with app.db.transaction() as tx:
        _space, membership = access_space(tx.conn, viewer, space_id)
        if membership is None:
            raise Forbidden("join the space first")
        updated = spaces.upsert_member(
            tx.conn, space_id, viewer.id, role=membership.role, level=new_level, now=app.clock()
        )
        emit(
            app,
            tx,
            "member.updated",
            space_id=space_id,
            actor_id=viewer.id,
            payload=views.membership(updated),
        )
    return updated


def _announce_member_count(app: App, tx: Tx, viewer: Viewer, space: Space) -> None:
    """A space's member count changed: everyone who sees the space sees the count (everyone
    for a public space, the administrators for a private one), but only members hear member
    events, so the space itself is published again with the new count."""
    count = spaces.member_counts(tx.conn, [space.id]).get(space.id, 0)
    emit(
        app,
        tx,
        "space.updated",
        space_id=space.id,
        actor_id=viewer.id,
        payload=views.space(space, member_count=count),
    )


def _managed(conn: Connection, viewer: Viewer, space_id: int) -> tuple[Space, Membership | None]:
    space, membership = access_space(conn, viewer, space_id)
    if not permissions.can_manage_space(viewer, membership):
        raise Forbidden("only the space's owners and administrators may do this")
    return space, membership


def _keep_an_owner(conn: Connection, space_id: int) -> None:
    if spaces.count_owners(conn, space_id) <= 1:
        raise Conflict("a space needs at least one owner; make someone else owner first")
