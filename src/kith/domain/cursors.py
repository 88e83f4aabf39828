"""Opaque keyset-pagination cursors: the sort key of the last item of a page, encoded."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from kith.domain.errors import invalid


def encode(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, shape: tuple[type, ...]) -> list[Any]:
    """Decode ``cursor``, checking it holds values of the types in ``shape``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid("cursor", "is not a cursor this list returned") from None
    if (
        not isinstance(key, list)
        or len(key) != len(shape)
        or not all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(key, shape, strict=True))
    ):
        raise invalid("cursor", "is not a cursor this list returned")
    for value in key:
        # Ids are 32-bit columns: PostgreSQL refuses to compare them with anything larger.
        if isinstance(value, int) and not (0 <= value < 2**31):
            raise invalid("cursor", "is not a cursor this list returned")
    return key
