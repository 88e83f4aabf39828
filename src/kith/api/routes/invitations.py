"""Invitations: mine (accept, decline), and a space's (its owners invite and withdraw)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from kith.actions import community_spaces, invitations
from kith.actions.invitations import InviteResult
from kith.api.deps import AppDep, PersonId, SpaceId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import InvitationOut, InviteIn, InviteOut, MemberOut
from kith.domain import views

router = APIRouter(tags=["invitations"], responses=ERROR_RESPONSES)

Status = Annotated[Literal["pending", "accepted", "declined"] | None, Query()]


def _invited(result: InviteResult) -> InviteOut:
    return InviteOut(
        invited=[InvitationOut(**views.invitation(i, result.space)) for i in result.invited],
        skipped=result.skipped,
    )


@router.get("/invitations")
def list_my_invitations(app: AppDep, viewer: ViewerDep, status: Status = None) -> list[InvitationOut]:
    """My invitations, pending first, each with the space's name and description."""
    return [
        InvitationOut(**views.invitation(i, s)) for i, s in invitations.list_mine(app, viewer, status=status)
    ]


@router.post("/invitations/{space_id}/accept")
def accept_invitation(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> MemberOut:
    """Accept an invitation: become a member of the space (private ones too)."""
    return MemberOut(**views.membership(invitations.check_accept(app, viewer, space_id)))


@router.post("/invitations/{space_id}/decline")
def decline_invitation(app: AppDep, viewer: ViewerDep, space_id: SpaceId) -> InvitationOut:
    invitation, space = invitations.check_decline(app, viewer, space_id)
    return InvitationOut(**views.invitation(invitation, space))


@router.get("/spaces/{space_id}/invitations")
def list_space_invitations(
    app: AppDep, viewer: ViewerDep, space_id: SpaceId, status: Status = None
) -> list[InvitationOut]:
    """The space's invitations, pending first (owners and administrators)."""
    return [
        InvitationOut(**views.invitation(i))
        for i in invitations.list_for_space(app, viewer, space_id, status=status)
    ]


@router.post("/spaces/{space_id}/invitations", status_code=201)
def invite(app: AppDep, viewer: ViewerDep, space_id: SpaceId, body: InviteIn) -> InviteOut:
    """Owners and administrators invite people, or (``suggested: true``, a space made from a
    community) the community's suggested additions."""
    if body.suggested:
        return _invited(community_spaces.check_invite_suggested(app, viewer, space_id, body.person_ids))
    return _invited(invitations.check_invite(app, viewer, space_id, body.person_ids, role=body.role))


@router.delete("/spaces/{space_id}/invitations/{person_id}", status_code=204)
def withdraw_invitation(app: AppDep, viewer: ViewerDep, space_id: SpaceId, person_id: PersonId) -> Response:
    """Withdraw a pending invitation (owners and administrators)."""
    invitations.check_withdraw(app, viewer, space_id, person_id)
    return Response(status_code=204)
