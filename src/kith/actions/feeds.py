"""Atom feeds (RFC 4287): a personal feed at a secret address, and one per public space.

The personal feed's address holds a random token (``POST /api/v1/me/feed-token`` makes a
new one and shows it once); only its SHA-256 is stored, in ``person_prefs``, and a request
is matched by that hash and compared again in constant time. A new token replaces the old
one, whose address stops working at once. The feed lists the person's notifications and
catch-up items of the last :data:`PERSONAL_WINDOW`, in spaces they may read *now*: leaving a
private space empties the feed of it.

A space's feed exists only while the space is public: a private space's feed answers 404
to everyone, whatever token they hold.

Ids are tag URIs (RFC 4151) on the host of ``KITH_PUBLIC_URL``, dated with the day the
thing was made, so they never change. Content is HTML (``type="html"``), sanitised.

Published events: none.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import kith
from kith.actions.catch_up import collect
from kith.app import App
from kith.domain import markup
from kith.domain.catch_up import CatchUpItem, link, notification_sentence
from kith.domain.errors import NotFound
from kith.domain.models import Notification, Person, Viewer
from kith.storage import feeds, notifications, people, prefs, spaces

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
PERSONAL_WINDOW = timedelta(days=7)
ENTRIES_MAX = 50
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
# Characters XML 1.0 cannot carry at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    updated: datetime
    url: str
    content_html: str
    author: str | None = None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    title: str
    subtitle: str
    self_url: str
    alternate_url: str
    updated: datetime
    entries: tuple[Entry, ...]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def personal_feed_url(app: App, token: str) -> str:
    return f"{app.settings.public_url}/feeds/person/{token}.atom"


def do_rotate_feed_token(app: App, viewer: Viewer) -> str:
    """Make the viewer a new personal feed token (the old one stops working); returns the
    feed's address, which is shown this once."""
    token = secrets.token_urlsafe(32)
    with app.db.transaction() as tx:
        prefs.set_feed_token_hash(tx.conn, viewer.id, _hash(token))
    return personal_feed_url(app, token)


def _tag(app: App, made: datetime, specific: str) -> str:
    host = urlsplit(app.settings.public_url).hostname or "kith.local"
    return f"tag:{host},{made.date().isoformat()}:kith/{specific}"


def access_person_by_token(app: App, token: str) -> Person:
    """The active person whose feed token this is; NotFound otherwise."""
    missing = NotFound("no such feed")
    if not _TOKEN.fullmatch(token):
        raise missing
    wanted = _hash(token)
    with app.db.read() as conn:
        found = prefs.by_feed_token_hash(conn, wanted)
        if found is None or found.feed_token_hash is None:
            raise missing
        if not hmac.compare_digest(found.feed_token_hash, wanted):
            raise missing
        person = people.get(conn, found.person_id)
    if person is None or not person.active:
        raise missing
    return person


def person_feed(app: App, token: str) -> bytes:
    """The personal feed of the token's holder, as Atom XML."""
    person = access_person_by_token(app, token)
    now = app.clock()
    with app.db.read() as conn:
        readable = spaces.readable_space_ids(person.id)
        found = notifications.list_for(conn, person.id, before_id=None, limit=ENTRIES_MAX, readable=readable)
        found = [n for n in found if n.created_at >= now - PERSONAL_WINDOW]
        actors = people.get_many(conn, {n.actor_id for n in found if n.actor_id is not None})
        names = {s: sp.name for s in {n.space_id for n in found if n.space_id} if (sp := spaces.get(conn, s))}
        items = collect(conn, person.id, now - PERSONAL_WINDOW, now)
    told = {n.post_id for n in found if n.post_id is not None}
    entries = [_notification_entry(app, n, actors, names) for n in found]
    entries += [
        _item_entry(app, person, item) for item in items if item.post_id not in told or not item.post_id
    ]
    entries.sort(key=lambda e: e.updated, reverse=True)
    feed = Feed(
        id=_tag(app, person.created_at, f"people/{person.id}/feed"),
        title=f"Kith for {person.display_name}",
        subtitle="Your notifications and what changed in your spaces",
        self_url=f"{app.settings.public_url}/feeds/person/{token}.atom",
        alternate_url=f"{app.settings.public_url}/",
        updated=entries[0].updated if entries else person.created_at,
        entries=tuple(entries[:ENTRIES_MAX]),
    )
    return render(feed)


def _notification_entry(app: App, n: Notification, actors: dict[int, Person], names: dict[int, str]) -> Entry:
    actor = actors.get(n.actor_id) if n.actor_id is not None else None
    title = notification_sentence(
        n.kind, actor.display_name if actor else None, names.get(n.space_id or 0), n.payload
    )
    excerpt = str(n.payload.get("excerpt") or n.payload.get("now") or "")
    body = f"<p>{html.escape(title)}</p>" + (
        f"<blockquote>{html.escape(excerpt)}</blockquote>" if excerpt else ""
    )
    return Entry(
        id=_tag(app, n.created_at, f"notifications/{n.id}"),
        title=title,
        updated=n.created_at,
        url=link(app.settings.public_url, space_id=n.space_id, topic_id=n.topic_id, post_id=n.post_id),
        content_html=body,
        author=actor.display_name if actor else None,
    )


def _item_entry(app: App, person: Person, item: CatchUpItem) -> Entry:
    what = item.post_id or item.fact_id or item.topic_id or item.space_id
    version = f"/{item.fact_version}" if item.fact_version else ""
    body = f"<p>{html.escape(item.why)}</p>"
    if item.excerpt:
        body += f"<blockquote>{html.escape(item.excerpt)}</blockquote>"
    return Entry(
        id=_tag(app, item.at, f"people/{person.id}/catch-up/{item.reason}/{what}{version}"),
        title=item.why,
        updated=item.at,
        url=link(
            app.settings.public_url, space_id=item.space_id, topic_id=item.topic_id, post_id=item.post_id
        ),
        content_html=body,
        author=item.actor_name,
    )


def space_feed(app: App, slug: str) -> bytes:
    """The recent posts of a public space, as Atom XML; a private space has no feed."""
    with app.db.read() as conn:
        space = spaces.get_by_slug(conn, slug) if len(slug) <= 64 else None
        if space is None or not space.is_public:
            raise NotFound(f"no public space {slug!r}")
        found = feeds.recent_posts(conn, space.id, ENTRIES_MAX)
    base = app.settings.public_url
    entries = tuple(
        Entry(
            id=_tag(app, row["created_at"], f"posts/{row['id']}"),
            title=row["title"] if row["opens_topic"] else f"Re: {row['title']}",
            updated=row["edited_at"] or row["created_at"],
            published=row["created_at"],
            url=link(base, topic_id=row["topic_id"], post_id=row["id"]),
            content_html=markup.sanitise(row["html"]),
            author=row["display_name"],
        )
        for row in found
    )
    feed = Feed(
        id=_tag(app, space.created_at, f"spaces/{space.id}/feed"),
        title=space.name,
        subtitle=space.description,
        self_url=f"{base}/feeds/spaces/{space.slug}.atom",
        alternate_url=link(base, space_id=space.id),
        updated=max((e.updated for e in entries), default=space.created_at),
        entries=entries,
    )
    return render(feed)


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _stamp(at: datetime) -> str:
    return at.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def render(feed: Feed) -> bytes:
    """The feed as an Atom 1.0 document (UTF-8)."""
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = _text(text)
        return element

    root = ET.Element(f"{{{ATOM}}}feed")
    add(root, "id", feed.id)
    add(root, "title", feed.title)
    if feed.subtitle:
        add(root, "subtitle", feed.subtitle)
    add(root, "updated", _stamp(feed.updated))
    add(root, "link", rel="self", href=feed.self_url, type=MEDIA_TYPE)
    add(root, "link", rel="alternate", href=feed.alternate_url, type="text/html")
    add(add(root, "author"), "name", "Kith")
    add(root, "generator", "Kith", version=kith.__version__)
    for entry in feed.entries:
        element = add(root, "entry")
        add(element, "id", entry.id)
        add(element, "title", entry.title)
        add(element, "updated", _stamp(entry.updated))
        if entry.published is not None:
            add(element, "published", _stamp(entry.published))
        if entry.author:
            add(add(element, "author"), "name", entry.author)
        add(element, "link", rel="alternate", href=entry.url, type="text/html")
        add(element, "content", entry.content_html, type="html")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
