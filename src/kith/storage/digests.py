"""Digests: one row per person and local working day, claimed before the mail is sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.models import Digest, Person
from kith.storage.people import from_row as person_from_row
from kith.storage.tables import digests, people, person_prefs


def from_row(row: RowMapping) -> Digest:
    return Digest(
        person_id=row["person_id"],
        local_date=row["local_date"],
        sent_at=row["sent_at"],
        items=row["items"],
        status=row["status"],
    )


def active_people(conn: Connection) -> list[tuple[Person, bool]]:
    """Every active person with an e-mail address, and whether they want digest mail."""
    wanted = sa.func.coalesce(person_prefs.c.digest_email, sa.true())
    query = (
        sa.select(people, wanted.label("digest_email"))
        .select_from(people.outerjoin(person_prefs, person_prefs.c.person_id == people.c.id))
        .where(people.c.active.is_(True))
        .order_by(people.c.id)
    )
    return [(person_from_row(row), bool(row["digest_email"])) for row in conn.execute(query).mappings()]


def existing(conn: Connection, days: Iterable[date]) -> set[tuple[int, date]]:
    """(person, local date) of the digests recorded for any of ``days``."""
    wanted = sorted(set(days))
    if not wanted:
        return set()
    query = sa.select(digests.c.person_id, digests.c.local_date).where(digests.c.local_date.in_(wanted))
    return {(row[0], row[1]) for row in conn.execute(query)}


def claim(conn: Connection, person_id: int, local_date: date, at: datetime, status: str) -> bool:
    """Record the person's digest for ``local_date``; False if someone already did.

    Writers run one at a time (storage/database.py), so the check and the insert see the
    same state; the primary key would refuse a second row in any case.
    """
    found = conn.execute(
        sa.select(digests.c.status).where(
            digests.c.person_id == person_id, digests.c.local_date == local_date
        )
    ).first()
    if found is not None:
        return False
    conn.execute(
        sa.insert(digests).values(
            person_id=person_id, local_date=local_date, sent_at=at, items=0, status=status
        )
    )
    return True


def reclaim_failed(conn: Connection, digest: Digest, at: datetime) -> bool:
    """Take a failed digest for another attempt at ``at``; False if another runner took it."""
    query = (
        sa.update(digests)
        .where(
            digests.c.person_id == digest.person_id,
            digests.c.local_date == digest.local_date,
            digests.c.status == "failed",
            digests.c.sent_at == digest.sent_at,
        )
        .values(sent_at=at)
    )
    return bool(conn.execute(query).rowcount)


def failed_before(conn: Connection, before: datetime, *, since_date: date) -> list[Digest]:
    """Failed digests of ``since_date`` or later whose last attempt was before ``before``."""
    query = (
        sa.select(digests)
        .where(
            digests.c.status == "failed",
            digests.c.sent_at < before,
            digests.c.local_date >= since_date,
        )
        .order_by(digests.c.sent_at, digests.c.person_id)
    )
    return [from_row(row) for row in conn.execute(query).mappings()]


def finish(
    conn: Connection, person_id: int, local_date: date, *, status: str, items: int, at: datetime
) -> None:
    conn.execute(
        sa.update(digests)
        .where(digests.c.person_id == person_id, digests.c.local_date == local_date)
        .values(status=status, items=items, sent_at=at)
    )


def last_delivered(conn: Connection, person_id: int, *, before: date) -> datetime | None:
    """When the person's last digest (sent or empty) before ``before`` was made."""
    query = sa.select(sa.func.max(digests.c.sent_at)).where(
        digests.c.person_id == person_id,
        digests.c.local_date < before,
        digests.c.status.in_(("sent", "empty")),
    )
    value: datetime | None = conn.execute(query).scalar_one_or_none()
    return value


def for_person(conn: Connection, person_id: int) -> list[Digest]:
    query = sa.select(digests).where(digests.c.person_id == person_id).order_by(digests.c.local_date)
    return [from_row(row) for row in conn.execute(query).mappings()]
