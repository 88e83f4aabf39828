"""Signing in and out, bearer tokens, and a person's own settings.

Tokens are 256 random bits shown once to the client; only their SHA-256 is stored, so a
stolen database yields no usable token (a slow hash is unnecessary for random secrets).
Passwords are hashed with argon2id. Failed sign-ins are counted per e-mail address in the
database, so the limit holds across server processes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kith.actions.events import emit
from kith.app import App
from kith.domain import validate, views
from kith.domain.errors import InvalidInput, RateLimited, Unauthorized, invalid
from kith.domain.hours import parse_clock, parse_days, valid_timezone
from kith.domain.models import Person, Viewer, WorkingHours
from kith.storage import accounts, people

# Verifying against this keeps the time of a failed sign-in the same whether or not the
# address exists, so response times do not reveal who has an account.
_DUMMY_PASSWORD = "kith-timing-equaliser"  # noqa: S105 - not a credential


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    viewer: Viewer
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_login(app: App, email: str, password: str) -> Session:
    """Exchange an e-mail address and password for a new bearer token.

    Raises RateLimited after too many recent failures for the address (also for a right
    password, so that guessing cannot continue), Unauthorized for wrong credentials.
    """
    address = email.strip().lower()
    if "\x00" in address:
        # No address holds NUL, and PostgreSQL refuses it in text: wrong, not a server error.
        raise Unauthorized("wrong e-mail address or password")
    now = app.clock()
    window = timedelta(seconds=app.settings.login_window_seconds)
    with app.db.read() as conn:
        failures = accounts.failures_since(conn, address, now - window)
        person = people.get_by_email(conn, address)
        credentials = accounts.get_credentials(conn, person.id) if person else None
    if len(failures) >= app.settings.login_max_failures:
        retry = int((failures[0] + window - now).total_seconds()) + 1
        raise RateLimited("too many failed sign-ins; try again later", retry_after=max(retry, 1))
    if not _password_matches(app, credentials[1] if credentials else None, password):
        with app.db.transaction() as tx:
            accounts.record_failure(tx.conn, address, now)
            accounts.prune_failures(tx.conn, now - window)
        raise Unauthorized("wrong e-mail address or password")
    assert person is not None
    assert credentials is not None
    if not person.active:
        raise Unauthorized("this account is deactivated")
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=app.settings.token_ttl_days)
    with app.db.transaction() as tx:
        accounts.insert_token(tx.conn, person.id, hash_token(token), now=now, expires_at=expires_at)
        if failures:
            accounts.clear_failures(tx.conn, address)
        if credentials[1] and app.hasher.check_needs_rehash(credentials[1]):
            new_hash = app.hasher.hash(password)
            accounts.upsert(tx.conn, person.id, role=None, password_hash=new_hash, now=now)
    return Session(token, Viewer(person, credentials[0]), expires_at)


def _password_matches(app: App, stored: str | None, password: str) -> bool:
    try:
        return app.hasher.verify(stored or _dummy_hash(app.hasher), password) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


def access_viewer(app: App, token: str) -> Viewer:
    """The signed-in person a bearer token stands for; Unauthorized if none.

    A token found good a moment ago is taken from the process's memory
    (:mod:`kith.storage.viewers`, ``KITH_TOKEN_CACHE_SECONDS``)."""
    token_hash, now = hash_token(token), app.clock()
    cached = app.viewers.get(token_hash, now)
    if cached is not None:
        return cached
    generation = app.viewers.generation
    with app.db.read_one() as conn:
        found = accounts.viewer_for_token(conn, token_hash, now)
    if found is None:
        raise Unauthorized("sign in first: the token is missing, expired or revoked")
    viewer, expires_at = found
    app.viewers.put(token_hash, viewer, expires_at, generation)
    return viewer


def do_logout(app: App, token: str) -> None:
    """Revoke the token so it can never be used again."""
    token_hash = hash_token(token)
    with app.db.transaction() as tx:
        accounts.revoke_token(tx.conn, token_hash, app.clock())
    app.viewers.forget(token_hash)


def check_update_me(
    app: App,
    viewer: Viewer,
    *,
    timezone: str | None = None,
    work_start: str | None = None,
    work_end: str | None = None,
    work_days: str | None = None,
    display_name: str | None = None,
) -> Person:
    """Change one's own display name, time zone and working hours."""
    current = viewer.person
    values: dict[str, object] = {}
    if display_name is not None:
        values["display_name"] = validate.text("display_name", display_name, max_len=200)
    if timezone is not None:
        if not valid_timezone(timezone):
            raise invalid("timezone", f"{timezone!r} is not an IANA time zone such as Europe/Paris")
        values["timezone"] = timezone
    hours = parse_hours(work_start, work_end, work_days, current.hours)
    if hours != current.hours:
        values.update(people.hours_values(hours))
    if not values:
        return current
    with app.db.transaction() as tx:
        updated = people.update(tx.conn, current.id, values, now=app.clock())
        emit(
            app,
            tx,
            "person.updated",
            space_id=None,
            actor_id=current.id,
            payload=views.person(updated),
        )
    return updated


def parse_hours(start: str | None, end: str | None, days: str | None, current: WorkingHours) -> WorkingHours:
    """Working hours from optional HH:MM strings and a day list, keeping what is not given."""
    errors: dict[str, str] = {}
    new_start, new_end, new_days = current.start, current.end, current.days
    for field, raw in (("work_start", start), ("work_end", end)):
        if raw is None:
            continue
        try:
            parsed = parse_clock(raw)
        except ValueError as exc:
            errors[field] = str(exc)
            continue
        if field == "work_start":
            new_start = parsed
        else:
            new_end = parsed
    if days is not None:
        try:
            new_days = parse_days(days)
        except ValueError as exc:
            errors["work_days"] = str(exc)
    if not errors and new_start == new_end:
        errors["work_end"] = "must differ from work_start"
    if errors:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in errors.items()), errors)
    return WorkingHours(new_start, new_end, new_days)


def check_password(password: str) -> None:
    """Refuse a password that is too short or too long (before anything is written)."""
    if len(password) < 8:
        raise invalid("password", "must be at least 8 characters")
    if len(password) > 1024:
        raise invalid("password", "must be at most 1024 characters")


def do_set_password(app: App, person_id: int, password: str) -> None:
    """Set a password (at least 8 characters) and revoke the person's other tokens."""
    check_password(password)
    password_hash = app.hasher.hash(password)
    with app.db.transaction() as tx:
        accounts.upsert(tx.conn, person_id, role=None, password_hash=password_hash, now=app.clock())
        accounts.revoke_all_tokens(tx.conn, person_id, app.clock())
    app.viewers.forget_person(person_id)
