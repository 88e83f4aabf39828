"""Importers: turn mail, chat exports and edge lists into typed interaction records.

Pure parsing: each importer reads its source and yields
:class:`~kith.domain.interactions.InteractionRecord` values with its counts; the loader in
:mod:`kith.actions.interactions` writes what they produce. See docs/importing.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from kith.domain.interactions import BROADCAST_RECIPIENTS
from kith.importers.edges import EdgesImport
from kith.importers.mail import MailImport
from kith.importers.slack import SlackImport
from kith.importers.sources import Importer, ImportFailed

KINDS = ("email", "slack", "edges")

__all__ = ["KINDS", "EdgesImport", "ImportFailed", "Importer", "MailImport", "SlackImport", "importer_for"]


def importer_for(
    kind: str,
    paths: Sequence[Path],
    labels: Sequence[str] | None = None,
    *,
    broadcast: int | None = None,
    default_at: datetime | None = None,
) -> Importer:
    """The importer of ``kind`` (``email``, ``slack`` or ``edges``) for ``paths``.

    ``labels`` name the paths in counts and errors (an upload's file name rather than its
    temporary path). E-mail reads any number of paths; a Slack export and an edge list are
    one path each.
    """
    if kind == "email":
        limit = BROADCAST_RECIPIENTS if broadcast is None else broadcast
        return MailImport(paths, labels, broadcast=limit)
    if len(paths) != 1:
        raise ValueError(f"a {kind} import reads one path, not {len(paths)}")
    label = labels[0] if labels else None
    if kind == "slack":
        return SlackImport(paths[0], label)
    if kind == "edges":
        return EdgesImport(paths[0], label, default_at=default_at)
    raise ValueError(f"unknown import kind {kind!r}; one of {', '.join(KINDS)}")
