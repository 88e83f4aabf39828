"""The web UI over HTTP: sign-in and sessions, every page, privacy, CSRF on every form."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.conftest import PASSWORD, Actor, Factory

from kith import web
from kith.actions import auth, posts, spaces, topics
from kith.app import App
from kith.domain.errors import Unauthorized
from kith.domain.models import Post, Topic, Visibility
from kith.web.render import WebRoute

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in_form(client: TestClient, email: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    page = client.get("/signin")
    assert page.status_code == 200
    token = CSRF.search(page.text)
    assert token is not None
    data = {"email": email, "password": password, "csrf_token": token.group(1), **extra}
    return client.post("/signin", data=data, follow_redirects=False)


def as_person(client: TestClient, actor: Actor) -> str:
    """Use ``actor``'s session in ``client``; returns the page's CSRF token."""
    client.cookies.clear()
    client.cookies.set("kith_session", actor.token)
    home = client.get("/")
    assert home.status_code == 200, home.text
    found = re.search(r'data-csrf="([^"]+)"', home.text)
    assert found is not None
    return found.group(1)


@dataclass
class World:
    ana: Actor
    bo: Actor
    outsider: Actor
    space_id: int
    private_id: int
    topic: Topic
    question: Post
    answer: Post
    secret_topic: Topic
    secret_post: Post


@pytest.fixture
def world(app: App, make: Factory) -> World:
    ana = make.person("Ana Lima", timezone="Asia/Singapore")
    bo = make.person("Bo Berg", timezone="Europe/London")
    outsider = make.person("Out Sider")
    space = spaces.check_create_space(app, ana.viewer, name="Key accounts", description="Big clients")
    spaces.check_join(app, bo.viewer, space.space.id)
    topic, question = topics.check_create_topic(
        app,
        ana.viewer,
        space.space.id,
        title="Who knows Acme?",
        body="Anyone **met** them?",
        is_question=True,
    )
    answer = posts.check_create_post(app, bo.viewer, topic.id, "I did <script>alert(1)</script>")
    private = spaces.check_create_space(
        app, ana.viewer, name="Board room", visibility=Visibility.PRIVATE.value
    )
    secret_topic, secret_post = topics.check_create_topic(
        app, ana.viewer, private.space.id, title="Secret merger", body="zebracrossing plans"
    )
    return World(
        ana,
        bo,
        outsider,
        space.space.id,
        private.space.id,
        topic,
        question,
        answer,
        secret_topic,
        secret_post,
    )


def test_signed_out_pages_go_to_sign_in(client: TestClient, world: World) -> None:
    response = client.get(f"/topics/{world.topic.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next=%2Ftopics%2F{world.topic.id}"


def test_sign_in_sets_a_safe_session_cookie(client: TestClient, world: World) -> None:
    response = sign_in_form(client, world.ana.person.email, next="/spaces/1")
    assert response.status_code == 303
    assert response.headers["location"] == "/spaces/1"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("kith_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # plain http here; see the https test
    assert client.get("/").status_code == 200


def test_session_cookie_is_secure_over_https(app: App, world: World) -> None:
    from kith.api.factory import create_api

    with TestClient(create_api(app), base_url="https://testserver") as secure_client:
        response = sign_in_form(secure_client, world.ana.person.email)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("kith_session="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_the_session_token_is_a_real_hashed_token(client: TestClient, app: App, world: World) -> None:
    response = sign_in_form(client, world.bo.person.email)
    token = response.cookies["kith_session"]
    assert auth.access_viewer(app, token).id == world.bo.id


def test_wrong_password_shows_the_form_again(client: TestClient, world: World) -> None:
    response = sign_in_form(client, world.ana.person.email, password="not the password")
    assert response.status_code == 401
    assert "wrong e-mail address or password" in response.text
    assert "kith_session" not in response.cookies
    assert 'role="alert"' in response.text


def test_sign_in_never_redirects_off_site(client: TestClient, world: World) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        response = sign_in_form(client, world.ana.person.email, next=target)
        assert response.headers["location"] == "/"


def test_sign_in_without_its_csrf_token_is_refused(client: TestClient, world: World) -> None:
    client.get("/signin")
    data = {"email": world.ana.person.email, "password": PASSWORD}
    response = client.post("/signin", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "kith_session" not in response.cookies
    client.cookies.clear()  # a token without its pre-session cookie is refused too
    response = client.post("/signin", data={**data, "csrf_token": "x" * 43}, follow_redirects=False)
    assert response.status_code == 403


def test_sign_out_revokes_the_token(client: TestClient, app: App, world: World) -> None:
    response = sign_in_form(client, world.ana.person.email)
    token = response.cookies["kith_session"]
    csrf = as_person_token(client, token)
    response = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    with pytest.raises(Unauthorized):
        auth.access_viewer(app, token)
    client.cookies.set("kith_session", token)
    assert client.get("/", follow_redirects=False).status_code == 303


def as_person_token(client: TestClient, token: str) -> str:
    client.cookies.clear()
    client.cookies.set("kith_session", token)
    found = re.search(r'data-csrf="([^"]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)


def test_every_page_renders_for_a_member(client: TestClient, world: World) -> None:
    as_person(client, world.bo)
    pages = {
        "/": ["Your spaces", "Key accounts"],
        f"/spaces/{world.space_id}": ["Who knows Acme?", "Start a topic", "Question"],
        f"/spaces/{world.space_id}?questions=1&unresolved=1": ["Who knows Acme?"],
        f"/spaces/{world.space_id}/members": ["Ana Lima", "Bo Berg", "Working now?", "Asia/Singapore"],
        f"/topics/{world.topic.id}": ["Who knows Acme?", "<strong>met</strong>", "Post reply"],
        "/search?q=anyone": ["Who knows Acme?", "<mark>"],
        "/search": ["Words to find"],
        f"/people/{world.ana.id}": ["Ana Lima", "Asia/Singapore", "Working hours", "Key accounts"],
        f"/posts/{world.answer.id}/card": ["I did"],
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        for text in expected:
            assert text in response.text, (url, text)


def test_user_content_is_escaped(client: TestClient, app: App, world: World) -> None:
    as_person(client, world.ana)
    evil = "<img src=x onerror=alert(1)>"
    spaces.check_update_space(app, world.ana.viewer, world.space_id, description=evil)
    page = client.get(f"/topics/{world.topic.id}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    space_page = client.get(f"/spaces/{world.space_id}").text
    assert evil not in space_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in space_page


def test_private_spaces_stay_private(client: TestClient, world: World) -> None:
    as_person(client, world.outsider)
    for url in (
        f"/spaces/{world.private_id}",
        f"/spaces/{world.private_id}/members",
        f"/topics/{world.secret_topic.id}",
        f"/posts/{world.secret_post.id}/card",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Secret merger" not in response.text
        assert "Board room" not in response.text
        assert "Not found" in response.text
    assert "Board room" not in client.get("/").text
    assert "Secret merger" not in client.get("/search?q=zebracrossing").text
    assert "Board room" not in client.get(f"/people/{world.ana.id}").text
    as_person(client, world.ana)
    assert "Board room" in client.get(f"/people/{world.ana.id}").text
    assert "Secret merger" in client.get("/search?q=zebracrossing").text


def test_bad_input_gives_a_page_not_a_500(client: TestClient, world: World) -> None:
    csrf = as_person(client, world.bo)
    for url in ("/topics/abc", "/topics/0", "/topics/99999999999999", "/spaces/-1", "/people/x"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "<h1" in response.text
    response = client.get("/spaces/1?cursor=not-a-cursor")
    assert response.status_code == 422
    response = client.post(f"/topics/{world.topic.id}/posts", data={"csrf_token": csrf, "body": "   "})
    assert response.status_code == 422
    assert "Please check what you entered" in response.text
    response = client.post(
        f"/posts/{world.answer.id}/react", data={"csrf_token": csrf, "emoji": "no spaces!"}
    )
    assert response.status_code == 422
    response = client.post(
        f"/topics/{world.topic.id}/accept", data={"csrf_token": csrf, "post_id": str(world.answer.id)}
    )
    assert response.status_code == 403  # Bo did not ask the question
    assert "Not allowed" in response.text
    response = client.post("/live/seen", content=b"{nope", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422
    # To htmx, an error is just the message, shown beside the form.
    response = client.post(
        f"/spaces/{world.space_id}/topics", data={"title": "", "body": "x"}, headers=_htmx(csrf)
    )
    assert response.status_code == 422
    assert response.text.startswith('<p class="form-error-text">')
    assert "title" in response.text


def form_routes() -> list[tuple[str, str]]:
    """Every POST route of the web UI, as (path template, name)."""
    found = []
    for module in (web.pages, web.forms, web.live):
        for route in module.router.routes:
            assert isinstance(route, WebRoute)
            if "POST" in route.methods:
                found.append((route.path, route.name))
    return sorted(found)


def test_every_form_route_refuses_a_request_without_the_csrf_token(
    client: TestClient, app: App, world: World
) -> None:
    routes = form_routes()
    assert len(routes) >= 12
    ids = {
        "space_id": world.space_id,
        "topic_id": world.topic.id,
        "post_id": world.answer.id,
    }
    data = {"title": "t", "body": "b", "emoji": "tada", "post_id": str(world.answer.id), "resolved": "1"}
    csrf = as_person(client, world.ana)
    before = _state(app, world)
    for path, name in routes:
        url = path.format(**ids)
        without = client.post(url, data=data, follow_redirects=False)
        assert without.status_code == 403, (name, without.status_code)
        wrong = client.post(url, data={**data, "csrf_token": "A" * 43}, follow_redirects=False)
        assert wrong.status_code == 403, name
        other_site = client.post(
            url,
            data={**data, "csrf_token": csrf},
            headers={"Origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert other_site.status_code == 403, name
        fetch_site = client.post(
            url,
            data={**data, "csrf_token": csrf},
            headers={"Sec-Fetch-Site": "cross-site"},
            follow_redirects=False,
        )
        assert fetch_site.status_code == 403, name
    assert _state(app, world) == before
    # Another session's token is no good either.
    bo_csrf = as_person(client, world.bo)
    as_person(client, world.ana)
    response = client.post(f"/topics/{world.topic.id}/posts", data={"body": "hi", "csrf_token": bo_csrf})
    assert response.status_code == 403
    assert _state(app, world) == before


def _state(app: App, world: World) -> tuple[object, ...]:
    topic = topics.get_topic(app, world.ana.viewer, world.topic.id)
    shown = posts.list_posts(app, world.ana.viewer, world.topic.id).items
    members = spaces.list_members(app, world.ana.viewer, world.space_id)
    return topic, shown, len(members), len(spaces.list_spaces(app, world.ana.viewer))


def test_forms_do_what_they_say(client: TestClient, app: App, world: World) -> None:
    csrf = as_person(client, world.ana)
    # Start a question.
    response = client.post(
        f"/spaces/{world.space_id}/topics",
        data={"csrf_token": csrf, "title": "Pricing in Q3?", "body": "Ask @bo.berg2", "is_question": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    new_id = int(response.headers["location"].rsplit("/", 1)[1])
    response = client.post(
        f"/spaces/{world.space_id}/topics", data={"title": "Via htmx", "body": "b"}, headers=_htmx(csrf)
    )
    assert response.status_code == 204
    assert re.fullmatch(r"/topics/\d+", response.headers["hx-redirect"])
    created = topics.get_topic(app, world.ana.viewer, new_id)
    assert created.is_question
    assert created.title == "Pricing in Q3?"
    # Bo replies with htmx (a fragment comes back) and without (a redirect).
    bo_csrf = as_person(client, world.bo)
    response = client.post(
        f"/topics/{new_id}/posts", data={"body": "Up 5 %", "urgent": "1"}, headers=_htmx(bo_csrf)
    )
    assert response.status_code == 200
    assert 'class="post' in response.text
    assert "is-urgent" in response.text
    response = client.post(
        f"/topics/{new_id}/posts", data={"body": "More soon", "csrf_token": bo_csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert re.fullmatch(rf"/topics/{new_id}#post-\d+", response.headers["location"])
    replies = posts.list_posts(app, world.bo.viewer, new_id).items
    assert [p.source for p in replies][1:] == ["Up 5 %", "More soon"]
    assert replies[1].urgent
    # React, and take it back.
    response = client.post(f"/posts/{replies[1].id}/react", data={"emoji": "tada"}, headers=_htmx(bo_csrf))
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.text
    assert posts.get_post(app, world.bo.viewer, replies[1].id).reactions[0].emoji == "tada"
    client.post(
        f"/posts/{replies[1].id}/react", data={"emoji": "tada", "op": "remove"}, headers=_htmx(bo_csrf)
    )
    assert posts.get_post(app, world.bo.viewer, replies[1].id).reactions == ()
    # Ana accepts Bo's answer, withdraws it, resolves and reopens.
    csrf = as_person(client, world.ana)
    response = client.post(
        f"/topics/{new_id}/accept", data={"post_id": str(replies[1].id)}, headers=_htmx(csrf)
    )
    assert response.status_code == 204
    assert f'"accepted_post_id": {replies[1].id}' in response.headers["hx-trigger"]
    accepted = topics.get_topic(app, world.ana.viewer, new_id)
    assert accepted.accepted_post_id == replies[1].id
    assert accepted.resolved
    client.post(f"/topics/{new_id}/accept", data={"post_id": "", "csrf_token": csrf})
    assert topics.get_topic(app, world.ana.viewer, new_id).accepted_post_id is None
    client.post(f"/topics/{new_id}/resolve", data={"resolved": "1", "csrf_token": csrf})
    assert topics.get_topic(app, world.ana.viewer, new_id).resolved
    client.post(f"/topics/{new_id}/resolve", data={"resolved": "0", "csrf_token": csrf})
    assert not topics.get_topic(app, world.ana.viewer, new_id).resolved
    # Filters.
    unresolved = client.get(f"/spaces/{world.space_id}?questions=1&unresolved=1").text
    assert "Pricing in Q3?" in unresolved
    # Preview renders Markdown the way posts are rendered.
    response = client.post("/preview", data={"body": "**bold** <b>raw</b>"}, headers=_htmx(csrf))
    assert "<strong>bold</strong>" in response.text
    assert "<b>raw</b>" not in response.text


def test_join_leave_and_mark_read(client: TestClient, app: App, world: World) -> None:
    csrf = as_person(client, world.outsider)
    home = client.get("/").text
    assert "Other public spaces" in home
    response = client.post(
        f"/spaces/{world.space_id}/join", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert any(
        s.space.id == world.space_id and s.membership for s in spaces.list_spaces(app, world.outsider.viewer)
    )
    unread = next(s for s in spaces.list_spaces(app, world.outsider.viewer) if s.space.id == world.space_id)
    assert unread.unread_count == 2
    assert re.search(rf'data-unread-space="{world.space_id}">2<', client.get("/").text)
    client.post(f"/spaces/{world.space_id}/read", data={"csrf_token": csrf})
    read = next(s for s in spaces.list_spaces(app, world.outsider.viewer) if s.space.id == world.space_id)
    assert read.unread_count == 0
    client.post(f"/spaces/{world.space_id}/leave", data={"csrf_token": csrf})
    assert all(
        s.membership is None
        for s in spaces.list_spaces(app, world.outsider.viewer)
        if s.space.id == world.space_id
    )


def test_live_helpers(client: TestClient, app: App, world: World) -> None:
    csrf = as_person(client, world.ana)
    found = client.get("/live/mentions?q=bo").json()
    assert [p["handle"] for p in found] == [world.bo.person.handle]
    assert client.get("/live/mentions?q=").json() == []
    response = client.post("/live/seen", json={"post_ids": [world.answer.id]}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert response.json() == {"new": [world.answer.id]}
    assert client.post("/live/seen", json={"post_ids": [world.answer.id]}).status_code == 403
    assert client.post("/live/active", headers={"X-CSRF-Token": csrf}).status_code == 204
    # The stream refuses a request another site made (cross-site EventSource, say).
    response = client.get("/live/stream", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    client.cookies.clear()
    assert client.get("/live/stream", follow_redirects=False).status_code == 303


def test_static_files_are_served(client: TestClient) -> None:
    for path in ("/static/kith.css", "/static/kith.js", "/static/vendor/htmx-2.0.11.min.js"):
        assert client.get(path).status_code == 200, path


def _htmx(csrf: str) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": csrf}
