"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a live server.

Skipped only when /usr/bin/chromium is missing and CI is not set; under CI=true it runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, Actor, Factory, backdate_members
from tests.live import serving
from tests.test_web import build_analysed

from kith.actions import posts, receipts, spaces, topics
from kith.app import App
from kith.domain.models import Topic

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists() and os.environ.get("CI") != "true":
    pytest.skip(
        "Debian's Chromium is not installed at /usr/bin/chromium (apt install chromium); "
        "under CI=true these tests run and fail instead",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server(app: App) -> Iterator[str]:
    with serving(app) as url:
        yield url


@dataclass
class Scene:
    ana: Actor
    bo: Actor
    space_id: int
    topic: Topic
    answer_id: int


@pytest.fixture
def scene(app: App, make: Factory) -> Scene:
    ana = make.person("Ana Lima", timezone="Asia/Singapore")
    bo = make.person("Bo Berg", timezone="Europe/London")
    space = spaces.check_create_space(app, ana.viewer, name="Key accounts")
    spaces.check_join(app, bo.viewer, space.space.id)
    topic, _question = topics.check_create_topic(
        app, ana.viewer, space.space.id, title="Who knows Acme?", body="Anyone met them?", is_question=True
    )
    answer = posts.check_create_post(app, bo.viewer, topic.id, "Yes, their CTO.")
    return Scene(ana, bo, space.space.id, topic, answer.id)


class Console:
    """Every console error and uncaught exception of the pages of a context."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            self.errors.append(f"{message.location.get('url', '')}: {message.text}")


@pytest.fixture
def console() -> Console:
    return Console()


def signed_in(browser: Browser, server: str, actor: Actor, console: Console) -> tuple[BrowserContext, Page]:
    """A browser context holding ``actor``'s session cookie (a token from the real sign-in)."""
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": "kith_session", "value": actor.token, "url": server, "httpOnly": True, "sameSite": "Lax"}]
    )
    return context, console.watch(context.new_page())


def wait_live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=5000)


def test_sign_in_and_out(browser: Browser, server: str, scene: Scene, console: Console) -> None:
    context = browser.new_context(base_url=server)
    page = console.watch(context.new_page())
    page.goto(f"/topics/{scene.topic.id}")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    page.get_by_label("E-mail address").fill(scene.ana.person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/topics/{scene.topic.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who knows Acme?")
    cookie = next(c for c in context.cookies() if c["name"] == "kith_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("kith_session") == -1  # scripts cannot read it
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{server}/signin")
    page.goto("/")  # home is the sign-in page again, at its own address
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert console.errors == []
    context.close()


def test_a_post_appears_in_another_persons_open_page_within_a_second(
    browser: Browser, server: str, scene: Scene, console: Console
) -> None:
    ana_context, ana = signed_in(browser, server, scene.ana, console)
    bo_context, bo = signed_in(browser, server, scene.bo, console)
    ana.goto(f"/topics/{scene.topic.id}")
    bo.goto(f"/topics/{scene.topic.id}")
    wait_live(ana)
    wait_live(bo)
    bo.get_by_label("Your reply (Markdown)").fill("Their renewal is in **May**.")
    bo.get_by_role("button", name="Post reply").click()
    arrived = ana.locator("#posts .post", has_text="Their renewal is in May.")
    expect(arrived).to_be_visible(timeout=1000)
    expect(arrived.locator("strong")).to_have_text("May")
    # Reactions travel too.
    bo_post = bo.locator("#posts .post", has_text="Their renewal is in May.")
    expect(bo_post).to_have_count(1)  # the form's answer and the stream's event make one post
    arrived.get_by_role("button", name="React with tada").click()
    expect(bo_post.get_by_role("button", name=re.compile("tada reaction"))).to_be_visible(timeout=1000)
    assert console.errors == []
    ana_context.close()
    bo_context.close()


def test_accept_an_answer(browser: Browser, server: str, app: App, scene: Scene, console: Console) -> None:
    ana_context, ana = signed_in(browser, server, scene.ana, console)
    bo_context, bo = signed_in(browser, server, scene.bo, console)
    ana.goto(f"/topics/{scene.topic.id}")
    bo.goto(f"/topics/{scene.topic.id}")
    wait_live(bo)
    answer = f"#post-{scene.answer_id}"
    expect(bo.locator("#topic")).not_to_have_class(re.compile("is-resolved"))
    ana.locator(answer).get_by_role("button", name="Accept as answer").click()
    expect(ana.locator(answer)).to_have_class(re.compile("is-accepted"))
    expect(ana.locator(answer).get_by_text("Accepted answer")).to_be_visible()
    expect(ana.locator("#topic-status").get_by_text("Resolved")).to_be_visible()
    expect(ana.locator(answer).get_by_role("button", name="Withdraw acceptance")).to_be_focused()
    # The answerer sees it without reloading.
    expect(bo.locator(answer)).to_have_class(re.compile("is-accepted"), timeout=1000)
    expect(bo.locator("#topic")).to_have_class(re.compile("is-resolved"))
    topic = topics.get_topic(app, scene.ana.viewer, scene.topic.id)
    assert topic.accepted_post_id == scene.answer_id
    assert topic.resolved
    assert console.errors == []
    ana_context.close()
    bo_context.close()


def test_keyboard_only_posting(
    browser: Browser, server: str, app: App, scene: Scene, console: Console
) -> None:
    context, page = signed_in(browser, server, scene.bo, console)
    page.goto(f"/topics/{scene.topic.id}")
    wait_live(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    reply = page.get_by_label("Your reply (Markdown)")
    tab_until(page, "reply-body")
    page.keyboard.type("Typed without a mouse.")
    tab_until(page, None, name="Post reply")
    page.keyboard.press("Enter")
    expect(page.locator("#posts .post", has_text="Typed without a mouse.")).to_be_visible(timeout=2000)
    expect(reply).to_be_focused()
    expect(reply).to_have_value("")
    # Ctrl+Enter sends from the composer too.
    page.keyboard.type("And with Ctrl+Enter.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#posts .post", has_text="And with Ctrl+Enter.")).to_be_visible(timeout=2000)
    sources = [p.source for p in posts.list_posts(app, scene.bo.viewer, scene.topic.id).items]
    assert sources[-2:] == ["Typed without a mouse.", "And with Ctrl+Enter."]
    assert console.errors == []
    context.close()


def tab_until(page: Page, element_id: str | None, *, name: str | None = None, limit: int = 80) -> None:
    """Press Tab until the focused element has ``element_id`` (or the accessible text ``name``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused: dict[str, Any] = page.evaluate(
            "() => ({id: document.activeElement.id, text: document.activeElement.textContent.trim()})"
        )
        if (element_id and focused["id"] == element_id) or (name and focused["text"] == name):
            return
    raise AssertionError(f"Tab never reached {element_id or name}")


def test_start_a_question(browser: Browser, server: str, app: App, scene: Scene, console: Console) -> None:
    context, page = signed_in(browser, server, scene.bo, console)
    page.goto(f"/spaces/{scene.space_id}")
    page.get_by_role("button", name="Start topic").click()  # the browser refuses empty fields
    expect(page).to_have_url(f"{server}/spaces/{scene.space_id}")
    page.get_by_label("Title").fill("Benelux prices?")
    page.get_by_label("First post (Markdown)").fill("Has anyone seen the new list?")
    page.get_by_label("This is a question").check()
    page.get_by_role("button", name="Start topic").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Benelux prices?")
    expect(page.locator("#topic-status").get_by_text("Question")).to_be_visible()
    expect(page.locator("#topic-status").get_by_text("Open")).to_be_visible()
    assert console.errors == []
    context.close()


def test_mention_suggestions_and_preview(
    browser: Browser, server: str, scene: Scene, console: Console
) -> None:
    context, page = signed_in(browser, server, scene.ana, console)
    page.goto(f"/topics/{scene.topic.id}")
    reply = page.get_by_label("Your reply (Markdown)")
    reply.click()
    page.keyboard.type("Thanks @bo")
    option = page.get_by_role("option", name=re.compile("Bo Berg"))
    expect(option).to_be_visible()
    page.keyboard.press("Enter")
    expect(reply).to_have_value(f"Thanks @{scene.bo.person.handle} ")
    page.keyboard.type("for **this**")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#reply-preview strong")).to_have_text("this")
    assert console.errors == []
    context.close()


def test_no_console_errors_on_any_page(browser: Browser, server: str, scene: Scene, console: Console) -> None:
    context, page = signed_in(browser, server, scene.ana, console)
    pages = [
        "/",
        f"/spaces/{scene.space_id}",
        f"/spaces/{scene.space_id}?questions=1&unresolved=1",
        f"/spaces/{scene.space_id}/members",
        f"/topics/{scene.topic.id}",
        "/search?q=CTO",
        f"/people/{scene.bo.id}",
        f"/people/{scene.ana.id}",
        f"/spaces/{scene.space_id}/dashboard",
        "/notifications",
        "/map",
    ]
    for url in pages:
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, url
        if page.locator("#live-status").count():  # the pages with live data
            wait_live(page)
    for width in (375, 1280):  # phone and desktop: nothing wider than the screen
        page.set_viewport_size({"width": width, "height": 800})
        for url in pages:
            page.goto(url)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (url, width, overflow)
    # The space's filters swap the topic list in place.
    page.goto(f"/spaces/{scene.space_id}")
    page.get_by_label("Unresolved").check()
    expect(page).to_have_url(re.compile(r"unresolved=1"))
    expect(page.locator("#topics")).to_contain_text("Who knows Acme?")
    signed_out = browser.new_context(base_url=server)
    console.watch(signed_out.new_page()).goto("/signin")
    assert console.errors == []
    signed_out.close()
    context.close()


class Cuttable:
    """A TCP relay in front of the server whose connections the test can cut: a real drop,
    as when a phone changes networks. While cut, new connections are closed at once."""

    def __init__(self, server: str) -> None:
        self.target = ("127.0.0.1", int(server.rsplit(":", 1)[1]))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.up = True
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.open.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_a_dropped_connection_resumes_without_loss_or_duplicate(
    browser: Browser, server: str, app: App, scene: Scene, console: Console
) -> None:
    relay = Cuttable(server)
    context, page = signed_in(browser, relay.url, scene.ana, console)
    page.goto(f"/topics/{scene.topic.id}")
    wait_live(page)
    before = posts.check_create_post(app, scene.bo.viewer, scene.topic.id, "Before the drop.")
    expect(page.locator(f"#post-{before.id}")).to_be_visible(timeout=1000)
    relay.cut()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "reconnecting", timeout=5000)
    missed = posts.check_create_post(app, scene.bo.viewer, scene.topic.id, "While you were away.")
    topics.check_accept_answer(app, scene.ana.viewer, scene.topic.id, scene.answer_id)
    relay.up = True
    expect(page.locator(f"#post-{missed.id}")).to_be_visible(timeout=10_000)
    expect(page.locator(f"#post-{scene.answer_id}")).to_have_class(re.compile("is-accepted"))
    wait_live(page)
    for post_id in (before.id, missed.id):
        expect(page.locator(f"#post-{post_id}")).to_have_count(1)
    context.close()
    relay.close()


# ---------------------------------------------------------------- phase 2: map, dashboards, admin


def test_the_map_draws_the_communities_and_a_click_opens_one(
    browser: Browser, server: str, app: App, make: Factory, console: Console
) -> None:
    analysed = build_analysed(app, make)
    context, page = signed_in(browser, server, analysed.analyst, console)
    page.goto("/map")
    nodes = page.locator("svg.netmap a.node")
    expect(nodes).to_have_count(len(analysed.communities))
    box = nodes.first.locator("circle.body").bounding_box()
    assert box is not None
    assert box["width"] > 10
    # Colours switch between departments and offices without a request.
    fill = nodes.first.locator("circle.body").evaluate("c => getComputedStyle(c).fill")
    page.get_by_role("radio", name="Office").check()
    expect(page.locator("[data-colour-scope]")).to_have_class(re.compile("colour-office"))
    expect(page).to_have_url(re.compile(r"colour=office"))
    assert fill.startswith("rgb")
    # Keyboard: a community is a link; Enter opens it. A click does too.
    first = analysed.communities[0]
    page.locator(f'svg.netmap a.node[data-community="{first["id"]}"] circle.body').click()
    expect(page).to_have_url(re.compile(rf"/map/communities/{first['id']}"))
    expect(page.locator("h1")).to_have_text(first["name"])
    expect(page.locator("#makeup-departments li").first).to_be_visible()
    for url in ("/analysis", "/admin/analysis"):
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, url
    page.set_viewport_size({"width": 375, "height": 800})
    for url in ("/map", f"/map/communities/{first['id']}", "/analysis"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)
    assert console.errors == []
    context.close()


def test_dashboards_draw_their_charts_with_data(
    browser: Browser, server: str, app: App, scene: Scene, console: Console
) -> None:
    receipts.check_mark_seen(app, scene.ana.viewer, [scene.answer_id])
    backdate_members(app, scene.space_id, days=3)  # else coverage is 0 after 16:30 UTC
    context, page = signed_in(browser, server, scene.ana, console)
    page.goto(f"/spaces/{scene.space_id}/dashboard")
    for key in ("reach-curve", "first-answer", "coverage", "waits", "trend-questions", "trend-reach"):
        expect(page.locator(f"#{key} svg")).to_be_visible()
    bars = page.locator("#coverage svg rect.bar")
    assert bars.count() == 24
    heights = bars.evaluate_all("rs => rs.map(r => r.getBBox().height)")
    assert sum(heights) > 0  # members' working hours cover the day
    answered = page.locator("#first-answer svg rect.bar").evaluate_all(
        "rs => rs.filter(r => r.getBBox().height > 0).length"
    )
    assert answered == 1
    assert page.locator("#trend-questions svg path.line").count() >= 1
    # The numbers behind a chart, as a table.
    page.locator("#coverage summary").click()
    expect(page.locator("#coverage table")).to_be_visible()
    assert console.errors == []
    context.close()


def test_home_catch_up_and_similar_hints(
    browser: Browser, server: str, app: App, scene: Scene, console: Console
) -> None:
    posts.check_create_post(app, scene.bo.viewer, scene.topic.id, f"See @{scene.ana.person.handle}")
    context, page = signed_in(browser, server, scene.ana, console)
    page.goto("/")
    expect(page.locator("#catch-up-list li").first).to_contain_text("Who knows Acme?")
    page.locator("#caught-up").click()
    expect(page.locator("#catch-up")).to_contain_text("You are all caught up.")
    page.goto(f"/spaces/{scene.space_id}")
    page.get_by_role("textbox", name="Title", exact=True).fill("Who knows the people at Acme?")
    expect(page.locator("#similar-hints a").first).to_have_text("Who knows Acme?", timeout=5000)
    assert console.errors == []
    context.close()
