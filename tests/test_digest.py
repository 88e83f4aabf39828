"""Daily digests: timing across time zones, content, real SMTP, retries, no double send."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.conftest import FAST_HASHER, Actor, make_settings
from tests.movable_clock import Timed, timed_app
from tests.notice_world import add_member, call, new_space, new_topic, ok, reply, set_level

from kith.actions import digest
from kith.app import build_app
from kith.storage import digests as digest_store
from kith.storage.tables import notifications


@dataclass
class Inbox:
    """What a real SMTP server (aiosmtpd) received."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SMTPServer:
    """A real SMTP server on a free port, started and stopped by the test."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def timed(database_url: str, smtp: SMTPServer) -> Iterator[Timed]:
    with timed_app(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_timeout_seconds=5) as t:
        yield t


def rows(t: Timed, person: Actor) -> dict[date, tuple[str, int]]:
    with t.app.db.read() as conn:
        return {d.local_date: (d.status, d.items) for d in digest_store.for_person(conn, person.id)}


def digested(t: Timed, person: Actor) -> list[bool]:
    with t.app.db.read() as conn:
        found = conn.execute(
            notifications.select().where(notifications.c.person_id == person.id).order_by(notifications.c.id)
        ).mappings()
        return [row["digested_at"] is not None for row in found]


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


MONDAY = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Singapore, still quiet


def test_a_singapore_morning_digest_reaches_a_real_smtp_server(timed: Timed, smtp: SMTPServer) -> None:
    t = timed
    t.clock.now = MONDAY - timedelta(hours=10)  # Sunday 14:30 UTC: 22:30 in Singapore
    sia = t.make.person("Sia Tan", timezone="Asia/Singapore", email="sia@example.com")
    lou = t.make.person(
        "Lou Smith", timezone="Europe/London", work_days="mon-sun", work_start="00:00", work_end="23:59"
    )
    sales = new_space(t.client, lou, "Sales")
    chatter = new_space(t.client, lou, "Chatter")
    noise = new_space(t.client, lou, "Noise")
    add_member(t.client, lou, sales, sia)
    add_member(t.client, lou, chatter, sia)
    add_member(t.client, lou, noise, sia)
    set_level(t.client, sia, chatter, "digest")
    set_level(t.client, sia, noise, "mute")
    topic, _ = new_topic(t.client, lou, sales, "Client news", f"@{sia.person.handle} <b>Acme</b> signed")
    busy, _ = new_topic(t.client, lou, chatter, "Pricing debate", "Thoughts?")
    for i in range(3):
        reply(t.client, lou, busy, f"point {i}")
    new_topic(t.client, lou, noise, "Muted gossip", "nothing to see")
    assert [n["held"] for n in ok(call(t.client, sia, "GET", "/notifications"))["items"]] == [True]

    t.clock.now = MONDAY + timedelta(minutes=29)  # 00:59 UTC = 08:59 SGT
    digest.send_due(t.app)
    assert smtp.inbox.to("sia@example.com") == []
    t.clock.now = MONDAY + timedelta(minutes=30)  # 01:00 UTC = 09:00 SGT
    assert digest.send_due(t.app) >= 1
    [message] = smtp.inbox.to("sia@example.com")
    assert "Monday 2 March" in message["Subject"]
    assert "1 notification" in message["Subject"]
    assert message["To"] == "Sia Tan <sia@example.com>"
    assert message["From"] == t.app.settings.smtp_from
    assert message.get_content_type() == "multipart/alternative"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://127.0.0.1:8000/api/v1/digest/unsubscribe?p=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    text, html = body["text/plain"], body["text/html"]
    assert "Lou Smith mentioned you in “Client news”" in text
    assert "Pricing debate" in text  # a digest-level space's busy topic
    assert "Muted gossip" not in text
    assert f"http://127.0.0.1:8000/topics/{topic}#post-" in text
    assert "/feeds/person/" in text
    assert "<b>Acme</b>" not in html  # user text is escaped, never markup
    assert "&lt;b&gt;Acme&lt;/b&gt;" in html
    assert "<script" not in html
    assert "Pricing debate" in html
    assert rows(t, sia)[date(2026, 3, 2)][0] == "sent"
    assert digested(t, sia) == [True]
    # Lou's day (London, working round the clock) started at midnight UTC, with nothing to say.
    assert rows(t, lou) == {date(2026, 3, 2): ("empty", 0)}
    # Nothing twice, however often the job runs.
    t.clock.advance(hours=3)
    digest.send_due(t.app)
    assert len(smtp.inbox.to("sia@example.com")) == 1
    # The unsubscribe link works without signing in; a forged one does not.
    link = unsubscribe.strip("<>").removeprefix("http://127.0.0.1:8000")
    assert t.client.post(link.replace("s=", "s=0")).status_code == 404
    assert t.client.post(link.split("&s=")[0] + "&s=é").status_code == 404
    assert ok(call(t.client, sia, "GET", "/me/digest")) == {"email": True}
    assert t.client.post(link).json() == {"email": False}
    assert ok(call(t.client, sia, "GET", "/me/digest")) == {"email": False}


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        # (local date, the UTC minute the digest falls due)
        ("Asia/Singapore", [(date(2026, 3, 2), datetime(2026, 3, 2, 1, 0, tzinfo=UTC))]),
        (
            "Europe/London",
            [
                (date(2026, 3, 27), datetime(2026, 3, 27, 9, 0, tzinfo=UTC)),  # GMT
                (date(2026, 3, 30), datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),  # BST from 29 March
            ],
        ),
        (
            "America/New_York",
            [
                (date(2026, 3, 6), datetime(2026, 3, 6, 14, 0, tzinfo=UTC)),  # EST
                (date(2026, 3, 9), datetime(2026, 3, 9, 13, 0, tzinfo=UTC)),  # EDT from 8 March
            ],
        ),
    ],
)
def test_each_digest_falls_due_at_nine_local_across_daylight_saving(
    timed: Timed, smtp: SMTPServer, zone: str, days: list[tuple[date, datetime]]
) -> None:
    t = timed
    t.clock.now = datetime(2026, 2, 27, 0, 0, tzinfo=UTC)
    person = t.make.person("Zed Zone", timezone=zone)
    t.make.admin  # noqa: B018 - the admin exists before the clock moves (UTC, 09:00 too)
    for local_day, due in days:
        t.clock.now = due - timedelta(minutes=1)
        digest.send_due(t.app)
        assert local_day not in rows(t, person), (zone, local_day)
        t.clock.now = due
        digest.send_due(t.app)
        assert rows(t, person)[local_day] == ("empty", 0), (zone, local_day)
    # Weekends have no working day, so no digest.
    t.clock.now = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    digest.send_due(t.app)
    assert date(2026, 3, 7) not in rows(t, person)
    assert smtp.inbox.messages == []


def test_two_runners_never_send_twice(timed: Timed, smtp: SMTPServer, database_url: str) -> None:
    t = timed
    t.clock.now = MONDAY - timedelta(hours=10)
    author = t.make.person(
        "Ana Author", timezone="UTC", work_days="mon-sun", work_start="00:00", work_end="23:59"
    )
    people = [t.make.person(f"Reader {i}", timezone="Asia/Singapore") for i in range(6)]
    space = new_space(t.client, author, "Everyone")
    add_member(t.client, author, space, *people)
    handles = " ".join(f"@{p.person.handle}" for p in people)
    new_topic(t.client, author, space, "Big news", f"{handles} read this")
    t.clock.now = MONDAY + timedelta(minutes=30)
    settings = make_settings(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port)
    other = build_app(settings, clock=t.clock, hasher=FAST_HASHER)
    try:
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(app: Any) -> None:
            barrier.wait()
            try:
                digest.send_due(app)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(app,)) for app in (t.app, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
    finally:
        other.close()
    for person in people:
        assert len(smtp.inbox.to(person.person.email)) == 1, person.person.email
        assert rows(t, person)[date(2026, 3, 2)][0] == "sent"
    assert len(smtp.inbox.messages) == len(people)


def test_a_failed_send_is_retried_later_and_sent_once(database_url: str) -> None:
    server = SMTPServer()  # not started yet: the first attempt finds nobody listening
    with timed_app(database_url, smtp_host="127.0.0.1", smtp_port=server.port, smtp_timeout_seconds=2) as t:
        t.clock.now = MONDAY - timedelta(hours=10)
        author = t.make.person(
            "Ana Author", timezone="UTC", work_days="mon-sun", work_start="00:00", work_end="23:59"
        )
        sia = t.make.person("Sia Tan", timezone="Asia/Singapore")
        space = new_space(t.client, author, "Sales")
        add_member(t.client, author, space, sia)
        new_topic(t.client, author, space, "News", f"@{sia.person.handle} hello")
        t.clock.now = MONDAY + timedelta(minutes=30)
        assert digest.send_due(t.app) == 1  # the author's empty digest; Sia's failed
        assert rows(t, sia)[date(2026, 3, 2)][0] == "failed"
        assert digested(t, sia) == [False]
        server.start()
        try:
            t.clock.advance(minutes=5)
            digest.send_due(t.app)
            assert server.inbox.messages == []  # too soon to retry
            t.clock.advance(minutes=6)
            assert digest.send_due(t.app) == 1
            assert len(server.inbox.to(sia.person.email)) == 1
            assert rows(t, sia)[date(2026, 3, 2)] == ("sent", 1)
            assert digested(t, sia) == [True]
            t.clock.advance(minutes=30)
            digest.send_due(t.app)
            assert len(server.inbox.messages) == 1
        finally:
            server.stop()


def test_opted_out_and_mail_off_are_recorded_as_off(database_url: str, smtp: SMTPServer) -> None:
    with timed_app(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as t:
        t.clock.now = MONDAY - timedelta(hours=10)
        author = t.make.person(
            "Ana Author", timezone="UTC", work_days="mon-sun", work_start="00:00", work_end="23:59"
        )
        sia = t.make.person("Sia Tan", timezone="Asia/Singapore")
        space = new_space(t.client, author, "Sales")
        add_member(t.client, author, space, sia)
        new_topic(t.client, author, space, "News", f"@{sia.person.handle} hello")
        assert ok(call(t.client, sia, "PUT", "/me/digest", {"email": False})) == {"email": False}
        bad = call(t.client, sia, "PUT", "/me/digest", {"email": "no"})
        assert bad.status_code == 422
        assert "email" in bad.json()["error"]["fields"]
        t.clock.now = MONDAY + timedelta(minutes=30)
        digest.send_due(t.app)
        assert rows(t, sia) == {date(2026, 3, 2): ("off", 0)}
        assert smtp.inbox.messages == []
        assert digested(t, sia) == [False]  # still there for the catch-up and the list
    with timed_app(database_url) as t:  # no SMTP host: digests are off for everyone
        t.clock.now = MONDAY + timedelta(hours=9)
        person = t.make.person("Lou Smith")
        digest.send_due(t.app)
        assert rows(t, person) == {date(2026, 3, 2): ("off", 0)}
