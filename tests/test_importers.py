"""Importers: real Enron mail read exactly, Slack exports and edge lists turned into ties,
every kind of broken input refused by name with nothing written, and the command line.

Counts on ``../shared/data/enron-sample/`` are computed twice: by an independent oracle
(Python's :mod:`mailbox` and :mod:`email`, whole messages) and as literal numbers, so that a
change in either the importer or the data shows.
"""

from __future__ import annotations

import csv
import json
import mailbox
import os
import re
import shutil
import tracemalloc
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import DATA, Factory
from typer.testing import CliRunner, Result

from kith.actions import interactions
from kith.actions.interactions import ImportFailed, ImportProgress
from kith.app import App
from kith.cli.main import cli
from kith.domain.errors import Conflict
from kith.domain.interactions import BROADCAST_RECIPIENTS, InteractionRecord
from kith.importers import MailImport
from kith.importers.mail import split_mbox
from kith.storage import interactions as store
from kith.storage.tables import interactions as interactions_table
from kith.storage.tables import people

ENRON = DATA / "enron-sample"
ENRON_V1 = DATA / "enron-v1" / "enron-v1.csv"
needs_enron = pytest.mark.skipif(not ENRON.is_dir(), reason=f"the Enron sample is not at {ENRON}")
needs_enron_v1 = pytest.mark.skipif(not ENRON_V1.is_file(), reason=f"enron-v1 is not at {ENRON_V1}")
AT = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


# helpers


def count(app: App, table: sa.Table) -> int:
    with app.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def ties(app: App) -> dict[tuple[str, str, str], float]:
    """Every stored interaction as (source e-mail, target e-mail, kind) -> summed weight."""
    source, target = people.alias("s"), people.alias("t")
    query = (
        sa.select(
            source.c.email,
            target.c.email,
            interactions_table.c.kind,
            sa.func.sum(interactions_table.c.weight),
        )
        .join(source, source.c.id == interactions_table.c.source_id)
        .join(target, target.c.id == interactions_table.c.target_id)
        .group_by(source.c.email, target.c.email, interactions_table.c.kind)
    )
    with app.db.read() as conn:
        return {(s, t, k): round(w, 6) for s, t, k, w in conn.execute(query)}


def person_row(app: App, email: str) -> dict[str, Any] | None:
    with app.db.read() as conn:
        row = conn.execute(sa.select(people).where(sa.func.lower(people.c.email) == email)).mappings().first()
    return dict(row) if row is not None else None


def last_run(app: App) -> dict[str, Any]:
    with app.db.read() as conn:
        return store.list_runs(conn)[0]


def mail(
    *,
    sender: str | None = "ana@example.com",
    to: str = "ben@example.com",
    date: str | None = "Mon, 3 Feb 2025 09:00:00 +0000",
    message_id: str | None = "<m1@example.com>",
    extra: str = "",
    body: str = "Hello.\n",
) -> str:
    lines = ["From someone@example.com Mon Feb  3 09:00:00 2025"]
    if sender is not None:
        lines.append(f"From: {sender}")
    lines.append(f"To: {to}")
    if date is not None:
        lines.append(f"Date: {date}")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    lines.append("Subject: a subject that is never stored")
    if extra:
        lines.append(extra)
    return "\n".join([*lines, "", body])


def write(path: Path, *messages: str) -> Path:
    path.write_text("".join(messages), encoding="utf-8")
    return path


# The Enron sample, against an independent oracle

ADDRESS = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")


def oracle(files: list[Path]) -> dict[str, Any]:
    """The counts the issue asks for, from whole messages parsed by the standard library."""
    messages = 0
    ids: set[str] = set()
    addresses: set[str] = set()
    tie_count = broadcasts = 0
    weight = 0.0
    for path in files:
        for message in mailbox.mbox(str(path)):
            messages += 1
            parsedate_to_datetime(message["Date"])  # every date in the sample is readable
            message_id = message["Message-ID"].strip()
            if message_id in ids:
                continue
            ids.add(message_id)
            [sender] = [a.lower() for _, a in getaddresses(message.get_all("From"))]
            recipients = {
                a.lower()
                for field in ("To", "Cc", "Bcc")
                for _, a in getaddresses(message.get_all(field) or [])
                if ADDRESS.fullmatch(a.lower())
            } - {sender}
            addresses.update(recipients | {sender})
            tie_count += len(recipients)
            if len(recipients) > BROADCAST_RECIPIENTS:
                broadcasts += 1
                weight += 1.0
            else:
                weight += len(recipients)
    return {
        "messages": messages,
        "message_ids": len(ids),
        "addresses": len(addresses),
        "ties": tie_count,
        "broadcasts": broadcasts,
        "weight": round(weight, 6),
    }


@needs_enron
def test_every_enron_file_is_read_exactly() -> None:
    files = sorted(ENRON.glob("*.mbox"))
    assert len(files) == 6
    importer = MailImport([ENRON])
    records = list(importer.records())
    expected = oracle(files)
    stats = importer.stats
    found = {
        name: stats.get(name, 0) for name in ("messages", "message_ids", "addresses", "ties", "broadcasts")
    }
    found["weight"] = round(sum(r.weight for r in records), 6)
    assert found == expected
    # The same numbers, pinned: a change in the importer or the data shows here.
    assert expected == {
        "messages": 1789,
        "message_ids": 1789,
        "addresses": 2682,
        "ties": 5254,
        "broadcasts": 15,
        "weight": 2871.0,
    }
    assert len(records) == 5254
    assert stats["files"] == 6
    assert stats["bytes_read"] == stats["bytes_total"] == sum(f.stat().st_size for f in files)
    assert stats["addresses_invalid"] == 3  # <maria".'"chiodi@enron.com> and the like
    assert stats["messages_without_recipients"] == 11
    assert "duplicates" not in stats
    assert not [k for k in stats if k.startswith("skipped")]
    # Each tie is a mail from the sender to a recipient, at the Date, keyed by Message-ID.
    first = records[0]
    assert first == InteractionRecord(
        "rosalee.fleming@enron.com",
        "joe.hillings@enron.com",
        "mail",
        datetime(2000, 9, 25, 10, 39, tzinfo=UTC),
        "email",
        1.0,
        "<32517802.1075840279763.JavaMail.evans@thyme>",
    )
    broadcast = Counter(r.context for r in records if r.weight < 1)
    assert len(broadcast) == 15
    assert all(n > BROADCAST_RECIPIENTS for n in broadcast.values())
    # Display names from X-From and X-To (Exchange paths taken out), not from From's "legal".
    assert importer.names[".taylor@enron.com"] == "Taylor, Mark E (Legal)"
    assert importer.names["sara.shackleton@enron.com"] == "Shackleton, Sara"
    assert importer.names["rosalee.fleming@enron.com"] == "Rosalee Fleming"
    assert "maria.chiodi@csfb.com" not in importer.names


@needs_enron
def test_a_maildir_and_zip_archives_read_like_the_mbox(tmp_path: Path) -> None:
    sent, other = ENRON / "enron.skilling-j.sent_items.mbox", ENRON / "enron.lay-k.sent_items.mbox"
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    for message in mailbox.mbox(str(sent)):
        maildir.add(message)
    subfolder = maildir.add_folder("Archive")  # Maildir++: .Archive/ with cur/ and new/
    for message in mailbox.mbox(str(other)):
        subfolder.add(message)
    maildir.close()
    # What a mail server keeps beside the messages is not mail, and is not read.
    (tmp_path / "Maildir" / "tmp" / "half-written").write_bytes(b"\x00 never read")
    (tmp_path / "Maildir" / "dovecot-uidlist").write_bytes(b"3 V1 N55\n")
    (tmp_path / "Maildir" / "courierimapkeywords").mkdir()
    (tmp_path / "Maildir" / "courierimapkeywords" / "list").write_bytes(b"\x01\x02")
    archive = tmp_path / "mail.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((tmp_path / "Maildir").rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(tmp_path).as_posix())
        z.write(sent, "mbox/sent_items.mbox")

    def read(*paths: Path) -> tuple[MailImport, list[InteractionRecord]]:
        importer = MailImport(list(paths))
        return importer, sorted(importer.records(), key=lambda r: (r.context, r.target))

    _, from_mbox = read(sent, other)
    maildir_import, from_maildir = read(tmp_path / "Maildir")
    zip_import, from_zip = read(archive)
    assert len(from_mbox) > 100
    assert from_maildir == from_mbox
    assert maildir_import.stats["files"] == maildir_import.stats["messages"] == 54 + 13
    assert from_zip == from_mbox  # the mbox and the Maildir in one archive: each mail once
    assert zip_import.stats["duplicates"] == 54
    assert zip_import.stats["files"] == 54 + 13 + 1


def test_messages_that_cannot_be_used_are_skipped_and_counted(tmp_path: Path) -> None:
    crowd = ", ".join(f"p{i}@example.com" for i in range(30))
    path = write(
        tmp_path / "quirks.mbox",
        mail(message_id="<good@x>", extra="X-From: Ana Silva </O=ORG/CN=ANA>\nX-To: Ben Okafor"),
        mail(message_id="<no-date@x>", date=None),
        mail(message_id="<bad-date@x>", date="the day after tomorrow"),
        mail(message_id="<no-from@x>", sender=None),
        mail(message_id="<bad-from@x>", sender="Ana Silva"),
        mail(message_id="<good@x>"),  # the same mail again, in another folder
        mail(message_id=None, to="cy@example.com"),
        mail(message_id=None, to="cy@example.com"),  # the same again: the same made-up id
        mail(message_id="<undisclosed@x>", to="undisclosed-recipients:;"),
        mail(
            message_id="<wrapped@x>",
            to="IMCEANOTES-+22Chiodi+2C+20Maria+22+20+3Cmaria+2Echiodi+40csfb+2Ecom+3E+40ENRON@ENRON.com, "
            'IMCEAEX-_O=ENRON_OU=NA_CN=RECIPIENTS_CN=KLAY@ENRON.com, <maria".\'"chiodi@enron.com>',
        ),
        mail(message_id="<all@x>", to=crowd),
        mail(
            message_id="<reply@x>",
            to="ANA@Example.com",
            sender="Ben <ben@example.com>",
            extra="In-Reply-To: <good@x>",
        ),
    )
    importer = MailImport([path])
    records = list(importer.records())
    stats = importer.stats
    assert stats["messages"] == 12
    assert (stats["skipped_no_date"], stats["skipped_bad_date"]) == (1, 1)
    assert (stats["skipped_no_from"], stats["skipped_bad_from"]) == (1, 1)
    assert stats["messages_skipped"] == 4
    assert stats["duplicates"] == 2
    assert stats["message_ids_synthesized"] == 2
    assert stats["messages_without_recipients"] == 1
    assert (stats["addresses_unwrapped"], stats["addresses_exchange"], stats["addresses_invalid"]) == (
        1,
        1,
        1,
    )
    assert stats["broadcasts"] == 1
    assert (stats["replies"], stats["replies_in_import"]) == (1, 1)
    assert stats["message_ids"] == 6
    by_context: dict[str, list[InteractionRecord]] = {}
    for r in records:
        by_context.setdefault(r.context, []).append(r)
    assert [(r.source, r.target, r.weight) for r in by_context["<good@x>"]] == [
        ("ana@example.com", "ben@example.com", 1.0)
    ]
    assert [r.target for r in by_context["<wrapped@x>"]] == ["maria.chiodi@csfb.com"]
    assert {r.weight for r in by_context["<all@x>"]} == {1 / 30}
    assert len(by_context["<all@x>"]) == 30
    assert [(r.source, r.target) for r in by_context["<reply@x>"]] == [("ben@example.com", "ana@example.com")]
    [made_up] = [c for c in by_context if c.endswith("@kith.synthesized>")]
    assert re.fullmatch(r"<[0-9a-f]{32}@kith\.synthesized>", made_up)
    again = MailImport([path])
    assert made_up in {r.context for r in again.records()}  # stable from run to run
    assert importer.names["ana@example.com"] == "Ana Silva"
    assert importer.names["ben@example.com"] == "Ben Okafor"
    assert "subject" not in " ".join(r.context for r in records).lower()


def test_crlf_mail_single_message_files_and_header_blocks_without_a_body(tmp_path: Path) -> None:
    crlf = mail(message_id="<crlf@x>").replace("\n", "\r\n")
    headers_only = "From x\nFrom: ana@example.com\nTo: cy@example.com\nDate: Mon, 3 Feb 2025 09:00:00 +0000\n"
    eml = mail(message_id="<eml@x>", to="di@example.com").split("\n", 1)[1]  # no From_ line
    write(tmp_path / "crlf.mbox", crlf, headers_only.replace("From x", "From y"), headers_only)
    write(tmp_path / "one.eml", eml)
    importer = MailImport([tmp_path / "crlf.mbox", tmp_path / "one.eml"])
    targets = [r.target for r in importer.records()]
    assert targets == ["ben@example.com", "cy@example.com", "di@example.com"]
    assert importer.stats["messages"] == 4
    assert importer.stats["duplicates"] == 1  # the two header-only messages are one (made-up id)


LINES = st.sampled_from(
    [
        b"From x\n",
        b"From: a@b.com\n",
        b"To: c@d.com\n",
        b"\n",
        b"\r\n",
        b"body From here\n",
        b">From b\n",
        b"x",
    ]
)


def reference_split(data: bytes) -> list[tuple[bytes, bool]]:
    """Header blocks by Python's mailbox rule, line by line: a line starting with "From "
    starts a message; its header runs to the first empty line."""
    lines = re.split(rb"(?<=\n)", data)
    messages: list[list[bytes]] = []
    for line in lines:
        if not line:
            continue
        if line.startswith(b"From "):
            messages.append([])
        else:
            messages[-1].append(line)
    found = []
    for i, body in enumerate(messages):
        header: list[bytes] = []
        ended = False
        for line in body:
            if line in (b"\n", b"\r\n"):
                ended = True
                break
            header.append(line)
        last = i == len(messages) - 1
        found.append((b"".join(header), last and not ended and not data.endswith(b"\n")))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=40), st.integers(min_value=1, max_value=24))
def test_split_mbox_finds_the_headers_python_mailbox_would(lines: list[bytes], block: int) -> None:
    data = b"From start\n" + b"".join(lines)
    position = 0

    def read(n: int) -> bytes:
        nonlocal position
        chunk = data[position : position + n]
        position += len(chunk)
        return chunk

    found = [
        (header or b"", truncated) for _, header, truncated in split_mbox(read, block, max_header=1 << 20)
    ]
    assert found == reference_split(data)


def test_a_large_mbox_is_streamed_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "large.mbox"
    big_body = "x" * 120 + "\n"
    with path.open("w", encoding="utf-8") as f:
        for i in range(40):
            f.write(mail(message_id=f"<big{i}@x>", body=big_body * 4000))  # about 0.5 MB each
    size = path.stat().st_size
    assert size > 19_000_000
    tracemalloc.start()
    try:
        importer = MailImport([path])
        n = sum(1 for _ in importer.records())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 40
    assert peak < 6_000_000, f"peak {peak:,} bytes for a {size:,}-byte file"


# Loading mail into Kith


@needs_enron
def test_importing_the_enron_sample(app: App, make: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.settings, "org_domains", "enron.com")
    admin = make.admin
    before = count(app, people)
    result = interactions.check_import(app, admin.viewer, "email", [ENRON])
    stats = result.stats
    assert result.status == "done"
    assert (stats["messages"], stats["ties"], stats["records"]) == (1789, 5254, 5254)
    assert stats["people_discovered"] == 2225
    assert stats["ties_external"] == 789
    assert stats["interactions_new"] == 4465
    assert count(app, interactions_table) == 4465
    assert count(app, people) == before + 2225
    lay = person_row(app, "kenneth.lay@enron.com")
    assert lay is not None
    assert (lay["display_name"], lay["active"]) == ("Kenneth Lay", False)
    assert person_row(app, "mcgovernw@sec.gov") is None  # external: counted, left out
    run = last_run(app)
    assert (run["id"], run["status"], run["kind"], run["source"]) == (
        result.run_id,
        "done",
        "email",
        str(ENRON),
    )

    again = interactions.check_import(app, admin.viewer, "email", [ENRON])
    assert again.stats["interactions_new"] == 0
    assert again.stats["interactions_already_known"] == 4465
    assert "people_discovered" not in again.stats
    assert count(app, interactions_table) == 4465

    undone = interactions.undo(app, admin.viewer, result.run_id)
    assert undone.stats["undone_interactions"] == 4465
    assert undone.stats["undone_people"] == 2225
    assert count(app, interactions_table) == 0
    assert count(app, people) == before


@needs_enron
def test_the_same_mail_in_two_files_counts_once(app: App, make: Factory, tmp_path: Path) -> None:
    make.person("Ken", email="kenneth.lay@enron.com")
    make.person("Rosie", email="Rosalee.Fleming@Enron.com")  # matched whatever the case
    source = ENRON / "enron.lay-k.sent_items.mbox"
    sent, inbox = tmp_path / "sent.mbox", tmp_path / "inbox.mbox"
    shutil.copy(source, sent)
    shutil.copy(source, inbox)
    result = interactions.check_import(app, make.admin.viewer, "email", [sent, inbox])
    alone = MailImport([source])
    expected = list(alone.records())
    assert result.stats["messages"] == 26
    assert result.stats["duplicates"] == 13
    assert result.stats["ties"] == len(expected)
    written = count(app, interactions_table)
    assert written == result.stats["interactions_new"] > 0
    third = tmp_path / "archive.mbox"
    shutil.copy(source, third)
    later = interactions.check_import(app, make.admin.viewer, "email", [third])
    assert later.stats["interactions_new"] == 0
    assert count(app, interactions_table) == written


# Slack


def slack_export(root: Path, *, days: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """A small export: Ana, Ben, Cy (with e-mails), a bot, a deleted user; #general, a DM."""
    root.mkdir(parents=True, exist_ok=True)
    users = [
        {"id": "UANA", "name": "ana", "profile": {"email": "Ana@example.com", "real_name": "Ana Silva"}},
        {"id": "UBEN", "name": "ben", "profile": {"email": "ben@example.com", "real_name": "Ben Okafor"}},
        {"id": "UCY", "name": "cy", "real_name": "Cy Chen", "profile": {"email": "cy@example.com"}},
        {"id": "BBOT", "name": "bot", "is_bot": True, "profile": {"bot_id": "B1"}},
        {"id": "UGONE", "name": "gone", "deleted": True, "profile": {}},
    ]
    (root / "users.json").write_text(json.dumps(users), encoding="utf-8")
    channels = [{"id": "C1", "name": "general", "members": ["UANA", "UBEN", "UCY"]}]
    (root / "channels.json").write_text(json.dumps(channels), encoding="utf-8")
    (root / "dms.json").write_text(json.dumps([{"id": "D1", "members": ["UANA", "UBEN"]}]), encoding="utf-8")
    t = AT.timestamp()
    default = {
        "general/2025-02-03.json": [
            {"type": "message", "user": "UANA", "text": "morning", "ts": f"{t:.6f}"},
            {"type": "message", "user": "UBEN", "text": "hi <@UCY|cy> and <!channel>", "ts": f"{t + 60:.6f}"},
            {
                "type": "message",
                "subtype": "channel_join",
                "user": "UCY",
                "text": "joined",
                "ts": f"{t + 90:.6f}",
            },
            {
                "type": "message",
                "user": "UCY",
                "text": "a question",
                "ts": f"{t + 120:.6f}",
                "thread_ts": f"{t + 120:.6f}",
                "reactions": [{"name": "eyes", "users": ["UANA", "UBEN"]}, {"name": "+1", "users": ["UANA"]}],
            },
            {"type": "message", "user": "UGONE", "text": "from someone gone", "ts": f"{t + 130:.6f}"},
        ],
        "general/2025-02-04.json": [
            {
                "type": "message",
                "user": "UANA",
                "text": "an answer",
                "ts": f"{t + 86400:.6f}",
                "thread_ts": f"{t + 120:.6f}",
            },
            {
                "type": "message",
                "user": "UBEN",
                "text": "me too",
                "ts": f"{t + 86460:.6f}",
                "thread_ts": f"{t + 120:.6f}",
            },
            {"type": "message", "user": "UCY", "text": "hours later", "ts": f"{t + 90000:.6f}"},
        ],
        "D1/2025-02-03.json": [{"type": "message", "user": "UBEN", "text": "psst", "ts": f"{t + 30:.6f}"}],
        "random/2025-02-03.json": [{"type": "message", "user": "UANA", "text": "unlisted", "ts": f"{t:.6f}"}],
    }
    for relative, messages in (days or default).items():
        (root / relative).parent.mkdir(exist_ok=True)
        (root / relative).write_text(json.dumps(messages), encoding="utf-8")
    return root


def zipped(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


SLACK_TIES = {
    ("ben@example.com", "ana@example.com", "chat"): 1.25,  # the DM (1.0) and #general's conversation (0.25)
    ("ben@example.com", "cy@example.com", "mention"): 1.0,
    ("cy@example.com", "ana@example.com", "chat"): 0.25,
    ("cy@example.com", "ben@example.com", "chat"): 0.25,
    ("ana@example.com", "cy@example.com", "reaction"): 1.0,  # two emoji
    ("ben@example.com", "cy@example.com", "reaction"): 0.5,
    ("ana@example.com", "cy@example.com", "reply"): 1.0,  # to the thread's starter
    ("ben@example.com", "cy@example.com", "reply"): 1.0,
    ("ben@example.com", "ana@example.com", "reply"): 0.25,  # an earlier participant
}


def test_a_slack_export_becomes_replies_mentions_reactions_and_chat(
    app: App, make: Factory, tmp_path: Path
) -> None:
    for name in ("Ana", "Ben", "Cy"):
        make.person(name, email=f"{name.lower()}@example.com")
    folder = slack_export(tmp_path / "export")
    result = interactions.check_import(app, make.admin.viewer, "slack", [folder])
    stats = result.stats
    assert ties(app) == SLACK_TIES
    assert (stats["users"], stats["users_without_email"]) == (3, 2)
    assert stats["channels"] == 2
    assert stats["folders_unlisted"] == 1
    assert stats["messages"] == 9
    assert stats["messages_skipped_subtype"] == 1
    assert stats["messages_skipped_unknown_user"] == 1
    assert stats["thread_replies"] == 2
    assert stats["files"] == 3
    assert stats["bytes_read"] == stats["bytes_total"] > 0
    with app.db.read() as conn:
        contexts = {row[0] for row in conn.execute(sa.select(interactions_table.c.context))}
    assert f"C1:{AT.timestamp() + 120:.6f}" in contexts
    assert not any("question" in c or "morning" in c for c in contexts)  # no text is kept

    # The same export as a zip (with a top folder, as Slack makes it) adds nothing new.
    archive = zipped(folder, tmp_path / "export.zip", prefix="My Workspace Slack export/")
    again = interactions.check_import(app, make.admin.viewer, "slack", [archive])
    assert again.stats["interactions_new"] == 0
    assert again.stats["interactions_already_known"] == result.stats["interactions_new"]
    assert ties(app) == SLACK_TIES


def test_slack_users_are_matched_by_email_and_discovered_in_the_org(
    app: App, make: Factory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(app.settings, "org_domains", "example.com")
    make.person("Ana", email="ana@example.com")
    unpacked = tmp_path / "download"  # an archive unpacked into a folder of its own
    slack_export(unpacked / "Acme Slack export Feb 3 2025")
    interactions.check_import(app, make.admin.viewer, "slack", [unpacked])
    cy = person_row(app, "cy@example.com")
    assert cy is not None
    assert (cy["display_name"], cy["active"]) == ("Cy Chen", False)


# Edge lists


def test_an_edge_list_with_addresses_ids_and_every_kind_of_time(
    app: App, make: Factory, tmp_path: Path
) -> None:
    ana, ben = make.person("Ana", email="ana@example.com"), make.person("Ben", email="ben@example.com")
    path = tmp_path / "edges.csv"
    path.write_text(
        "\ufeffSource,Target,Timestamp,Kind,Weight\n"
        "ana@example.com,BEN@example.com,2025-02-03T09:15:00Z,mail,1\n"
        f"{ben.id},{ana.id},1738574100,chat,0.5\n"
        "ana@example.com,ben@example.com,2025-02-03,,\n"
        "\n"
        "ana@example.com,ben@example.com,,reply,2\n"
        "ana@example.com,999999,2025-02-03T10:00:00+01:00,edge,1\n"
        "ana@example.com,someone@elsewhere.org,2025-02-03T10:00:00,edge,1\n",
        encoding="utf-8",
    )
    os.utime(path, (AT.timestamp(), AT.timestamp()))
    result = interactions.check_import(app, make.admin.viewer, "edges", [path])
    stats = result.stats
    assert (stats["rows"], stats["ties"], stats["interactions_new"]) == (6, 6, 4)
    assert stats["ties_unknown_person"] == 1
    assert stats["ties_external"] == 1
    with app.db.read() as conn:
        rows = conn.execute(
            sa.select(
                interactions_table.c.kind, interactions_table.c.at, interactions_table.c.weight
            ).order_by(interactions_table.c.id)
        ).all()
    assert [(k, at.astimezone(UTC), w) for k, at, w in rows] == [
        ("mail", datetime(2025, 2, 3, 9, 15, tzinfo=UTC), 1.0),
        ("chat", datetime(2025, 2, 3, 9, 15, tzinfo=UTC), 0.5),
        ("edge", datetime(2025, 2, 3, tzinfo=UTC), 1.0),
        ("reply", AT, 2.0),  # no timestamp: the file's modification time
    ]
    again = interactions.check_import(app, make.admin.viewer, "edges", [path])
    assert again.stats["interactions_new"] == 0


@needs_enron_v1
def test_enron_v1_with_its_job_titles(app: App, make: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.settings, "org_domains", "enron.com")
    make.person("Kenneth Lay", email="kenneth.lay@enron.com", title="Chairman")
    result = interactions.check_import(app, make.admin.viewer, "edges", [ENRON_V1])
    stats = result.stats
    assert (stats["enron_v1"], stats["rows"], stats["ties"]) == (1, 31041, 31041)
    assert stats["addresses_repaired"] == 203  # paul.y barbo@enron.com
    assert stats["titles"] == 117
    # An oracle: the standard csv module, the one space taken out of paul.y barbo's address.
    with ENRON_V1.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    ends = [("".join(r["fromEmail"].split()).lower(), "".join(r["toEmail"].split()).lower()) for r in rows]
    to_self = sum(a == b for a, b in ends)
    assert stats["people_discovered"] == len({a for pair in ends for a in pair}) - 1 == 148  # all but Ken
    assert stats["ties_to_self"] == to_self == 2374
    assert stats["interactions_new"] == len(rows) - to_self == 28667
    lenhart = person_row(app, "matthew.lenhart@enron.com")
    assert lenhart is not None
    assert (lenhart["title"], lenhart["active"]) == ("Employee", False)
    lay = person_row(app, "kenneth.lay@enron.com")
    assert lay is not None
    assert lay["title"] == "Chairman"  # the directory keeps its own titles
    assert person_row(app, "paul.ybarbo@enron.com") is not None


# Broken input: a clear message naming the file, nothing written, the run failed


def garbage(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "garbage.mbox"
    path.write_bytes(bytes(range(256)) * 64)
    return "email", path, f"{path}: is neither an mbox file"


def truncated(tmp_path: Path) -> tuple[str, Path, str]:
    path = write(tmp_path / "cut.mbox", mail(message_id="<1@x>"), mail(message_id="<2@x>"))
    cut = path.read_bytes()
    path.write_bytes(cut + cut[:60])  # a third message, cut off in its headers
    return "email", path, f"{path}, message 3: the file ends in the middle of the message's headers"


def missing(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "nowhere.mbox"
    return "email", path, f"{path}: does not exist"


def not_a_zip(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "export.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    return "slack", path, f"{path}: is not a zip archive"


def mail_not_a_zip(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "Maildir.zip"
    path.write_text(mail(), encoding="utf-8")
    return "email", path, f"{path}: is not a zip archive"


def slack_bad_json(tmp_path: Path) -> tuple[str, Path, str]:
    root = slack_export(tmp_path / "export")
    (root / "general" / "2020-01-01.json").write_text('[{"user": "UANA", "ts": "1"', encoding="utf-8")
    return "slack", root, f"{root}/general/2020-01-01.json: is not valid JSON (Expecting"


def slack_zip_bad_json(tmp_path: Path) -> tuple[str, Path, str]:
    root = slack_export(tmp_path / "export")
    (root / "general" / "2020-01-01.json").write_bytes(b"\xff\xfe[]")
    archive = zipped(root, tmp_path / "export.zip", prefix="Acme/")
    return "slack", archive, f"{archive}/Acme/general/2020-01-01.json: is not UTF-8 text"


def slack_not_messages(tmp_path: Path) -> tuple[str, Path, str]:
    root = slack_export(tmp_path / "export")
    (root / "general" / "2020-01-01.json").write_text('{"messages": []}', encoding="utf-8")
    return "slack", root, f"{root}/general/2020-01-01.json: is not a list of messages"


def slack_no_users(tmp_path: Path) -> tuple[str, Path, str]:
    root = slack_export(tmp_path / "export")
    (root / "users.json").unlink()
    return "slack", root, f"{root}: has no users.json"


def csv_bad_row(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "edges.csv"
    path.write_text(
        "source,target,timestamp\nana@example.com,ben@example.com,2025-02-03\n"
        "ana@example.com,ben@example.com,yesterday\n",
        encoding="utf-8",
    )
    return "edges", path, f"{path}, line 3: timestamp: 'yesterday' is neither ISO 8601"


def csv_bad_address(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "edges.csv"
    path.write_text(
        "source,target\nana@example.com,ben@example.com\n\nana,ben@example.com\n", encoding="utf-8"
    )
    return "edges", path, f"{path}, line 4: source: 'ana' is neither an e-mail address nor a person id"


def csv_not_utf8(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "edges.csv"
    path.write_bytes(
        b"source,target,kind\nana@example.com,ben@example.com,mail\nbj\xf6rn@example.com,x@y.z,mail\n"
    )
    return "edges", path, f"{path}, line 3: is not UTF-8 text (byte 0xf6)"


def csv_no_header(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "edges.csv"
    path.write_text("ana@example.com,ben@example.com\n", encoding="utf-8")
    return "edges", path, f"{path}, line 1: the first line must name the columns"


def csv_bad_quotes(tmp_path: Path) -> tuple[str, Path, str]:
    path = tmp_path / "edges.csv"
    path.write_text('source,target\nana@example.com,"ben@example.com"x\n', encoding="utf-8")
    return "edges", path, f"{path}, line 2: cannot be read as CSV"


BROKEN: list[Callable[[Path], tuple[str, Path, str]]] = [
    garbage,
    truncated,
    missing,
    not_a_zip,
    mail_not_a_zip,
    slack_bad_json,
    slack_zip_bad_json,
    slack_not_messages,
    slack_no_users,
    csv_bad_row,
    csv_bad_address,
    csv_not_utf8,
    csv_no_header,
    csv_bad_quotes,
]


@pytest.mark.parametrize("case", BROKEN, ids=[case.__name__ for case in BROKEN])
def test_broken_input_fails_by_name_and_writes_nothing(
    app: App, make: Factory, tmp_path: Path, case: Callable[[Path], tuple[str, Path, str]]
) -> None:
    for name in ("Ana", "Ben", "Cy"):
        make.person(name, email=f"{name.lower()}@example.com")
    kind, path, message = case(tmp_path)
    before = count(app, people)
    with pytest.raises(ImportFailed) as caught:
        interactions.check_import(app, make.admin.viewer, kind, [path])
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.run_id is not None
    assert count(app, interactions_table) == 0
    assert count(app, people) == before
    run = last_run(app)
    assert (run["id"], run["status"]) == (caught.value.run_id, "failed")
    assert run["error"] == str(caught.value)


def test_a_failure_after_good_files_takes_back_what_was_written(
    app: App, make: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interactions, "CHUNK", 10)  # the good mail is written before the failure
    monkeypatch.setattr(app.settings, "org_domains", "example.com")
    make.person("Ana", email="ana@example.com")
    crowd = ", ".join(f"p{i}@example.com" for i in range(20))
    write(tmp_path / "a-good.mbox", mail(to=crowd))
    write(tmp_path / "b-bad.mbox", "not mail at all\n")
    before = count(app, people)
    progress: list[int] = []
    with pytest.raises(ImportFailed, match=r"b-bad\.mbox"):
        interactions.load(
            app,
            make.admin.viewer,
            "email",
            "two files",
            MailImport([tmp_path]).records(),
            on_chunk=lambda p: progress.append(p.written),
        )
    assert progress == [10, 20]
    assert count(app, interactions_table) == 0
    assert count(app, people) == before


def test_an_unreadable_file_is_named(
    app: App, make: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "secret.mbox", mail())
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: refuse the way the system would
        real_open = Path.open

        def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(ImportFailed, match=re.escape(f"{path}: cannot be read (permission denied)")):
        interactions.check_import(app, make.admin.viewer, "email", [path])
    assert last_run(app)["status"] == "failed"


# Runs: progress, one at a time, abandoned runs, undo


def test_a_running_import_saves_its_progress(
    app: App, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interactions, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(interactions, "CHUNK", 256)
    make.person("Ana", email="ana@example.com")
    make.person("Ben", email="ben@example.com")
    seen: list[dict[str, Any]] = []

    def records() -> Iterator[InteractionRecord]:
        for i in range(1000):
            if i == 700:
                seen.append(last_run(app))
            yield InteractionRecord(
                "ana@example.com", "ben@example.com", "edge", AT + timedelta(seconds=i), "csv"
            )

    result = interactions.load(
        app, make.admin.viewer, "edges", "slow.csv", records(), progress=ImportProgress()
    )
    [during] = seen
    assert during["status"] == "running"
    assert during["stats"]["records"] == 512
    assert during["stats"]["interactions_written"] == 512
    assert "updated_at" in during["stats"]
    assert result.stats["records"] == 1000
    assert "updated_at" not in last_run(app)["stats"]


def test_one_import_at_a_time_and_abandoned_runs_are_cleared(
    app: App, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make.admin
    ana = make.person("Ana", email="ana@example.com")
    ben = make.person("Ben", email="ben@example.com")
    running = interactions.check_start_import(app, admin.viewer, "email", "big.mbox")
    with pytest.raises(Conflict, match=f"import run {running} is still running"):
        interactions.check_start_import(app, admin.viewer, "edges", "other.csv")
    with pytest.raises(Conflict):
        interactions.undo(app, admin.viewer, running)
    # Its process wrote a row, then stopped without cleaning up (killed, say).
    with app.db.transaction() as tx:
        row = {
            "source_id": ana.id,
            "target_id": ben.id,
            "kind": "mail",
            "at": AT,
            "weight": 1.0,
            "origin": "email",
            "context": "<half@x>",
            "run_id": running,
            "dedupe_key": "half",
        }
        store.insert(tx.conn, [row])
    # Ten minutes without progress later, the run counts as abandoned and is cleared.
    later = app.clock() + interactions.STALE_AFTER + timedelta(seconds=1)
    monkeypatch.setattr(app, "clock", lambda: later)
    fresh = interactions.check_start_import(app, admin.viewer, "edges", "other.csv")
    with app.db.read() as conn:
        old = store.get_run(conn, running)
    assert old is not None
    assert (old["status"], old["error"]) == ("failed", "abandoned before it finished")
    assert count(app, interactions_table) == 0
    assert fresh > running


def test_undo_of_a_failed_or_undone_run_changes_nothing(app: App, make: Factory, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed):
        interactions.check_import(app, make.admin.viewer, "email", [tmp_path / "missing.mbox"])
    failed = last_run(app)
    assert interactions.undo(app, make.admin.viewer, failed["id"]).status == "failed"
    assert last_run(app)["error"] == failed["error"]


# The command line


def run_cli(app: App, *args: str, **env: str) -> Result:
    environment = {"KITH_DATABASE_URL": app.settings.database_url, "COLUMNS": "200", **env}
    return CliRunner().invoke(cli, list(args), env=environment)


def one_line_error(result: Result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("error: "), result.output
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


@needs_enron
def test_cli_imports_mail_lists_runs_and_undoes(app: App, make: Factory) -> None:
    make.admin  # noqa: B018 - the CLI acts as the first administrator
    source = str(ENRON / "enron.lay-k.sent_items.mbox")
    result = run_cli(app, "import", "email", source, KITH_ORG_DOMAINS="enron.com")
    assert result.exit_code == 0, result.output
    assert re.search(r"messages\s+│\s+13\b", result.stdout), result.stdout
    assert "people discovered" in result.stdout
    runs = run_cli(app, "import", "runs")
    assert runs.exit_code == 0, runs.output
    assert re.search(r"│ 1\s+│ email\s+│ done", runs.stdout), runs.stdout
    undone = run_cli(app, "import", "undo", "1")
    assert undone.exit_code == 0, undone.output
    assert "import run 1 undone" in undone.stdout
    assert count(app, interactions_table) == 0
    one_line_error(run_cli(app, "import", "undo", "99"), "no import run with id 99")


def test_cli_imports_slack_and_edges(app: App, make: Factory, tmp_path: Path) -> None:
    for name in ("Ana", "Ben", "Cy"):
        make.person(name, email=f"{name.lower()}@example.com")
    folder = slack_export(tmp_path / "export")
    result = run_cli(app, "import", "slack", str(zipped(folder, tmp_path / "export.zip")))
    assert result.exit_code == 0, result.output
    assert ties(app) == SLACK_TIES
    path = tmp_path / "edges.csv"
    path.write_text("source,target\nana@example.com,ben@example.com\n", encoding="utf-8")
    edges = run_cli(app, "import", "edges", str(path), "--at", "2025-02-03T09:00:00Z")
    assert edges.exit_code == 0, edges.output
    assert ties(app)[("ana@example.com", "ben@example.com", "edge")] == 1.0
    one_line_error(run_cli(app, "import", "edges", str(path), "--at", "soon"), "--at", "ISO 8601")


@pytest.mark.parametrize(
    "case", [garbage, truncated, missing, slack_bad_json, csv_bad_row], ids=lambda c: c.__name__
)
def test_cli_names_the_broken_file_in_one_line(
    app: App, make: Factory, tmp_path: Path, case: Callable[[Path], tuple[str, Path, str]]
) -> None:
    make.admin  # noqa: B018
    kind, path, message = case(tmp_path)
    result = run_cli(app, "import", kind, str(path))
    text = one_line_error(result, message, "nothing was imported (import run 1 failed)")
    assert text.startswith(f"error: {path}")
    assert count(app, interactions_table) == 0
