"""Invitations to spaces, through the HTTP API: owners invite, invitees accept or decline,
the invitation is the only door into a private space, quiet hours hold the notice, and
each event reaches the invitee alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import Actor
from tests.movable_clock import Timed, timed_app

from kith.actions.events import list_since
from kith.domain.models import Event, Role
from kith.domain.permissions import can_receive_event
from kith.storage import events as event_store
from kith.storage import notifications as notification_store

API = "/api/v1"


@pytest.fixture
def t(database_url: str) -> Iterator[Timed]:
    # Monday 2 March 2026, 09:00 UTC: 09:00 in London, 18:00 in Tokyo.
    with timed_app(database_url) as timed:
        yield timed


def call(t: Timed, who: Actor, method: str, path: str, body: Any = None) -> Any:
    return t.client.request(method, API + path, json=body, headers=who.headers)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def last_event(t: Timed) -> int:
    with t.app.db.read() as conn:
        return event_store.last_id(conn)


def private_space(t: Timed, owner: Actor, name: str = "Deal Room") -> int:
    body = {"name": name, "description": "Where the Acme deal is worked out", "visibility": "private"}
    space_id: int = ok(call(t, owner, "POST", "/spaces", body), 201)["id"]
    return space_id


def test_an_invitation_is_the_one_door_into_a_private_space(t: Timed) -> None:
    owner = t.make.person("Olga Owner")
    guest = t.make.person("Gus Guest", timezone="Europe/London")
    stranger = t.make.person("Stan Stranger")
    sid = private_space(t, owner)
    assert call(t, guest, "POST", f"/spaces/{sid}/join").status_code == 404
    assert call(t, guest, "POST", f"/invitations/{sid}/accept").status_code == 404

    before = last_event(t)
    result = ok(call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [guest.id]}), 201)
    [invitation] = result["invited"]
    assert (invitation["person_id"], invitation["status"], invitation["role"]) == (
        guest.id,
        "pending",
        "member",
    )
    assert invitation["space"]["name"] == "Deal Room"

    # The invitee sees the name and description in the invitation, and nothing else yet.
    [mine] = ok(call(t, guest, "GET", "/invitations"))
    assert mine["space"]["description"] == "Where the Acme deal is worked out"
    assert call(t, guest, "GET", f"/spaces/{sid}").status_code == 404
    assert call(t, guest, "GET", f"/spaces/{sid}/topics").status_code == 404
    assert ok(call(t, stranger, "GET", "/invitations")) == []

    events = list_since(t.app, before)
    assert [(e.type, e.audience_id) for e in events] == [
        ("invitation.created", guest.id),
        ("notification.created", guest.id),  # 09:00 in London: told at once
    ]
    for event in events:
        assert _reaches(event) == {guest.id}

    ok(call(t, guest, "POST", f"/invitations/{sid}/accept"))
    assert ok(call(t, guest, "GET", f"/spaces/{sid}"))["my_role"] == "member"
    # Leaving uses the invitation up: coming back takes a new one.
    assert call(t, guest, "POST", f"/spaces/{sid}/leave").status_code == 204
    assert call(t, guest, "POST", f"/invitations/{sid}/accept").status_code == 404
    assert call(t, guest, "GET", f"/spaces/{sid}").status_code == 404


def _reaches(event: Event) -> set[int]:
    """Who, of everyone in these tests (ids 1..10, none a member of anything), the stream
    would carry ``event`` to."""
    return {pid for pid in range(1, 11) if can_receive_event(pid, set(), event, is_admin=pid == 1)}


def test_quiet_hours_hold_the_invitation_notice(t: Timed) -> None:
    owner = t.make.person("Olga Owner")
    sleeper = t.make.person("Kenji Tokyo", timezone="Asia/Tokyo")
    sid = private_space(t, owner)
    before = last_event(t)
    ok(call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [sleeper.id]}), 201)
    assert [e.type for e in list_since(t.app, before)] == ["invitation.created"]  # no live notice
    with t.app.db.read() as conn:
        [notice] = notification_store.list_for(conn, sleeper.id, before_id=None, limit=5)
    assert (notice.kind, notice.held, notice.space_id) == ("invitation", True, None)
    assert notice.payload == {
        "space_id": sid,
        "space_name": "Deal Room",
        "space_slug": "deal-room",
        "description": "Where the Acme deal is worked out",
        "role": "member",
    }


def test_decline_then_change_ones_mind(t: Timed) -> None:
    owner = t.make.person("Olga Owner")
    guest = t.make.person("Gus Guest")
    sid = private_space(t, owner)
    ok(call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [guest.id], "role": "owner"}), 201)
    before = last_event(t)
    declined = ok(call(t, guest, "POST", f"/invitations/{sid}/decline"))
    assert declined["status"] == "declined"
    [event] = list_since(t.app, before)
    assert (event.type, event.audience_id, event.payload["status"]) == (
        "invitation.updated",
        guest.id,
        "declined",
    )
    # The owners are not told of a decline; they see it in the list.
    listed = ok(call(t, owner, "GET", f"/spaces/{sid}/invitations?status=declined"))
    assert [(i["person_id"], i["status"]) for i in listed] == [(guest.id, "declined")]
    again = ok(call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [guest.id]}), 201)
    assert again == {"invited": [], "skipped": {"declined": [guest.id]}}
    # A declined invitation still stands: accepting it later works, with its role.
    assert ok(call(t, guest, "POST", f"/invitations/{sid}/accept"))["role"] == "owner"
    assert ok(call(t, guest, "GET", "/invitations"))[0]["status"] == "accepted"


def test_who_manages_invitations(t: Timed) -> None:
    owner = t.make.person("Olga Owner")
    member = t.make.person("Mika Member")
    analyst = t.make.person("Ari Analyst", role=Role.ANALYST)
    guest = t.make.person("Gus Guest")
    sid = private_space(t, owner)
    ok(call(t, owner, "POST", f"/spaces/{sid}/members", {"person_id": member.id}), 201)
    body = {"person_ids": [guest.id]}
    assert call(t, member, "POST", f"/spaces/{sid}/invitations", body).status_code == 403
    assert call(t, member, "GET", f"/spaces/{sid}/invitations").status_code == 403
    assert call(t, analyst, "POST", f"/spaces/{sid}/invitations", body).status_code == 404
    # Administrators manage memberships, so invitations too, without being members.
    admin = t.make.admin
    ok(call(t, admin, "POST", f"/spaces/{sid}/invitations", body), 201)
    assert [i["person_id"] for i in ok(call(t, admin, "GET", f"/spaces/{sid}/invitations"))] == [guest.id]
    assert call(t, admin, "DELETE", f"/spaces/{sid}/invitations/{guest.id}").status_code == 204
    assert ok(call(t, owner, "GET", f"/spaces/{sid}/invitations")) == []
    # Suggested additions exist only for a space made from a community.
    plain = call(t, owner, "POST", f"/spaces/{sid}/invitations", {"suggested": True})
    assert plain.status_code == 422
    assert "suggested" in plain.json()["error"]["fields"]
    assert call(t, owner, "GET", f"/spaces/{sid}/community").status_code == 404


def test_archived_spaces_and_deactivated_people(t: Timed) -> None:
    owner = t.make.person("Olga Owner")
    guest = t.make.person("Gus Guest")
    gone = t.make.person("Gone Person")
    sid = private_space(t, owner)
    ok(call(t, t.make.admin, "POST", f"/people/{gone.id}/deactivate"))
    refused = call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [gone.id, guest.id]})
    assert refused.status_code == 422
    assert str(gone.id) in refused.json()["error"]["fields"]["person_ids"]
    assert ok(call(t, owner, "GET", f"/spaces/{sid}/invitations")) == []  # nothing half-done
    ok(call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [guest.id]}), 201)
    ok(call(t, owner, "POST", f"/spaces/{sid}/archive"))
    assert call(t, guest, "POST", f"/invitations/{sid}/accept").status_code == 409
    assert call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [gone.id]}).status_code == 409
    # Declining still works, and the owners still see the list of an archived space.
    ok(call(t, guest, "POST", f"/invitations/{sid}/decline"))
    assert ok(call(t, owner, "GET", f"/spaces/{sid}/invitations"))[0]["status"] == "declined"


def test_a_public_space_can_be_joined_or_accepted(t: Timed) -> None:
    owner = t.make.person("Olga Owner")
    guest = t.make.person("Gus Guest")
    walker = t.make.person("Walk In")
    sid = ok(call(t, owner, "POST", "/spaces", {"name": "Open Floor"}), 201)["id"]
    ok(call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": [guest.id, walker.id]}), 201)
    ok(call(t, walker, "POST", f"/spaces/{sid}/join"))
    # Joined meanwhile: accepting marks the invitation accepted and keeps the membership.
    before = last_event(t)
    assert ok(call(t, walker, "POST", f"/invitations/{sid}/accept"))["role"] == "member"
    assert [e.type for e in list_since(t.app, before)] == ["invitation.updated"]
    ok(call(t, guest, "POST", f"/invitations/{sid}/accept"))
    members = {m["person_id"] for m in ok(call(t, owner, "GET", f"/spaces/{sid}/members"))}
    assert members == {owner.id, guest.id, walker.id}


def test_bad_input_is_refused_naming_the_field(t: Timed) -> None:
    owner = t.make.person("Olga Owner")
    sid = private_space(t, owner)
    assert call(t, owner, "GET", "/invitations?status=maybe").status_code == 422
    too_many = call(t, owner, "POST", f"/spaces/{sid}/invitations", {"person_ids": list(range(1, 502))})
    assert too_many.status_code == 422
    assert "person_ids" in too_many.json()["error"]["fields"]
    assert call(t, owner, "POST", "/invitations/0/accept").status_code == 422
    assert call(t, owner, "DELETE", f"/spaces/{sid}/invitations/0").status_code == 422
    assert call(t, owner, "POST", f"/spaces/{sid}/invitations", "not json").status_code == 422
