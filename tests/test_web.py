"""The web UI over HTTP: sign-in and sessions, every page, privacy, CSRF on every form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.conftest import FAST_HASHER, PASSWORD, Actor, Factory, backdate_members, make_settings

from kith import web
from kith.actions import (
    analysis,
    analysis_views,
    auth,
    facts,
    people,
    posts,
    receipts,
    scheduled,
    spaces,
    topics,
)
from kith.api.factory import create_api
from kith.app import App, build_app
from kith.domain.errors import Unauthorized
from kith.domain.models import Post, Role, Topic, Visibility
from kith.simulate.load import load_org
from kith.simulate.org import simulate_org
from kith.storage import analysis as analysis_store
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
    # A revoked session is a visitor again: home is the sign-in page (200, not a redirect,
    # so that the address a newcomer opens answers at once).
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert 'action="/signin"' in home.text
    assert world.ana.person.display_name not in home.text


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
    for module in (
        web.pages,
        web.forms,
        web.live,
        web.communities,
        web.dashboards,
        web.personal,
        web.spacetools,
        web.admin,
    ):
        for route in module.router.routes:
            assert isinstance(route, WebRoute)
            if "POST" in route.methods:
                found.append((route.path, route.name))
    return sorted(found)


def test_every_form_route_refuses_a_request_without_the_csrf_token(
    client: TestClient, app: App, world: World
) -> None:
    routes = form_routes()
    assert len(routes) >= 24
    fact = facts.check_create_fact(app, world.ana.viewer, world.space_id, title="Price list", body="v1")
    ids = {
        "space_id": world.space_id,
        "topic_id": world.topic.id,
        "post_id": world.answer.id,
        "fact_id": fact.id,
        "person_id": world.bo.id,
        "community_id": 1,
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
    written = facts.list_facts(app, world.ana.viewer, facts.FactQuery(space_id=world.space_id)).items
    return topic, shown, len(members), len(spaces.list_spaces(app, world.ana.viewer)), written


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


# ---------------------------------------------------------------- phase 2: map, dashboards, admin


@dataclass
class Analysed:
    """A simulated organisation analysed once, an analyst, an administrator, one of its people."""

    run_id: int
    communities: list[dict[str, Any]]
    analyst: Actor
    admin: Actor
    member: Actor  # a person of the largest community, signed in


def build_analysed(app: App, make: Factory) -> Analysed:
    """Load a small simulated organisation through the real loaders and analyse it."""
    admin = make.admin
    org = simulate_org(people=120, days=30, seed=5)
    load_org(app, org)
    until = datetime.combine(org.start, datetime.min.time(), UTC) + timedelta(days=org.days)
    run = analysis.check_run(app, None, analysis.AnalysisParams(until=until, seed=1))
    analyst = make.person("Ana Lyst", role=Role.ANALYST)
    found = analysis_views.list_communities(app, analyst.viewer, run["id"])["communities"]
    with app.db.read() as conn:
        first = next(m for m in analysis_store.members(conn, run["id"], found[0]["id"]) if m["active"])
    auth.do_set_password(app, first["person_id"], PASSWORD)
    person = people.get_person(app, admin.viewer, first["person_id"])
    member = Actor(person, Role.MEMBER, auth.check_login(app, person.email, PASSWORD).token)
    return Analysed(run["id"], found, analyst, admin, member)


@pytest.fixture
def analysed(app: App, make: Factory) -> Analysed:
    return build_analysed(app, make)


def test_the_map_draws_every_community_the_api_lists(client: TestClient, analysed: Analysed) -> None:
    as_person(client, analysed.analyst)
    page = client.get("/map")
    assert page.status_code == 200
    drawn = re.search(r'class="netmap"[^>]*data-communities="(\d+)"', page.text)
    assert drawn is not None
    api = client.get(
        f"/api/v1/analysis/runs/{analysed.run_id}/communities",
        headers={"Authorization": f"Bearer {analysed.analyst.token}"},
    ).json()
    assert int(drawn.group(1)) == len(api["communities"]) == len(analysed.communities) > 1
    assert page.text.count('class="node ') == len(api["communities"])
    assert 'class="tie' in page.text  # ties between communities
    crossing = [c for c in api["communities"] if c["cross_boundary"]]
    assert page.text.count('class="ring"') == len(crossing)
    # The office colouring is the same map with the other scope.
    assert 'colour-office"' in client.get("/map?colour=office").text


def test_a_community_page_shows_its_make_up_and_no_people_by_default(
    client: TestClient, analysed: Analysed
) -> None:
    as_person(client, analysed.analyst)
    community = analysed.communities[0]
    page = client.get(f"/map/communities/{community['id']}")
    assert page.status_code == 200
    assert 'id="makeup-departments"' in page.text
    assert next(iter(community["departments"]["cells"])) in page.text
    assert 'id="member-dots"' not in page.text  # person-level results are off
    assert "Person-level results are off" in page.text
    assert 'id="create-space"' in page.text
    # Under the threshold, or missing: 404, as the API.
    assert client.get("/map/communities/999999").status_code == 404


def test_person_level_results_show_the_people_with_their_roles(
    database_url: str, app: App, analysed: Analysed
) -> None:
    personal = build_app(make_settings(database_url, person_level_analysis=True), hasher=FAST_HASHER)
    try:
        with TestClient(create_api(personal)) as other:
            as_person(other, analysed.analyst)
            community = analysed.communities[0]
            page = other.get(f"/map/communities/{community['id']}?colour=office")
            assert page.status_code == 200
            assert 'id="member-dots"' in page.text
            assert page.text.count('class="person-dot"') == community["size"]
            assert "colour-office" in page.text
            log = analysis_views.access_log(app, analysed.admin.viewer)
            assert any(row["what"] == f"members of community {community['id']}" for row in log)
    finally:
        personal.close()


def test_members_see_only_their_own_place(client: TestClient, analysed: Analysed) -> None:
    as_person(client, analysed.member)
    page = client.get("/map")
    assert page.status_code == 200
    assert "Your place in the network" in page.text
    assert 'id="my-position"' in page.text
    assert 'class="netmap"' not in page.text
    for path in (
        f"/map/communities/{analysed.communities[0]['id']}",
        "/analysis",
        "/admin/analysis",
        "/admin/people",
        "/admin/imports",
    ):
        assert client.get(path).status_code == 403, path
    person = client.get(f"/people/{analysed.member.id}")
    assert 'id="my-position"' in person.text
    # Not on someone else's page.
    assert 'id="my-position"' not in client.get(f"/people/{analysed.analyst.id}").text


def test_analysts_see_flow_and_silos_and_runs_but_not_people_admin(
    client: TestClient, analysed: Analysed
) -> None:
    as_person(client, analysed.analyst)
    page = client.get("/analysis")
    assert page.status_code == 200
    assert 'data-chart="heat"' in page.text
    assert int(re.search(r'data-chart="heat" data-points="(\d+)"', page.text).group(1)) > 0  # type: ignore[union-attr]
    assert 'id="community-silos"' in page.text
    assert 'id="department-silos"' in page.text
    runs = client.get("/admin/analysis")
    assert runs.status_code == 200
    assert f'data-analysis-run="{analysed.run_id}"' in runs.text
    assert client.get("/admin/people").status_code == 403
    assert client.get("/admin/imports").status_code == 403


def test_make_a_space_from_a_community_and_accept_the_invitation(
    client: TestClient, app: App, analysed: Analysed
) -> None:
    community = analysed.communities[0]
    csrf = as_person(client, analysed.analyst)
    made = client.post(
        f"/map/communities/{community['id']}/space", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert 'id="community-space"' in page.text
    assert 'id="create-space"' not in page.text
    again = client.post(f"/map/communities/{community['id']}/space", data={"csrf_token": csrf})
    assert again.status_code == 409
    # Someone of the community finds the invitation at home, or is an owner already.
    member_csrf = as_person(client, analysed.member)
    home = client.get("/")
    found = re.search(r'action="/invitations/(\d+)/accept"', home.text)
    if found is not None:
        space_id = int(found.group(1))
        accepted = client.post(
            f"/invitations/{space_id}/accept", data={"csrf_token": member_csrf}, follow_redirects=False
        )
        assert accepted.status_code == 303
        assert client.get(f"/spaces/{space_id}").status_code == 200
        assert 'action="/invitations/' not in client.get("/").text


def test_dashboards_draw_charts_with_data(client: TestClient, app: App, world: World) -> None:
    receipts.check_mark_seen(app, world.ana.viewer, [world.answer.id])
    backdate_members(app, world.space_id, days=3)  # else coverage is 0 after 16:30 UTC
    as_person(client, world.ana)
    page = client.get(f"/spaces/{world.space_id}/dashboard")
    assert page.status_code == 200
    drawn = {
        key: int(points)
        for key, points in re.findall(
            r'aria-labelledby="([a-z-]+)-title [a-z-]+-desc" data-chart="[a-z]+" data-points="(\d+)"',
            page.text,
        )
    }
    assert set(drawn) >= {
        "reach-curve",
        "first-answer",
        "coverage",
        "waits",
        "trend-questions",
        "trend-reach",
    }
    assert drawn["coverage"] > 0  # members' working hours
    assert drawn["first-answer"] == 1  # one question, answered at once
    assert drawn["trend-questions"] > 0
    assert "<table>" in page.text  # every chart has its numbers as a table
    # Private spaces' dashboards, facts and similar hints: invisible to others.
    assert client.get(f"/spaces/{world.private_id}/dashboard").status_code == 200
    as_person(client, world.outsider)
    assert client.get(f"/spaces/{world.private_id}/dashboard").status_code == 404
    assert client.get(f"/spaces/{world.private_id}/similar?title=Secret+merger+plans").status_code == 404


def test_catch_up_on_home_and_mark_caught_up(client: TestClient, app: App, world: World) -> None:
    posts.check_create_post(app, world.bo.viewer, world.topic.id, "Also @" + world.ana.person.handle)
    csrf = as_person(client, world.ana)
    home = client.get("/")
    assert 'id="catch-up"' in home.text
    assert 'class="catch-up-item reason-mention"' in home.text
    assert "Who knows Acme?" in home.text
    done = client.post("/catch-up/done", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert "You are all caught up." in client.get("/").text


def test_notifications_page_and_count(client: TestClient, app: App, world: World) -> None:
    posts.check_create_post(app, world.bo.viewer, world.topic.id, "Ping @" + world.ana.person.handle)
    csrf = as_person(client, world.ana)
    page = client.get("/notifications")
    assert page.status_code == 200
    count = re.search(r'id="notice-count">(\d+)<', page.text)
    assert count is not None
    assert int(count.group(1)) >= 1
    assert "is-unread" in page.text
    client.post("/notifications/read", data={"csrf_token": csrf})
    page = client.get("/notifications")
    assert re.search(r'id="notice-count">0<', page.text)


def test_facts_panel_create_edit_review(client: TestClient, app: App, world: World) -> None:
    csrf = as_person(client, world.bo)
    made = client.post(
        f"/spaces/{world.space_id}/facts",
        data={"csrf_token": csrf, "title": "Acme's buyer", "body": "Jo **Smith**", "review_by": ""},
        follow_redirects=False,
    )
    assert made.status_code == 303
    fact_id = int(made.headers["location"].rsplit("-", 1)[1])
    page = client.get(f"/spaces/{world.space_id}")
    assert f'id="fact-{fact_id}"' in page.text
    assert "<strong>Smith</strong>" in page.text
    assert f'href="/facts/{fact_id}/edit"' in page.text  # the owner may edit
    edited = client.post(
        f"/facts/{fact_id}/edit",
        data={"csrf_token": csrf, "title": "Acme's buyer", "body": "Jo Smith, since May", "note": "new"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    assert facts.get_fact(app, world.bo.viewer, fact_id).version == 2
    assert client.post(f"/facts/{fact_id}/review", data={"csrf_token": csrf}).status_code == 200
    # Ana (the space's owner) may edit it too; the outsider (not a member) may not write facts.
    assert f'href="/facts/{fact_id}/edit"' in (
        as_person(client, world.ana) and client.get(f"/spaces/{world.space_id}").text
    )
    outsider_csrf = as_person(client, world.outsider)
    refused = client.post(
        f"/spaces/{world.space_id}/facts", data={"csrf_token": outsider_csrf, "title": "x", "body": "y"}
    )
    assert refused.status_code == 403
    assert (
        client.post(f"/facts/{fact_id}/edit", data={"csrf_token": outsider_csrf, "title": "z"}).status_code
        == 403
    )
    # A private space's facts stay private.
    secret = facts.check_create_fact(
        app, world.ana.viewer, world.private_id, title="Merger date", body="soon"
    )
    assert client.get(f"/facts/{secret.id}/edit").status_code == 404
    assert "Merger date" not in client.get(f"/spaces/{world.space_id}").text


def test_similar_questions_and_send_later(client: TestClient, app: App, world: World) -> None:
    csrf = as_person(client, world.bo)
    hints = client.get(f"/spaces/{world.space_id}/similar", params={"title": "Who knows the people at Acme?"})
    assert hints.status_code == 200
    assert f'href="/topics/{world.topic.id}"' in hints.text
    assert client.get(f"/spaces/{world.space_id}/similar", params={"title": "x"}).text.strip() == ""
    page = client.get(f"/spaces/{world.space_id}")
    assert 'name="send_at"' in page.text
    assert 'hx-get="/spaces/' in page.text
    later = (app.clock() + timedelta(days=1)).astimezone(ZoneInfo(world.bo.person.timezone))
    response = client.post(
        f"/spaces/{world.space_id}/scheduled",
        data={"csrf_token": csrf, "title": "Later", "body": "b", "send_at": later.strftime("%Y-%m-%dT%H:%M")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?scheduled=1")
    pending = scheduled.list_scheduled(app, world.bo.viewer, status="pending")
    assert [p.title for p in pending] == ["Later"]
    bad = client.post(
        f"/spaces/{world.space_id}/scheduled",
        data={"csrf_token": csrf, "title": "t", "body": "b", "send_at": "no"},
    )
    assert bad.status_code == 422


def test_admin_people_roles_and_roster(client: TestClient, app: App, world: World, make: Factory) -> None:
    csrf = as_person(client, make.admin)
    page = client.get("/admin/people?q=Bo")
    assert page.status_code == 200
    assert f'id="person-{world.bo.id}"' in page.text
    changed = client.post(
        f"/admin/people/{world.bo.id}/role",
        data={"csrf_token": csrf, "role": "analyst"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert people.get_role(app, world.bo.id) is Role.ANALYST
    assert (
        client.post(
            f"/admin/people/{world.bo.id}/role", data={"csrf_token": csrf, "role": "king"}
        ).status_code
        == 422
    )
    roster_csv = b"email,name,department\nnew.person@example.com,New Person,Sales\n"
    response = client.post(
        "/admin/imports/roster",
        data={"csrf_token": csrf},
        files={"file": ("roster.csv", roster_csv, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert "1+created" in response.headers["location"] or "1%20created" in response.headers["location"]
    assert people.find_person_by_email(app, "new.person@example.com") is not None
    assert client.get("/admin/imports").status_code == 200
    for path in ("/admin/people", "/admin/imports"):
        as_person(client, world.ana)
        assert client.get(path).status_code == 403
