"""Accounts: roles, password hashes, bearer tokens (stored hashed) and failed sign-ins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kith.domain.models import Role, Viewer
from kith.storage import people as people_store
from kith.storage.tables import accounts, login_failures, people, tokens


def get_credentials(conn: Connection, person_id: int) -> tuple[Role, str | None] | None:
    row = conn.execute(
        sa.select(accounts.c.role, accounts.c.password_hash).where(accounts.c.person_id == person_id)
    ).first()
    return (Role(row[0]), row[1]) if row else None


def get_role(conn: Connection, person_id: int) -> Role:
    row = conn.execute(sa.select(accounts.c.role).where(accounts.c.person_id == person_id)).first()
    return Role(row[0]) if row else Role.MEMBER


def upsert(
    conn: Connection, person_id: int, *, role: Role | None, password_hash: str | None, now: datetime
) -> None:
    """Create the account or change its role and/or password (None leaves a value as it is)."""
    exists = conn.execute(sa.select(accounts.c.person_id).where(accounts.c.person_id == person_id)).first()
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = role.value
    if password_hash is not None:
        values["password_hash"] = password_hash
        values["password_changed_at"] = now
    if exists:
        if values:
            conn.execute(sa.update(accounts).where(accounts.c.person_id == person_id).values(values))
        return
    values.setdefault("role", Role.MEMBER.value)
    conn.execute(sa.insert(accounts).values(person_id=person_id, created_at=now, **values))


def insert_token(
    conn: Connection, person_id: int, token_hash: str, *, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        sa.insert(tokens).values(
            person_id=person_id, token_hash=token_hash, created_at=now, expires_at=expires_at
        )
    )


# Run on every request, so built once (building a statement costs more than running it).
_VIEWER_FOR_TOKEN = (
    sa.select(
        people,
        sa.func.coalesce(accounts.c.role, Role.MEMBER.value).label("role"),
        tokens.c.expires_at.label("token_expires_at"),
    )
    .select_from(tokens.join(people, people.c.id == tokens.c.person_id))
    .outerjoin(accounts, accounts.c.person_id == people.c.id)
    .where(
        tokens.c.token_hash == sa.bindparam("b_token_hash"),
        tokens.c.revoked_at.is_(None),
        tokens.c.expires_at > sa.bindparam("b_now"),
        people.c.active.is_(True),
    )
)


def viewer_for_token(conn: Connection, token_hash: str, now: datetime) -> tuple[Viewer, datetime] | None:
    """The active person a live token belongs to, with their role, and when the token
    expires; None otherwise."""
    params = {"b_token_hash": token_hash, "b_now": now}
    row = conn.execute(_VIEWER_FOR_TOKEN, params).mappings().first()
    if row is None:
        return None
    return Viewer(people_store.from_row(row), Role(row["role"])), row["token_expires_at"]


def revoke_token(conn: Connection, token_hash: str, now: datetime) -> bool:
    result = conn.execute(
        sa.update(tokens)
        .where(tokens.c.token_hash == token_hash, tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount > 0


def revoke_all_tokens(conn: Connection, person_id: int, now: datetime) -> None:
    conn.execute(
        sa.update(tokens)
        .where(tokens.c.person_id == person_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def record_failure(conn: Connection, email: str, now: datetime) -> None:
    conn.execute(sa.insert(login_failures).values(email=email.lower(), at=now))


def failures_since(conn: Connection, email: str, since: datetime) -> list[datetime]:
    """Times of failed sign-ins for ``email`` since ``since``, oldest first."""
    query = (
        sa.select(login_failures.c.at)
        .where(login_failures.c.email == email.lower(), login_failures.c.at > since)
        .order_by(login_failures.c.at)
    )
    return [row[0] for row in conn.execute(query)]


def clear_failures(conn: Connection, email: str) -> None:
    conn.execute(sa.delete(login_failures).where(login_failures.c.email == email.lower()))


def prune_failures(conn: Connection, before: datetime) -> None:
    conn.execute(sa.delete(login_failures).where(login_failures.c.at <= before))


def first_admin(conn: Connection) -> Viewer | None:
    query = (
        sa.select(people)
        .select_from(accounts.join(people, people.c.id == accounts.c.person_id))
        .where(accounts.c.role == Role.ADMIN.value, people.c.active.is_(True))
        .order_by(people.c.id)
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return Viewer(people_store.from_row(row), Role.ADMIN) if row else None
