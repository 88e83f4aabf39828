"""Slack: a workspace export (the zip Slack makes, or that zip unpacked), metadata only.

**Files read.** ``users.json`` (each user's id and ``profile.email``: people are matched by
e-mail, and users without one, bots and most deleted users, are left out and counted in
``users_without_email``), ``channels.json`` and ``groups.json`` (public and private
channels, one folder each, named after the channel), ``dms.json`` and ``mpims.json``
(direct and group messages, one folder each, named by id and by name), and in each folder
one ``<YYYY-MM-DD>.json`` per day: a list of messages. Folders no listing names are counted
in ``folders_unlisted`` and left out. Message text is read only to find mentions; nothing
of it is kept.

**Interactions** (the same weights as Kith's own activity where there is one), each with
the channel id and the message's ``ts`` as context, at the message's time:

- a message in a channel, not in a thread: to each of the last 5 other people who posted
  in the channel in the hour before (``chat``, 0.25 each), the conversation it joins;
- a message in a direct or group message: to every other member (``chat``, 1.0);
- a thread reply: to the thread's starter (``reply``, 1.0) and to the last 10 other people
  who replied earlier (``reply``, 0.25 each); in a direct message, a reply in a thread one
  started oneself goes to the other members (``reply``, 1.0);
- ``<@U123>`` in the text: to each person mentioned (``mention``, 1.0); ``<!channel>``,
  ``<!here>`` and ``<!everyone>`` add none, like ``@space`` in Kith;
- a reaction: from each person who reacted to the message's author (``reaction``, 0.5 per
  emoji).

An export does not say when a reaction was made; it is dated at the message. Joins, leaves,
topic and purpose changes and bot messages are skipped (``messages_skipped_subtype``);
messages without a user, from users without an e-mail address, or without a readable
``ts`` are skipped and counted too. A file that is not JSON, or not a list of messages,
fails the import, naming the file (``general/2020-01-01.json``) and the problem.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kith.domain.interactions import InteractionRecord, Kind
from kith.importers.sources import (
    READ_ERRORS,
    Importer,
    ImportFailed,
    address,
    check_exists,
    describe,
    open_zip,
    printable,
)

CHAT = 0.25
CHAT_WINDOW_SECONDS = 3600.0
CHAT_RECENT_MAX = 5
DIRECT = 1.0
REPLY = 1.0
EARLIER_PARTICIPANT = 0.25
EARLIER_PARTICIPANTS_MAX = 10
MENTION = 1.0
REACTION = 0.5
MAX_FILE_BYTES = 256 * 1024 * 1024

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_SKIPPED_SUBTYPES = frozenset(
    (
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "bot_message",
        "bot_add",
        "bot_remove",
        "pinned_item",
        "unpinned_item",
        "tombstone",
    )
)
Tie = Callable[[str | None, Kind, float], None]
_LISTINGS = (("channels.json", False), ("groups.json", False), ("dms.json", True), ("mpims.json", True))


class _Tree:
    """The export's files by path relative to its root (the folder holding users.json)."""

    def __init__(self, path: Path, label: str) -> None:
        self.label = label
        self.archive: zipfile.ZipFile | None = None
        self.root = path
        self.prefix = ""
        self.files: dict[str, list[str]] = {}  # folder -> day files
        self.sizes: dict[str, int] = {}  # folder/day -> bytes
        if path.is_dir():
            self.root = _export_root(path, label)
            if self.root != path:
                self.label = f"{label}/{self.root.name}"
            self._scan_folder(self.root)
        else:
            self.archive = open_zip(path, label)
            self._scan_archive(self.archive)

    def _scan_folder(self, path: Path) -> None:
        try:
            for child in sorted(path.iterdir()):
                if child.is_dir() and not child.name.startswith("."):
                    days = sorted(f for f in child.iterdir() if _DAY.fullmatch(f.name))
                    self.files[child.name] = [day.name for day in days]
                    for day in days:
                        self.sizes[f"{child.name}/{day.name}"] = day.stat().st_size
        except OSError as exc:
            raise ImportFailed(self.label, f"cannot be read ({describe(exc)})") from None

    def _scan_archive(self, archive: zipfile.ZipFile) -> None:
        names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
        tops = sorted((n for n in names if n.rsplit("/", 1)[-1] == "users.json"), key=len)
        self.prefix = tops[0][: -len("users.json")] if tops else ""
        for name in names:
            if not name.startswith(self.prefix):
                continue
            parts = name[len(self.prefix) :].split("/")
            if len(parts) == 2 and _DAY.fullmatch(parts[1]):
                self.files.setdefault(parts[0], []).append(parts[1])
                self.sizes["/".join(parts)] = archive.getinfo(name).file_size
        for days in self.files.values():
            days.sort()

    def where(self, relative: str) -> str:
        return f"{self.label}/{self.prefix}{relative}"

    def read(self, relative: str) -> bytes | None:
        """The file's bytes, or None when the export has no such file."""
        try:
            if self.archive is None:
                path = self.root / relative
                if not path.is_file():
                    return None
                size = path.stat().st_size
                if size > MAX_FILE_BYTES:
                    raise ImportFailed(
                        self.where(relative), "is larger than 256 MB; that is no Slack export file"
                    )
                return path.read_bytes()
            try:
                info = self.archive.getinfo(self.prefix + relative)
            except KeyError:
                return None
            with self.archive.open(info) as member:
                data = member.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise ImportFailed(
                    self.where(relative), "is larger than 256 MB; that is no Slack export file"
                )
            return data
        except READ_ERRORS as exc:
            raise ImportFailed(self.where(relative), f"cannot be read ({describe(exc)})") from None

    def json(self, relative: str) -> Any:
        data = self.read(relative)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise ImportFailed(self.where(relative), f"is not UTF-8 text (byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            message = f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            raise ImportFailed(self.where(relative), message) from None
        except RecursionError:
            raise ImportFailed(self.where(relative), "is not valid JSON (nested too deeply)") from None

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def _export_root(path: Path, label: str) -> Path:
    """The folder holding users.json: ``path``, or its one subfolder that does (an archive
    unpacked into a folder of its own)."""
    try:
        if (path / "users.json").exists():
            return path
        inner = [d for d in path.iterdir() if d.is_dir() and (d / "users.json").is_file()]
    except OSError as exc:
        raise ImportFailed(label, f"cannot be read ({describe(exc)})") from None
    return inner[0] if len(inner) == 1 else path


@dataclass
class _Channel:
    """What the import remembers of one conversation while reading it, day after day."""

    id: str
    folder: str
    direct: bool
    members: tuple[str, ...] = ()
    recent: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=50))
    threads: dict[str, str] = field(default_factory=dict)  # thread ts -> starter's e-mail
    repliers: dict[str, list[str]] = field(default_factory=dict)  # thread ts -> e-mails, in order


class SlackImport(Importer):
    """Interactions from a Slack export: a zip archive or its unpacked folder."""

    def __init__(self, path: Path, label: str | None = None) -> None:
        super().__init__(label or str(path))
        self.path = path
        self.emails: dict[str, str] = {}  # user id -> e-mail

    def records(self) -> Iterator[InteractionRecord]:
        check_exists(self.path, self.label)
        tree = _Tree(self.path, self.label)
        try:
            self._users(tree)
            channels = self._channels(tree)
            read = {c.folder for c in channels}
            self.stats["bytes_total"] = sum(n for r, n in tree.sizes.items() if r.split("/")[0] in read)
            self.stats["bytes_read"] = 0
            for channel in channels:
                for day in tree.files.get(channel.folder, []):
                    relative = f"{channel.folder}/{day}"
                    yield from self._day(channel, tree.where(relative), tree.json(relative))
                    self.add("bytes_read", tree.sizes.get(relative, 0))
                    self.add("files")
        finally:
            tree.close()

    # users and channels

    def _users(self, tree: _Tree) -> None:
        users = tree.json("users.json")
        if users is None:
            raise ImportFailed(
                self.label,
                "has no users.json; a Slack export holds users.json, channels.json and a folder per channel",
            )
        if not isinstance(users, list):
            raise ImportFailed(tree.where("users.json"), "is not a list of users")
        for number, user in enumerate(users, start=1):
            if not isinstance(user, dict) or not isinstance(user.get("id"), str):
                raise ImportFailed(tree.where("users.json"), f"user {number} has no id")
            given = user.get("profile")
            profile: dict[str, Any] = given if isinstance(given, dict) else {}
            raw = profile.get("email")
            email = address(raw) if isinstance(raw, str) else None
            if email is None:
                self.add("users_without_email")
                continue
            self.add("users")
            self.emails[user["id"]] = email
            name = next(
                (
                    v
                    for v in (profile.get("real_name"), user.get("real_name"), user.get("name"))
                    if isinstance(v, str) and v.strip()
                ),
                None,
            )
            self.name(email, printable(name) if name else None)

    def _channels(self, tree: _Tree) -> list[_Channel]:
        channels: list[_Channel] = []
        listed = False
        for filename, direct in _LISTINGS:
            entries = tree.json(filename)
            if entries is None:
                continue
            listed = True
            if not isinstance(entries, list):
                raise ImportFailed(tree.where(filename), "is not a list of conversations")
            for number, entry in enumerate(entries, start=1):
                ident = entry.get("id") if isinstance(entry, dict) else None
                if not isinstance(ident, str) or not ident:
                    raise ImportFailed(tree.where(filename), f"conversation {number} has no id")
                folder = ident if filename == "dms.json" else entry.get("name")
                if not isinstance(folder, str) or not folder:
                    raise ImportFailed(tree.where(filename), f"conversation {number} has no name")
                members = entry.get("members")
                known = tuple(
                    self.emails[m] for m in (members if isinstance(members, list) else []) if m in self.emails
                )
                channels.append(_Channel(printable(ident, 60), folder, direct, known))
        if not listed:
            raise ImportFailed(self.label, "has no channels.json (nor groups.json, dms.json or mpims.json)")
        folders = {c.folder for c in channels}
        self.add("channels", len(channels))
        unlisted = [f for f in tree.files if f not in folders]
        if unlisted:
            self.add("folders_unlisted", len(unlisted))
        return sorted(channels, key=lambda c: c.folder)

    # messages

    def _day(self, channel: _Channel, where: str, messages: Any) -> Iterator[InteractionRecord]:
        if not isinstance(messages, list):
            raise ImportFailed(where, "is not a list of messages")
        dated = []
        for message in messages:
            self.add("messages")
            if not isinstance(message, dict):
                self._skip("malformed")
                continue
            ts = message.get("ts")
            try:
                seconds = (
                    float(ts) if isinstance(ts, str | int | float) and not isinstance(ts, bool) else None
                )
                at = datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
            except (ValueError, OverflowError, OSError):
                at = None
            if at is None or seconds is None:
                self._skip("bad_ts")
                continue
            dated.append((seconds, at, message))
        dated.sort(key=lambda item: item[0])
        for seconds, at, message in dated:
            yield from self._message(channel, seconds, at, message)

    def _skip(self, reason: str) -> None:
        self.add(f"messages_skipped_{reason}")

    def _message(
        self, channel: _Channel, seconds: float, at: datetime, message: dict[str, Any]
    ) -> Iterator[InteractionRecord]:
        subtype = message.get("subtype")
        if subtype in _SKIPPED_SUBTYPES:
            self._skip("subtype")
            return
        user = message.get("user")
        author = self.emails.get(user) if isinstance(user, str) else None
        if author is None:
            self._skip("unknown_user")
            return
        ts = printable(str(message["ts"]), 40)
        context = f"{channel.id}:{ts}"
        ties: dict[tuple[str, Kind], float] = {}

        def tie(target: str | None, kind: Kind, weight: float) -> None:
            if target is not None and target != author and (target, kind) not in ties:
                ties[(target, kind)] = weight

        thread = message.get("thread_ts")
        thread = printable(str(thread), 40) if isinstance(thread, str | int | float) else None
        if thread is not None and thread != ts:
            self.add("thread_replies")
            self._thread_reply(channel, thread, author, message, tie)
        else:
            if thread is not None:
                channel.threads[ts] = author
            if channel.direct:
                for member in channel.members:
                    tie(member, "chat", DIRECT)
            else:
                self._chat(channel, seconds, author, tie)
            channel.recent.append((seconds, author))
        text = message.get("text")
        if isinstance(text, str) and "<@" in text:
            for mentioned in _MENTION.findall(text):
                tie(self.emails.get(mentioned), "mention", MENTION)
        self.add("messages_read")
        for (target, kind), weight in ties.items():
            self.add("ties")
            yield InteractionRecord(author, target, kind, at, "slack", weight, context)
        yield from self._reactions(message, author, at, context)

    def _thread_reply(
        self, channel: _Channel, thread: str, author: str, message: dict[str, Any], tie: Tie
    ) -> None:
        starter = channel.threads.get(thread)
        if starter is None:
            parent = message.get("parent_user_id")
            starter = self.emails.get(parent) if isinstance(parent, str) else None
        if starter is None:
            self.add("thread_starter_unknown")
        elif starter == author and channel.direct:
            for member in channel.members:
                tie(member, "reply", REPLY)
        else:
            tie(starter, "reply", REPLY)
        repliers = channel.repliers.setdefault(thread, [])  # each once, the latest last
        earlier = [p for p in reversed(repliers) if p not in (author, starter)]
        for person in earlier[:EARLIER_PARTICIPANTS_MAX]:
            tie(person, "reply", EARLIER_PARTICIPANT)
        if author in repliers:
            repliers.remove(author)
        repliers.append(author)

    def _chat(self, channel: _Channel, seconds: float, author: str, tie: Tie) -> None:
        """Weak ties to the people who posted in the channel in the hour before."""
        chosen: list[str] = []
        for when, poster in reversed(channel.recent):
            if seconds - when > CHAT_WINDOW_SECONDS or len(chosen) >= CHAT_RECENT_MAX:
                break
            if poster != author and poster not in chosen:
                chosen.append(poster)
        for poster in chosen:
            tie(poster, "chat", CHAT)

    def _reactions(
        self, message: dict[str, Any], author: str, at: datetime, context: str
    ) -> Iterator[InteractionRecord]:
        reactions = message.get("reactions")
        if not isinstance(reactions, list):
            return
        emoji_by_person: dict[str, int] = {}
        for reaction in reactions:
            users = reaction.get("users") if isinstance(reaction, dict) else None
            for user in users if isinstance(users, list) else []:
                person = self.emails.get(user) if isinstance(user, str) else None
                if person is not None and person != author:
                    emoji_by_person[person] = emoji_by_person.get(person, 0) + 1
        for person, count in emoji_by_person.items():
            self.add("ties")
            self.add("reactions", count)
            yield InteractionRecord(person, author, "reaction", at, "slack", REACTION * count, context)
