"""People: the roster, with working hours and the management chain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from kith.domain.hours import days_to_mask, mask_to_days
from kith.domain.models import Person, WorkingHours
from kith.storage.tables import people

COLUMNS = tuple(people.c)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def from_row(row: RowMapping) -> Person:
    return Person(
        id=row["id"],
        email=row["email"],
        handle=row["handle"],
        display_name=row["display_name"],
        title=row["title"],
        department=row["department"],
        location=row["location"],
        manager_id=row["manager_id"],
        timezone=row["timezone"],
        hours=WorkingHours(
            _clock(row["work_start"]), _clock(row["work_end"]), mask_to_days(row["work_days"])
        ),
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def values_of(
    *,
    email: str,
    display_name: str,
    title: str,
    department: str,
    location: str,
    timezone: str,
    hours: WorkingHours,
    active: bool = True,
) -> dict[str, Any]:
    """Column values for a person, from domain values."""
    return {
        "email": email,
        "display_name": display_name,
        "title": title,
        "department": department,
        "location": location,
        "timezone": timezone,
        "work_start": _minutes(hours.start),
        "work_end": _minutes(hours.end),
        "work_days": days_to_mask(hours.days),
        "active": active,
    }


def hours_values(hours: WorkingHours) -> dict[str, int]:
    return {
        "work_start": _minutes(hours.start),
        "work_end": _minutes(hours.end),
        "work_days": days_to_mask(hours.days),
    }


def get(conn: Connection, person_id: int) -> Person | None:
    row = conn.execute(sa.select(people).where(people.c.id == person_id)).mappings().first()
    return from_row(row) if row else None


def get_many(conn: Connection, ids: Iterable[int]) -> dict[int, Person]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(people).where(people.c.id.in_(wanted))).mappings()
    return {row["id"]: from_row(row) for row in rows}


def get_by_email(conn: Connection, email: str) -> Person | None:
    query = sa.select(people).where(sa.func.lower(people.c.email) == email.lower())
    row = conn.execute(query).mappings().first()
    return from_row(row) if row else None


def ids_by_emails(conn: Connection, emails: Iterable[str]) -> dict[str, int]:
    """Map lower-cased e-mail addresses to person ids, for those that exist."""
    wanted = sorted({e.lower() for e in emails})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        lower = sa.func.lower(people.c.email)
        rows = conn.execute(sa.select(lower, people.c.id).where(lower.in_(chunk)))
        found.update({row[0]: row[1] for row in rows})
    return found


# Built once: every post with a mention runs one of them. A post mentions one person more
# often than several, and ``IN`` with a list is compiled anew for each length of list.
_ID_BY_HANDLE = sa.select(people.c.handle, people.c.id).where(people.c.handle == sa.bindparam("b_handle"))
_IDS_BY_HANDLES = sa.select(people.c.handle, people.c.id).where(
    people.c.handle.in_(sa.bindparam("b_handles", expanding=True))
)


def ids_by_handles(conn: Connection, handles: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(handles))
    if not wanted:
        return {}
    if len(wanted) == 1:
        rows = conn.execute(_ID_BY_HANDLE, {"b_handle": wanted[0]})
    else:
        rows = conn.execute(_IDS_BY_HANDLES, {"b_handles": wanted})
    return {row[0]: row[1] for row in rows}


def handles_taken(conn: Connection, prefix: str) -> set[str]:
    """Handles equal to ``prefix`` or starting with it, to pick a free one."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = sa.select(people.c.handle).where(people.c.handle.like(escaped + "%", escape="\\"))
    return {row[0] for row in conn.execute(query)}


def all_handles(conn: Connection) -> set[str]:
    return {row[0] for row in conn.execute(sa.select(people.c.handle))}


def search(
    conn: Connection,
    *,
    text: str | None,
    department: str | None,
    location: str | None,
    include_inactive: bool,
    after_id: int | None,
    limit: int,
) -> list[Person]:
    """People matching every filter given, by id; ``text`` matches name, e-mail or handle."""
    query = sa.select(people).order_by(people.c.id).limit(limit)
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            sa.or_(
                sa.func.lower(people.c.display_name).like(pattern, escape="\\"),
                sa.func.lower(people.c.email).like(pattern, escape="\\"),
                people.c.handle.like(pattern, escape="\\"),
            )
        )
    if department:
        query = query.where(sa.func.lower(people.c.department) == department.lower())
    if location:
        query = query.where(sa.func.lower(people.c.location) == location.lower())
    if not include_inactive:
        query = query.where(people.c.active.is_(True))
    if after_id is not None:
        query = query.where(people.c.id > after_id)
    return [from_row(row) for row in conn.execute(query).mappings()]


def insert(conn: Connection, values: dict[str, Any], *, handle: str, now: datetime) -> Person:
    row = {**values, "handle": handle, "created_at": now, "updated_at": now}
    result = conn.execute(sa.insert(people).values(**row).returning(*COLUMNS)).mappings().one()
    return from_row(result)


def update(conn: Connection, person_id: int, values: dict[str, Any], *, now: datetime) -> Person:
    query = (
        sa.update(people).where(people.c.id == person_id).values(**values, updated_at=now).returning(*COLUMNS)
    )
    return from_row(conn.execute(query).mappings().one())


def manager_map(conn: Connection) -> dict[int, int | None]:
    """Every person's manager id, for cycle checks over the whole chart."""
    rows = conn.execute(sa.select(people.c.id, people.c.manager_id))
    return {row[0]: row[1] for row in rows}


def bulk_insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(people), list(rows))


def bulk_update(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Update many people at once; each row holds ``b_id`` and the columns to set."""
    if not rows:
        return
    columns = [key for key in rows[0] if key != "b_id"]
    query = (
        sa.update(people)
        .where(people.c.id == sa.bindparam("b_id"))
        .values({col: sa.bindparam(col) for col in columns})
    )
    conn.execute(query, list(rows))


def email_ids(conn: Connection) -> dict[str, int]:
    """Every person's lower-cased e-mail address and id."""
    rows = conn.execute(sa.select(sa.func.lower(people.c.email), people.c.id))
    return {row[0]: row[1] for row in rows}


ROSTER_COLUMNS = (
    people.c.id,
    people.c.email,
    people.c.display_name,
    people.c.title,
    people.c.department,
    people.c.location,
    people.c.manager_id,
    people.c.timezone,
    people.c.work_start,
    people.c.work_end,
    people.c.work_days,
)


def roster_snapshot(conn: Connection) -> list[dict[str, Any]]:
    """Everyone's roster columns as plain dicts, in one query, for a bulk import to compare."""
    return [dict(row) for row in conn.execute(sa.select(*ROSTER_COLUMNS)).mappings()]
