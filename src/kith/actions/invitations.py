"""Invitations to spaces: owners invite, invitees accept or decline.

An invitation is the permission to join: an invitee joins even a private space by accepting
it, while the space itself stays invisible to them (404 on every space route) until they
do; the invitation alone shows them its name and description. A space made from a detected
community invites the community's members this way (:mod:`kith.actions.community_spaces`).

- Owners of a space (and administrators) invite people, list the space's invitations and
  withdraw pending ones. Nobody is invited twice: members, people already invited and
  people who declined are skipped (and said to be).
- The invitee accepts (a pending or an earlier declined invitation) and becomes a member
  with the invitation's role, or declines. An accepted invitation is used up: someone who
  accepted and later left a private space needs a new invitation.

Published events:

- ``invitation.created``, ``invitation.updated`` (status ``accepted``, ``declined`` or
  ``withdrawn``): personal to the invitee, the invitation with the space's name and
  description (``views.invitation``). The space's owners are not told of declines; they
  see acceptances as ``member.added`` and everything in the space's invitation list.
- ``notification.created`` (kind ``invitation``, through :func:`kith.actions.notify.notify`,
  so quiet hours hold it for the digest) for each person invited.
- on accepting: ``member.added`` and ``space.updated`` (the member count), as for a join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Connection

from kith.actions.access import access_space
from kith.actions.events import emit
from kith.actions.notify import Notice, notify
from kith.actions.spaces import do_add_member
from kith.app import App
from kith.domain import permissions, validate, views
from kith.domain.errors import Conflict, Forbidden, NotFound, invalid
from kith.domain.models import Invitation, MemberRole, Membership, Space, Viewer
from kith.storage import invitations as store
from kith.storage import people, spaces
from kith.storage.database import Tx

MAX_INVITED_AT_ONCE = 500
STATUSES = (store.PENDING, store.ACCEPTED, store.DECLINED)


@dataclass(frozen=True, slots=True)
class InviteResult:
    """Who was invited now, and who was left out and why (person ids)."""

    space: Space
    invited: list[Invitation]
    skipped: dict[str, list[int]] = field(default_factory=dict)


def do_invite(
    app: App,
    tx: Tx,
    space: Space,
    person_ids: Iterable[int],
    *,
    invited_by: int | None,
    role: MemberRole = MemberRole.MEMBER,
) -> list[Invitation]:
    """Invite ``person_ids`` (none of them a member or invited already) in ``tx``: one
    pending invitation each, an ``invitation.created`` event and an ``invitation``
    notification for each."""
    now = app.clock()
    rows = [
        {
            "space_id": space.id,
            "person_id": pid,
            "invited_by": invited_by,
            "role": role.value,
            "created_at": now,
        }
        for pid in sorted(set(person_ids))
    ]
    created = store.insert_many(tx.conn, rows)
    for invitation in created:
        _announce(app, tx, invitation, space, actor_id=invited_by, created=True)
    # Not "in" the space for the notification rules: the invitee is no member yet, and a
    # private space's notifications reach members only. The payload says which space.
    notice = Notice(
        "invitation",
        actor_id=invited_by,
        payload={
            "space_id": space.id,
            "space_name": space.name,
            "space_slug": space.slug,
            "description": space.description,
            "role": role.value,
        },
    )
    notify(app, tx, [i.person_id for i in created], notice)
    return created


def check_invite(
    app: App,
    viewer: Viewer,
    space_id: int,
    person_ids: Sequence[int] | None,
    *,
    role: str = MemberRole.MEMBER.value,
) -> InviteResult:
    """Owners and administrators invite people to a space (not archived)."""
    member_role = validate.choice("role", MemberRole, role)
    wanted = _wanted(person_ids)
    with app.db.transaction() as tx:
        space = access_managed_space(tx.conn, viewer, space_id)
        found = people.get_many(tx.conn, wanted)
        unknown = [pid for pid in wanted if pid not in found or not found[pid].active]
        if unknown:
            listed = ", ".join(str(pid) for pid in unknown[:20])
            raise invalid("person_ids", f"no active person with id {listed}")
        members = spaces.member_ids(tx.conn, space_id)
        statuses = store.statuses(tx.conn, space_id, wanted)
        skipped: dict[str, list[int]] = {"members": [], "pending": [], "accepted": [], "declined": []}
        fresh: list[int] = []
        for pid in wanted:
            if pid in members:
                skipped["members"].append(pid)
            elif pid in statuses:
                skipped[statuses[pid]].append(pid)
            else:
                fresh.append(pid)
        invited = do_invite(app, tx, space, fresh, invited_by=viewer.id, role=member_role)
    return InviteResult(space, invited, {key: ids for key, ids in skipped.items() if ids})


def _wanted(person_ids: Sequence[int] | None) -> list[int]:
    if person_ids is None:
        raise invalid(
            "person_ids", "name the people to invite (or send suggested: true for a community's space)"
        )
    wanted = sorted(set(person_ids))
    if not wanted:
        raise invalid("person_ids", "name at least one person")
    if len(wanted) > MAX_INVITED_AT_ONCE:
        raise invalid("person_ids", f"at most {MAX_INVITED_AT_ONCE} people at once")
    if wanted[0] < 1:
        raise invalid("person_ids", "ids are positive integers")
    return wanted


def list_for_space(app: App, viewer: Viewer, space_id: int, *, status: str | None = None) -> list[Invitation]:
    """A space's invitations, pending first (owners and administrators)."""
    _check_status(status)
    with app.db.read() as conn:
        access_managed_space(conn, viewer, space_id, archived_ok=True)
        return store.for_space(conn, space_id, status)


def list_mine(app: App, viewer: Viewer, *, status: str | None = None) -> list[tuple[Invitation, Space]]:
    """The viewer's invitations with what they may see of each space, pending first."""
    _check_status(status)
    with app.db.read() as conn:
        return store.for_person(conn, viewer.id, status)


def check_accept(app: App, viewer: Viewer, space_id: int) -> Membership:
    """Accept an invitation (pending, or declined earlier): become a member with its role."""
    with app.db.transaction() as tx:
        invitation, space = _invitation_of(tx.conn, viewer, space_id)
        existing = spaces.get_membership(tx.conn, space_id, viewer.id)
        if invitation.status == store.ACCEPTED and existing is None:
            raise NotFound(f"no invitation to space {space_id}")  # used up: they left since
        if existing is None:
            if space.archived:
                raise Conflict("the space is archived and takes no new members")
            existing = do_add_member(app, tx, viewer, space, viewer.id, invitation.role)
        if invitation.status != store.ACCEPTED:
            _respond(app, tx, viewer, space, store.ACCEPTED)
    return existing


def check_decline(app: App, viewer: Viewer, space_id: int) -> tuple[Invitation, Space]:
    """Decline an invitation. Declining twice is no change; an accepted one cannot be."""
    with app.db.transaction() as tx:
        invitation, space = _invitation_of(tx.conn, viewer, space_id)
        if invitation.status == store.ACCEPTED:
            raise Conflict("you accepted this invitation; to leave the space, use POST /spaces/{id}/leave")
        if invitation.status == store.DECLINED:
            return invitation, space
        return _respond(app, tx, viewer, space, store.DECLINED), space


def check_withdraw(app: App, viewer: Viewer, space_id: int, person_id: int) -> None:
    """Owners and administrators withdraw a pending invitation (the row goes; the invitee
    hears ``invitation.updated`` with status ``withdrawn``)."""
    with app.db.transaction() as tx:
        space = access_managed_space(tx.conn, viewer, space_id, archived_ok=True)
        invitation = store.get(tx.conn, space_id, person_id)
        if invitation is None:
            raise NotFound(f"person {person_id} has no invitation to this space")
        if invitation.status != store.PENDING:
            raise Conflict(f"the invitation was already {invitation.status}; only pending ones are withdrawn")
        store.delete(tx.conn, space_id, person_id)
        gone = replace(invitation, status="withdrawn", responded_at=app.clock())
        _announce(app, tx, gone, space, actor_id=viewer.id, created=False)


def _invitation_of(conn: Connection, viewer: Viewer, space_id: int) -> tuple[Invitation, Space]:
    invitation = store.get(conn, space_id, viewer.id)
    space = spaces.get(conn, space_id) if invitation else None
    if invitation is None or space is None:
        raise NotFound(f"no invitation to space {space_id}")
    return invitation, space


def _respond(app: App, tx: Tx, viewer: Viewer, space: Space, status: str) -> Invitation:
    updated = store.set_status(tx.conn, space.id, viewer.id, status, app.clock())
    _announce(app, tx, updated, space, actor_id=viewer.id, created=False)
    return updated


def _announce(
    app: App, tx: Tx, invitation: Invitation, space: Space, *, actor_id: int | None, created: bool
) -> None:
    """``invitation.created`` or ``invitation.updated``, for the invitee alone."""
    kind = "invitation.created" if created else "invitation.updated"
    emit(
        app,
        tx,
        kind,
        space_id=None,
        actor_id=actor_id,
        payload=views.invitation(invitation, space),
        audience_id=invitation.person_id,
    )


def access_managed_space(
    conn: Connection, viewer: Viewer, space_id: int, *, archived_ok: bool = False
) -> Space:
    space, membership = access_space(conn, viewer, space_id)
    if not permissions.can_manage_space(viewer, membership):
        raise Forbidden("only the space's owners and administrators manage its invitations")
    if space.archived and not archived_ok:
        raise Conflict("the space is archived and takes no new members")
    return space


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise invalid("status", f"must be one of: {', '.join(STATUSES)}")
