"""From a detected community to a space in one step, on a simulated organisation: the
proposal (name, make-up, owners), the one-call creation with its invitations and events,
privacy for the uninvited, drift after a later analysis, permissions and bad input."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import FAST_HASHER, PASSWORD, Actor, make_settings
from tests.movable_clock import Timed, timed_app

from kith.actions import analysis, auth, interactions
from kith.actions.community_proposals import slug_for, suggest_name, topic_words
from kith.actions.events import list_since
from kith.actions.people import system_viewer
from kith.api.factory import create_api
from kith.app import build_app
from kith.domain import hours
from kith.domain.interactions import InteractionRecord
from kith.domain.models import Role
from kith.simulate.load import load_org
from kith.simulate.org import SimulatedOrg, simulate_org
from kith.storage import analysis as analysis_store
from kith.storage import events as event_store
from kith.storage import invitations as invitation_store
from kith.storage import notifications as notification_store
from kith.storage import people as people_store
from kith.storage import spaces as space_store

API = "/api/v1"


@pytest.fixture(scope="module")
def org() -> SimulatedOrg:
    return simulate_org(people=120, days=30, seed=5)


@dataclass
class World:
    """A simulated organisation analysed once; its largest community and an analyst."""

    t: Timed
    org: SimulatedOrg
    until: datetime
    run_id: int
    analyst: Actor
    community: int
    members: list[dict[str, Any]]

    @property
    def client(self) -> TestClient:
        return self.t.client

    @property
    def k(self) -> int:
        return self.t.app.settings.min_group_size


@pytest.fixture
def world(database_url: str, org: SimulatedOrg) -> Iterator[World]:
    until = org.start + timedelta(days=org.days)
    with timed_app(database_url) as t:
        # Wednesday 09:00 UTC: London works, San Francisco sleeps (quiet hours differ).
        t.clock.now = until + timedelta(hours=9)
        t.make.admin  # noqa: B018 - the loaders act as the first administrator
        load_org(t.app, org)
        run = analysis.check_run(t.app, None, analysis.AnalysisParams(until=until, seed=1))
        analyst = t.make.person("Ana Lyst", role=Role.ANALYST)
        with t.app.db.read() as conn:
            largest = analysis_store.communities(conn, run["id"])[0]["community_id"]
            members = [m for m in analysis_store.members(conn, run["id"], largest) if m["active"]]
        yield World(t, org, until, run["id"], analyst, largest, members)


@pytest.fixture
def personal(world: World, database_url: str) -> Iterator[TestClient]:
    """A second server on the same database with person-level results switched on."""
    kith = build_app(
        make_settings(database_url, person_level_analysis=True), clock=world.t.clock, hasher=FAST_HASHER
    )
    with TestClient(create_api(kith)) as client:
        yield client
    kith.close()


def sign_in(world: World, person_id: int) -> Actor:
    """A simulated person (imported from the roster, with no password) signed in."""
    app = world.t.app
    auth.do_set_password(app, person_id, PASSWORD)
    with app.db.read() as conn:
        person = people_store.get(conn, person_id)
    assert person is not None
    return Actor(person, Role.MEMBER, auth.check_login(app, person.email, PASSWORD).token)


def call(client: TestClient, who: Actor, method: str, path: str, body: Any = None) -> Any:
    return client.request(method, API + path, json=body, headers=who.headers)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def expected_owners(members: list[dict[str, Any]]) -> list[int]:
    """Hubs by z (then degree, then id), at most 3; the most central others make up 2."""

    def rank(m: dict[str, Any]) -> tuple[float, int, int]:
        z = m["metrics"]["z"]
        return (-(z if z is not None else float("-inf")), -m["metrics"]["degree"], m["person_id"])

    ordered = sorted(members, key=rank)
    owners = [m["person_id"] for m in ordered if m["role"] == "hub"][:3]
    for m in ordered:
        if len(owners) >= 2:
            break
        if m["person_id"] not in owners:
            owners.append(m["person_id"])
    return owners


def create(world: World, body: Any = None, community: int | None = None) -> dict[str, Any]:
    path = f"/analysis/communities/{community or world.community}/space"
    made: dict[str, Any] = ok(call(world.client, world.analyst, "POST", path, body), 201)
    return made


def last_event(world: World) -> int:
    with world.t.app.db.read() as conn:
        return event_store.last_id(conn)


# -- the proposal -------------------------------------------------------------------------


def test_the_proposal_names_the_community_after_its_make_up_and_its_hubs_own_it(
    world: World, personal: TestClient
) -> None:
    members, size = world.members, len(world.members)
    # The community found is (mostly) one planted community.
    planted = {p.email: p.community for p in world.org.people}
    _, most = Counter(planted[m["email"]] for m in members).most_common(1)[0]
    assert most / size >= 0.8

    proposal = ok(
        call(world.client, world.analyst, "GET", f"/analysis/communities/{world.community}/proposal")
    )
    department, in_department = Counter(m["department"] for m in members).most_common(1)[0]
    office, in_office = Counter(m["location"] for m in members).most_common(1)[0]
    assert in_department >= world.k
    assert in_department / size >= 0.25
    assert in_office >= world.k
    assert in_office / size >= 0.2
    left, right = proposal["name"].split(" · ")
    assert department in left.split(" & ")
    assert office in right.split("–")
    assert proposal["slug"] == slug_for(proposal["name"])
    assert proposal["slug"].isascii()
    assert proposal["visibility"] == "private"
    assert proposal["kind"] == "community"
    assert proposal["member_count"] == size
    assert proposal["run_id"] == world.run_id
    assert proposal["description"].startswith(
        f"Made from community {world.community} of analysis run {world.run_id}: {size} people"
    )
    assert f"{department} {round(100 * in_department / size)}%" in proposal["description"]
    assert proposal["makeup"]["departments"]["cells"][department] == in_department
    assert proposal["makeup"]["timezone_count"] == len({m["timezone"] for m in members})
    # Person-level results are off: aggregates only, and nothing was logged.
    assert "members" not in proposal
    assert "owners" not in proposal
    assert proposal["owner_count"] == len(expected_owners(members))
    assert proposal["space"] is None

    full = ok(call(personal, world.analyst, "GET", f"/analysis/communities/{world.community}/proposal"))
    hubs = [m for m in members if m["role"] == "hub"]
    assert hubs, "the planted community has a hub"
    owners = [o["person_id"] for o in full["owners"]]
    assert owners == expected_owners(members)
    assert {o["person_id"] for o in full["owners"] if o["role"] == "hub"} == {
        h["person_id"] for h in hubs[:3]
    }
    assert sorted(m["person_id"] for m in full["members"]) == sorted(m["person_id"] for m in members)
    log = ok(call(world.client, world.t.make.admin, "GET", "/analysis/access-log"))
    assert [entry["what"] for entry in log] == [f"proposal for community {world.community}"]

    listed = ok(call(world.client, world.analyst, "GET", "/analysis/proposals"))
    assert listed["run_id"] == world.run_id
    assert not listed["person_level"]
    assert listed["proposals"][0] == proposal
    assert all(p["size"] >= world.k for p in listed["proposals"])


def test_names_fall_back_to_topic_words_and_counts() -> None:
    spread = {
        "departments": {"Sales": 3, "Legal": 3, "Ops": 3, "Finance": 3},
        "locations": {"London": 8, "Paris": 4},
    }
    titles = [(i, "Pricing the renewals for Acme") for i in range(1, 6)] + [(9, "Pricing alone")]
    words = topic_words(titles, {1, 2, 3, 4, 5, 6}, 12, 5)
    assert words == [("acme", 5), ("pricing", 5), ("renewals", 5)]  # 9 is not a member
    assert suggest_name(spread, 12, 5, [w for w, _ in words]) == "Acme & Pricing · London"
    assert suggest_name(spread, 12, 5, []) == "4 departments · London"
    # Groups under the minimum size never name a community.
    assert (
        suggest_name({"departments": {"Sales": 4}, "locations": {"Oslo": 4}}, 4, 5, [])
        == "1 department · 1 office"
    )
    assert topic_words([(1, "Hello world")], {1}, 12, 5) == []


def test_the_slug_suggested_is_free(world: World) -> None:
    proposal = ok(
        call(world.client, world.analyst, "GET", f"/analysis/communities/{world.community}/proposal")
    )
    taken = proposal["slug"]
    ok(call(world.client, world.analyst, "POST", "/spaces", {"name": "Someone's", "slug": taken}), 201)
    again = ok(call(world.client, world.analyst, "GET", f"/analysis/communities/{world.community}/proposal"))
    assert again["slug"] == f"{taken}-2"
    made = create(world)
    assert made["space"]["slug"] == f"{taken}-2"


# -- making the space -----------------------------------------------------------------------


def test_one_call_makes_the_space_its_hubs_own_and_invites_everyone_else(world: World) -> None:
    app = world.t.app
    proposal = ok(
        call(world.client, world.analyst, "GET", f"/analysis/communities/{world.community}/proposal")
    )
    before = last_event(world)
    made = create(world)
    space = made["space"]
    assert space["community_id"] == world.community
    assert (space["name"], space["slug"], space["description"]) == (
        proposal["name"],
        proposal["slug"],
        proposal["description"],
    )
    assert space["visibility"] == "private"
    assert space["kind"] == "community"
    assert space["my_role"] is None  # the analyst made it, and is not in it
    owners = expected_owners(world.members)
    invitees = sorted({m["person_id"] for m in world.members} - set(owners))
    assert (made["owners"], made["invited"]) == (len(owners), len(invitees))
    assert "invited_ids" not in made
    assert "owner_ids" not in made

    with app.db.read() as conn:
        memberships = space_store.list_members(conn, space["id"])
        invited = invitation_store.for_space(conn, space["id"])
        told = {
            n.person_id: n
            for pid in invitees
            for n in notification_store.list_for(conn, pid, before_id=None, limit=10)
            if n.kind == "invitation"
        }
        invitee_people = people_store.get_many(conn, invitees)
    assert sorted((m.person_id, m.role.value) for m in memberships) == sorted((o, "owner") for o in owners)
    assert [i.person_id for i in sorted(invited, key=lambda i: i.person_id)] == invitees
    assert {(i.status, i.role.value, i.invited_by) for i in invited} == {
        ("pending", "member", world.analyst.id)
    }

    # Invitations reach exactly the non-owner members, held outside their working hours.
    assert sorted(told) == invitees
    for pid, notice in told.items():
        person = invitee_people[pid]
        assert notice.held is not hours.is_working(person.hours, person.timezone, app.clock())
        assert notice.payload["space_id"] == space["id"]
        assert notice.payload["space_name"] == space["name"]
    held = {pid for pid, n in told.items() if n.held}
    assert held
    assert held != set(invitees)

    events = list_since(app, before)
    kinds = Counter(e.type for e in events)
    assert kinds == Counter(
        {
            "space.created": 1,
            "member.added": len(owners),
            "invitation.created": len(invitees),
            "notification.created": len(invitees) - len(held),
        }
    )
    assert sorted(e.payload["person_id"] for e in events if e.type == "member.added") == sorted(owners)
    assert sorted(e.audience_id for e in events if e.type == "invitation.created") == invitees
    assert {e.audience_id for e in events if e.type == "notification.created"} == set(invitees) - held
    assert all(e.space_id is None for e in events if e.type.startswith(("invitation.", "notification.")))
    created = next(e for e in events if e.type == "invitation.created")
    assert created.payload["space"]["name"] == space["name"]

    # A community has one space: the second call names it, and changes nothing.
    again = call(world.client, world.analyst, "POST", f"/analysis/communities/{world.community}/space")
    assert again.status_code == 409
    error = again.json()["error"]
    assert space["name"] in error["message"]
    assert space["slug"] in error["message"]
    assert error["fields"] == {"community_id": f"already made into space {space['id']}"}
    assert last_event(world) == events[-1].id
    # The proposal now points at the space; the access log has the creation.
    proposal = ok(
        call(world.client, world.analyst, "GET", f"/analysis/communities/{world.community}/proposal")
    )
    assert proposal["space"]["id"] == space["id"]
    log = ok(call(world.client, world.t.make.admin, "GET", "/analysis/access-log"))
    assert log[0]["what"] == f"space {space['id']} made from community {world.community}"


def test_overrides_and_person_level_creation(world: World, personal: TestClient) -> None:
    body = {
        "name": "Product Voices",
        "slug": "product-voices",
        "description": "Where product people meet.",
        "visibility": "public",
        "owners": [world.analyst.id],
    }
    made = ok(
        call(personal, world.analyst, "POST", f"/analysis/communities/{world.community}/space", body), 201
    )
    space = made["space"]
    assert (space["name"], space["slug"], space["description"], space["visibility"]) == (
        "Product Voices",
        "product-voices",
        "Where product people meet.",
        "public",
    )
    assert space["my_role"] == "owner"
    assert made["owner_ids"] == [world.analyst.id]
    # Every member of the community is invited, the suggested hubs included.
    assert sorted(made["invited_ids"]) == sorted(m["person_id"] for m in world.members)


# -- invitations ----------------------------------------------------------------------------


def test_invitees_accept_or_decline_and_the_uninvited_see_nothing(world: World) -> None:
    c = world.client
    space = create(world)["space"]
    sid = space["id"]
    owners = expected_owners(world.members)
    invitees = sorted({m["person_id"] for m in world.members} - set(owners))
    accepting, declining = sign_in(world, invitees[0]), sign_in(world, invitees[1])
    outsider = sign_in(world, outsider_id(world))

    mine = ok(call(c, accepting, "GET", "/invitations"))
    assert [(i["space_id"], i["status"]) for i in mine] == [(sid, "pending")]
    assert mine[0]["space"]["name"] == space["name"]
    assert mine[0]["space"]["description"] == space["description"]
    # An invitee sees the space in the invitation only.
    for path in (f"/spaces/{sid}", f"/spaces/{sid}/members", f"/spaces/{sid}/topics"):
        assert call(c, accepting, "GET", path).status_code == 404
    assert sid not in [s["id"] for s in ok(call(c, accepting, "GET", "/spaces"))]
    assert call(c, accepting, "POST", f"/spaces/{sid}/join").status_code == 404

    before = last_event(world)
    member = ok(call(c, accepting, "POST", f"/invitations/{sid}/accept"))
    assert (member["space_id"], member["person_id"], member["role"]) == (sid, accepting.id, "member")
    assert ok(call(c, accepting, "GET", f"/spaces/{sid}"))["my_role"] == "member"
    events = list_since(world.t.app, before)
    assert [(e.type, e.audience_id) for e in events] == [
        ("member.added", None),
        ("space.updated", None),
        ("invitation.updated", accepting.id),
    ]
    assert events[1].payload["member_count"] == len(owners) + 1
    assert events[2].payload["status"] == "accepted"
    assert (
        ok(call(c, accepting, "POST", f"/invitations/{sid}/accept"))["role"] == "member"
    )  # again: no change
    assert last_event(world) == events[-1].id
    assert call(c, accepting, "POST", f"/invitations/{sid}/decline").status_code == 409

    declined = ok(call(c, declining, "POST", f"/invitations/{sid}/decline"))
    assert declined["status"] == "declined"
    assert declined["responded_at"]
    assert ok(call(c, declining, "POST", f"/invitations/{sid}/decline"))["status"] == "declined"
    assert call(c, declining, "GET", f"/spaces/{sid}").status_code == 404
    assert ok(call(c, declining, "GET", "/invitations?status=declined"))[0]["space_id"] == sid
    assert ok(call(c, declining, "GET", "/invitations?status=pending")) == []

    # The uninvited: nothing of the private space on any path, as if it did not exist.
    missing = 999_999
    for method, path in (
        ("GET", "/spaces/{}"),
        ("GET", "/spaces/{}/members"),
        ("GET", "/spaces/{}/topics"),
        ("GET", "/spaces/{}/invitations"),
        ("GET", "/spaces/{}/community"),
        ("POST", "/spaces/{}/join"),
        ("POST", "/invitations/{}/accept"),
        ("POST", "/invitations/{}/decline"),
        ("DELETE", f"/spaces/{{}}/invitations/{invitees[2]}"),
    ):
        response = call(c, outsider, method, path.format(sid))
        assert response.status_code == 404, (path, response.text)
        assert space["name"] not in response.text
        assert space["slug"] not in response.text
        absent = call(c, outsider, method, path.format(missing))
        assert absent.json()["error"]["message"].replace(str(missing), "#") == response.json()["error"][
            "message"
        ].replace(str(sid), "#")
    assert (
        call(c, outsider, "POST", f"/spaces/{sid}/invitations", {"person_ids": [outsider.id]}).status_code
        == 404
    )
    assert ok(call(c, outsider, "GET", "/invitations")) == []
    assert sid not in [s["id"] for s in ok(call(c, outsider, "GET", "/spaces"))]


def test_owners_invite_list_and_withdraw(world: World) -> None:
    c = world.client
    space = create(world)["space"]
    sid = space["id"]
    owner = sign_in(world, expected_owners(world.members)[0])
    invitees = sorted({m["person_id"] for m in world.members} - set(expected_owners(world.members)))
    joined = sign_in(world, invitees[0])
    ok(call(c, joined, "POST", f"/invitations/{sid}/accept"))
    declining = sign_in(world, invitees[1])
    ok(call(c, declining, "POST", f"/invitations/{sid}/decline"))
    newcomer = sign_in(world, outsider_id(world))

    listed = ok(call(c, owner, "GET", f"/spaces/{sid}/invitations"))
    assert listed[0]["status"] == "pending"  # pending first
    assert {i["person_id"]: i["status"] for i in listed}[declining.id] == "declined"
    assert listed[0]["space"] is None

    before = last_event(world)
    body = {"person_ids": [newcomer.id, joined.id, declining.id, invitees[2]], "role": "owner"}
    result = ok(call(c, owner, "POST", f"/spaces/{sid}/invitations", body), 201)
    assert [(i["person_id"], i["role"], i["status"]) for i in result["invited"]] == [
        (newcomer.id, "owner", "pending")
    ]
    assert result["skipped"] == {"members": [joined.id], "pending": [invitees[2]], "declined": [declining.id]}
    created = [e for e in list_since(world.t.app, before) if e.type == "invitation.created"]
    assert [e.audience_id for e in created] == [newcomer.id]
    # The new owner-to-be accepts into the owner role.
    assert ok(call(c, newcomer, "POST", f"/invitations/{sid}/accept"))["role"] == "owner"

    # A plain member manages no invitations.
    assert call(c, joined, "GET", f"/spaces/{sid}/invitations").status_code == 403
    assert (
        call(c, joined, "POST", f"/spaces/{sid}/invitations", {"person_ids": [declining.id]}).status_code
        == 403
    )
    assert call(c, joined, "DELETE", f"/spaces/{sid}/invitations/{invitees[2]}").status_code == 403

    # Withdrawing a pending invitation: gone for the invitee, who is told.
    waiting = sign_in(world, invitees[2])
    before = last_event(world)
    assert call(c, owner, "DELETE", f"/spaces/{sid}/invitations/{invitees[2]}").status_code == 204
    assert ok(call(c, waiting, "GET", "/invitations")) == []
    assert call(c, waiting, "POST", f"/invitations/{sid}/accept").status_code == 404
    [withdrawn] = list_since(world.t.app, before)
    assert (withdrawn.type, withdrawn.audience_id, withdrawn.payload["status"]) == (
        "invitation.updated",
        invitees[2],
        "withdrawn",
    )
    assert call(c, owner, "DELETE", f"/spaces/{sid}/invitations/{invitees[2]}").status_code == 404
    assert call(c, owner, "DELETE", f"/spaces/{sid}/invitations/{declining.id}").status_code == 409

    # Bad input names the field and changes nothing.
    before = last_event(world)
    for bad, field in (
        ({"person_ids": []}, "person_ids"),
        ({"person_ids": [999_999]}, "person_ids"),
        ({"person_ids": [0]}, "person_ids.0"),
        ({"person_ids": ["5"]}, "person_ids.0"),
        ({"person_ids": [newcomer.id], "role": "boss"}, "role"),
        ({"person_ids": [newcomer.id], "suggested": True}, "person_ids"),
        ({"suggested": False}, "person_ids"),
        ({"people": [1]}, "people"),
    ):
        response = call(c, owner, "POST", f"/spaces/{sid}/invitations", bad)
        assert response.status_code == 422, (bad, response.text)
        assert field in response.json()["error"]["fields"], (bad, response.text)
    assert call(c, owner, "GET", f"/spaces/{sid}/invitations?status=lost").status_code == 422
    assert last_event(world) == before


def outsider_id(world: World) -> int:
    """A simulated person outside the community (no administrator, no analyst)."""
    with world.t.app.db.read() as conn:
        found = analysis_store.members(conn, world.run_id)
    return min(m["person_id"] for m in found if m["community_id"] not in (None, world.community))


# -- drift ------------------------------------------------------------------------------------


def _move(world: World, movers: list[str], into: list[str], leavers: list[str], to: list[str]) -> None:
    """Recent two-way mail that pulls ``movers`` into one group and ``leavers`` into another."""
    records: list[InteractionRecord] = []

    def talk(person: str, others: list[str]) -> None:
        for other in others:
            for day in range(6):
                at = world.until - timedelta(days=1 + day, hours=1)
                for a, b, later in ((person, other, 0), (other, person, 5)):
                    context = f"<drift-{len(records)}@example.test>"
                    records.append(
                        InteractionRecord(a, b, "edge", at + timedelta(minutes=later), "csv", 1.0, context)
                    )

    for person in movers:
        talk(person, into)
    for person in leavers:
        talk(person, to)
    interactions.load(world.t.app, system_viewer(world.t.app), "edges", "drift test", records)


def test_a_later_run_suggests_additions_and_departures_and_changes_nothing(
    world: World, personal: TestClient
) -> None:
    c, app = world.client, world.t.app
    space = create(world)["space"]
    sid = space["id"]
    owners = expected_owners(world.members)
    owner = sign_in(world, owners[0])
    invitees = sorted({m["person_id"] for m in world.members} - set(owners))
    stay, leavers = [m for m in world.members if m["person_id"] not in invitees[-2:]], invitees[-2:]
    for pid in leavers:  # they join the space, then drift away from the community
        ok(call(c, sign_in(world, pid), "POST", f"/invitations/{sid}/accept"))
    declining = sign_in(world, invitees[0])
    ok(call(c, declining, "POST", f"/invitations/{sid}/decline"))

    unchanged = ok(call(c, owner, "GET", f"/spaces/{sid}/community"))
    assert (unchanged["space_run_id"], unchanged["run_id"], unchanged["in_run"]) == (
        world.run_id,
        world.run_id,
        True,
    )
    assert unchanged["suggested_additions"] == []
    assert unchanged["suggested_departures"] == []

    with app.db.read() as conn:
        rows = analysis_store.communities(conn, world.run_id)
        other = rows[1]["community_id"]
        others = [m for m in analysis_store.members(conn, world.run_id, other) if m["role"] != "hub"]
    emails = {m["person_id"]: m["email"] for m in world.members}
    movers = [m["email"] for m in others[:3]]
    _move(
        world,
        movers,
        [m["email"] for m in stay],
        [emails[pid] for pid in leavers],
        [m["email"] for m in others[3:]],
    )
    second = analysis.check_run(app, None, analysis.AnalysisParams(until=world.until, seed=1))
    with app.db.read() as conn:
        now_in = {m["person_id"] for m in analysis_store.members(conn, second["id"], world.community)}
        members_before = space_store.member_ids(conn, sid)
        invited_before = invitation_store.statuses(conn, sid)
    mover_ids = {m["person_id"] for m in others[:3]}
    assert mover_ids <= now_in
    assert not set(leavers) & now_in

    drift = ok(call(c, owner, "GET", f"/spaces/{sid}/community"))
    assert (drift["space_run_id"], drift["run_id"], drift["community_id"]) == (
        world.run_id,
        second["id"],
        world.community,
    )
    expected_additions = sorted(now_in - members_before - set(invited_before))
    assert mover_ids <= set(expected_additions)
    assert declining.id not in expected_additions
    assert [p["person_id"] for p in drift["suggested_additions"]] == expected_additions
    assert sorted(p["person_id"] for p in drift["suggested_departures"]) == sorted(leavers)
    assert (drift["additions"], drift["departures"]) == (len(expected_additions), 2)
    with app.db.read() as conn:  # nothing was added or removed
        assert space_store.member_ids(conn, sid) == members_before
        assert invitation_store.statuses(conn, sid) == invited_before

    # Analysts see counts; the people only with person-level results on (and logged).
    counted = ok(call(c, world.analyst, "GET", f"/spaces/{sid}/community"))
    assert counted["additions"] == len(expected_additions)
    assert "suggested_additions" not in counted
    named = ok(call(personal, world.analyst, "GET", f"/spaces/{sid}/community"))
    assert [p["person_id"] for p in named["suggested_additions"]] == expected_additions
    assert call(c, sign_in(world, leavers[0]), "GET", f"/spaces/{sid}/community").status_code == 403

    # The owner invites the suggested additions in one call; then there are none.
    before = last_event(world)
    result = ok(call(c, owner, "POST", f"/spaces/{sid}/invitations", {"suggested": True}), 201)
    assert [i["person_id"] for i in result["invited"]] == expected_additions
    assert (
        sorted(e.audience_id for e in list_since(app, before) if e.type == "invitation.created")
        == expected_additions
    )
    after = ok(call(c, owner, "GET", f"/spaces/{sid}/community"))
    assert after["suggested_additions"] == []
    assert after["additions"] == 0
    assert len(after["suggested_departures"]) == 2  # departures stay for the owners to act on
    ok(call(c, owner, "DELETE", f"/spaces/{sid}/members/{leavers[0]}"), 204)
    assert [
        p["person_id"] for p in ok(call(c, owner, "GET", f"/spaces/{sid}/community"))["suggested_departures"]
    ] == [leavers[1]]


# -- permissions and bad input ----------------------------------------------------------------


def test_members_cannot_use_the_analyst_routes(world: World) -> None:
    c = world.client
    member = sign_in(world, world.members[0]["person_id"])
    for method, path in (
        ("GET", "/analysis/proposals"),
        ("GET", f"/analysis/communities/{world.community}/proposal"),
        ("POST", f"/analysis/communities/{world.community}/space"),
    ):
        response = call(c, member, method, path)
        assert response.status_code == 403, (path, response.text)
    assert call(c, member, "GET", "/analysis/proposals").json()["error"]["code"] == "forbidden"
    with world.t.app.db.read() as conn:
        assert space_store.list_visible(conn, world.analyst.id, see_private=True, include_archived=True) == []


def test_bad_input_names_the_field_and_creates_nothing(world: World) -> None:
    c, path = world.client, f"/analysis/communities/{world.community}/space"
    before = last_event(world)
    for body, field in (
        ({"visibility": "secret"}, "visibility"),
        ({"owners": []}, "owners"),
        ({"owners": [999_999]}, "owners"),
        ({"owners": ["1"]}, "owners.0"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"run_id": 0}, "run_id"),
        ({"colour": "red"}, "colour"),
    ):
        response = call(c, world.analyst, "POST", path, body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["error"]["fields"], (body, response.text)
    assert call(c, world.analyst, "POST", "/analysis/communities/999999/space").status_code == 404
    assert call(c, world.analyst, "GET", "/analysis/communities/999999/proposal").status_code == 404
    assert call(c, world.analyst, "GET", "/analysis/communities/0/proposal").status_code == 422
    assert call(c, world.analyst, "GET", "/analysis/proposals?run=999999").status_code == 404
    ok(call(c, world.analyst, "POST", "/spaces", {"name": "Taken", "slug": "taken"}), 201)
    taken = call(c, world.analyst, "POST", path, {"slug": "taken"})
    assert taken.status_code == 409
    assert taken.json()["error"]["fields"] == {"slug": "is taken"}
    with world.t.app.db.read() as conn:
        assert [
            s.slug
            for s, _ in space_store.list_visible(
                conn, world.analyst.id, see_private=True, include_archived=True
            )
        ] == ["taken"]
    assert [e.type for e in list_since(world.t.app, before)] == ["space.created", "member.added"]


def test_small_communities_are_not_proposed_nor_made_into_spaces(world: World, database_url: str) -> None:
    with world.t.app.db.read() as conn:
        sizes = {r["community_id"]: r["size"] for r in analysis_store.communities(conn, world.run_id)}
    big = sizes[world.community]
    kith = build_app(
        make_settings(database_url, min_group_size=big + 1), clock=world.t.clock, hasher=FAST_HASHER
    )
    try:
        with TestClient(create_api(kith)) as strict:
            for method, path in (
                ("GET", f"/analysis/communities/{world.community}/proposal"),
                ("POST", f"/analysis/communities/{world.community}/space"),
            ):
                response = call(strict, world.analyst, method, path)
                assert response.status_code == 404, response.text
                assert response.json()["error"]["message"] == f"no community with id {world.community}"
            listed = ok(call(strict, world.analyst, "GET", "/analysis/proposals"))
            assert listed["proposals"] == []
            assert listed["suppressed_communities"] == len(sizes)
    finally:
        kith.close()
