"""Input rules shared by every edge (API, CLI, importers): each failure names its field."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

from kith.domain.errors import invalid

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
EMOJI = re.compile(r"^[a-z0-9_+-]{1,64}$")
E = TypeVar("E", bound=StrEnum)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text(field: str, value: str, *, min_len: int = 1, max_len: int, multiline: bool = False) -> str:
    """Strip ``value`` and check its length and characters."""
    cleaned = value.strip()
    if _SURROGATE.search(cleaned):
        raise invalid(field, "contains characters that are not valid Unicode")
    bad = _CONTROL.search(cleaned) if multiline else _CONTROL.search(cleaned.replace("\t", " "))
    if bad or (not multiline and ("\n" in cleaned or "\r" in cleaned)):
        raise invalid(field, "contains control characters")
    if len(cleaned) < min_len:
        raise invalid(field, "must not be empty" if min_len == 1 else f"needs at least {min_len} characters")
    if len(cleaned) > max_len:
        raise invalid(field, f"must be at most {max_len} characters")
    return cleaned


def optional_text(field: str, value: str, *, max_len: int, multiline: bool = False) -> str:
    return text(field, value, min_len=0, max_len=max_len, multiline=multiline)


def email(field: str, value: str) -> str:
    cleaned = value.strip()
    if len(cleaned) > 320 or not EMAIL.match(cleaned):
        raise invalid(field, f"{cleaned!r} is not an e-mail address")
    return cleaned


def slug(field: str, value: str) -> str:
    cleaned = value.strip()
    if not SLUG.match(cleaned):
        raise invalid(
            field,
            "must be 1-64 lower-case letters, digits and hyphens, not starting or ending with -",
        )
    return cleaned


def emoji(field: str, value: str) -> str:
    cleaned = value.strip().strip(":").lower()
    # fullmatch: "$" would let a trailing newline through ("tada\n:" strips to "tada\n").
    if not EMOJI.fullmatch(cleaned):
        raise invalid(field, "must be an emoji short name such as thumbsup or +1")
    return cleaned


def slugify(name: str, *, max_len: int = 64) -> str:
    """A slug from a name: lower case ASCII words joined by hyphens (may be empty)."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:max_len].strip("-")


def handle_base(email_address: str) -> str:
    """A handle from the local part of an e-mail address."""
    local = email_address.split("@", 1)[0].lower()
    base = re.sub(r"[^a-z0-9._-]+", "", local).strip("._-")[:56]
    # @space, @all, @everyone and @awake mean groups of people, never one person.
    if base in {"space", "all", "everyone", "awake"}:
        base += "1"
    return base or "person"


def choice(field: str, enum: type[E], value: str) -> E:
    """``value`` as a member of ``enum``, or an error listing the allowed values."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise invalid(field, f"must be one of: {allowed}") from None
