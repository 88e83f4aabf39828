"""The roster import: a CSV of people applied whole, or not at all.

A roster names people by e-mail address. Every line is checked and every problem collected
(a bad e-mail, an unknown time zone, bad hours, an empty name, a duplicate, a manager who is
neither in the file nor in the directory, a cycle in the management chain, counting people
already in the directory); one problem refuses the whole file and nothing is written. A good
file lands in one transaction: new people are inserted, people already in the directory
(matched by e-mail, case-insensitively) are updated, and managers are set in a second pass,
all with bulk statements. Importing the same file twice changes nothing the second time.

A column left out of the file leaves that field as it is for people already in the
directory (new people get the default). The three hours columns go together: if any is
given, all three are set, empty or absent ones to their default.

Published: one ``people.imported`` event per import that changed something, with the
counts and the ids of the people created or updated; never one event per person.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kith.actions.auth import parse_hours
from kith.actions.events import emit
from kith.actions.people import allocate_handle
from kith.app import App
from kith.domain import validate
from kith.domain.errors import Conflict, Forbidden, InvalidInput, RosterInvalid, RowError, invalid
from kith.domain.hours import valid_timezone
from kith.domain.models import Viewer, WorkingHours
from kith.domain.permissions import can_manage_people
from kith.domain.roster import ROSTER_COLUMNS
from kith.storage import people
from kith.storage.database import Tx

COLUMNS = ROSTER_COLUMNS
REQUIRED = ("email", "name")
HOURS = ("work_start", "work_end", "work_days")
TEXT_MAX = 200
# Where each problem sorts within its line: whole-line problems first, then column order.
_FIELD_ORDER = {name: i for i, name in enumerate(("encoding", "csv", "file", "row", *COLUMNS))}
_CHAIN_SHOWN = 8


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One person as a line of the file describes them (defaults filled in).

    ``key`` and ``manager_key`` are the lower-cased addresses people are matched by.
    """

    line: int
    email: str
    key: str
    name: str
    title: str
    department: str
    location: str
    manager_email: str | None
    manager_key: str | None
    timezone: str
    hours: WorkingHours

    def values(self) -> dict[str, Any]:
        """Column values for the people table (without ``active`` or the manager)."""
        values = people.values_of(
            email=self.email,
            display_name=self.name,
            title=self.title,
            department=self.department,
            location=self.location,
            timezone=self.timezone,
            hours=self.hours,
        )
        del values["active"]
        return values


@dataclass(frozen=True, slots=True)
class ParsedRoster:
    """The rows of a file (one per e-mail address), the columns it has, and its problems."""

    rows: tuple[RosterRow, ...]
    present: frozenset[str]
    errors: tuple[RowError, ...]


@dataclass(frozen=True, slots=True)
class RosterResult:
    """What an import did: people created, updated, and found already as the file says."""

    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def check_import_roster(app: App, viewer: Viewer, data: bytes | str) -> RosterResult:
    """Import a roster CSV as ``viewer``, who must be an administrator.

    ``data`` is the file: UTF-8 bytes (with or without a byte-order mark) or text. Raises
    :class:`Forbidden` for anyone but an administrator and :class:`RosterInvalid`, listing
    every bad line, when any line is wrong; then nothing is written (:class:`Conflict` if
    someone else changed the directory at the same moment). Otherwise creates and
    updates people in one transaction and publishes one ``people.imported`` event if
    anything changed. The directory is read inside the writing transaction: on SQLite no
    other writer can change it before the write; on PostgreSQL an address added by someone
    else meanwhile makes the import fail whole with :class:`Conflict`.
    """
    if not can_manage_people(viewer):
        raise Forbidden("only administrators import the roster")
    parsed = parse_roster(data)
    try:
        with app.db.transaction() as tx:
            directory = Directory.load(tx.conn)
            errors = [*parsed.errors, *chart_errors(parsed, directory)]
            if errors:
                raise refusal(errors)
            return do_import_rows(app, tx, viewer, parsed, directory)
    except IntegrityError:
        # Only a concurrent change (the same address added meanwhile) gets here on PostgreSQL.
        raise Conflict("the directory changed during the import; nothing was imported, try again") from None


def refusal(errors: Iterable[RowError]) -> RosterInvalid:
    """The error refusing an import, its problems in file order, its message a summary."""
    ordered = sorted(errors, key=lambda e: (e.line, _FIELD_ORDER.get(e.field, len(_FIELD_ORDER))))
    lines = len({e.line for e in ordered})
    first = ordered[0]
    message = (
        f"nothing was imported: {_plural(len(ordered), 'problem')} on {_plural(lines, 'line')}; "
        f"the first: line {first.line}: {first.field}: {first.message}"
    )
    return RosterInvalid(message, ordered)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# Reading the file


def parse_roster(data: bytes | str) -> ParsedRoster:
    """Read and check every line of a roster CSV; problems are collected, never raised.

    Line numbers are those of the file, the header being line 1; a quoted value spanning
    lines is reported at the line where its record starts. Blank lines are skipped.
    """
    errors: list[RowError] = []
    text = _decode(data, errors)
    if text is None:
        return ParsedRoster((), frozenset(), tuple(errors))
    records = _records(text, errors)
    header = next(records, None)
    if header is None:
        if not errors:
            errors.append(
                RowError(1, "file", "is empty; the first line must name the columns, e.g. email,name")
            )
        return ParsedRoster((), frozenset(), tuple(errors))
    columns = _columns(*header, errors)
    if columns is None:
        return ParsedRoster((), frozenset(), tuple(errors))
    rows = _unique(_rows(records, columns, len(header[1]), errors), errors)
    return ParsedRoster(tuple(rows), frozenset(columns), tuple(errors))


def _decode(data: bytes | str, errors: list[RowError]) -> str | None:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    raw = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as CSV in UTF-8"
        errors.append(RowError(line, "encoding", message))
        return None


def _records(text: str, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on; CSV syntax errors are collected."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(RowError(start, "csv", f"cannot be read as CSV ({exc}); check the quotes"))
            continue
        if any(cell.strip() for cell in cells):
            yield start, cells


def _delimiter(text: str) -> str:
    """Commas, unless the header line is split by semicolons or tabs (spreadsheets in some locales)."""
    header = text.lstrip("\r\n").split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count) if header.count(",") == 0 else ","


def _columns(line: int, cells: list[str], errors: list[RowError]) -> dict[str, int] | None:
    """Column name -> index, from the header; names are matched case-insensitively."""
    columns: dict[str, int] = {}
    ok = True
    for index, cell in enumerate(cells):
        name = re.sub(r"[\s-]+", "_", cell.strip().lower())
        if name not in COLUMNS:
            continue
        if name in columns:
            errors.append(
                RowError(
                    line, name, f"the column appears twice (columns {columns[name] + 1} and {index + 1})"
                )
            )
            ok = False
        columns.setdefault(name, index)
    for name in REQUIRED:
        if name not in columns:
            message = f"the required column {name} is missing; the first line must name the columns"
            errors.append(RowError(line, name, message))
            ok = False
    return columns if ok else None


def _rows(
    records: Iterable[tuple[int, list[str]]],
    columns: Mapping[str, int],
    width: int,
    errors: list[RowError],
) -> Iterator[RosterRow]:
    hours = _HoursReader(present=any(name in columns for name in HOURS))
    for line, cells in records:
        # More values than the header has names: most often a comma in an unquoted value.
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            message = (
                f"has {len(cells)} values but the header names {width}; quote values that contain commas"
            )
            errors.append(RowError(line, "row", message))
        row = _row(line, _Cells(line, cells, columns, errors), hours)
        if row is not None:
            yield row


def _unique(rows: Iterable[RosterRow], errors: list[RowError]) -> list[RosterRow]:
    """The first row of each e-mail address; later ones are reported as duplicates."""
    first: dict[str, int] = {}
    kept: list[RosterRow] = []
    for row in rows:
        seen = first.setdefault(row.key, row.line)
        if seen != row.line:
            errors.append(RowError(row.line, "email", f"{row.email} is already on line {seen}"))
            continue
        kept.append(row)
    return kept


class _Cells:
    """The values of one line by column name, with the line's problems collected."""

    def __init__(
        self, line: int, cells: list[str], columns: Mapping[str, int], errors: list[RowError]
    ) -> None:
        self.line = line
        self.cells = cells
        self.columns = columns
        self.errors = errors

    def raw(self, name: str) -> str:
        index = self.columns.get(name)
        return self.cells[index].strip() if index is not None and index < len(self.cells) else ""

    def add(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.line, name, message))

    def checked(self, name: str, check: Callable[[str, str], str]) -> str | None:
        """The value of ``name`` passed through a :mod:`kith.domain.validate` check."""
        try:
            return check(name, self.raw(name))
        except InvalidInput as exc:
            self.add(name, exc.fields.get(name, exc.message))
            return None


def _text(field: str, value: str) -> str:
    return validate.optional_text(field, value, max_len=TEXT_MAX)


def _name(field: str, value: str) -> str:
    return validate.text(field, value, max_len=TEXT_MAX)


def _email(field: str, value: str) -> str:
    if not value:
        raise invalid(field, "is required")
    return validate.email(field, value)


def _row(line: int, cells: _Cells, hours: _HoursReader) -> RosterRow | None:
    """The person on one line, or None when it has no usable e-mail address."""
    email = cells.checked("email", _email)
    name = cells.checked("name", _name)
    title, department, location = (cells.checked(f, _text) for f in ("title", "department", "location"))
    manager = cells.checked("manager_email", _email) if cells.raw("manager_email") else None
    zone = cells.raw("timezone") or "UTC"
    if not valid_timezone(zone):
        cells.add("timezone", f"{zone!r} is not an IANA time zone such as Europe/Paris or UTC")
    if email is None:
        return None
    return RosterRow(
        line=line,
        email=email,
        key=email.lower(),
        name=name or "",
        title=title or "",
        department=department or "",
        location=location or "",
        manager_email=manager,
        manager_key=manager.lower() if manager else None,
        timezone=zone,
        hours=hours.read(cells),
    )


class _HoursReader:
    """Working hours from the three hours columns; repeated spellings are parsed once."""

    def __init__(self, *, present: bool) -> None:
        self.present = present
        self.seen: dict[tuple[str, str, str], WorkingHours | dict[str, str]] = {}

    def read(self, cells: _Cells) -> WorkingHours:
        if not self.present:
            return WorkingHours()
        spelled = (cells.raw("work_start"), cells.raw("work_end"), cells.raw("work_days"))
        if spelled not in self.seen:
            self.seen[spelled] = self._parse(*spelled)
        found = self.seen[spelled]
        if isinstance(found, WorkingHours):
            return found
        for field, message in found.items():
            cells.add(field, message)
        return WorkingHours()

    @staticmethod
    def _parse(start: str, end: str, days: str) -> WorkingHours | dict[str, str]:
        try:
            return parse_hours(start or None, end or None, days or None, WorkingHours())
        except InvalidInput as exc:
            return exc.fields


# Checking against the directory


@dataclass(frozen=True, slots=True)
class Directory:
    """The people already in the directory, by lower-cased e-mail, read once per import."""

    by_key: dict[str, dict[str, Any]]
    key_of: dict[int, str]

    @classmethod
    def load(cls, conn: Connection) -> Directory:
        everyone = people.roster_snapshot(conn)
        by_key = {str(p["email"]).lower(): p for p in everyone}
        return cls(by_key, {p["id"]: key for key, p in by_key.items()})

    def managers(self) -> dict[str, str | None]:
        """Each person's manager, both by lower-cased e-mail."""
        return {
            key: self.key_of.get(p["manager_id"]) if p["manager_id"] is not None else None
            for key, p in self.by_key.items()
        }


def chart_errors(parsed: ParsedRoster, directory: Directory) -> list[RowError]:
    """Managers nowhere to be found, and cycles the file would make in the management chain.

    The chain after the import is the directory's with the file's lines laid over it, so a
    cycle through people who are not in the file is found as well. A file without a
    manager_email column changes no one's manager and can make no cycle.
    """
    if "manager_email" not in parsed.present:
        return []
    known = directory.by_key.keys() | {row.key for row in parsed.rows}
    boss = directory.managers()
    errors: list[RowError] = []
    for row in parsed.rows:
        boss[row.key] = row.manager_key
        if row.manager_key is not None and row.manager_key not in known:
            message = f"no one has the e-mail address {row.manager_email}, in this file or in the directory"
            errors.append(RowError(row.line, "manager_email", message))
            boss[row.key] = None
    lines = {row.key: row.line for row in parsed.rows}
    for cycle in cycles(boss, lines):
        message = f"makes a cycle in the management chain: {_chain(cycle)}"
        errors.extend(RowError(lines[key], "manager_email", message) for key in cycle if key in lines)
    return errors


def cycles(boss: Mapping[str, str | None], starts: Iterable[str]) -> list[list[str]]:
    """The cycles reachable from ``starts`` where each node has at most one edge out.

    Each walk follows the managers until it reaches the top, a node an earlier walk
    settled, or a node already on this walk (a cycle). Every node is walked once: O(n).

    >>> cycles({"a": "b", "b": "c", "c": "a", "d": "a"}, ["d"])
    [['a', 'b', 'c']]
    """
    settled: set[str] = set()
    found: list[list[str]] = []
    for start in starts:
        path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in settled and node not in path:
            path[node] = len(path)
            node = boss.get(node)
        if node is not None and node in path:
            found.append(list(path)[path[node] :])
        settled.update(path)
    return found


def _chain(cycle: list[str]) -> str:
    shown = [*cycle[:_CHAIN_SHOWN], cycle[0]] if len(cycle) <= _CHAIN_SHOWN else cycle[:_CHAIN_SHOWN]
    more = f" -> ... ({len(cycle)} people in all)" if len(cycle) > _CHAIN_SHOWN else ""
    return " -> ".join(shown) + more


# Writing


def do_import_rows(
    app: App, tx: Tx, viewer: Viewer, parsed: ParsedRoster, directory: Directory
) -> RosterResult:
    """Write checked rows in ``tx``: insert, update, then set managers; publish one event.

    Three bulk statements at most, whatever the size of the file, and none for people
    already as the file says.
    """
    now = app.clock()
    created = _insert_new(tx.conn, parsed.rows, directory, now)
    changed = _update_existing(tx.conn, parsed, directory, now)
    ids = people.email_ids(tx.conn) if created else {k: p["id"] for k, p in directory.by_key.items()}
    if "manager_email" in parsed.present:
        changed |= _set_managers(tx.conn, parsed.rows, directory, ids, now)
    created_ids = [ids[row.key] for row in created]
    result = RosterResult(len(created), len(changed), len(parsed.rows) - len(created) - len(changed))
    if created_ids or changed:
        payload = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "person_ids": sorted({*created_ids, *changed}),
        }
        emit(app, tx, "people.imported", space_id=None, actor_id=viewer.id, payload=payload)
    return result


def _insert_new(
    conn: Connection, rows: Iterable[RosterRow], directory: Directory, now: datetime
) -> list[RosterRow]:
    """Insert the people not yet in the directory, without managers; returns their rows."""
    new = [row for row in rows if row.key not in directory.by_key]
    if not new:
        return []
    taken = people.all_handles(conn)
    inserts: list[dict[str, Any]] = []
    for row in new:
        handle = allocate_handle(conn, row.email, taken)
        taken.add(handle)
        inserts.append(
            {**row.values(), "active": True, "handle": handle, "created_at": now, "updated_at": now}
        )
    people.bulk_insert(conn, inserts)
    return new


def _update_existing(conn: Connection, parsed: ParsedRoster, directory: Directory, now: datetime) -> set[int]:
    """Update people whose given columns differ from the directory; returns their ids."""
    written = _written_columns(parsed.present)
    updates: list[dict[str, Any]] = []
    for row in parsed.rows:
        current = directory.by_key.get(row.key)
        if current is None:
            continue
        values = {k: v for k, v in row.values().items() if k in written}
        if any(current[k] != v for k, v in values.items()):
            updates.append({"b_id": current["id"], **values, "updated_at": now})
    people.bulk_update(conn, updates)
    return {u["b_id"] for u in updates}


def _written_columns(present: frozenset[str]) -> frozenset[str]:
    """The table columns an import sets on people already in the directory."""
    written = {"email", "display_name"} | (present & {"title", "department", "location", "timezone"})
    if present & set(HOURS):
        written |= set(HOURS)
    return frozenset(written)


def _set_managers(
    conn: Connection,
    rows: Iterable[RosterRow],
    directory: Directory,
    ids: Mapping[str, int],
    now: datetime,
) -> set[int]:
    """Point each person at their manager, where that changes; returns the existing people moved.

    People created by this import were stamped ``updated_at`` when inserted, so their
    statement leaves it out (one value fewer to convert per row of a first import).
    """
    new: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for row in rows:
        wanted = ids[row.manager_key] if row.manager_key else None
        current = directory.by_key.get(row.key)
        if current is None and wanted is not None:
            new.append({"b_id": ids[row.key], "manager_id": wanted})
        elif current is not None and wanted != current["manager_id"]:
            moved.append({"b_id": current["id"], "manager_id": wanted, "updated_at": now})
    people.bulk_update(conn, new)
    people.bulk_update(conn, moved)
    return {move["b_id"] for move in moved}
