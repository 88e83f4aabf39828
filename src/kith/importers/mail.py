"""Mail: mbox files, Maildir folders and single message files, headers only, streaming.

**What is read.** Only the header block of each message (From, To, Cc, Bcc, Date,
Message-ID, In-Reply-To, References, and the X-From/X-To/X-cc/X-bcc display names of
exported Exchange and Notes mail); bodies are skipped without being parsed or kept. An
mbox file is read in blocks of 1 MiB and split on lines that begin with ``From `` (the rule
of Python's :mod:`mailbox`), so a 1 GB file is never held in memory: at most one block and
one header block at a time. Each header block is parsed with
:class:`email.parser.BytesHeaderParser` (policy ``compat32``, the fast one; addresses with
:func:`email.utils.getaddresses`, dates with :func:`email.utils.parsedate_to_datetime`).

**What a path may be.** An mbox file; a single message file (``.eml``, or one message per
file as in the Enron corpus's maildir); a folder, read recursively in name order (a Maildir
is a folder with ``cur/`` and ``new/``, whose ``tmp/`` is left out; other files are mbox
files or single messages by their first line); or a zip archive holding any of these.

**Interactions.** A message from A to B is one ``mail`` interaction A→B at the message's
Date (UTC), with the Message-ID as context. The recipients are the unique valid addresses
of To, Cc and Bcc, the sender left out. A message to more than ``broadcast`` recipients
(:data:`~kith.domain.interactions.BROADCAST_RECIPIENTS`, 25, by default) is a broadcast:
each of its ties weighs 1/recipients. Replies stay ``mail`` (a reply is still a message to
someone); they are counted in ``replies``, and in ``replies_in_import`` when In-Reply-To or
References names a message read earlier in the same import.

**Deduplication.** A Message-ID seen earlier in the same import (the same mail in the
sender's sent folder and in a recipient's inbox) is skipped and counted in ``duplicates``;
across imports, the loader's dedupe key (which includes the Message-ID) makes a re-import
add nothing. A message without a Message-ID gets a stable one made from a digest of its
From, Date, recipients and a digest of its Subject. The Subject is hashed for that identity
only and never stored, nor is anything else of the content.

**Skipped, never fatal.** A message without a From address or with no or an unreadable
Date, or with a header block over 1 MiB, is skipped and counted by reason
(``skipped_no_from``, ``skipped_bad_from``, ``skipped_no_date``, ``skipped_bad_date``,
``skipped_header_too_long``). Addresses that are not addresses (``maria".'"chiodi@enron.com``)
are left out and counted in ``addresses_invalid``. Exchange and Notes addresses wrapped as
``IMCEANOTES-...@domain`` or ``IMCEAEX-...@domain`` are unwrapped when they carry an SMTP
address (``IMCEANOTES-+22Chiodi+2C+20Maria+22+20+3Cmaria+2Echiodi+40csfb+2Ecom+3E...``
is ``maria.chiodi@csfb.com``); those that carry only an internal directory name cannot be
matched to anyone and are counted in ``addresses_exchange``.

**Fatal.** A file that is neither an mbox file nor a message (binary data, say), a file that
ends in the middle of a header line (cut short), an unreadable file, a broken archive:
:class:`~kith.importers.sources.ImportFailed` naming the file and message number.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import IO

from kith.domain.interactions import BROADCAST_RECIPIENTS, InteractionRecord
from kith.importers.sources import (
    READ_ERRORS,
    Entry,
    Importer,
    ImportFailed,
    address,
    check_exists,
    describe,
    file_opener,
    folder_entries,
    is_zip,
    open_zip,
    printable,
    zip_entries,
)

BLOCK = 1 << 20
MAX_HEADER = 1 << 20
_SEPARATOR = b"\nFrom "
_HEADER_LINE = re.compile(rb"[!-9;-~]+:")
_WANTED = frozenset(
    (
        "from",
        "to",
        "cc",
        "bcc",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "subject",
        "x-from",
        "x-to",
        "x-cc",
        "x-bcc",
    )
)
_RECIPIENT_FIELDS = (("to", "x-to"), ("cc", "x-cc"), ("bcc", "x-bcc"))
_IMCEA = re.compile(r"imcea[a-z]*-(.+)@[^@]*", re.IGNORECASE)
_ESCAPED = re.compile(r"\+([0-9a-fA-F]{2})")
_BRACKETED = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_BARE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_IDS = re.compile(r"<[^<>\s]+>")
_PATH = re.compile(r"<[^<>]*>")
# Characters that make an address header more than a list of bare addresses.
_SPECIAL = re.compile(r'[<>"()\[\]:;\\]')

Split = Iterator[tuple[int, bytes | None, bool]]


def split_mbox(read: Callable[[int], bytes], block: int = BLOCK, max_header: int = MAX_HEADER) -> Split:
    """The header block of each message of an mbox stream, without ever holding a body.

    ``read(n)`` returns up to ``n`` more bytes (``b""`` at the end); the stream must begin
    with a ``From `` line. Yields ``(offset, header, truncated)`` per message: the offset
    in the stream reached so far, the header block (the lines after the ``From `` line up to
    the first empty line or the next ``From `` line; ``None`` when it is longer than
    ``max_header``), and whether the stream ended in the middle of a header line.
    """
    buf = read(block)
    base = 0  # stream offset of buf[0]
    eof = not buf
    pos = 0  # where the current message's "From " line begins in buf
    while True:
        scan = pos
        nl = sep = end = -1
        while True:  # find the From line's end, then the header's end or the next message
            nl = buf.find(b"\n", pos)
            if nl >= 0:
                start = max(scan, nl)
                sep = buf.find(_SEPARATOR, start)
                end = _blank_line(buf, start, sep + 1 if sep >= 0 else len(buf))
                if end >= 0 or sep >= 0:
                    break
            if eof or len(buf) - pos > max_header:
                break
            more = read(block)
            eof = not more
            scan = max(len(buf) - len(_SEPARATOR), pos) - pos
            base += pos
            buf = buf[pos:] + more
            pos = 0
        if end >= 0:
            yield base + end, buf[nl + 1 : end], False
        elif sep >= 0:
            yield base + sep + 1, buf[nl + 1 : sep + 1], False
            pos = sep + 1
            continue
        elif eof:
            header = buf[nl + 1 :] if nl >= 0 else b""
            yield base + len(buf), header, not buf.endswith(b"\n")
            return
        else:
            yield base + len(buf), None, False
            end = len(buf) - 1
        # skip the body up to the next "From " line
        if sep < 0:
            sep = buf.find(_SEPARATOR, end - 1)
            while sep < 0:
                keep = max(len(buf) - len(_SEPARATOR), 0)
                base += keep
                buf = buf[keep:]
                more = read(block)
                if not more:
                    return
                buf += more
                sep = buf.find(_SEPARATOR)
        pos = sep + 1


def _blank_line(buf: bytes, start: int, limit: int) -> int:
    """Index just past the first empty line in ``buf[start:limit]`` (``start`` at a newline)."""
    lf = buf.find(b"\n\n", start, limit)
    crlf = buf.find(b"\n\r\n", start, limit)
    if lf < 0 and crlf < 0:
        return -1
    found = min(p for p in (lf, crlf) if p >= 0)
    return found + 1


def _reader(stream: IO[bytes], where: str) -> Callable[[int], bytes]:
    def read(n: int) -> bytes:
        try:
            return stream.read(n)
        except READ_ERRORS as exc:
            raise ImportFailed(where, f"cannot be read ({describe(exc)})") from None

    return read


class MailImport(Importer):
    """Mail from mbox files, Maildir folders, message files and zip archives of them."""

    def __init__(
        self,
        paths: Sequence[Path],
        labels: Sequence[str] | None = None,
        *,
        broadcast: int = BROADCAST_RECIPIENTS,
    ) -> None:
        self.paths = list(paths)
        self.labels = list(labels) if labels is not None else [str(p) for p in self.paths]
        super().__init__(", ".join(self.labels))
        self.broadcast = broadcast
        self._parser = BytesHeaderParser(policy=compat32)
        self._seen: set[str] = set()
        self._addresses: set[str] = set()

    def records(self) -> Iterator[InteractionRecord]:
        archives = []
        try:
            entries: list[Entry] = []
            for path, label in zip(self.paths, self.labels, strict=True):
                found = check_exists(path, label)
                if path.is_dir():
                    entries += folder_entries(path, label)
                elif is_zip(path, label):
                    archive = open_zip(path, label)
                    archives.append(archive)
                    entries += zip_entries(archive, label)
                else:
                    entries.append(Entry(label, found.st_size, file_opener(path)))
            self.stats["bytes_total"] = sum(e.size for e in entries)
            self.stats["bytes_read"] = 0
            done = 0
            for entry in entries:
                yield from self._entry(entry, done)
                done += entry.size
                self.stats["bytes_read"] = done
        finally:
            for archive in archives:
                archive.close()

    def _entry(self, entry: Entry, done: int) -> Iterator[InteractionRecord]:
        with entry.open() as stream:
            read = _reader(stream, entry.label)
            first = read(BLOCK)
            if not first:
                self.add("files_empty")
                return
            self.add("files")
            replay = [first]

            def again(n: int) -> bytes:
                return replay.pop() if replay else read(n)

            if first.startswith(b"From "):
                messages = split_mbox(again)
            elif _HEADER_LINE.match(first):
                # One message per file: its header block is that of a one-message mbox.
                replay[0] = b"From -\n" + first
                messages = _first(split_mbox(again))
            else:
                raise ImportFailed(
                    entry.label,
                    "is neither an mbox file (its first line does not start with 'From ') "
                    "nor a mail message (it does not start with a header such as 'From:')",
                )
            for number, (offset, header, truncated) in enumerate(messages, start=1):
                self.add("messages")
                self.stats["bytes_read"] = done + min(offset, entry.size)
                if truncated:
                    raise ImportFailed(
                        f"{entry.label}, message {number}",
                        "the file ends in the middle of the message's headers; it looks cut short",
                    )
                if header is None:
                    self._skip("header_too_long")
                    continue
                yield from self._message(header)

    def _skip(self, reason: str) -> None:
        self.add(f"skipped_{reason}")
        self.add("messages_skipped")

    def _message(self, header: bytes) -> Iterator[InteractionRecord]:
        message = self._parser.parsebytes(header)
        if message.defects:
            self.add("header_defects")
        fields: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            key = name.lower()
            if key in _WANTED:
                fields.setdefault(key, []).append(value)
        sender = self._sender(fields)
        at = self._date(fields) if sender is not None else None
        if sender is None or at is None:
            return
        given = fields.get("message-id")
        message_id = printable("".join(given[0].split()), 300) if given else ""
        if message_id in self._seen:
            self.add("duplicates")
            return
        recipients: dict[str, None] = {}
        for field, names_field in _RECIPIENT_FIELDS:
            for found in self._addresses_of(fields, field, names_field):
                if found != sender:
                    recipients[found] = None
        if not message_id:
            message_id = _synthesized_id(fields, sender, at, recipients)
            self.add("message_ids_synthesized")
            if message_id in self._seen:
                self.add("duplicates")
                return
        self._note_reply(fields)
        self._seen.add(message_id)
        self.add("message_ids")
        self._addresses.add(sender)
        self._addresses.update(recipients)
        self.stats["addresses"] = len(self._addresses)
        if not recipients:
            self.add("messages_without_recipients")
            return
        weight = 1.0
        if len(recipients) > self.broadcast:
            weight = 1.0 / len(recipients)
            self.add("broadcasts")
        self.add("ties", len(recipients))
        for target in recipients:
            yield InteractionRecord(sender, target, "mail", at, "email", weight, message_id)

    def _sender(self, fields: dict[str, list[str]]) -> str | None:
        values = fields.get("from")
        if not values:
            self._skip("no_from")
            return None
        for display, raw in parse_addresses(values[:1]):
            found = self._resolve(raw) if raw else None
            if found is not None:
                if found not in self.names:
                    x_from = fields.get("x-from")
                    self.name(found, _clean_name(x_from[0] if x_from else None) or _clean_name(display))
                return found
        self._skip("bad_from")
        return None

    def _date(self, fields: dict[str, list[str]]) -> datetime | None:
        values = fields.get("date")
        if not values or not values[0].strip():
            self._skip("no_date")
            return None
        try:
            at = parsedate_to_datetime(values[0])
            return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            self._skip("bad_date")
            return None

    def _addresses_of(self, fields: dict[str, list[str]], field: str, names_field: str) -> Iterator[str]:
        values = fields.get(field)
        if not values:
            return
        parsed = parse_addresses(values)
        x_values = fields.get(names_field)
        x_names = _x_entries(x_values[0]) if x_values else []
        paired = len(x_names) == len(parsed)
        for i, (display, raw) in enumerate(parsed):
            found = self._resolve(raw) if raw else None
            if found is None:
                continue
            if found not in self.names:
                self.name(found, _clean_name(x_names[i] if paired else None) or _clean_name(display))
            yield found

    def _resolve(self, raw: str) -> str | None:
        """An address as written in a header, as Kith keeps it; None (counted) if unusable."""
        found = address(raw)
        if found is not None and not found.startswith("imcea"):
            return found
        wrapped = _IMCEA.fullmatch(raw.strip())
        if wrapped is not None:
            unwrapped = _unwrap(wrapped.group(1))
            self.add("addresses_unwrapped" if unwrapped else "addresses_exchange")
            return unwrapped
        if "@" in raw:
            self.add("addresses_invalid")
        return None

    def _note_reply(self, fields: dict[str, list[str]]) -> None:
        referenced = [
            found
            for field in ("in-reply-to", "references")
            for value in fields.get(field, ())
            for found in _IDS.findall(value)
        ]
        if referenced:
            self.add("replies")
            if any(i in self._seen for i in referenced):
                self.add("replies_in_import")


def parse_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs of address headers, as :func:`email.utils.getaddresses`.

    Most headers of bulk mail are bare addresses separated by commas; those are split here,
    ten times faster. Anything else (names, angle brackets, quotes, groups, comments) goes
    to ``getaddresses``.
    """
    pairs: list[tuple[str, str]] = []
    for value in values:
        if _SPECIAL.search(value):
            return getaddresses(values)
        for piece in value.split(","):
            token = piece.strip()
            if not token:
                continue
            if len(token.split()) > 1:
                return getaddresses(values)
            pairs.append(("", token))
    return pairs


def _unwrap(encoded: str) -> str | None:
    """The SMTP address inside an ``IMCEANOTES-``/``IMCEAEX-`` address, if it holds one."""
    inner = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), encoded)
    bracketed = _BRACKETED.search(inner)
    if bracketed is not None:
        return address(bracketed.group(1))
    bare = _BARE.search(inner)
    return address(bare.group(0)) if bare is not None else None


def _synthesized_id(
    fields: dict[str, list[str]], sender: str, at: datetime, recipients: dict[str, None]
) -> str:
    """A stable id for a message without one: a digest of From, Date, recipients and the
    digest of the Subject (which is hashed for this only, never stored)."""
    subject = (fields.get("subject") or [""])[0].encode("utf-8", "surrogateescape")
    identity = "\x1f".join(
        (sender, at.isoformat(), ",".join(sorted(recipients)), hashlib.blake2b(subject).hexdigest())
    )
    return f"<{hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()}@kith.synthesized>"


def _first(split: Split) -> Split:
    for item in split:
        yield item
        return


def _x_entries(value: str) -> list[str]:
    """The entries of an X-To style header of display names, where names hold commas.

    ``Allen, Phillip K. </O=ENRON/...>, 'kathleen@enron.com', Bay, Frank </O=...>`` holds
    three entries: when the header has ``<...>`` parts, an entry ends at one, or is a quoted
    address; otherwise entries are separated by commas.
    """
    value = " ".join(value.split())
    if not value:
        return []
    if "<" not in value:
        return [part.strip() for part in value.split(",") if part.strip()]
    entries: list[str] = []
    current = ""
    for piece in value.split(","):
        current = f"{current},{piece}" if current else piece
        text = current.strip()
        if text.endswith(">") or (len(text) > 1 and text[0] == text[-1] == "'") or address(text):
            entries.append(text)
            current = ""
    if current.strip():
        entries.append(current.strip())
    return entries


def _clean_name(raw: str | None) -> str | None:
    """A display name fit to show: decoded, without directory paths, quotes or addresses."""
    if not raw:
        return None
    text = raw
    if "=?" in text:
        with contextlib.suppress(ValueError, LookupError, UnicodeError):
            text = str(make_header(decode_header(text)))
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = printable(_PATH.sub(" ", text)).strip("'\" ")
    if not text or "@" in text:
        return None
    return text
