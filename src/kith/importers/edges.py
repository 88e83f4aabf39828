"""Edge lists: a CSV file of who addressed whom, one interaction per row.

**The columns** are named by the first line, which is required:
``source,target[,timestamp,kind,weight]`` in any order and case (other columns are
ignored). ``source`` and ``target`` are e-mail addresses or Kith person ids (digits; an id
no one has is counted in ``ties_unknown_person`` by the loader). ``timestamp`` is ISO 8601
(``2025-02-03T09:15:00Z``, ``2025-02-03``; without a zone, UTC) or unix seconds; an empty or
missing timestamp takes the import's default time, which ``kith import edges`` sets to the
file's modification time (``--at`` to choose another) and the API to the upload's time
(``at`` to choose another). ``kind`` is one of Kith's interaction kinds (default ``edge``),
``weight`` a number above 0 and at most 1000 (default 1).

**The enron-v1 shape** (``date,fromId,fromEmail,fromJobtitle,toId,toEmail,toJobtitle,
messageType,sentiment``) is recognised by its header: fromEmail and toEmail are the ends,
``date`` the day, ``messageType`` TO, CC or BCC makes a ``mail`` interaction; the dataset's
own ids are not Kith's and are ignored. Job titles (all but ``Unknown``) are handed to the
loader, which gives them to the people this import discovers; people already in the
directory keep theirs: the roster is the authority on titles.

A space inside an address (the dataset's ``paul.y barbo@enron.com``, 200 rows) is taken out
and counted in ``addresses_repaired``; in the generic shape it is a bad row.

**Identity.** A row is identified by its line number, so importing the same file again adds
nothing; the same edge on another line, or in another file, is another interaction (an edge
list has nothing like a Message-ID).

**Fatal.** Any bad row (an end that is neither an address nor an id, an unreadable time, an
unknown kind, a bad weight), text that is not UTF-8, or broken quoting fails the import
with the file and line: an edge list is data someone made, and a silently dropped row
would be a silent error in the network.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from kith.domain.interactions import KINDS, InteractionRecord, Kind
from kith.importers.sources import (
    READ_ERRORS,
    Entry,
    Importer,
    ImportFailed,
    address,
    check_exists,
    describe,
    file_opener,
    printable,
)

MAX_LINE = 1 << 20
MAX_WEIGHT = 1000.0
MAX_ID = 2_147_483_647
GENERIC = ("source", "target", "timestamp", "kind", "weight")
ENRON_V1 = ("date", "fromemail", "toemail")
_UNIX = re.compile(r"-?\d+(?:\.\d+)?")
_MAIL_TYPES = frozenset(("to", "cc", "bcc"))


class _BadRow(ValueError):
    pass


class EdgesImport(Importer):
    """Interactions from a CSV edge list, generic or in the enron-v1 shape."""

    def __init__(self, path: Path, label: str | None = None, *, default_at: datetime | None = None) -> None:
        super().__init__(label or str(path))
        self.path = path
        self.default_at = default_at

    def records(self) -> Iterator[InteractionRecord]:
        found = check_exists(self.path, self.label)
        if self.path.is_dir():
            raise ImportFailed(self.label, "is a folder; name the CSV file")
        default_at = self.default_at or datetime.fromtimestamp(found.st_mtime, UTC)
        self.stats["bytes_total"] = found.st_size
        self.stats["bytes_read"] = 0
        entry = Entry(self.label, found.st_size, file_opener(self.path))
        with entry.open() as stream:
            lines = self._lines(stream)
            header = next(lines, None)
            if header is None:
                raise ImportFailed(
                    self.label, "is empty; the first line must name the columns: source,target"
                )
            delimiter = _delimiter(header)
            columns = self._columns(
                self._next(csv.reader([header], delimiter=delimiter, strict=True), 1) or []
            )
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            enron = "fromemail" in columns
            if enron:
                self.stats["enron_v1"] = 1
            while True:
                line = reader.line_num + 2  # the line the next record starts on (header is line 1)
                cells = self._next(reader, line)
                if cells is None:
                    break
                if not any(c.strip() for c in cells):
                    continue
                self.add("rows")
                try:
                    context = f"line:{line}"
                    if enron:
                        record = self._enron(cells, columns, context)
                    else:
                        record = self._generic(cells, columns, default_at, context)
                except _BadRow as exc:
                    raise ImportFailed(f"{self.label}, line {line}", str(exc)) from None
                self.add("ties")
                yield record
        self.stats["bytes_read"] = found.st_size
        self.stats["titles"] = len(self.titles)

    def _lines(self, stream: IO[bytes]) -> Iterator[str]:
        """The file's lines as text, checked as UTF-8 one by one (a BOM is allowed)."""
        number = 0
        while True:
            try:
                raw = stream.readline(MAX_LINE)
            except READ_ERRORS as exc:
                raise ImportFailed(self.label, f"cannot be read ({describe(exc)})") from None
            if not raw:
                return
            number += 1
            if len(raw) >= MAX_LINE and not raw.endswith(b"\n"):
                raise ImportFailed(
                    f"{self.label}, line {number}", "is longer than 1 MiB; is this a CSV file?"
                )
            if number % 1024 == 0:
                self.stats["bytes_read"] = stream.tell()
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                message = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as CSV in UTF-8"
                raise ImportFailed(f"{self.label}, line {number}", message) from None

    def _next(self, reader: Iterator[list[str]], line: int) -> list[str] | None:
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise ImportFailed(
                f"{self.label}, line {line}", f"cannot be read as CSV ({exc}); check the quotes"
            ) from None

    def _columns(self, header: list[str]) -> dict[str, int]:
        columns: dict[str, int] = {}
        for index, cell in enumerate(header):
            columns.setdefault(cell.strip().lower(), index)
        if all(name in columns for name in ENRON_V1) or all(name in columns for name in GENERIC[:2]):
            return columns
        raise ImportFailed(
            f"{self.label}, line 1",
            "the first line must name the columns: source,target[,timestamp,kind,weight] "
            "(or those of enron-v1: date,fromEmail,toEmail,...)",
        )

    def _generic(
        self, cells: list[str], columns: dict[str, int], default_at: datetime, context: str
    ) -> InteractionRecord:
        source = _end("source", _cell(cells, columns, "source"))
        target = _end("target", _cell(cells, columns, "target"))
        stamp = _cell(cells, columns, "timestamp")
        at = _moment(stamp) if stamp else default_at
        kind = _kind(_cell(cells, columns, "kind") or "edge")
        weight = _weight(_cell(cells, columns, "weight"))
        return InteractionRecord(source, target, kind, at, "csv", weight, context)

    def _enron(self, cells: list[str], columns: dict[str, int], context: str) -> InteractionRecord:
        source = _end("fromEmail", self._repaired(_cell(cells, columns, "fromemail")))
        target = _end("toEmail", self._repaired(_cell(cells, columns, "toemail")))
        stamp = _cell(cells, columns, "date")
        if not stamp:
            raise _BadRow("date: is empty")
        at = _moment(stamp)
        message_type = _cell(cells, columns, "messagetype")
        if message_type and message_type.lower() not in _MAIL_TYPES:
            raise _BadRow(f"messageType: {message_type!r} is not TO, CC or BCC")
        for end, column in ((source, "fromjobtitle"), (target, "tojobtitle")):
            title = printable(_cell(cells, columns, column))
            if title and title.lower() != "unknown" and end not in self.titles:
                self.titles[end] = title
        return InteractionRecord(source, target, "mail", at, "csv", 1.0, context)

    def _repaired(self, value: str) -> str:
        """enron-v1 writes one address with a space where the corpus has an apostrophe
        (``paul.y barbo@enron.com``): spaces inside an address are taken out, and counted."""
        if " " in value and "@" in value:
            self.add("addresses_repaired")
            return "".join(value.split())
        return value


def _delimiter(header: str) -> str:
    """Commas, unless the header has none and is split by semicolons or tabs."""
    return (
        max((";", "\t"), key=header.count) if "," not in header and (";" in header or "\t" in header) else ","
    )


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _end(field: str, value: str) -> str:
    if "@" in value:
        found = address(value)
        if found is None:
            raise _BadRow(f"{field}: {value[:80]!r} is not an e-mail address")
        return found
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return str(int(value))
    if not value:
        raise _BadRow(f"{field}: is empty")
    raise _BadRow(f"{field}: {value[:80]!r} is neither an e-mail address nor a person id")


def _moment(value: str) -> datetime:
    try:
        if _UNIX.fullmatch(value):
            return datetime.fromtimestamp(float(value), UTC)
        at = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        raise _BadRow(
            f"timestamp: {value[:80]!r} is neither ISO 8601 (2025-02-03T09:15:00Z) nor unix seconds"
        ) from None
    try:
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except OverflowError:
        raise _BadRow(f"timestamp: {value[:80]!r} is out of range") from None


def _kind(value: str) -> Kind:
    for kind in KINDS:
        if kind == value.lower():
            return kind
    raise _BadRow(f"kind: {value[:40]!r} is not one of {', '.join(KINDS)}")


def _weight(value: str) -> float:
    if not value:
        return 1.0
    try:
        weight = float(value)
    except ValueError:
        raise _BadRow(f"weight: {value[:40]!r} is not a number") from None
    if not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT:
        raise _BadRow(f"weight: {value[:40]!r} must be above 0 and at most {MAX_WEIGHT:g}")
    return weight
