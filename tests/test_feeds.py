"""Atom feeds: valid RFC 4287 (feedparser and jing with the RFC's RELAX NG grammar), the
personal feed at a secret, rotatable address, and private spaces that have no feed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from tests.movable_clock import Timed, timed_app
from tests.notice_world import add_member, call, new_space, new_topic, ok, reply

from kith.storage import prefs

SCHEMA = Path(__file__).parent / "data" / "atom.rnc"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def timed(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url, public_url="https://kith.example.com") as t:
        yield t


def valid_atom(body: bytes, tmp_path: Path) -> feedparser.FeedParserDict:
    """Parse with feedparser (no error) and validate with jing against RFC 4287's grammar."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    jing = shutil.which("jing")
    if jing is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but jing is missing: apt-get install jing")
        pytest.skip("jing is not installed")
    path = tmp_path / "feed.xml"
    path.write_bytes(body)
    checked = subprocess.run(
        [jing, "-c", str(SCHEMA), str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # What the grammar's Schematron rules say (jing does not check them).
    for entry in parsed.entries:
        assert entry.get("author") or parsed.feed.get("author")
        assert any(link.get("rel") == "alternate" for link in entry.links) or entry.get("content")
    return parsed


def test_a_public_space_feed_is_valid_atom_with_sanitised_html(timed: Timed, tmp_path: Path) -> None:
    t = timed
    t.clock.now = T0
    ana, ben = t.make.person("Ana Author"), t.make.person("Ben Builder")
    space = new_space(
        t.client, ana, "Sales News", slug="sales-news", description="What we learn from clients"
    )
    add_member(t.client, ana, space, ben)
    topic, first = new_topic(
        t.client, ana, space, "Acme & Co signed", "**Great** news <script>alert(1)</script>"
    )
    t.clock.advance(minutes=5)
    second = reply(
        t.client, ben, topic, "See [the deal](javascript:alert(1)) and [docs](https://example.com)"
    )
    response = t.client.get("/feeds/spaces/sales-news.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = valid_atom(response.content, tmp_path)
    assert parsed.feed.title == "Sales News"
    assert parsed.feed.subtitle == "What we learn from clients"
    assert parsed.feed.id.startswith("tag:kith.example.com,2026-03-02:kith/spaces/")
    assert parsed.feed.updated == "2026-03-02T10:05:00Z"
    assert [e.title for e in parsed.entries] == ["Re: Acme & Co signed", "Acme & Co signed"]
    newest, oldest = parsed.entries
    assert newest.id == f"tag:kith.example.com,2026-03-02:kith/posts/{second}"
    assert newest.author == "Ben Builder"
    assert newest.link == f"https://kith.example.com/topics/{topic}#post-{second}"
    assert oldest.id.endswith(f"/posts/{first}")
    assert oldest.published == "2026-03-02T10:00:00Z"
    content = newest.content[0]
    assert content.type == "text/html"
    assert 'href="javascript:' not in content.value
    assert 'href="https://example.com"' in content.value
    assert "<script" not in oldest.content[0].value
    assert "<strong>Great</strong>" in oldest.content[0].value
    # Deleted posts leave the feed.
    ok(call(t.client, ben, "DELETE", f"/posts/{second}"))
    again = valid_atom(t.client.get("/feeds/spaces/sales-news.atom").content, tmp_path)
    assert [e.title for e in again.entries] == ["Acme & Co signed"]


def test_a_private_space_has_no_feed_for_anyone(timed: Timed) -> None:
    t = timed
    owner = t.make.person("Olga Owner")
    space = new_space(t.client, owner, "Nightjar", slug="nightjar", visibility="private")
    new_topic(t.client, owner, space, "Quillfeather", "zanzibarite")
    token_url = ok(call(t.client, owner, "POST", "/me/feed-token"))["url"]
    for path in ("/feeds/spaces/nightjar.atom", "/feeds/spaces/no-such-space.atom"):
        response = t.client.get(path, headers=owner.headers)
        assert response.status_code == 404
        assert "Quillfeather" not in response.text
    missing = t.client.get("/feeds/spaces/no-such-space.atom").json()
    hidden = t.client.get("/feeds/spaces/nightjar.atom").json()
    assert missing["error"]["code"] == hidden["error"]["code"] == "not_found"
    # Even a member holding a personal feed token gets no space feed for it.
    token = token_url.removeprefix("https://kith.example.com/feeds/person/").removesuffix(".atom")
    assert t.client.get(f"/feeds/spaces/nightjar.atom?token={token}").status_code == 404


def test_the_personal_feed_lives_at_a_secret_rotatable_address(timed: Timed, tmp_path: Path) -> None:
    t = timed
    t.clock.now = T0
    me, ana = t.make.person("Mia Me"), t.make.person("Ana Author")
    sales = new_space(t.client, ana, "Sales")
    secret = new_space(t.client, ana, "Secret", visibility="private")
    add_member(t.client, ana, sales, me)
    add_member(t.client, ana, secret, me)
    topic, post = new_topic(t.client, ana, sales, "Client call", f"@{me.person.handle} <i>join</i> us")
    new_topic(t.client, ana, secret, "Hidden deal", f"@{me.person.handle} psst")
    for _ in range(3):
        reply(t.client, ana, topic, "more about the call")
    t.clock.advance(minutes=10)
    url = ok(call(t.client, me, "POST", "/me/feed-token"))["url"]
    path = url.removeprefix("https://kith.example.com")
    token = path.removeprefix("/feeds/person/").removesuffix(".atom")
    with t.app.db.read() as conn:
        stored = prefs.get(conn, me.id).feed_token_hash
    assert stored is not None
    assert token not in stored  # only a hash is kept
    response = t.client.get(path)  # no sign-in: the address is the secret
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    parsed = valid_atom(response.content, tmp_path)
    titles = [e.title for e in parsed.entries]
    assert "Ana Author mentioned you in “Client call”" in titles
    assert "Ana Author mentioned you in “Hidden deal”" in titles
    assert any(title.startswith("4 new posts from 1 person in “Client call”") for title in titles)
    mention = next(e for e in parsed.entries if e.title == "Ana Author mentioned you in “Client call”")
    assert mention.link == f"https://kith.example.com/topics/{topic}#post-{post}"
    assert "&lt;i&gt;join&lt;/i&gt;" in mention.content[0].value
    assert len({e.id for e in parsed.entries}) == len(parsed.entries)
    # Leaving the private space takes it out of the feed at once.
    ok(call(t.client, me, "POST", f"/spaces/{secret}/leave"), 204)
    after = valid_atom(t.client.get(path).content, tmp_path)
    assert "Hidden deal" not in str([e.title for e in after.entries])
    assert "psst" not in t.client.get(path).text
    # A new token replaces the old one.
    newer = ok(call(t.client, me, "POST", "/me/feed-token"))["url"]
    assert newer != url
    assert t.client.get(path).status_code == 404
    assert t.client.get(newer.removeprefix("https://kith.example.com")).status_code == 200
    for bad in ("short", "x" * 300, token[:-1] + ("A" if token[-1] != "A" else "B"), "../../etc"):
        assert t.client.get(f"/feeds/person/{bad}.atom").status_code == 404
    assert t.client.post("/api/v1/me/feed-token").status_code == 401


def test_an_empty_feed_is_still_valid(timed: Timed, tmp_path: Path) -> None:
    t = timed
    t.clock.now = T0 - timedelta(days=1)
    me = t.make.person("Mia Me")
    new_space(t.client, me, "Quiet", slug="quiet")
    url = ok(call(t.client, me, "POST", "/me/feed-token"))["url"]
    personal = valid_atom(t.client.get(url.removeprefix("https://kith.example.com")).content, tmp_path)
    assert personal.entries == []
    space = valid_atom(t.client.get("/feeds/spaces/quiet.atom").content, tmp_path)
    assert space.entries == []
