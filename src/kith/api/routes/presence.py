"""Presence: who is online, idle, away or offline, with their local time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from kith.actions import presence
from kith.api.deps import MAX_ID, AppDep, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import AwayIn, PresenceList, PresenceOut
from kith.domain.errors import invalid

router = APIRouter(tags=["presence"], responses=ERROR_RESPONSES)


@router.get("/presence")
def get_presence(
    app: AppDep,
    viewer: ViewerDep,
    space: Annotated[int | None, Query(ge=1, le=MAX_ID, description="The members of this space.")] = None,
    person: Annotated[
        list[int] | None,
        Query(max_length=presence.MAX_PEOPLE_PER_QUERY, description="These people (repeat the parameter)."),
    ] = None,
) -> PresenceList:
    """The presence of a space's members (``space=``) or of given people (``person=``, repeated)."""
    if (space is None) == (person is None):
        raise invalid("space", "give either space=<id> or person=<id> (repeated), not both")
    if space is not None:
        found = presence.get_space_presence(app, viewer, space)
    else:
        if any(not 1 <= p <= MAX_ID for p in person or ()):
            raise invalid("person", "must be person ids")
        found = presence.get_people_presence(app, viewer, person or [])
    return PresenceList(people=[PresenceOut(**item) for item in found])


@router.put("/presence/me")
def set_away(app: AppDep, viewer: ViewerDep, body: AwayIn) -> PresenceOut:
    """Say I am away (it stays until I say I am back), or back."""
    return PresenceOut(**presence.check_set_away(app, viewer, body.away))


@router.post("/presence/me/active", status_code=204, response_class=Response)
async def mark_active(app: AppDep, viewer: ViewerDep) -> Response:
    """I am here and doing something (for clients without a WebSocket to say so)."""
    presence.mark_active(app, viewer)
    return Response(status_code=204)
