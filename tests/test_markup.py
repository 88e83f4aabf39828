"""Rendering user Markdown: real XSS payloads come out harmless, Markdown itself survives.

Every rendered document is parsed with the standard library's HTML parser, so the checks
look at tags and attributes the way a browser would, not at substrings: entity-encoded
and whitespace-split URL schemes are decoded before they are judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Actor, Factory

from kith.domain.markup import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, mentions, render, sanitise

API = "/api/v1"

# Drawn from the OWASP XSS filter evasion cheat sheet, PortSwigger's XSS cheat sheet and
# published Markdown-renderer bypasses. Raw HTML, Markdown links and images, and mixtures.
PAYLOADS: list[str] = [
    # script tags in casings, encodings and broken forms
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script src=//evil.example/x.js></script>",
    '<SCRIPT SRC="http://evil.example/xss.js"></SCRIPT>',
    "<script/xss src=//evil.example/x.js></script>",
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\\<script>alert(1)\\</script>",
    '"><script>alert(document.cookie)</script>',
    "'><script>alert(1)</script>",
    "</p><script>alert(1)</script><p>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`</code><script>alert(1)</script>`",
    # event handlers
    "<img src=x onerror=alert(1)>",
    '<IMG SRC=x ONERROR="alert(1)">',
    "<img src=x onerror=alert`1`>",
    "<img/src=x/onerror=alert(1)>",
    '<img src="x" onerror  =  "alert(1)">',
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">CLICK</math>',
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<div onmouseover=alert(1)>hover</div>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<marquee onstart=alert(1)>x</marquee>",
    # embedding elements
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="width: expression(alert(1))">x</div>',
    '<p style="background-image:url(javascript:alert(1))">x</p>',
    '<link rel=stylesheet href="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<form><button formaction="javascript:alert(1)">go</button></form>',
    "<isindex type=image src=1 onerror=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    # raw anchors with dangerous schemes
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    # Markdown links
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[x](javas&#99;ript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](<java\nscript:alert(1)>)",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1))",
    "[x](javascript://%0Aalert(1))",
    "[x](\\javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](file:///etc/passwd)",
    '[x](https://example.com "title\\" onmouseover=\\"alert(1))',
    "[x](https://example.com \"a' onmouseover='alert(1)\")",
    '[x](https://example.com" onclick="alert(1))',
    '[x](https://example.com"><script>alert(1)</script>)',
    "[a](https://example.com)<img src=x onerror=alert(1)>",
    # autolinks
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    # images
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '![x](https://example.com/a.png"onerror="alert(1))',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    # reference-style links and images
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    '[x][evil]\n\n[evil]: JaVaScRiPt:alert(1) "t"',
    "![x][img]\n\n[img]: javascript:alert(1)",
    "[x]\n\n[x]: data:text/html,<script>alert(1)</script>",
    '[x][t]\n\n[t]: https://example.com "x"onmouseover="alert(1)"',
    # nested and mixed
    "[<img src=x onerror=alert(1)>](https://example.com)",
    "[![x](javascript:alert(1))](javascript:alert(2))",
    "**<script>alert(1)</script>**",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "> <iframe src=javascript:alert(1)>",
    "- [x](javascript:alert(1))\n- <svg onload=alert(1)>",
    "```html\n<script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\ncode\n```',
    "```js onclick=alert(1)\nx\n```",
]

SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
SAFE_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "srcdoc"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


class Collector(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[Element]:
    parser = Collector()
    parser.feed(html)
    parser.close()
    return parser.elements


def url_scheme(value: str) -> str | None:
    """The scheme a browser would act on: it drops ASCII whitespace and controls first."""
    squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
    match = SCHEME.match(squeezed)
    return match.group(1) if match else None


def assert_safe(html: str, payload: str) -> None:
    """No script, no handler, no dangerous URL, nothing off the allow-list, safe links."""
    context = f"payload {payload!r} rendered as {html!r}"
    assert "<script" not in html.lower(), context
    for element in elements(html):
        assert element.tag in ALLOWED_TAGS, context
        allowed = ALLOWED_ATTRIBUTES.get(element.tag, set()) | ({"rel"} if element.tag == "a" else set())
        for name, value in element.attrs.items():
            assert not name.startswith("on"), context
            assert name in allowed, context
            if name in URL_ATTRIBUTES:
                scheme = url_scheme(value)
                assert scheme is None or scheme in SAFE_SCHEMES, context
        if element.tag == "a":
            rel = element.attrs.get("rel", "").split()
            assert "noopener" in rel, context
            assert "nofollow" in rel, context


def test_there_are_enough_payloads() -> None:
    assert len(PAYLOADS) >= 40
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_harmless(payload: str) -> None:
    assert_safe(render(payload), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_surrounded_by_markdown_renders_harmless(payload: str) -> None:
    source = f"# Title\n\nSome **bold** text and a [link](https://example.com).\n\n{payload}\n\nAfter."
    assert_safe(render(source), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sanitiser_alone_makes_raw_html_payload_harmless(payload: str) -> None:
    """The second layer holds on its own, as if the Markdown layer let raw HTML through."""
    assert_safe(sanitise(payload), payload)


def test_the_checker_catches_what_it_should() -> None:
    """The checks themselves bite: unsafe HTML written by hand fails them."""
    unsafe = [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="java&#x09;script:alert(1)" rel="noopener nofollow">x</a>',
        '<a href="https://example.com">no rel</a>',
        '<img src="data:image/svg+xml,x">',
        "<iframe></iframe>",
    ]
    for html in unsafe:
        with pytest.raises(AssertionError):
            assert_safe(html, "hand-written")


# Markdown that must survive sanitising


def test_emphasis_lists_quotes_and_headings_survive() -> None:
    html = render("# Head\n\n**bold** *em* ~~gone~~\n\n- one\n- two\n\n1. first\n\n> quoted")
    tags = [e.tag for e in elements(html)]
    for tag in ("h1", "strong", "em", "s", "ul", "li", "ol", "blockquote"):
        assert tag in tags or (tag == "s" and "del" in tags), (tag, html)
    assert "<strong>bold</strong>" in html
    assert "<em>em</em>" in html


def test_code_blocks_keep_their_content_escaped() -> None:
    html = render("```python\nif a < b and c > d: print('<b>&')\n```\n\nand `x<y>` inline")
    assert '<pre><code class="language-python">' in html
    assert "if a &lt; b and c &gt; d: print('&lt;b&gt;&amp;')" in html
    assert "<code>x&lt;y&gt;</code>" in html
    assert "<b>" not in html


def test_tables_survive() -> None:
    html = render("| name | n |\n|:-----|--:|\n| ana | 3 |")
    tags = [e.tag for e in elements(html)]
    assert {"table", "thead", "tbody", "tr", "th", "td"} <= set(tags)
    assert ">ana</td>" in html


def test_http_links_survive_with_rel() -> None:
    html = render('See [the plan](https://example.com/plan?a=1&b=2 "Plan") and <https://example.org>.')
    links = [e for e in elements(html) if e.tag == "a"]
    assert [link.attrs["href"] for link in links] == [
        "https://example.com/plan?a=1&b=2",
        "https://example.org",
    ]
    assert links[0].attrs["title"] == "Plan"
    for link in links:
        assert set(link.attrs["rel"].split()) >= {"noopener", "nofollow"}
    assert_safe(html, "links")


def test_mailto_links_survive() -> None:
    html = render("[write](mailto:ana@example.com) or <mailto:bo@example.com>")
    hrefs = [e.attrs["href"] for e in elements(html) if e.tag == "a"]
    assert hrefs == ["mailto:ana@example.com", "mailto:bo@example.com"]


def test_http_images_survive() -> None:
    html = render('![chart](https://example.com/c.png "Q3")')
    images = [e for e in elements(html) if e.tag == "img"]
    assert images[0].attrs == {"src": "https://example.com/c.png", "alt": "chart", "title": "Q3"}


def test_raw_html_is_shown_as_text_not_dropped() -> None:
    html = render("I typed <b>bold</b> & <script>x</script>")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in html


# Mentions


def test_mentions_handles_emails_and_space() -> None:
    refs = mentions("Hi @ana and @Bo.Ng, please ask @carl@Example.com; cc @space")
    assert refs.handles == {"ana", "bo.ng"}
    assert refs.emails == {"carl@example.com"}
    assert refs.space is True


def test_mentions_are_case_insensitive() -> None:
    refs = mentions("@ANA @Ana @ana @DORA@EXAMPLE.COM @SPACE")
    assert refs.handles == {"ana"}
    assert refs.emails == {"dora@example.com"}
    assert refs.space


@pytest.mark.parametrize("word", ["space", "all", "everyone"])
def test_space_mention_aliases(word: str) -> None:
    refs = mentions(f"heads up @{word}!")
    assert refs.space
    assert not refs.handles


def test_mentions_at_sentence_edges() -> None:
    refs = mentions("(@ana) @bo. @carl, @dora: @eve! **@fay** _@gus_ [@hal](https://example.com)")
    assert refs.handles == {"ana", "bo", "carl", "dora", "eve", "fay", "gus", "hal"}


def test_email_addresses_are_not_mentions() -> None:
    refs = mentions("write to ana@example.com or bo@space.io; a@b.com x@all.org")
    assert refs == mentions("")
    assert not refs.handles
    assert not refs.emails
    assert not refs.space


def test_no_mentions_in_urls_or_words() -> None:
    refs = mentions("see https://example.com/@ana and foo@bar and v1.@bo")
    assert not refs.handles
    assert not refs.emails


@pytest.mark.parametrize(
    "source",
    [
        "`@ana`",
        "inline `call @ana now` span",
        "``double @ana ` tick``",
        "```\n@ana\n```",
        "```python\n@ana\ndef f(): pass\n```",
        "~~~\n@ana\n~~~",
        "~~~~python\n@ana\n~~~~",
        "text\n\n    @ana indented code\n",
        "- item\n\n  ```\n  @ana\n  ```",
        "> ```\n> @ana\n> ```",
    ],
)
def test_no_mentions_in_code(source: str) -> None:
    refs = mentions(source + "\n\n@space")
    assert refs.handles == set(), source
    assert refs.emails == set(), source
    assert refs.space, source


def test_mentions_outside_code_still_count() -> None:
    refs = mentions("`@nope` but @yes\n\n```\n@nope2\n```\n\nand @also")
    assert refs.handles == {"yes", "also"}


# Through the API


def _topic(client: TestClient, author: Actor) -> int:
    space = client.post(f"{API}/spaces", json={"name": "Markup Lab"}, headers=author.headers)
    assert space.status_code == 201, space.text
    created = client.post(
        f"{API}/spaces/{space.json()['id']}/topics",
        json={"title": "Payloads", "body": "first"},
        headers=author.headers,
    )
    assert created.status_code == 201, created.text
    topic_id: int = created.json()["topic"]["id"]
    return topic_id


def test_payloads_through_the_api_create_get_list_and_edit(client: TestClient, make: Factory) -> None:
    author = make.person("Mal Lory")
    topic_id = _topic(client, author)
    for payload in PAYLOADS:
        created = client.post(
            f"{API}/topics/{topic_id}/posts", json={"body": payload}, headers=author.headers
        )
        assert created.status_code == 201, (payload, created.text)
        assert created.json()["source"] == payload.strip()
        assert_safe(created.json()["html"], payload)
        fetched = client.get(f"{API}/posts/{created.json()['id']}", headers=author.headers)
        assert fetched.status_code == 200
        assert_safe(fetched.json()["html"], payload)
    listed = client.get(f"{API}/topics/{topic_id}/posts?limit=200", headers=author.headers)
    assert len(listed.json()["items"]) == len(PAYLOADS) + 1
    for item in listed.json()["items"]:
        assert_safe(item["html"], item["source"])


def test_payload_in_an_edit_and_in_the_history(client: TestClient, make: Factory) -> None:
    author = make.person("Ed Itor")
    topic_id = _topic(client, author)
    post = client.post(f"{API}/topics/{topic_id}/posts", json={"body": "harmless"}, headers=author.headers)
    post_id = post.json()["id"]
    for payload in PAYLOADS[:12] + PAYLOADS[-12:]:
        edited = client.patch(f"{API}/posts/{post_id}", json={"body": payload}, headers=author.headers)
        assert edited.status_code == 200, (payload, edited.text)
        assert_safe(edited.json()["html"], payload)
    history = client.get(f"{API}/posts/{post_id}/history", headers=author.headers).json()
    assert len(history["versions"]) == 24
    for version in history["versions"]:
        assert_safe(version["html"], version["source"])


def test_mentions_through_the_api_reach_me_mentions(client: TestClient, make: Factory) -> None:
    author = make.person("Ann Author")
    ana = make.person("Ana Silva", email="ana.silva@example.com")
    bo = make.person("Bo Ng", email="bo@example.com")
    quiet = make.person("Quiet Person", email="quiet@example.com")
    space = client.post(f"{API}/spaces", json={"name": "Mentions"}, headers=author.headers).json()
    created = client.post(
        f"{API}/spaces/{space['id']}/topics",
        json={"title": "Who", "body": "Hello @Ana.Silva and @BO@EXAMPLE.COM; not `@quiet`"},
        headers=author.headers,
    )
    assert created.status_code == 201, created.text
    post_id = created.json()["post"]["id"]
    code_only = client.post(
        f"{API}/topics/{created.json()['topic']['id']}/posts",
        json={"body": "```\n@quiet @ana.silva\n```\nmail quiet@example.com"},
        headers=author.headers,
    )
    assert code_only.status_code == 201
    for person in (ana, bo):
        mentioned = client.get(f"{API}/me/mentions", headers=person.headers).json()["items"]
        assert [(m["post_id"], m["kind"], m["space_id"]) for m in mentioned] == [
            (post_id, "person", space["id"])
        ], person.person.display_name
    assert client.get(f"{API}/me/mentions", headers=quiet.headers).json()["items"] == []
    assert client.get(f"{API}/me/mentions", headers=author.headers).json()["items"] == []
