"""What every importer shares: the failure it raises, its counts, and the files it reads.

An importer is a pure parser: it reads a path (a file, a folder, or a zip archive) and
yields :class:`~kith.domain.interactions.InteractionRecord` values, counting as it goes what
it read, skipped and why. It never touches the database; ``kith.actions.interactions``
writes what it yields. A source that cannot be read at all (missing, unreadable, not the
format it claims to be) raises :class:`ImportFailed` naming the file, and the line or
message where that means something.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kith.domain.interactions import InteractionRecord


class ImportFailed(Exception):
    """The source is corrupt or unreadable; ``where`` names the file (and line or message).

    ``run_id`` is set by the loader once the run it failed has been recorded as failed.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message
        self.run_id: int | None = None


# Read errors of files and of archive members: a member's data can be corrupt long after
# the archive's directory was read.
READ_ERRORS: tuple[type[Exception], ...] = (OSError, zipfile.BadZipFile, zlib.error, EOFError)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# An e-mail address as Kith keeps it: lower case, ASCII, a local part of atext and dots (the
# Enron corpus has ``p..o'neil@`` and ``.taylor@``, which RFC 5322 frowns on but real mail
# carried), and a domain of at least two labels. Quoted local parts are left out.
ADDRESS = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
ADDRESS_MAX = 254


def address(text: str) -> str | None:
    """``text`` as a lower-case e-mail address Kith accepts, or None."""
    candidate = text.strip().lower()
    if len(candidate) > ADDRESS_MAX or not ADDRESS.fullmatch(candidate):
        return None
    return candidate


def printable(text: str, limit: int = 200) -> str:
    """``text`` without control characters (PostgreSQL refuses NUL), spaces collapsed, cut."""
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


def describe(exc: BaseException) -> str:
    """A read error in words, without the path (the caller names the file)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


class Importer:
    """The counts, names and titles an importer gathers while :meth:`records` runs.

    ``stats`` holds integer counts (``bytes_read`` and ``bytes_total`` among them, for a
    progress display); ``names`` maps addresses to display names and ``titles`` to job
    titles, both for the people the loader discovers. Both are filled as records are
    yielded, so a loader that reads them when it writes a chunk finds every address the
    chunk holds.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.stats: dict[str, int] = {}
        self.names: dict[str, str] = {}
        self.titles: dict[str, str] = {}

    def add(self, name: str, n: int = 1) -> None:
        self.stats[name] = self.stats.get(name, 0) + n

    def name(self, address: str, name: str | None) -> None:
        """Remember the first sensible display name seen for ``address``."""
        if name and address not in self.names:
            self.names[address] = name

    def records(self) -> Iterator[InteractionRecord]:
        raise NotImplementedError


# Files, folders and archives


@dataclass(frozen=True, slots=True)
class Entry:
    """One file to read: a file on disk or a member of a zip archive."""

    label: str
    size: int
    opener: Callable[[], IO[bytes]]

    def open(self) -> IO[bytes]:
        try:
            return self.opener()
        except READ_ERRORS as exc:
            raise ImportFailed(self.label, f"cannot be read ({describe(exc)})") from None


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_zip(path: Path, label: str) -> bool:
    """Whether ``path`` (a file) starts like a zip archive, or is named like one."""
    return path.suffix.lower() == ".zip" or head(path, label, 4) in ZIP_MAGIC


def head(path: Path, label: str, n: int) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(n)
    except OSError as exc:
        raise ImportFailed(label, f"cannot be read ({describe(exc)})") from None


def check_exists(path: Path, label: str) -> os.stat_result:
    try:
        found = path.stat()
    except FileNotFoundError:
        raise ImportFailed(label, "does not exist; check the path") from None
    except OSError as exc:
        raise ImportFailed(label, f"cannot be read ({describe(exc)})") from None
    if not (stat.S_ISREG(found.st_mode) or stat.S_ISDIR(found.st_mode)):
        raise ImportFailed(label, "is neither a file nor a folder")
    return found


def open_zip(path: Path, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ImportFailed(label, "is not a zip archive, or a damaged one") from None
    except READ_ERRORS as exc:
        raise ImportFailed(label, f"cannot be read ({describe(exc)})") from None


def zip_entries(archive: zipfile.ZipFile, label: str) -> list[Entry]:
    """The archive's files in name order, without folders, hidden files, macOS extras, or
    what a Maildir holds besides messages (see :func:`folder_entries`)."""
    entries = []
    infos = sorted(archive.infolist(), key=lambda i: i.filename)
    folders = {name.rsplit("/", 1)[0] for name in (i.filename for i in infos) if "/" in name}

    def maildir(folder: str) -> bool:  # archives often leave empty folders out
        inside = f"{folder}/" if folder else ""
        return f"{inside}cur" in folders or f"{inside}new" in folders

    for info in infos:
        name = info.filename
        parts = name.split("/")
        if info.is_dir() or parts[0] == "__MACOSX" or _hidden(parts[-1]):
            continue
        if any(
            maildir("/".join(parts[:i])) and not _in_maildir(parts[i], i == len(parts) - 1)
            for i in range(len(parts))
        ):
            continue
        if info.flag_bits & 0x1:
            raise ImportFailed(f"{label}/{name}", "is encrypted; export the archive without a password")
        entries.append(Entry(f"{label}/{name}", info.file_size, _member_opener(archive, name)))
    return entries


def _in_maildir(name: str, is_file: bool) -> bool:
    """Whether a Maildir's entry ``name`` holds messages: ``cur/``, ``new/`` and Maildir++
    folders (``.Sent/``); not ``tmp/``, nor the server's files (``dovecot-uidlist``...)."""
    return not is_file and (name in ("cur", "new") or name.startswith("."))


def _member_opener(archive: zipfile.ZipFile, name: str) -> Callable[[], IO[bytes]]:
    return lambda: archive.open(name)


def folder_entries(root: Path, label: str) -> list[Entry]:
    """Every file under ``root``, in path order, without hidden files. In a Maildir (a
    folder with ``cur/`` and ``new/``) only the messages: ``cur/``, ``new/`` and Maildir++
    subfolders, not ``tmp/`` (messages still being written) nor the mail server's own files."""
    entries = []

    def refuse(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(root) if exc.filename else ""
        raise ImportFailed(f"{label}/{where}".rstrip("/"), f"cannot be read ({describe(exc)})")

    for folder, dirs, files in os.walk(root, onerror=refuse):
        here = Path(folder)
        is_maildir = "cur" in dirs and "new" in dirs
        dirs[:] = sorted(d for d in dirs if not is_maildir or _in_maildir(d, is_file=False))
        for name in sorted(files) if not is_maildir else ():
            if _hidden(name):
                continue
            path = here / name
            relative = path.relative_to(root).as_posix()
            try:
                size = path.stat().st_size
            except OSError as exc:
                raise ImportFailed(f"{label}/{relative}", f"cannot be read ({describe(exc)})") from None
            entries.append(Entry(f"{label}/{relative}", size, file_opener(path)))
    return entries


def file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _hidden(name: str) -> bool:
    return name.startswith(".") or name in ("Thumbs.db", "desktop.ini")
