"""The daily digest by e-mail, at the start of each person's working day.

:func:`send_due` is the ``digests`` job (:mod:`kith.actions.jobs`), run every minute by the
scheduler of each server process. It is safe to run in several processes at once:

1. **Claim.** It finds (a read) the active people whose working day (their time zone,
   :func:`kith.domain.hours.work_start_on`) has started and who have no ``digests`` row
   for that local date, and in one write transaction writes each row, unless another
   process was first (then it skips that person): ``off`` when mail is off (no
   ``KITH_SMTP_HOST``) or the person opted out, else ``failed`` with the attempt's time,
   which stands for "being sent" until the attempt ends. Writers run one at a time on both
   engines, so two processes never claim the same row.
2. **Build** outside the transaction: the person's notifications not yet digested nor
   read (held ones first of all), then the catch-up highlights of their spaces since their
   last digest (digest-level spaces in, muted ones out; see :mod:`kith.actions.catch_up`).
   Nothing to say: the row becomes ``empty`` and no mail goes out.
3. **Send** through SMTP; on success the row becomes ``sent`` and the notifications in it
   are marked digested. On failure it stays ``failed`` with the time of the attempt.

**Retries.** A ``failed`` digest is taken again (by whichever process comes first, by a
conditional update on the attempt time) once :data:`RETRY_AFTER` has passed since its last
attempt, for as long as :data:`RETRY_FOR` after that working day started; then it is left
``failed``, and its notifications, still undigested, go into the next day's digest. A
process that dies mid-send leaves ``failed`` behind and the digest is retried the same way;
the one case of a double mail is a crash after the SMTP server accepted the message and
before the row was marked ``sent`` (at-least-once, by choice: a lost digest is worse).

Published events: none (a digest changes nothing a client shows live).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from kith.actions.catch_up import collect
from kith.app import App
from kith.domain import hours, markup
from kith.domain.catch_up import CatchUpItem, link, notification_sentence
from kith.domain.errors import NotFound
from kith.domain.models import Digest, Notification, Person, Viewer
from kith.mail import MailError
from kith.storage import digests, notifications, people, prefs, spaces
from kith.storage.database import Tx

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=10)
RETRY_FOR = timedelta(hours=12)
# The furthest back a digest's highlights look, for a first digest or after a long pause.
FIRST_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=7)
NOTIFICATIONS_MAX = 100


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a digest: what to say, where it links, when it happened."""

    text: str
    url: str
    at: datetime
    excerpt: str = ""
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class DigestContent:
    person: Person
    local_date: date
    since: datetime
    notices: tuple[Line, ...]
    notification_ids: tuple[int, ...]
    highlights: tuple[Line, ...]
    more_notices: int = 0

    @property
    def empty(self) -> bool:
        return not self.notices and not self.highlights

    @property
    def size(self) -> int:
        return len(self.notices) + self.more_notices + len(self.highlights)


def send_due(app: App) -> int:
    """Send every digest that is due now (and retry failed ones); returns how many were done.

    "Done" counts each digest settled this pass: sent, empty, or recorded as off.
    """
    now = app.clock()
    with app.db.read() as conn:
        due = _due(conn, now)
        retry = app.mailer is not None and bool(_retry_candidates(conn, now))
    if not due and not retry:
        return 0  # the usual minute: no write transaction at all
    with app.db.transaction() as tx:
        claimed, off = _claim(app, tx, due, now)
        claimed += _claim_retries(app, tx, now)
    return off + sum(_deliver(app, person, day, now) for person, day in claimed)


def _due(conn: Connection, now: datetime) -> list[tuple[Person, date, bool]]:
    """People whose working day has started, with no digest recorded for it yet."""
    started: list[tuple[Person, date, bool]] = []
    for person, wanted in digests.active_people(conn):
        day = hours.local_time(person.timezone, now).date()
        start = hours.work_start_on(person.hours, person.timezone, day)
        if start is not None and start <= now:
            started.append((person, day, wanted))
    taken = digests.existing(conn, {day for _p, day, _w in started})
    return [(person, day, wanted) for person, day, wanted in started if (person.id, day) not in taken]


def _claim(
    app: App, tx: Tx, due: list[tuple[Person, date, bool]], now: datetime
) -> tuple[list[tuple[Person, date]], int]:
    """Claim each due digest (another process may have been first: then it is skipped)."""
    claimed: list[tuple[Person, date]] = []
    off = 0
    for person, day, wanted in due:
        mail_on = app.mailer is not None and wanted
        if not digests.claim(tx.conn, person.id, day, now, "failed" if mail_on else "off"):
            continue
        if mail_on:
            claimed.append((person, day))
        else:
            off += 1
    return claimed, off


def _retry_candidates(conn: Connection, now: datetime) -> list[Digest]:
    since_date = (now - RETRY_FOR - timedelta(days=1)).date()
    return digests.failed_before(conn, now - RETRY_AFTER, since_date=since_date)


def _claim_retries(app: App, tx: Tx, now: datetime) -> list[tuple[Person, date]]:
    if app.mailer is None:
        return []
    claimed: list[tuple[Person, date]] = []
    for digest in _retry_candidates(tx.conn, now):
        person = people.get(tx.conn, digest.person_id)
        if person is None or not person.active:
            continue
        start = hours.work_start_on(person.hours, person.timezone, digest.local_date)
        if start is None or now > start + RETRY_FOR or not prefs.get(tx.conn, person.id).digest_email:
            continue
        if digests.reclaim_failed(tx.conn, digest, now):
            claimed.append((person, digest.local_date))
    return claimed


def _deliver(app: App, person: Person, day: date, now: datetime) -> int:
    """Build, send and record one claimed digest; 1 if settled, 0 if it failed."""
    with app.db.read() as conn:
        content = build(app, conn, person, day, now)
    if content.empty:
        with app.db.transaction() as tx:
            digests.finish(tx.conn, person.id, day, status="empty", items=0, at=now)
        return 1
    assert app.mailer is not None  # claimed only when mail is on
    try:
        app.mailer.send(compose(app, content))
    except MailError as exc:
        log.warning("digest for person %s (%s) failed, will retry: %s", person.id, day, exc)
        with app.db.transaction() as tx:
            digests.finish(tx.conn, person.id, day, status="failed", items=content.size, at=now)
        return 0
    with app.db.transaction() as tx:
        digests.finish(tx.conn, person.id, day, status="sent", items=content.size, at=now)
        notifications.mark_digested(tx.conn, content.notification_ids, now)
    return 1


def build(app: App, conn: Connection, person: Person, day: date, now: datetime) -> DigestContent:
    """What the person's digest for ``day`` says (nothing sent, nothing changed)."""
    last = digests.last_delivered(conn, person.id, before=day)
    since = max(last, now - MAX_WINDOW) if last is not None else now - FIRST_WINDOW
    readable: set[object] = {row[0] for row in conn.execute(spaces.readable_space_ids(person.id))}
    pending = [
        n
        for n in notifications.undigested(conn, person.id, until=now)
        if n.space_id is None or n.space_id in readable
    ]
    # Held ones first (they were never shown live), then the newest.
    pending.sort(key=lambda n: (not n.held, -n.id))
    shown = pending[:NOTIFICATIONS_MAX]
    notices = _notice_lines(app, conn, shown)
    told_posts = {n.post_id for n in pending if n.post_id is not None}
    highlights = [
        _highlight_line(app, item)
        for item in collect(conn, person.id, since, now)
        if item.post_id is None or item.post_id not in told_posts
    ]
    return DigestContent(
        person=person,
        local_date=day,
        since=since,
        notices=tuple(notices),
        notification_ids=tuple(n.id for n in shown),
        highlights=tuple(highlights),
        more_notices=len(pending) - len(shown),
    )


def _notice_lines(app: App, conn: Connection, found: list[Notification]) -> list[Line]:
    actors = people.get_many(conn, {n.actor_id for n in found if n.actor_id is not None})
    names = {
        sid: space.name
        for sid in {n.space_id for n in found if n.space_id is not None}
        if (space := spaces.get(conn, sid)) is not None
    }
    lines = []
    for n in found:
        actor = actors.get(n.actor_id) if n.actor_id is not None else None
        text = notification_sentence(
            n.kind, actor.display_name if actor else None, names.get(n.space_id or 0), n.payload
        )
        url = link(app.settings.public_url, space_id=n.space_id, topic_id=n.topic_id, post_id=n.post_id)
        excerpt = str(n.payload.get("excerpt") or n.payload.get("now") or "")
        lines.append(Line(text, url, n.created_at, excerpt, n.urgent))
    return lines


def _highlight_line(app: App, item: CatchUpItem) -> Line:
    url = link(app.settings.public_url, space_id=item.space_id, topic_id=item.topic_id, post_id=item.post_id)
    return Line(item.why, url, item.at, item.excerpt or "", item.urgent)


def compose(app: App, content: DigestContent) -> EmailMessage:
    """The digest as a multipart message: plain text, and the same as sanitised HTML."""
    person, base = content.person, app.settings.public_url
    when = content.local_date.strftime("%A %-d %B")
    message = EmailMessage()
    message["Subject"] = f"Kith: your digest for {when} ({_count_phrase(content)})"
    message["From"] = app.settings.smtp_from
    message["To"] = formataddr((person.display_name, person.email))
    message["Date"] = format_datetime(app.clock())
    message["Message-ID"] = make_msgid("digest", domain=urlsplit(base).hostname or "kith.local")
    unsubscribe = unsubscribe_url(app, person.id)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_text(app, content, unsubscribe))
    message.add_alternative(_html(app, content, unsubscribe), subtype="html")
    return message


def _count_phrase(content: DigestContent) -> str:
    told = len(content.notices) + content.more_notices
    parts = []
    if told:
        parts.append(f"{told} notification{'s' if told != 1 else ''}")
    if content.highlights:
        n = len(content.highlights)
        parts.append(f"{n} highlight{'s' if n != 1 else ''}")
    return ", ".join(parts)


def _local(content: DigestContent, at: datetime) -> str:
    return hours.local_time(content.person.timezone, at).strftime("%a %H:%M")


FEED_HINT = (
    "Prefer a feed reader? Your personal Atom feed has a secret address: "
    "create it (or replace it) with POST /api/v1/me/feed-token."
)


def _text(app: App, content: DigestContent, unsubscribe: str) -> str:
    out = [f"Good morning, {content.person.display_name}.", ""]
    for title, lines in (("For you", content.notices), ("Highlights of your spaces", content.highlights)):
        if not lines:
            continue
        out += [title, "-" * len(title)]
        for line in lines:
            flag = "[urgent] " if line.urgent else ""
            out.append(f"* {flag}{line.text} ({_local(content, line.at)})")
            if line.excerpt:
                out.append(f"  {line.excerpt}")
            out.append(f"  {line.url}")
        if lines is content.notices and content.more_notices:
            out.append(f"... and {content.more_notices} more: {app.settings.public_url}/")
        out.append("")
    out += [
        f"{FEED_HINT} ({app.settings.public_url}/feeds/person/<your secret>.atom)",
        f"Stop these e-mails: {unsubscribe}",
    ]
    return "\n".join(out) + "\n"


def _html(app: App, content: DigestContent, unsubscribe: str) -> str:
    esc = html.escape
    body = [f"<p>Good morning, {esc(content.person.display_name)}.</p>"]
    for title, lines in (("For you", content.notices), ("Highlights of your spaces", content.highlights)):
        if not lines:
            continue
        body.append(f"<h2>{esc(title)}</h2><ul>")
        for line in lines:
            flag = "<strong>urgent</strong> " if line.urgent else ""
            quote = f"<blockquote>{esc(line.excerpt)}</blockquote>" if line.excerpt else ""
            body.append(
                f'<li>{flag}<a href="{esc(line.url)}">{esc(line.text)}</a> '
                f"<em>{esc(_local(content, line.at))}</em>{quote}</li>"
            )
        body.append("</ul>")
        if lines is content.notices and content.more_notices:
            body.append(f"<p>… and {content.more_notices} more.</p>")
    feed = f"{app.settings.public_url}/feeds/person/"
    body.append(f"<p>{esc(FEED_HINT)} <code>{esc(feed)}…</code></p>")
    body.append(f'<p><a href="{esc(unsubscribe)}">Stop these e-mails</a></p>')
    clean = markup.sanitise("".join(body))
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>{clean}</body></html>\n'


def _signature(app: App, person_id: int) -> str:
    key = app.settings.secret_key.encode()
    return hmac.new(key, f"kith-digest-unsubscribe:{person_id}".encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_url(app: App, person_id: int) -> str:
    """The one-click (RFC 8058) address that turns the person's digest mail off."""
    return f"{app.settings.public_url}/api/v1/digest/unsubscribe?p={person_id}&s={_signature(app, person_id)}"


def do_unsubscribe(app: App, person_id: int, signature: str) -> None:
    """Turn digest mail off for the person a signed unsubscribe link names."""
    # As bytes: compare_digest refuses str with non-ASCII characters.
    if not hmac.compare_digest(_signature(app, person_id).encode(), signature.encode()):
        raise NotFound("this unsubscribe link is not valid")
    with app.db.transaction() as tx:
        if people.get(tx.conn, person_id) is None:
            raise NotFound("this unsubscribe link is not valid")
        prefs.set_digest_email(tx.conn, person_id, False)


def check_set_digest_email(app: App, viewer: Viewer, wanted: bool) -> bool:
    """The viewer turns their daily digest e-mail on or off."""
    with app.db.transaction() as tx:
        prefs.set_digest_email(tx.conn, viewer.id, wanted)
    return wanted


def get_digest_email(app: App, viewer: Viewer) -> bool:
    with app.db.read() as conn:
        return prefs.get(conn, viewer.id).digest_email
