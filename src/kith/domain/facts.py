"""Facts (knowledge cards): the pure rules. Input checks that name their field, who may
change a fact, when it is overdue, and what changed between two versions.

No I/O here; :mod:`kith.actions.facts` fetches the values and asks.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

from kith.domain.errors import invalid
from kith.domain.models import Fact, Membership, Viewer

TITLE_MAX = 300
BODY_MAX = 20_000
URL_MAX = 2000
NOTE_MAX = 500
# Without a review-by date a fact is due for review this many days after it is written.
DEFAULT_REVIEW_DAYS = 90
# A review-by date further from today than this is a typo, not a plan.
REVIEW_MAX_DAYS = 3660
# The body diff a correction notice carries: at most this many lines and characters.
DIFF_MAX_LINES = 40
DIFF_MAX_CHARS = 2000
# The fields whose change makes a correction (a new review-by date or owner does not).
CONTENT_FIELDS = ("title", "body", "source_url")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNSAFE_URL = re.compile(r"[\x00-\x20\x7f<>\"\\^`{|}]")


def source_url(field: str, value: str) -> str:
    """An http(s) URL with a host, or "" for no source."""
    cleaned = value.strip()
    if not cleaned:
        return ""
    if len(cleaned) > URL_MAX:
        raise invalid(field, f"must be at most {URL_MAX} characters")
    if _UNSAFE_URL.search(cleaned):
        raise invalid(field, "must be an http or https URL without spaces or control characters")
    try:
        parts = urlsplit(cleaned)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise invalid(field, "must be an http or https URL such as https://example.com/page") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise invalid(field, "must be an http or https URL such as https://example.com/page")
    return cleaned


def review_date(field: str, value: str | date, today: date, *, after_today: bool = False) -> date:
    """An ISO date (YYYY-MM-DD, or a ``date``) within about ten years of ``today``; with
    ``after_today``, later than ``today`` (a review must leave the fact due later).

    A past date is allowed otherwise: a fact copied from elsewhere may be due already, and
    is then overdue at once."""
    if isinstance(value, date):
        found = value
    else:
        cleaned = value.strip()
        try:
            if not _DATE.match(cleaned):
                raise ValueError(cleaned)
            found = date.fromisoformat(cleaned)
        except ValueError:
            raise invalid(field, "must be a date written YYYY-MM-DD, such as 2026-06-30") from None
    if after_today and found <= today:
        raise invalid(
            field, f"must be after today ({today.isoformat()} UTC), or the fact is due again at once"
        )
    if abs((found - today).days) > REVIEW_MAX_DAYS:
        raise invalid(field, "must be within ten years of today")
    return found


def default_review_by(today: date) -> date:
    return today + timedelta(days=DEFAULT_REVIEW_DAYS)


def is_overdue(fact: Fact, today: date) -> bool:
    """A live fact whose review-by date has passed (``today`` is the UTC date)."""
    return fact.archived_at is None and fact.review_by < today


def can_create_fact(membership: Membership | None, *, space_archived: bool) -> bool:
    """Members write facts in their spaces, not in an archived space."""
    return membership is not None and not space_archived


def can_change_fact(viewer: Viewer, membership: Membership | None, fact: Fact) -> bool:
    """The fact's owner, the space's owners and administrators edit, review and archive it."""
    return fact.owner_id == viewer.id or viewer.is_admin or (membership is not None and membership.is_owner)


def changes(was: tuple[str, str, str], now: tuple[str, str, str]) -> tuple[list[str], dict[str, object]]:
    """What changed between two contents ``(title, body, source_url)``: the names of the
    fields that changed, and a description for a correction notice: ``title`` and
    ``source_url`` as ``{"was", "now"}``, ``body`` as a short unified diff (``-``/``+``
    lines with one line of context), cut to :data:`DIFF_MAX_LINES` lines.

    >>> changes(("A", "x\\ny", ""), ("A", "x\\nz", ""))[0]
    ['body']
    """
    changed = [name for name, a, b in zip(CONTENT_FIELDS, was, now, strict=True) if a != b]
    described: dict[str, object] = {}
    for name in changed:
        index = CONTENT_FIELDS.index(name)
        if name == "body":
            described["body"] = body_diff(was[index], now[index])
        else:
            described[name] = {"was": was[index], "now": now[index]}
    return changed, described


def body_diff(was: str, now: str) -> str:
    """A short unified diff of two Markdown bodies, without the file headers."""
    lines = [
        line
        for line in difflib.unified_diff(was.splitlines(), now.splitlines(), n=1, lineterm="")
        if not line.startswith(("---", "+++"))
    ]
    cut = len(lines) > DIFF_MAX_LINES
    text = "\n".join(lines[:DIFF_MAX_LINES])
    if len(text) > DIFF_MAX_CHARS:
        text, cut = text[: DIFF_MAX_CHARS - 1].rstrip(), True
    return text + ("\n…" if cut else "")


def summary(changed: list[str], note: str) -> str:
    """One line saying what a correction changed, with the editor's note if any."""
    names = {"title": "title", "body": "text", "source_url": "source"}
    said = ", ".join(names[name] for name in changed) + " changed"
    return f"{said}: {note}" if note else said
