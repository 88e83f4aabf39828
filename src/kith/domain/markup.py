"""Markdown to safe HTML, and the @mentions a post makes.

Rendering is markdown-it-py (CommonMark, tables, strikethrough) with raw HTML disabled, and
the result is cleaned again with nh3 (the Rust ``ammonia`` sanitiser): an allow-list of
tags and attributes, only http, https and mailto URLs, and ``rel="noopener nofollow"`` on
every link. Two layers, because either alone has had bypasses in other products.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {
        "a",
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "img",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

# "@space" and "@handle" must not be the tail of an e-mail address or a word ("a@b").
_MENTION = re.compile(
    r"(?<![\w.@/])@("
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"  # an e-mail address
    r"|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"  # a handle
    r")"
)
SPACE_MENTIONS = frozenset({"space", "all", "everyone"})
# "@awake": the members of the space within their working hours now.
AWAKE_MENTIONS = frozenset({"awake"})
RESERVED_HANDLES = SPACE_MENTIONS | AWAKE_MENTIONS


@dataclass(frozen=True, slots=True)
class MentionRefs:
    """What a post's text mentions: handles and e-mail addresses (lower case), @space, @awake."""

    handles: frozenset[str]
    emails: frozenset[str]
    space: bool
    awake: bool = False


@dataclass(frozen=True, slots=True)
class Rendered:
    """A post's Markdown after one parse: its sanitised HTML and what it mentions."""

    html: str
    mentions: MentionRefs


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    return md


def render(source: str) -> str:
    """Render Markdown ``source`` to sanitised HTML.

    >>> render("**hi** <script>alert(1)</script>")
    '<p><strong>hi</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\\n'
    """
    html = _parser().render(source)
    return sanitise(html)


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    # Built once: nh3.clean() builds its allow-list anew on every call, five times the cost.
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener nofollow",
        strip_comments=True,
    )


def sanitise(html: str) -> str:
    """Clean untrusted HTML to the allow-list; links get ``rel="noopener nofollow"``."""
    cleaned: str = _cleaner().clean(html)
    return cleaned


def mentions(source: str) -> MentionRefs:
    """The mentions in ``source``, ignoring code spans and blocks.

    >>> sorted(mentions("hi @Ana and @bo@example.com, `@not` @space").handles)
    ['ana']
    """
    return _refs(_prose(_parser().parse(source)))


def render_with_mentions(source: str) -> Rendered:
    """:func:`render` and :func:`mentions` of ``source`` from a single parse.

    >>> rendered = render_with_mentions("hi @ana")
    >>> rendered.html, sorted(rendered.mentions.handles)
    ('<p>hi @ana</p>\\n', ['ana'])
    """
    md = _parser()
    env: dict[str, object] = {}
    tokens = md.parse(source, env)
    refs = _refs(_prose(tokens))  # before rendering, which may set attributes on tokens
    return Rendered(sanitise(md.renderer.render(tokens, md.options, env)), refs)


def _refs(text: str) -> MentionRefs:
    handles: set[str] = set()
    emails: set[str] = set()
    space = awake = False
    for match in _MENTION.finditer(text):
        ref = match.group(1).lower()
        if "@" in ref:
            emails.add(ref)
        elif ref in SPACE_MENTIONS:
            space = True
        elif ref in AWAKE_MENTIONS:
            awake = True
        else:
            handles.add(ref)
    return MentionRefs(frozenset(handles), frozenset(emails), space, awake)


def _prose(tokens: Sequence[Token]) -> str:
    """The prose of parsed Markdown: code spans and blocks, image alt text and syntax left out.

    The parser that renders the post decides what is code (fences of backticks or tildes,
    indented blocks, spans of any number of backticks), so a mention counts exactly when
    it is shown as text.
    """
    parts: list[str] = []
    for token in tokens:
        if token.type != "inline":
            continue
        parts.extend(child.content if child.type == "text" else " " for child in token.children or ())
        parts.append("\n")
    return "".join(parts)


def plain_text(source: str, limit: int = 200) -> str:
    """A short one-line plain-text excerpt of ``source`` for notifications and titles."""
    text = re.sub(r"\s+", " ", nh3.clean(_parser().render(source), tags=set())).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
