"""Errors a person can cause. The edges translate them: JSON at the API, a line in the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class KithError(Exception):
    """Base of every error Kith reports to a person."""

    code = "error"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})


class NotFound(KithError):
    """The thing does not exist, or the caller may not know that it exists."""

    code = "not_found"


class Forbidden(KithError):
    """The caller may see the thing but not do this to it."""

    code = "forbidden"


class Unauthorized(KithError):
    """The caller is not signed in, or the credentials are wrong."""

    code = "unauthorized"


class InvalidInput(KithError):
    """The input is wrong; ``fields`` maps each bad field to what is wrong with it."""

    code = "invalid_input"


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one field of one line of an imported file (line 1 is the header)."""

    line: int
    field: str
    message: str


class RosterInvalid(InvalidInput):
    """An import refused as a whole: ``rows`` lists every bad line, in file order.

    ``fields`` maps ``"line 4: timezone"`` to the message, so an edge that only knows
    :class:`InvalidInput` still shows every bad row.
    """

    def __init__(self, message: str, rows: Sequence[RowError]) -> None:
        fields: dict[str, str] = {}
        for row in rows:
            key = f"line {row.line}: {row.field}"
            fields[key] = f"{fields[key]}; {row.message}" if key in fields else row.message
        super().__init__(message, fields)
        self.rows: list[RowError] = list(rows)


class Conflict(KithError):
    """The input is valid but clashes with the current state (a taken slug, say)."""

    code = "conflict"


class RateLimited(KithError):
    """Too many attempts; ``retry_after`` seconds until the next one is allowed."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def invalid(field: str, message: str) -> InvalidInput:
    """An :class:`InvalidInput` about one field, its message naming the field."""
    return InvalidInput(f"{field}: {message}", {field: message})
