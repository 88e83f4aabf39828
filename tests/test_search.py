"""Full-text search through the API, on SQLite FTS5 and on PostgreSQL full-text search.

Ranking, highlighted and escaped snippets, deleted and edited posts, hostile query text,
the space filter and pagination. Who may find what is in ``test_permissions.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Actor, Factory

API = "/api/v1"

FILLER = [
    "Weekly sync notes about hiring and the office move",
    "Lunch options near the new office are limited",
    "Release train leaves on Thursday; freeze on Wednesday",
    "Customer interviews scheduled with three retailers",
    "Reminder to update your working hours in the profile",
    "Onboarding checklist for new engineers is in the wiki",
]


def call(client: TestClient, actor: Actor, method: str, path: str, body: Any = None) -> Any:
    response = client.request(method, API + path, json=body, headers=actor.headers)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def search(client: TestClient, actor: Actor, q: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/search", params={"q": q, **params}, headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class Forum:
    """A public space with a topic, its filler posts, and a way to add more."""

    def __init__(self, client: TestClient, make: Factory, name: str = "Finance Circle") -> None:
        self.client = client
        self.author = make.person("Sam Searcher")
        self.space: int = call(client, self.author, "POST", "/spaces", {"name": name})["id"]
        created = call(
            client,
            self.author,
            "POST",
            f"/spaces/{self.space}/topics",
            {"title": f"{name} chatter", "body": FILLER[0]},
        )
        self.topic: int = created["topic"]["id"]
        for body in FILLER[1:]:
            self.post(body)

    def post(self, body: str) -> int:
        created = call(self.client, self.author, "POST", f"/topics/{self.topic}/posts", {"body": body})
        post_id: int = created["id"]
        return post_id


def test_stronger_match_ranks_first(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    weak = forum.post("The forecast for next year mentions the budget once among many other words")
    strong = forum.post("Budget review: the budget is over budget, so the budget needs a new forecast")
    hits = search(client, forum.author, "budget")
    assert [h["post_id"] for h in hits] == [strong, weak]
    hits = search(client, forum.author, "budget forecast")
    assert [h["post_id"] for h in hits] == [strong, weak]


def test_hits_carry_their_place(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    post = forum.post("Pricing for the Japanese market")
    [hit] = search(client, forum.author, "japanese")
    assert hit["post_id"] == post
    assert hit["topic_id"] == forum.topic
    assert hit["space_id"] == forum.space
    assert hit["topic_title"] == "Finance Circle chatter"
    assert hit["author_id"] == forum.author.id


def test_snippets_highlight_matches(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    forum.post("The tariff on steel changed; every tariff table needs checking")
    [hit] = search(client, forum.author, "tariff")
    assert "<mark>tariff</mark>" in hit["snippet_html"]
    assert hit["snippet_html"].count("<mark>") == hit["snippet_html"].count("</mark>") >= 1


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("Paste <script>alert(1)</script> into the zebrafish form", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<script>alert(1)</script> zebrafish habitat", "&lt;/script&gt;"),
        ("zebrafish <img src=x onerror=alert(1)> and <svg onload=alert(1)>", "&lt;img src=x"),
        ('look: <mark>zebrafish</mark> & "quotes" <b>bold</b>', "&lt;mark&gt;<mark>zebrafish</mark>"),
        ("[zebrafish](javascript:alert(1)) `<script>` zebrafish", "`&lt;script&gt;`"),
        ("Use the <details> tag, zebrafish fans & friends", "details&gt; tag, <mark>zebrafish</mark>"),
        (
            "Entities stay text: &lt;b&gt; &#60;i&#62; zebrafish &amp;",
            "&amp;lt;b&amp;gt; &amp;#60;i&amp;#62;",
        ),
    ],
)
def test_snippets_escape_user_content(client: TestClient, make: Factory, body: str, shown: str) -> None:
    """What the author typed is shown, as text: escaped, never dropped and never markup.

    (Each engine may trim punctuation at the very edge of a snippet, so the expected text
    sits inside it.)
    """
    forum = Forum(client, make)
    forum.post(body)
    [hit] = search(client, forum.author, "zebrafish")
    snippet = hit["snippet_html"]
    assert "<mark>zebrafish</mark>" in snippet
    assert shown in snippet, snippet
    without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks, snippet
    assert ">" not in without_marks, snippet
    assert "<script" not in snippet.lower()


def test_match_marks_cannot_be_smuggled_in(client: TestClient, make: Factory) -> None:
    """The engine's highlight marks are control characters a post may not contain."""
    forum = Forum(client, make)
    refused = client.post(
        f"{API}/topics/{forum.topic}/posts",
        json={"body": "\x02script\x03 zebrafish"},
        headers=forum.author.headers,
    )
    assert refused.status_code == 422, refused.text
    assert search(client, forum.author, "zebrafish") == []


def test_deleted_posts_disappear(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    kept = forum.post("Narwhal sightings in the north")
    gone = forum.post("Narwhal tusk photos")
    assert {h["post_id"] for h in search(client, forum.author, "narwhal")} == {kept, gone}
    call(client, forum.author, "DELETE", f"/posts/{gone}")
    assert [h["post_id"] for h in search(client, forum.author, "narwhal")] == [kept]
    assert search(client, forum.author, "tusk") == []


def test_edited_posts_are_found_by_their_new_text_only(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    post = forum.post("Meet at the aardvark cafe")
    call(client, forum.author, "PATCH", f"/posts/{post}", {"body": "Meet at the pangolin bistro"})
    assert search(client, forum.author, "aardvark") == []
    assert search(client, forum.author, "cafe") == []
    [hit] = search(client, forum.author, "pangolin")
    assert hit["post_id"] == post
    assert "<mark>pangolin</mark>" in hit["snippet_html"]
    # The earlier version stays in the history, not in search.
    history = call(client, forum.author, "GET", f"/posts/{post}/history")
    assert history["versions"][0]["source"] == "Meet at the aardvark cafe"


HOSTILE_QUERIES = [
    '"',
    '""',
    '"budget',
    'budget"',
    "'",
    "budget'",
    "*",
    "**",
    "budget*",
    "*budget",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "budget AND",
    "OR budget",
    "budget NOT review",
    "NEAR(budget review)",
    "NEAR(budget review, 2)",
    "budget NEAR/2 review",
    "(",
    ")",
    "()",
    "(budget",
    "budget)",
    "((budget) OR (review",
    ":",
    "source:budget",
    "posts_fts:budget",
    "{source}: budget",
    "-",
    "--",
    "-budget",
    "budget -review",
    "budget - review",
    "+budget",
    "^budget",
    "budget^2",
    "budget~",
    "budget & review",
    "budget | review",
    "!budget",
    "budget <-> review",
    "budget <2> review",
    "budget:*",
    ":*",
    "\\",
    "budget\\",
    "%",
    "_",
    "___",
    "budget_review",
    "'; DROP TABLE posts; --",
    "1=1",
    "$1",
    "?",
    "@",
    "#budget",
    "über",
    "Ünïcödé budget",
    "日本語",
    "予算",
    "مرحبا",
    "İstanbul",
    "ß",
    "ﬁnance",
    "‿",
    "\u200b",
    "budget\u200breview",
    "e\u0301",
    "😀",
    "👍🏽 budget",
    "🏳️‍🌈",
    "budget 😀",
    "x" * 200,
    "budget " * 28,
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "the",
    "the a of",
]


def test_hostile_queries_never_fail(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    forum.post("Budget review for the über team: 予算, ﬁnance, İstanbul office 😀")
    for q in HOSTILE_QUERIES:
        for params in ({}, {"space_id": forum.space}, {"limit": 1, "offset": 3}):
            response = client.get(f"{API}/search", params={"q": q, **params}, headers=forum.author.headers)
            assert response.status_code == 200, (q, params, response.status_code, response.text)
            body = response.json()
            assert body["query"] == q
            for hit in body["items"]:
                assert "<script" not in hit["snippet_html"]


def test_a_query_without_words_finds_nothing(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    forum.post('!!! * * * "" () - 😀🎉 ... ?! ‿ \u200b')
    for q in ("!!!", "* * *", '"" ()', "-", "😀🎉", "...", "?!", "‿", "\u200b", "* - ( ) : \" '"):
        assert search(client, forum.author, q) == [], q


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": ""}, 422),
        ({"q": "   "}, 422),
        ({"q": "a\x00b"}, 422),
        ({"q": "x" * 201}, 422),
        ({"q": "budget", "limit": 0}, 422),
        ({"q": "budget", "limit": 101}, 422),
        ({"q": "budget", "offset": -1}, 422),
        ({"q": "budget", "space_id": 0}, 422),
        ({"q": "budget", "space_id": 2**31}, 422),
        ({"q": "budget", "space_id": "x"}, 422),
        ({"q": "budget", "space_id": 999_999}, 404),
        ({}, 422),
    ],
)
def test_bad_search_parameters_are_4xx_naming_the_field(
    client: TestClient, make: Factory, params: dict[str, Any], status: int
) -> None:
    searcher = make.person("Val Idator")
    response = client.get(f"{API}/search", params=params, headers=searcher.headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if status == 422:
        assert set(error["fields"]) <= {"q", "limit", "offset", "space_id"}
        assert error["fields"]


def test_search_needs_a_signed_in_person(client: TestClient, make: Factory) -> None:
    Forum(client, make).post("Secret-free but still members-only walrus")
    response = client.get(f"{API}/search", params={"q": "walrus"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "walrus" not in response.text


def test_space_filter(client: TestClient, make: Factory) -> None:
    finance = Forum(client, make, "Finance Circle")
    sales = Forum(client, make, "Sales Floor")
    in_finance = finance.post("Quokka quarterly numbers")
    in_sales = sales.post("Quokka leads from the trade fair")
    everyone = {h["post_id"] for h in search(client, finance.author, "quokka")}
    assert everyone == {in_finance, in_sales}
    only = search(client, finance.author, "quokka", space_id=sales.space)
    assert [(h["post_id"], h["space_id"]) for h in only] == [(in_sales, sales.space)]
    only = search(client, finance.author, "quokka", space_id=finance.space)
    assert [h["post_id"] for h in only] == [in_finance]


def test_pagination_with_limit_and_offset(client: TestClient, make: Factory) -> None:
    forum = Forum(client, make)
    posts = [forum.post(f"Ocelot report number {n} " + "ocelot " * n) for n in range(1, 8)]
    everything = [h["post_id"] for h in search(client, forum.author, "ocelot", limit=100)]
    assert sorted(everything) == sorted(posts)
    pages = [
        [h["post_id"] for h in search(client, forum.author, "ocelot", limit=3, offset=offset)]
        for offset in (0, 3, 6, 9)
    ]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    assert [pid for page in pages for pid in page] == everything
    default = search(client, forum.author, "ocelot")
    assert [h["post_id"] for h in default] == everything
