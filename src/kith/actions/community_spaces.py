"""From a detected community to a space, in one step; and how the community drifts since.

For every community of an analysis run (of at least ``KITH_MIN_GROUP_SIZE`` people) Kith
proposes a space (:mod:`kith.actions.community_proposals`): a name from the community's
dominant departments (or, when none dominates, the words of the topics its members start
in public spaces) and offices, a description of its make-up, its members, and owners (its
hubs). An analyst or administrator makes it with one call
(:func:`check_create_space`): the owners become owners, everyone else is invited
(:mod:`kith.actions.invitations`). Later runs may change the community; the space then
shows suggested additions and departures (:func:`get_drift`) and nothing changes by itself.

Privacy (docs/privacy.md, docs/community-spaces.md):

- Proposals are for analysts and administrators. They show aggregates (suppressed as in
  every analysis view); the people (members, owners) only where person-level results are
  on (``KITH_PERSON_LEVEL_ANALYSIS``), each such look written to the access log.
- Creating a space from a community is allowed either way: the members are invited
  without the analyst seeing who they are, and the creation is written to the access log.
- The space's owners see its invitations (so the community's members) and the drift's
  people: running the space is acting on that list. Analysts and administrators who do
  not own it see the drift's people only where person-level results are on (logged).
- Analysts see which space a community became (id, name, slug), not its content.

Published events (all in the one transaction of :func:`check_create_space`):
``space.created``, ``member.added`` (each owner), ``invitation.created`` and
``notification.created`` (each invitee, personal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from kith.actions import invitations
from kith.actions.analysis import can_analyse, require_analyst
from kith.actions.analysis_views import person_level_allowed
from kith.actions.community_proposals import (
    DESCRIPTION_MAX,
    NAME_MAX,
    Community,
    describe,
    free_slug,
    load_community,
    log_access,
    person_view,
    slug_for,
    suggest_name,
    suggest_owners,
    topic_words,
)
from kith.actions.events import emit
from kith.app import App
from kith.domain import permissions, validate, views
from kith.domain.errors import Conflict, Forbidden, NotFound, invalid
from kith.domain.models import MemberRole, Membership, Person, Space, SpaceKind, Viewer, Visibility
from kith.storage import analysis as analysis_store
from kith.storage import community_spaces as store
from kith.storage import invitations as invitation_store
from kith.storage import people, spaces
from kith.storage.database import Tx

# Owners an analyst may name instead of the suggested ones.
OVERRIDE_OWNERS_MAX = 10

# -- creating the space ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommunitySpace:
    """A space just made from a community: its owners and the people invited."""

    space: Space
    community_id: int
    run_id: int
    owners: list[Person]
    invited: list[Person]
    # The creator's own membership (when they are one of the owners).
    membership: Membership | None
    # Whether the creator may see who the owners and invitees are (person-level results).
    person_level: bool
    owners_chosen: bool


def check_create_space(
    app: App,
    viewer: Viewer,
    community_id: int,
    *,
    run_id: int | None = None,
    name: str | None = None,
    slug: str | None = None,
    description: str | None = None,
    visibility: str = Visibility.PRIVATE.value,
    owners: Sequence[int] | None = None,
) -> CommunitySpace:
    """Make the community's space in one transaction: the suggested owners (or ``owners``)
    become its owners, every other active member of the community is invited. A community
    has at most one space: a second attempt is a conflict that names the first.

    Analysts and administrators; the proposal's name, slug and description unless given.
    """
    require_analyst(viewer)
    values = _overrides(name=name, slug=slug, description=description, visibility=visibility, owners=owners)
    k = app.settings.min_group_size
    with app.db.transaction() as tx:
        community = load_community(tx.conn, k, community_id, run_id)
        existing = store.spaces_of(tx.conn, [community_id]).get(community_id)
        if existing is not None:
            raise Conflict(
                f"community {community_id} already has a space: {existing.name!r} "
                f"(id {existing.id}, slug {existing.slug})",
                {"community_id": f"already made into space {existing.id}"},
            )
        owner_ids = _owner_ids(tx.conn, community, values.get("owners"))
        space = _insert_space(app, tx, viewer, community, values)
        for person_id in owner_ids:
            spaces.upsert_member(
                tx.conn, space.id, person_id, role=MemberRole.OWNER, level=None, now=app.clock()
            )
        emit(
            app,
            tx,
            "space.created",
            space_id=space.id,
            actor_id=viewer.id,
            payload=views.space(space, member_count=len(owner_ids)),
        )
        memberships = spaces.list_members(tx.conn, space.id)
        for membership in memberships:
            emit(
                app,
                tx,
                "member.added",
                space_id=space.id,
                actor_id=viewer.id,
                payload=views.membership(membership),
            )
        invitees = [m["person_id"] for m in community.members if m["person_id"] not in set(owner_ids)]
        invited = invitations.do_invite(app, tx, space, invitees, invited_by=viewer.id)
        analysis_store.log_access(
            tx.conn,
            viewer.id,
            community.run_id,
            f"space {space.id} made from community {community_id}",
            app.clock(),
        )
        found = people.get_many(tx.conn, [*owner_ids, *(i.person_id for i in invited)])
    return CommunitySpace(
        space=space,
        community_id=community_id,
        run_id=community.run_id,
        owners=[found[pid] for pid in owner_ids],
        invited=[found[i.person_id] for i in invited],
        membership=next((m for m in memberships if m.person_id == viewer.id), None),
        person_level=person_level_allowed(app, viewer),
        owners_chosen="owners" in values,
    )


def creation_view(made: CommunitySpace) -> dict[str, Any]:
    """What the creator sees: the space, and who its owners and invitees are only where
    person-level results are on (or the owners they named themselves)."""
    view: dict[str, Any] = {
        "space": views.space(made.space, made.membership, len(made.owners)),
        "community_id": made.community_id,
        "run_id": made.run_id,
        "owners": len(made.owners),
        "invited": len(made.invited),
        "person_level": made.person_level,
    }
    if made.person_level or made.owners_chosen:
        view["owner_ids"] = [p.id for p in made.owners]
    if made.person_level:
        view["invited_ids"] = [p.id for p in made.invited]
    return view


def check_accept_invitation(app: App, viewer: Viewer, space_id: int) -> Membership:
    """Accept the invitation to a community's space (:func:`invitations.check_accept`)."""
    return invitations.check_accept(app, viewer, space_id)


def _overrides(
    *,
    name: str | None,
    slug: str | None,
    description: str | None,
    visibility: str,
    owners: Sequence[int] | None,
) -> dict[str, Any]:
    values: dict[str, Any] = {"visibility": validate.choice("visibility", Visibility, visibility).value}
    if name is not None:
        values["name"] = validate.text("name", name, max_len=NAME_MAX)
    if slug is not None:
        values["slug"] = validate.slug("slug", slug)
    if description is not None:
        values["description"] = validate.optional_text(
            "description", description, max_len=DESCRIPTION_MAX, multiline=True
        )
    if owners is not None:
        chosen = sorted(set(owners))
        if not 1 <= len(chosen) <= OVERRIDE_OWNERS_MAX:
            raise invalid("owners", f"name between 1 and {OVERRIDE_OWNERS_MAX} people")
        if chosen[0] < 1:
            raise invalid("owners", "ids are positive integers")
        values["owners"] = chosen
    return values


def _owner_ids(conn: Connection, community: Community, chosen: list[int] | None) -> list[int]:
    if chosen is None:
        suggested = [m["person_id"] for m in suggest_owners(community.members)]
        if not suggested:
            raise Conflict("the community has no active member to own its space; name the owners")
        return suggested
    found = people.get_many(conn, chosen)
    unknown = [pid for pid in chosen if pid not in found or not found[pid].active]
    if unknown:
        raise invalid("owners", f"no active person with id {', '.join(str(p) for p in unknown)}")
    return chosen


def _insert_space(app: App, tx: Tx, viewer: Viewer, community: Community, values: dict[str, Any]) -> Space:
    k = app.settings.min_group_size
    titles = store.public_topic_titles(tx.conn, [m["person_id"] for m in community.members])
    words = [
        w
        for w, _ in topic_words(titles, {m["person_id"] for m in community.members}, community.row["size"], k)
    ]
    name = values.get("name") or suggest_name(community.row["details"], community.row["size"], k, words)
    if "slug" in values:
        slug = values["slug"]
        if spaces.slug_exists(tx.conn, slug):
            raise Conflict(f"the slug {slug!r} is taken", {"slug": "is taken"})
    else:
        slug = free_slug(tx.conn, slug_for(name) or f"community-{community.id}")
    return spaces.insert(
        tx.conn,
        {
            "name": name,
            "slug": slug,
            "description": values["description"] if "description" in values else describe(community, k),
            "kind": SpaceKind.COMMUNITY.value,
            "visibility": values["visibility"],
            "seen_by_visible": False,
            "created_by": viewer.id,
            "created_at": app.clock(),
            "community_id": community.id,
            "community_run_id": community.run_id,
        },
    )


# -- drift ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Drift:
    space_run_id: int | None
    run_id: int | None
    row: dict[str, Any] | None
    additions: list[dict[str, Any]]
    departures: list[dict[str, Any]]


def _drift(conn: Connection, space: Space) -> _Drift:
    """The newest finished run's community against the space as it is now.

    Additions: active people in the community who are neither members nor invited (a
    pending, declined or used invitation: nobody is suggested twice). Departures: members
    who were in the community in the space's run or a later one and are not in it now
    (people added by hand, never in it, are not suggested to leave). A community the
    newest run no longer has suggests nothing.
    """
    assert space.community_id is not None
    space_run = store.run_of(conn, space.id)
    newest = analysis_store.latest_done(conn)
    row = analysis_store.community(conn, newest, space.community_id) if newest else None
    if row is None or newest is None:
        return _Drift(space_run, newest, None, [], [])
    current = {m["person_id"]: m for m in analysis_store.members(conn, newest, space.community_id)}
    members = spaces.member_ids(conn, space.id)
    invited = invitation_store.statuses(conn, space.id)
    additions = [
        m for pid, m in sorted(current.items()) if m["active"] and pid not in members and pid not in invited
    ]
    was_in = store.members_since(conn, space.community_id, space_run) if space_run else set()
    gone = sorted((members & was_in) - current.keys())
    departed = people.get_many(conn, gone)
    departures = [
        {
            "person_id": pid,
            "display_name": departed[pid].display_name,
            "department": departed[pid].department,
            "location": departed[pid].location,
        }
        for pid in gone
        if pid in departed
    ]
    return _Drift(space_run, newest, row, additions, departures)


def get_drift(app: App, viewer: Viewer, space_id: int) -> dict[str, Any]:
    """How the space's community changed since the space was made: suggested additions
    and departures. The space's owners, analysts and administrators; nothing changes."""
    with app.db.read() as conn:
        space, membership = _community_space(conn, viewer, space_id)
        is_owner = membership is not None and membership.is_owner
        if not (is_owner or can_analyse(viewer)):
            raise Forbidden("the space's owners, analysts and administrators see how its community changed")
        drift = _drift(conn, space)
    k = app.settings.min_group_size
    show_people = is_owner or person_level_allowed(app, viewer)
    row = drift.row
    view: dict[str, Any] = {
        "space_id": space.id,
        "community_id": space.community_id,
        "space_run_id": drift.space_run_id,
        "run_id": drift.run_id,
        "in_run": row is not None,
        "change": row["change"] if row else None,
        "size": row["size"] if row and row["size"] >= k else None,
        "additions": len(drift.additions),
        "departures": len(drift.departures),
        "person_level": show_people,
    }
    if show_people:
        view["suggested_additions"] = [person_view(m) for m in drift.additions]
        view["suggested_departures"] = drift.departures
        log_access(app, viewer, drift.run_id, f"community drift of space {space.id}")
    return view


def check_invite_suggested(
    app: App, viewer: Viewer, space_id: int, person_ids: Sequence[int] | None = None
) -> invitations.InviteResult:
    """Owners and administrators invite the drift's suggested additions in one call."""
    if person_ids is not None:
        raise invalid("person_ids", "give either person_ids or suggested: true, not both")
    with app.db.transaction() as tx:
        space = invitations.access_managed_space(tx.conn, viewer, space_id)
        if space.community_id is None:
            raise invalid("suggested", f"space {space_id} was not made from a detected community")
        drift = _drift(tx.conn, space)
        invited = invitations.do_invite(
            app, tx, space, [m["person_id"] for m in drift.additions], invited_by=viewer.id
        )
        if invited:
            analysis_store.log_access(
                tx.conn,
                viewer.id,
                drift.run_id,
                f"invited the suggested additions of space {space.id}",
                app.clock(),
            )
    return invitations.InviteResult(space, invited)


def _community_space(conn: Connection, viewer: Viewer, space_id: int) -> tuple[Space, Membership | None]:
    """A space made from a community, if the viewer may know it exists: those who see the
    space, and analysts and administrators for any community space."""
    found = spaces.get_with_membership(conn, space_id, viewer.id)
    if found is None:
        raise NotFound(f"no space with id {space_id}")
    space, membership = found
    visible = permissions.can_see_space(viewer, space, membership)
    if not visible and not (can_analyse(viewer) and space.community_id is not None):
        raise NotFound(f"no space with id {space_id}")
    if space.community_id is None:
        raise NotFound(f"space {space_id} was not made from a detected community")
    return space, membership
