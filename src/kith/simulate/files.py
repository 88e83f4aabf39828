"""A synthetic organisation written out as the files Kith imports, with the answer beside them.

:func:`write_files` writes, into one directory:

- ``roster.csv``: the HR roster, in the columns ``kith import roster`` reads, managers
  before the people who report to them;
- ``mail.mbox``: every mail-like message, headers only (From, To, Cc, Date in the sender's
  offset, Message-ID, In-Reply-To and References for answers, a neutral Subject);
- ``chat/``: a Slack export (``users.json`` with profile e-mails, ``channels.json``,
  ``dms.json``, and ``<channel>/<YYYY-MM-DD>.json`` per channel and UTC day) with threads,
  mentions ``<@U…>`` and reactions;
- ``edges.csv``: every interaction, ``source,target,timestamp,kind,weight``;
- ``truth.json``: the planted communities (:meth:`SimulatedOrg.truth`).

How the files map to interactions: a mail's recipients each receive a ``mail`` (or, for a
message with In-Reply-To, a ``reply``); a direct message is a ``chat`` to the other
member; a thread reply is a ``reply`` to the thread's starter (in a direct message, to the
other member); each ``<@U…>`` in a post is a ``mention``; a reaction is a ``reaction`` to
the message's author. A Slack export does not record when a reaction was made; edges.csv
does.
"""

from __future__ import annotations

import csv
import json
import mailbox
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from kith.domain.roster import ROSTER_COLUMNS
from kith.simulate.org import KIND_CODES, SimulatedOrg

EDGE_COLUMNS = ("source", "target", "timestamp", "kind", "weight")
REACTIONS = ("thumbsup", "eyes", "tada", "white_check_mark", "pray", "raised_hands")
_OMITTED = "[content omitted]"
Step = Callable[[str], None]


def write_files(org: SimulatedOrg, out: Path, step: Step | None = None) -> dict[str, Path]:
    """Write every file of ``org`` into ``out`` (created if missing); returns them by name.

    ``step`` is told which file is being written (for a progress display).
    """
    out.mkdir(parents=True, exist_ok=True)
    tell = step or (lambda _name: None)
    written = {}
    for name, writer in (
        ("roster.csv", write_roster),
        ("mail.mbox", write_mbox),
        ("chat", write_chat),
        ("edges.csv", write_edges),
        ("truth.json", write_truth),
    ):
        tell(name)
        writer(org, out / name)
        written[name] = out / name
    return written


def write_roster(org: SimulatedOrg, path: Path) -> None:
    """The roster CSV, managers first (breadth-first down the tree from the chief executive)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ROSTER_COLUMNS)
        for p in (org.people[i] for i in _top_down(org)):
            row = [p.email, p.name, p.title, p.department, p.office, p.manager_email or "", p.timezone]
            writer.writerow([*row, p.work_start, p.work_end, p.work_days])


def _top_down(org: SimulatedOrg) -> list[int]:
    index = {p.email: i for i, p in enumerate(org.people)}
    reports: dict[int, list[int]] = defaultdict(list)
    roots = []
    for i, p in enumerate(org.people):
        if p.manager_email is None:
            roots.append(i)
        else:
            reports[index[p.manager_email]].append(i)
    order, k = list(roots), 0
    while k < len(order):
        order += reports[order[k]]
        k += 1
    return order


# Mail


def write_mbox(org: SimulatedOrg, path: Path) -> None:
    """Every mail-like message as a headers-only RFC 5322 message in one mbox file."""
    path.unlink(missing_ok=True)
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for raw in _mails(org):
            box.add(raw)
        box.flush()
    finally:
        box.unlock()
        box.close()


def _recipients(org: SimulatedOrg, chat: bool) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Message ids and their addressees (mail, chat or reply interactions), grouped by message."""
    addressed = np.isin(org.kind, [KIND_CODES["mail"], KIND_CODES["chat"], KIND_CODES["reply"]])
    pick = np.flatnonzero(addressed & (org.is_chat() == chat))
    order = pick[np.argsort(org.context[pick], kind="stable")]
    return org.context[order], org.target[order].astype(np.int64)


def _mails(org: SimulatedOrg) -> Iterator[bytes]:
    """Each mail message as bytes with its mbox From_ line, built with the email utilities."""
    people = org.people
    addresses = [formataddr((p.name, p.email)) for p in people]
    zones = {p.timezone: ZoneInfo(p.timezone) for p in people}
    messages, targets = _recipients(org, chat=False)
    starts = (
        np.flatnonzero(np.concatenate([[True], messages[1:] != messages[:-1]])) if messages.size else messages
    )
    ends = np.append(starts[1:], messages.size)
    for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
        m = int(messages[first])
        author = people[int(org.message_author[m])]
        when = datetime.fromtimestamp(int(org.message_at[m]), zones[author.timezone])
        to = [addresses[t] for t in targets[first:last].tolist()]
        parent = int(org.message_parent[m])
        lines = [
            f"From {author.email} {when.astimezone(UTC):%a %b %d %H:%M:%S %Y}",
            f"From: {addresses[int(org.message_author[m])]}",
            _folded("To", to[:1] if len(to) <= 25 else to),
        ]
        if 1 < len(to) <= 25:
            lines.append(_folded("Cc", to[1:]))
        lines += [f"Date: {format_datetime(when)}", f"Message-ID: {org.message_id(m)}"]
        if parent >= 0:
            chain = _ancestors(org, m)
            lines += [
                f"In-Reply-To: {org.message_id(parent)}",
                _folded("References", [org.message_id(a) for a in chain], sep=""),
            ]
        subject = "Note" if parent < 0 else "Re: Note"
        lines += [f"Subject: {'Announcement' if len(to) > 25 else subject}", "", _OMITTED, ""]
        yield "\n".join(lines).encode("utf-8")


def _folded(name: str, values: list[str], sep: str = ",") -> str:
    """A header with one value per continuation line, so no line runs past the limit."""
    return f"{name}: " + f"{sep}\n ".join(values)


def _ancestors(org: SimulatedOrg, message: int) -> list[int]:
    chain = []
    parent = int(org.message_parent[message])
    while parent >= 0:
        chain.append(parent)
        parent = int(org.message_parent[parent])
    return chain[::-1]


# Chat


def user_id(person: int) -> str:
    return f"U{person + 1:06d}"


def write_chat(org: SimulatedOrg, path: Path) -> None:
    """A Slack export: users, channels, direct messages, and one file per channel and day."""
    path.mkdir(parents=True, exist_ok=True)
    start = int(org.start.timestamp())
    users = [_user(org, i) for i in range(len(org.people))]
    channels = [
        {
            "id": c.id,
            "name": c.name,
            "created": start,
            "creator": user_id(c.members[0]) if c.members else user_id(0),
            "is_archived": False,
            "is_general": c.kind == "general",
            "members": [user_id(m) for m in c.members],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": f"{c.kind} channel", "creator": "", "last_set": 0},
        }
        for c in org.channels
    ]
    dms = [
        {"id": org.channel_id(len(org.channels) + k), "created": start, "members": [user_id(a), user_id(b)]}
        for k, (a, b) in enumerate(org.dm_pairs.tolist())
    ]
    for name, value in (("users.json", users), ("channels.json", channels), ("dms.json", dms)):
        _write_json(path / name, value)
    made: set[str] = set()
    for folder, day, messages in _chat_days(org):
        if folder not in made:
            (path / folder).mkdir(exist_ok=True)
            made.add(folder)
        _write_json(path / folder / f"{day}.json", messages)


def _write_json(path: Path, value: object) -> None:
    # Compact: the C encoder is ten times faster than the indenting one.
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(value, ensure_ascii=False))


def _user(org: SimulatedOrg, i: int) -> dict[str, Any]:
    p = org.people[i]
    offset = org.start.astimezone(ZoneInfo(p.timezone)).utcoffset() or timedelta(0)
    return {
        "id": user_id(i),
        "team_id": "T0KITHDEMO",
        "name": p.email.split("@", 1)[0],
        "real_name": p.name,
        "tz": p.timezone,
        "tz_offset": int(offset.total_seconds()),
        "deleted": False,
        "is_bot": False,
        "profile": {
            "email": p.email,
            "real_name": p.name,
            "display_name": p.name.split(" ", 1)[0],
            "title": p.title,
        },
    }


def _chat_days(org: SimulatedOrg) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """Per channel (folder) and UTC day, that day's messages in the export's shape."""
    chat = np.flatnonzero(org.message_channel >= 0)
    order = chat[np.lexsort((org.message_at[chat], org.message_channel[chat]))]
    days = np.datetime_as_string(org.message_at[order].astype("datetime64[s]"), unit="D").tolist()
    shape = _Slack(org, chat)
    named = len(org.channels)
    folder, day = "", ""
    batch: list[dict[str, Any]] = []
    for m, today in zip(order.tolist(), days, strict=True):
        channel = shape.channel[m]
        name = org.channels[channel].name if channel < named else org.channel_id(channel)
        if (name, today) != (folder, day):
            if batch:
                yield folder, day, batch
            folder, day, batch = name, today, []
        batch.append(shape.message(m))
    if batch:
        yield folder, day, batch


class _Slack:
    """Turns chat messages into Slack export messages; lookups prepared once, for speed."""

    def __init__(self, org: SimulatedOrg, chat: npt.NDArray[np.int64]) -> None:
        self.org = org
        self.users = [user_id(i) for i in range(len(org.people))]
        self.author = org.message_author.tolist()
        self.parent = org.message_parent.tolist()
        self.channel = org.message_channel.tolist()
        self.announcements = {i for i, c in enumerate(org.channels) if c.kind == "announcements"}
        self.mentions = self._by_message("mention")
        self.reactions = self._by_message("reaction")
        self.replies: dict[int, list[int]] = defaultdict(list)
        answered = chat[org.message_parent[chat] >= 0]
        for m in answered[np.argsort(org.message_at[answered], kind="stable")].tolist():
            self.replies[self.root(m)].append(m)

    def _by_message(self, kind: str) -> dict[int, list[int]]:
        """For each message, the people its interactions of ``kind`` come from or go to."""
        org = self.org
        pick = np.flatnonzero(org.kind == KIND_CODES[kind])
        people = org.target[pick] if kind == "mention" else org.source[pick]
        grouped: dict[int, list[int]] = defaultdict(list)
        for m, who in zip(org.context[pick].tolist(), people.tolist(), strict=True):
            grouped[m].append(who)
        return grouped

    def root(self, message: int) -> int:
        while self.parent[message] >= 0:
            message = self.parent[message]
        return message

    def message(self, m: int) -> dict[str, Any]:
        org, users = self.org, self.users
        text = " ".join([*(f"<@{users[t]}>" for t in self.mentions.get(m, ())), _OMITTED])
        if self.channel[m] in self.announcements:
            text = f"<!channel> {text}"
        message: dict[str, Any] = {"type": "message", "user": users[self.author[m]], "text": text}
        message["ts"] = org.slack_ts(m)
        replies = self.replies.get(m, [])
        if self.parent[m] >= 0:
            root = self.root(m)
            message["thread_ts"] = org.slack_ts(root)
            message["parent_user_id"] = users[self.author[root]]
        elif replies:
            message["thread_ts"] = message["ts"]
            message["reply_count"] = len(replies)
            message["reply_users"] = sorted({users[self.author[r]] for r in replies})
            message["replies"] = [{"user": users[self.author[r]], "ts": org.slack_ts(r)} for r in replies]
        reactions = self.reactions.get(m)
        if reactions:
            by_name: dict[str, list[str]] = defaultdict(list)
            for source in reactions:
                by_name[REACTIONS[(m * 7 + source) % len(REACTIONS)]].append(users[source])
            message["reactions"] = [
                {"name": k, "users": v, "count": len(v)} for k, v in sorted(by_name.items())
            ]
        return message


# Edges and truth


def write_edges(org: SimulatedOrg, path: Path) -> None:
    """Every interaction: e-mail addresses, an ISO 8601 UTC timestamp, the kind, the weight."""
    emails = np.array([p.email for p in org.people], dtype=object)
    stamps = np.datetime_as_string(org.at.astype("datetime64[s]"), unit="s")
    kinds = np.array(["mail", "chat", "reply", "mention", "reaction"], dtype=object)[org.kind]
    weight_text = np.full(len(org), "1", dtype=object)
    shared = np.flatnonzero(org.weight != 1.0)  # broadcasts: a few distinct weights
    texts = {w: f"{w:.6g}" for w in set(org.weight[shared].tolist())}
    weight_text[shared] = [texts[w] for w in org.weight[shared].tolist()]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(EDGE_COLUMNS) + "\n")
        chunk = 200_000
        for a in range(0, len(org), chunk):
            b = a + chunk
            rows = zip(
                emails[org.source[a:b]],
                emails[org.target[a:b]],
                stamps[a:b],
                kinds[a:b],
                weight_text[a:b],
                strict=True,
            )
            f.write("".join(f"{s},{t},{at}Z,{k},{w}\n" for s, t, at, k, w in rows))


def write_truth(org: SimulatedOrg, path: Path) -> None:
    path.write_text(json.dumps(org.truth(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def summary(org: SimulatedOrg) -> dict[str, Any]:
    """The figures ``kith simulate`` prints."""
    voices = org.communities[org.customer_facing]
    members = [org.people[i] for i in voices.members]
    return {
        "people": len(org.people),
        "departments": len({p.department for p in org.people}),
        "offices": len({p.office for p in org.people}),
        "timezones": len({p.timezone for p in org.people}),
        "countries": len({p.country for p in org.people}),
        "communities": len(org.communities),
        "interactions": len(org),
        "by_kind": org.counts(),
        "broadcasts": org.broadcasts(),
        "customer_facing": {
            "name": voices.name,
            "size": len(members),
            "countries": len({p.country for p in members}),
            "departments": len({p.department for p in members}),
        },
    }
