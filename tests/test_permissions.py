"""Who may do what, through the real HTTP API.

The heart of it is a matrix (the ``OUTSIDER_REQUESTS`` table): for every endpoint that
touches a space, a topic or a post, a signed-in person who is not a member of a private
space gets 404, exactly as if the thing did not exist, the body names nothing of it, and
nothing changes. The other tests walk the rules of ``kith.domain.permissions`` one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.conftest import Actor, Factory

from kith.domain.models import Event, Role
from kith.domain.permissions import can_receive_event

API = "/api/v1"
MISSING = 999_999

SPACE_NAME = "Project Nightjar"
SPACE_SLUG = "project-nightjar"
SPACE_DESCRIPTION = "Codename Halcyon merger talks"
TOPIC_TITLE = "Quillfeather acquisition terms"
SECRET_WORD = "zanzibarite"
SECRETS = (SPACE_NAME, SPACE_SLUG, "Nightjar", "Halcyon", TOPIC_TITLE, "Quillfeather", SECRET_WORD)


@dataclass
class World:
    """A private space with a topic, replies, mentions and reactions; and who is who."""

    owner: Actor
    member: Actor
    outsider: Actor
    analyst: Actor
    admin: Actor
    space: int
    topic: int
    post: int
    reply: int
    reply_by_email: int
    reply_to_space: int

    def ids(self, *, missing: bool = False) -> dict[str, int]:
        """Values for the placeholders of a request template; ``missing`` swaps in ids of nothing."""
        things = {
            "space": self.space,
            "topic": self.topic,
            "post": self.post,
            "reply": self.reply,
        }
        if missing:
            things = dict.fromkeys(things, MISSING)
        return {**things, "owner": self.owner.id, "member": self.member.id}


def call(client: TestClient, actor: Actor, method: str, path: str, body: Any = None) -> Response:
    return client.request(method, API + path, json=body, headers=actor.headers)


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def add_member(client: TestClient, by: Actor, space: int, person: Actor, role: str = "member") -> None:
    ok(call(client, by, "POST", f"/spaces/{space}/members", {"person_id": person.id, "role": role}), 201)


def new_space(client: TestClient, owner: Actor, name: str, **fields: Any) -> int:
    space_id: int = ok(call(client, owner, "POST", "/spaces", {"name": name, **fields}), 201)["id"]
    return space_id


def new_topic(client: TestClient, author: Actor, space: int, title: str, body: str) -> tuple[int, int]:
    created = ok(call(client, author, "POST", f"/spaces/{space}/topics", {"title": title, "body": body}), 201)
    return created["topic"]["id"], created["post"]["id"]


def reply(client: TestClient, author: Actor, topic: int, body: str) -> int:
    post_id: int = ok(call(client, author, "POST", f"/topics/{topic}/posts", {"body": body}), 201)["id"]
    return post_id


def build_world(client: TestClient, make: Factory) -> World:
    owner = make.person("Olga Owner", email="olga@example.com")
    member = make.person("Mika Member", email="mika@example.com")
    outsider = make.person("Nina Outsider", email="nina.outsider@example.com")
    analyst = make.person("Ari Analyst", email="ari@example.com", role=Role.ANALYST)
    space = new_space(
        client,
        owner,
        SPACE_NAME,
        slug=SPACE_SLUG,
        description=SPACE_DESCRIPTION,
        visibility="private",
    )
    add_member(client, owner, space, member)
    topic, post = new_topic(client, owner, space, TOPIC_TITLE, f"Terms are {SECRET_WORD}; keep it quiet")
    first = reply(client, member, topic, f"Should we loop in @nina.outsider about the {SECRET_WORD}?")
    by_email = reply(client, member, topic, "Or ask @nina.outsider@example.com directly")
    to_space = reply(client, owner, topic, "@space no, this stays in the room")
    ok(call(client, member, "POST", f"/posts/{post}/reactions", {"emoji": "thumbsup"}))
    ok(call(client, owner, "POST", f"/posts/{first}/reactions", {"emoji": "eyes"}))
    return World(owner, member, outsider, analyst, make.admin, space, topic, post, first, by_email, to_space)


def snapshot(client: TestClient, world: World) -> dict[str, Any]:
    """Everything a member sees of the private space, to prove a request changed nothing."""
    owner = world.owner
    return {
        "space": ok(call(client, owner, "GET", f"/spaces/{world.space}")),
        "members": ok(call(client, owner, "GET", f"/spaces/{world.space}/members")),
        "topics": ok(call(client, owner, "GET", f"/spaces/{world.space}/topics")),
        "posts": ok(call(client, owner, "GET", f"/topics/{world.topic}/posts")),
        "history": ok(call(client, owner, "GET", f"/posts/{world.post}/history")),
        "listed": [s["id"] for s in ok(call(client, world.outsider, "GET", "/spaces?include_archived=true"))],
    }


def assert_reveals_nothing(response: Response) -> None:
    text = response.text.lower()
    for secret in SECRETS:
        assert secret.lower() not in text, (secret, response.text)


def fill(template: Any, ids: dict[str, int]) -> Any:
    """A path or body with ``{name}`` placeholders filled; a whole-string placeholder becomes an int."""
    if isinstance(template, str):
        whole = re.fullmatch(r"\{(\w+)\}", template)
        return ids[whole.group(1)] if whole else template.format(**ids)
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


# Every endpoint that reaches into a space, its topics or its posts. A non-member of the
# private space gets 404 from each, reads and writes alike.
OUTSIDER_REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", "/spaces/{space}", None),
    ("GET", "/spaces/{space}/members", None),
    ("GET", "/spaces/{space}/topics", None),
    ("GET", "/spaces/{space}/topics?questions=true&unresolved=true", None),
    ("GET", "/topics/{topic}", None),
    ("GET", "/topics/{topic}/posts", None),
    ("GET", "/posts/{post}", None),
    ("GET", "/posts/{reply}", None),
    ("GET", "/posts/{post}/history", None),
    ("GET", f"/search?q={SECRET_WORD}&space_id={{space}}", None),
    ("POST", "/spaces/{space}/topics", {"title": "Hello", "body": "let me in"}),
    ("POST", "/topics/{topic}/posts", {"body": "let me in"}),
    ("POST", "/topics/{topic}/posts", {"body": "let me in", "reply_to_id": "{reply}"}),
    ("POST", "/posts/{post}/reactions", {"emoji": "thumbsup"}),
    ("POST", "/posts/{reply}/reactions", {"emoji": "rocket"}),
    ("DELETE", "/posts/{post}/reactions/thumbsup", None),
    ("PATCH", "/posts/{post}", {"body": "defaced"}),
    ("DELETE", "/posts/{reply}", None),
    ("POST", "/topics/{topic}/resolve", {"resolved": True}),
    ("POST", "/topics/{topic}/accept", {"post_id": "{reply}"}),
    ("POST", "/spaces/{space}/join", None),
    ("POST", "/spaces/{space}/leave", None),
    ("PATCH", "/spaces/{space}", {"name": "Taken over"}),
    ("PATCH", "/spaces/{space}", {"archived": True}),
    ("POST", "/spaces/{space}/archive", None),
    ("POST", "/spaces/{space}/members", {"person_id": "{owner}"}),
    ("DELETE", "/spaces/{space}/members/{member}", None),
    ("PUT", "/spaces/{space}/notification-level", {"notification_level": "all"}),
    ("POST", "/spaces/{space}/read", {}),
    ("GET", "/posts/{post}/seen", None),
    ("GET", "/topics/{topic}/routing", None),
    ("POST", "/topics/{topic}/routing", None),
    ("GET", "/spaces/{space}/send-time", None),
    ("GET", f"/similar?q={SECRET_WORD}&space={{space}}", None),
    ("GET", "/spaces/{space}/facts", None),
    ("GET", "/spaces/{space}/facts?overdue=true&sort=updated", None),
    ("POST", "/spaces/{space}/facts", {"title": "Hello", "body": "let me in"}),
    ("GET", "/spaces/{space}/corrections", None),
    ("GET", "/spaces/{space}/invitations", None),
    ("POST", "/spaces/{space}/invitations", {"suggested": True}),
    ("DELETE", "/spaces/{space}/invitations/{member}", None),
    ("GET", "/spaces/{space}/community", None),
    ("GET", "/spaces/{space}/metrics", None),
    ("GET", "/spaces/{space}/metrics?from=2020-01-01&to=2020-01-31&k=1", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    OUTSIDER_REQUESTS,
    ids=[f"{m} {p}" + (f" {b}" if b else "") for m, p, b in OUTSIDER_REQUESTS],
)
def test_non_member_gets_nothing_of_a_private_space(
    client: TestClient, make: Factory, method: str, path: str, body: Any
) -> None:
    world = build_world(client, make)
    before = snapshot(client, world)
    for who in (world.outsider, world.analyst):
        response = call(client, who, method, fill(path, world.ids()), fill(body, world.ids()))
        assert response.status_code == 404, (who.person.display_name, response.text)
        assert response.json()["error"]["code"] == "not_found"
        assert_reveals_nothing(response)
        # Indistinguishable from asking about something that does not exist at all.
        missing = call(
            client, who, method, fill(path, world.ids(missing=True)), fill(body, world.ids(missing=True))
        )
        assert missing.status_code == 404
        assert re.sub(r"\d+", "#", missing.text) == re.sub(r"\d+", "#", response.text)
    assert snapshot(client, world) == before


def test_matrix_covers_every_route_under_spaces_topics_and_posts(client: TestClient) -> None:
    """A new endpoint on a space, topic or post must be added to the matrix above."""
    covered = {(m, re.sub(r"\?.*", "", p)) for m, p, _ in OUTSIDER_REQUESTS}
    covered = {(m, re.sub(r"\{(reply|post)\}", "{post_id}", p)) for m, p in covered}
    covered = {(m, p.replace("{space}", "{space_id}").replace("{topic}", "{topic_id}")) for m, p in covered}
    covered = {(m, p.replace("{member}", "{person_id}").replace("/thumbsup", "/{emoji}")) for m, p in covered}
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        short = path.removeprefix(API)
        if not short.startswith(("/spaces/", "/topics/", "/posts/")):
            continue
        for method in operations:
            assert (method.upper(), short) in covered, f"{method.upper()} {short} is not in the matrix"


def test_non_member_does_not_see_the_private_space_listed(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    public = new_space(client, world.owner, "Open Square")
    for who in (world.outsider, world.analyst):
        for query in ("", "?include_archived=true"):
            response = call(client, who, "GET", f"/spaces{query}")
            assert [s["id"] for s in ok(response)] == [public]
            assert_reveals_nothing(response)
    assert {s["id"] for s in ok(call(client, world.member, "GET", "/spaces"))} == {world.space, public}


def test_search_finds_nothing_of_a_private_space_for_a_non_member(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    for who in (world.outsider, world.analyst, world.admin):
        for q in (SECRET_WORD, "Terms", "loop", "nina.outsider", "quiet"):
            response = call(client, who, "GET", f"/search?q={q}")
            assert ok(response) == {"query": q, "items": []}, (who.person.display_name, q)
    hits = ok(call(client, world.member, "GET", f"/search?q={SECRET_WORD}"))["items"]
    assert {h["post_id"] for h in hits} == {world.post, world.reply}


def test_mentions_in_a_private_space_stay_hidden_from_a_non_member(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    response = call(client, world.outsider, "GET", "/me/mentions")
    assert ok(response)["items"] == []
    assert_reveals_nothing(response)
    # The mentions were recorded; membership is what shows them.
    add_member(client, world.owner, world.space, world.outsider)
    mentioned = ok(call(client, world.outsider, "GET", "/me/mentions"))["items"]
    assert [(m["post_id"], m["kind"]) for m in mentioned] == [
        (world.reply_to_space, "space"),
        (world.reply_by_email, "person"),
        (world.reply, "person"),
    ]
    assert {m["post_id"] for m in ok(call(client, world.member, "GET", "/me/mentions"))["items"]} == {
        world.reply_to_space
    }
    assert ok(call(client, world.owner, "GET", "/me/mentions"))["items"] == []  # own @space


def test_space_mentions_reach_members_only_and_once(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    public = new_space(client, world.owner, "Open Square")
    add_member(client, world.owner, public, world.member)
    topic, _post = new_topic(client, world.owner, public, "Open", "hello")
    both = reply(client, world.owner, topic, "@space and especially @mika")
    everyone = reply(client, world.owner, topic, "@everyone please read")
    mentioned = ok(call(client, world.member, "GET", "/me/mentions?limit=2"))
    assert [(m["post_id"], m["kind"]) for m in mentioned["items"]] == [(everyone, "space"), (both, "person")]
    rest = ok(call(client, world.member, "GET", f"/me/mentions?cursor={mentioned['next_cursor']}"))
    assert [m["post_id"] for m in rest["items"]] == [world.reply_to_space]
    # Reading a public space is not being in it: @space does not reach a non-member.
    assert ok(call(client, world.outsider, "GET", f"/topics/{topic}/posts"))["items"]
    assert ok(call(client, world.outsider, "GET", "/me/mentions"))["items"] == []


def test_members_read_and_post(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    member, space, topic = world.member, world.space, world.topic
    assert ok(call(client, member, "GET", f"/spaces/{space}"))["name"] == SPACE_NAME
    assert len(ok(call(client, member, "GET", f"/spaces/{space}/members"))) == 2
    assert [t["id"] for t in ok(call(client, member, "GET", f"/spaces/{space}/topics"))["items"]] == [topic]
    posts = ok(call(client, member, "GET", f"/topics/{topic}/posts"))["items"]
    assert [p["id"] for p in posts] == [world.post, world.reply, world.reply_by_email, world.reply_to_space]
    assert posts[0]["reactions"] == [{"emoji": "thumbsup", "count": 1, "person_ids": [member.id]}]
    new_topic(client, member, space, "Member topic", "members start topics")
    reply(client, member, topic, "and reply")
    ok(call(client, member, "POST", f"/posts/{world.reply_to_space}/reactions", {"emoji": "ok"}))


def test_non_member_reads_a_public_space_but_does_not_post(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    space = new_space(client, world.owner, "Open Square")
    topic, post = new_topic(client, world.owner, space, "Open topic", "everyone may read this plaza")
    outsider = world.outsider
    assert ok(call(client, outsider, "GET", f"/spaces/{space}"))["my_role"] is None
    assert ok(call(client, outsider, "GET", f"/spaces/{space}/topics"))["items"][0]["id"] == topic
    assert ok(call(client, outsider, "GET", f"/topics/{topic}/posts"))["items"][0]["id"] == post
    assert ok(call(client, outsider, "GET", "/search?q=plaza"))["items"][0]["post_id"] == post
    refused = call(client, outsider, "POST", f"/topics/{topic}/posts", {"body": "hi"})
    assert refused.status_code == 403, refused.text
    refused = call(client, outsider, "POST", f"/spaces/{space}/topics", {"title": "t", "body": "b"})
    assert refused.status_code == 403, refused.text
    assert len(ok(call(client, outsider, "GET", f"/topics/{topic}/posts"))["items"]) == 1
    # Joining is what it takes.
    ok(call(client, outsider, "POST", f"/spaces/{space}/join"))
    reply(client, outsider, topic, "now I may")


def test_join_of_a_private_space_is_refused_even_knowing_its_id(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    assert call(client, world.outsider, "POST", f"/spaces/{world.space}/join").status_code == 404
    assert call(client, world.outsider, "GET", f"/spaces/{world.space}/topics").status_code == 404
    members = ok(call(client, world.owner, "GET", f"/spaces/{world.space}/members"))
    assert world.outsider.id not in {m["person_id"] for m in members}


def test_only_the_author_edits(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    add_member(client, world.owner, world.space, world.admin)
    for who in (world.owner, world.admin):  # the space's owner and an admin, both members
        refused = call(client, who, "PATCH", f"/posts/{world.reply}", {"body": "not mine"})
        assert refused.status_code == 403, refused.text
    refused = call(client, world.member, "PATCH", f"/posts/{world.post}", {"body": "not mine"})
    assert refused.status_code == 403
    edited = ok(call(client, world.member, "PATCH", f"/posts/{world.reply}", {"body": "mine, edited"}))
    assert edited["source"] == "mine, edited"
    assert edited["version"] == 2


def test_author_owner_and_admin_delete_others_do_not(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    other = make.person("Otto Other")
    space = new_space(client, world.owner, "Open Square")
    add_member(client, world.owner, space, world.member)
    add_member(client, world.owner, space, other)
    topic, _first = new_topic(client, world.owner, space, "Deletions", "start")
    by_author, by_owner, by_admin = (reply(client, world.member, topic, f"post {n}") for n in range(3))
    for who in (other, world.outsider, world.analyst):
        assert call(client, who, "DELETE", f"/posts/{by_author}").status_code == 403
    assert ok(call(client, world.member, "DELETE", f"/posts/{by_author}"))["deleted"] is True
    assert ok(call(client, world.owner, "DELETE", f"/posts/{by_owner}"))["deleted"] is True
    assert ok(call(client, world.admin, "DELETE", f"/posts/{by_admin}"))["deleted"] is True
    gone = ok(call(client, other, "GET", f"/posts/{by_admin}"))
    assert (gone["source"], gone["html"], gone["reactions"]) == ("", "", [])


def test_only_owners_and_admins_manage_members_and_settings(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    space, member = world.space, world.member
    newcomer = make.person("Nell Newcomer")
    refusals = [
        ("POST", f"/spaces/{space}/members", {"person_id": newcomer.id}),
        ("POST", f"/spaces/{space}/members", {"person_id": member.id, "role": "owner"}),
        ("DELETE", f"/spaces/{space}/members/{world.owner.id}", None),
        ("PATCH", f"/spaces/{space}", {"name": "Renamed"}),
        ("PATCH", f"/spaces/{space}", {"visibility": "public"}),
        ("PATCH", f"/spaces/{space}", {"archived": True}),
        ("POST", f"/spaces/{space}/archive", None),
    ]
    before = snapshot(client, world)
    for method, path, body in refusals:
        response = call(client, member, method, path, body)
        assert response.status_code == 403, (method, path, response.text)
    assert snapshot(client, world) == before
    # The owner may; so may an administrator who is not a member.
    add_member(client, world.owner, space, newcomer)
    ok(call(client, world.owner, "DELETE", f"/spaces/{space}/members/{newcomer.id}"), 204)
    add_member(client, world.admin, space, newcomer)
    ok(call(client, world.admin, "DELETE", f"/spaces/{space}/members/{newcomer.id}"), 204)
    assert (
        ok(call(client, world.owner, "PATCH", f"/spaces/{space}", {"name": "Renamed"}))["name"] == "Renamed"
    )
    assert (
        ok(call(client, world.admin, "PATCH", f"/spaces/{space}", {"description": "x"}))["description"] == "x"
    )
    assert ok(call(client, world.admin, "POST", f"/spaces/{space}/archive"))["archived"] is True
    # A member may always leave.
    ok(call(client, member, "POST", f"/spaces/{space}/leave"), 204)


def test_archived_space_refuses_posts_but_stays_readable(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    ok(call(client, world.owner, "POST", f"/spaces/{world.space}/archive"))
    before = snapshot(client, world)
    writes = [
        ("POST", f"/spaces/{world.space}/topics", {"title": "t", "body": "b"}),
        ("POST", f"/topics/{world.topic}/posts", {"body": "late"}),
        ("PATCH", f"/posts/{world.reply}", {"body": "late edit"}),
        ("POST", f"/posts/{world.post}/reactions", {"emoji": "tada"}),
        ("POST", f"/topics/{world.topic}/resolve", {"resolved": True}),
    ]
    for method, path, body in writes:
        response = call(client, world.member, method, path, body)
        assert response.status_code == 403, (method, path, response.text)
    assert snapshot(client, world) == before
    assert len(ok(call(client, world.member, "GET", f"/topics/{world.topic}/posts"))["items"]) == 4
    assert call(client, world.outsider, "GET", f"/topics/{world.topic}/posts").status_code == 404


def test_announcements_only_owners_start_topics_members_reply(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    space = new_space(client, world.owner, "News", kind="announcements")
    add_member(client, world.owner, space, world.member)
    refused = call(client, world.member, "POST", f"/spaces/{space}/topics", {"title": "Mine", "body": "b"})
    assert refused.status_code == 403, refused.text
    topic, _post = new_topic(client, world.owner, space, "Quarterly news", "We grew")
    reply(client, world.member, topic, "Congratulations")
    titles = [t["title"] for t in ok(call(client, world.member, "GET", f"/spaces/{space}/topics"))["items"]]
    assert titles == ["Quarterly news"]


def test_removed_member_loses_access_at_once(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    member = world.member
    assert ok(call(client, member, "GET", f"/topics/{world.topic}"))["title"] == TOPIC_TITLE
    ok(call(client, world.owner, "DELETE", f"/spaces/{world.space}/members/{member.id}"), 204)
    for path in (
        f"/spaces/{world.space}",
        f"/spaces/{world.space}/topics",
        f"/topics/{world.topic}",
        f"/topics/{world.topic}/posts",
        f"/posts/{world.reply}",
        f"/posts/{world.reply}/history",
    ):
        response = call(client, member, "GET", path)
        assert response.status_code == 404, (path, response.text)
        assert_reveals_nothing(response)
    assert call(client, member, "POST", f"/topics/{world.topic}/posts", {"body": "x"}).status_code == 404
    assert call(client, member, "PATCH", f"/posts/{world.reply}", {"body": "x"}).status_code == 404
    assert ok(call(client, member, "GET", f"/search?q={SECRET_WORD}"))["items"] == []
    assert ok(call(client, member, "GET", "/me/mentions"))["items"] == []
    assert world.space not in {s["id"] for s in ok(call(client, member, "GET", "/spaces"))}


def test_admin_sees_a_private_space_exists_but_reads_it_only_as_a_member(
    client: TestClient, make: Factory
) -> None:
    world = build_world(client, make)
    admin, space = world.admin, world.space
    assert ok(call(client, admin, "GET", f"/spaces/{space}"))["name"] == SPACE_NAME
    assert space in {s["id"] for s in ok(call(client, admin, "GET", "/spaces"))}
    assert len(ok(call(client, admin, "GET", f"/spaces/{space}/members"))) == 2
    content = [
        ("GET", f"/spaces/{space}/topics", None),
        ("GET", f"/topics/{world.topic}", None),
        ("GET", f"/topics/{world.topic}/posts", None),
        ("GET", f"/posts/{world.post}", None),
        ("GET", f"/posts/{world.post}/history", None),
        ("GET", f"/search?q={SECRET_WORD}&space_id={space}", None),
        ("POST", f"/spaces/{space}/topics", {"title": "t", "body": "b"}),
        ("POST", f"/topics/{world.topic}/posts", {"body": "b"}),
        ("POST", f"/posts/{world.post}/reactions", {"emoji": "eyes"}),
        ("DELETE", f"/posts/{world.reply}", None),
    ]
    for method, path, body in content:
        response = call(client, admin, method, path, body)
        assert response.status_code == 404, (method, path, response.text)
        assert TOPIC_TITLE not in response.text
        assert SECRET_WORD not in response.text
    assert ok(call(client, admin, "GET", f"/search?q={SECRET_WORD}"))["items"] == []
    add_member(client, admin, space, admin)
    assert ok(call(client, admin, "GET", f"/topics/{world.topic}"))["title"] == TOPIC_TITLE
    assert len(ok(call(client, admin, "GET", f"/search?q={SECRET_WORD}"))["items"]) == 2


def test_only_admins_create_and_update_people(client: TestClient, make: Factory) -> None:
    world = build_world(client, make)
    target = world.member.id
    attempts = [
        ("POST", "/people", {"email": "sneaky@example.com", "display_name": "Sneaky"}),
        ("POST", "/people", {"email": "boss@example.com", "display_name": "Boss", "role": "admin"}),
        ("PATCH", f"/people/{target}", {"display_name": "Renamed"}),
        ("PATCH", f"/people/{target}", {"role": "admin"}),
        ("PATCH", f"/people/{world.outsider.id}", {"role": "admin"}),
        ("PATCH", f"/people/{target}", {"active": False}),
        ("POST", f"/people/{target}/deactivate", None),
    ]
    for who in (world.owner, world.outsider, world.analyst):
        for method, path, body in attempts:
            response = call(client, who, method, path, body)
            assert response.status_code == 403, (who.person.display_name, method, path, response.text)
    assert ok(call(client, world.admin, "GET", f"/people/{target}"))["display_name"] == "Mika Member"
    assert ok(call(client, world.outsider, "GET", "/me"))["role"] == "member"
    everyone = ok(call(client, world.admin, "GET", "/people?q=example.com&include_inactive=true"))["items"]
    assert "sneaky@example.com" not in {p["email"] for p in everyone}
    created = ok(
        call(client, world.admin, "POST", "/people", {"email": "new@example.com", "display_name": "New"}), 201
    )
    assert (
        ok(call(client, world.admin, "PATCH", f"/people/{created['id']}", {"title": "Lead"}))["title"]
        == "Lead"
    )


# The stream's rule (can_receive_event) against the REST rules: a space's own events go to
# whoever may see the space, the rest of a space's events to its members.

SPACE_ID, ME, OTHER = 7, 1, 2


def _event(kind: str, visibility: str, *, previous: str | None = None, person_id: int = OTHER) -> Event:
    payload: dict[str, Any] = {"id": SPACE_ID, "visibility": visibility}
    if previous is not None:
        payload["previous_visibility"] = previous
    if kind.startswith("member."):
        payload = {"space_id": SPACE_ID, "person_id": person_id, "role": "member"}
    return Event(1, kind, SPACE_ID, OTHER, datetime(2026, 1, 1, tzinfo=UTC), payload)


@pytest.mark.parametrize("kind", ["space.created", "space.updated", "space.archived"])
def test_a_spaces_own_events_follow_who_may_see_it(kind: str) -> None:
    private, public = _event(kind, "private"), _event(kind, "public")
    assert can_receive_event(ME, {SPACE_ID}, private)
    assert can_receive_event(ME, set(), private, is_admin=True)
    assert not can_receive_event(ME, set(), private)
    assert can_receive_event(ME, set(), public)
    # Turning private reaches everyone who saw it; turning public, everyone who sees it now.
    assert can_receive_event(ME, set(), _event(kind, "private", previous="public"))
    assert can_receive_event(ME, set(), _event(kind, "public", previous="private"))


@pytest.mark.parametrize(
    "kind", ["member.added", "member.updated", "topic.created", "post.created", "reaction.added"]
)
def test_the_rest_of_a_private_space_reaches_its_members_only(kind: str) -> None:
    event = _event(kind, "private")
    assert can_receive_event(ME, {SPACE_ID}, event)
    assert not can_receive_event(ME, set(), event)
    assert not can_receive_event(ME, set(), event, is_admin=True)  # admins read content as members


def test_ones_own_membership_change_reaches_oneself() -> None:
    assert can_receive_event(ME, set(), _event("member.removed", "private", person_id=ME))
    assert not can_receive_event(ME, set(), _event("member.removed", "private", person_id=OTHER))
