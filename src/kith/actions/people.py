"""People: reading the directory, and administrators creating and changing people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from kith.actions.auth import check_password, do_set_password, parse_hours
from kith.actions.events import emit
from kith.app import App
from kith.domain import cursors, validate, views
from kith.domain.errors import Conflict, Forbidden, NotFound, invalid
from kith.domain.hours import valid_timezone
from kith.domain.models import Page, Person, Role, Viewer, WorkingHours
from kith.domain.permissions import can_manage_people
from kith.storage import accounts, people


@dataclass(frozen=True, slots=True)
class PersonInput:
    """What an administrator says about a person; None means "leave as it is"."""

    email: str | None = None
    display_name: str | None = None
    title: str | None = None
    department: str | None = None
    location: str | None = None
    manager_id: int | None = None
    timezone: str | None = None
    work_start: str | None = None
    work_end: str | None = None
    work_days: str | None = None
    role: Role | None = None
    password: str | None = None
    active: bool | None = None
    clear_manager: bool = False  # None above means "leave as it is"; this removes the manager


def list_people(
    app: App,
    viewer: Viewer,
    *,
    query: str | None = None,
    department: str | None = None,
    location: str | None = None,
    include_inactive: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Person]:
    """The directory, filtered; every signed-in person may read it."""
    after = cursors.decode(cursor, (int,))[0] if cursor else None
    limit = max(1, min(limit, app.settings.page_size_max))
    with app.db.read() as conn:
        found = people.search(
            conn,
            text=_filter("q", query),
            department=_filter("department", department),
            location=_filter("location", location),
            include_inactive=include_inactive,
            after_id=after,
            limit=limit + 1,
        )
    more = len(found) > limit
    items = tuple(found[:limit])
    return Page(items, cursors.encode([items[-1].id]) if more and items else None)


def _filter(field: str, value: str | None) -> str | None:
    """A search filter, stripped; control characters (NUL breaks PostgreSQL) are refused."""
    if not value:
        return None
    return validate.optional_text(field, value, max_len=200) or None


def get_person(app: App, viewer: Viewer, person_id: int) -> Person:
    with app.db.read() as conn:
        person = people.get(conn, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}")
    return person


def get_role(app: App, person_id: int) -> Role:
    with app.db.read() as conn:
        return accounts.get_role(conn, person_id)


def allocate_handle(conn: Connection, email: str, taken: set[str] | None = None) -> str:
    """A free handle from the e-mail's local part: ``ana``, then ``ana2``, ``ana3``..."""
    base = validate.handle_base(email)
    used = taken if taken is not None else people.handles_taken(conn, base)
    if base not in used:
        return base
    n = 2
    while f"{base}{n}" in used:
        n += 1
    return f"{base}{n}"


def check_create_person(app: App, viewer: Viewer, data: PersonInput) -> Person:
    """Administrators add a person (and their account, when a password or role is given)."""
    _require_admin(viewer)
    if data.password is not None:
        check_password(data.password)  # before the person is written: bad input changes nothing
    if data.email is None:
        raise invalid("email", "is required")
    if data.display_name is None:
        raise invalid("display_name", "is required")
    values = _validated(data, WorkingHours())
    email = str(values["email"])
    now = app.clock()
    with app.db.transaction() as tx:
        if people.get_by_email(tx.conn, email):
            raise Conflict(f"{email} is already in the directory", {"email": "already exists"})
        _check_manager(tx.conn, data.manager_id, None)
        handle = allocate_handle(tx.conn, email)
        person = people.insert(tx.conn, {**values, "manager_id": data.manager_id}, handle=handle, now=now)
        accounts.upsert(tx.conn, person.id, role=data.role or Role.MEMBER, password_hash=None, now=now)
        emit(
            app,
            tx,
            "person.created",
            space_id=None,
            actor_id=viewer.id,
            payload=views.person(person),
        )
    if data.password is not None:
        do_set_password(app, person.id, data.password)
    return person


def check_update_person(app: App, viewer: Viewer, person_id: int, data: PersonInput) -> Person:
    """Administrators change anything about a person; deactivating revokes their tokens."""
    _require_admin(viewer)
    if data.password is not None:
        check_password(data.password)
    current = get_person(app, viewer, person_id)
    values = _validated(data, current.hours, partial=True)
    now = app.clock()
    with app.db.transaction() as tx:
        if "email" in values:
            other = people.get_by_email(tx.conn, str(values["email"]))
            if other and other.id != person_id:
                raise Conflict(f"{values['email']} belongs to someone else", {"email": "already exists"})
        if data.manager_id is not None:
            _check_manager(tx.conn, data.manager_id, person_id)
            values["manager_id"] = data.manager_id
        elif data.clear_manager:
            values["manager_id"] = None
        if data.active is not None:
            if not data.active and person_id == viewer.id:
                raise invalid("active", "you cannot deactivate yourself")
            values["active"] = data.active
            if not data.active:
                accounts.revoke_all_tokens(tx.conn, person_id, now)
        if data.role is not None:
            if person_id == viewer.id and data.role is not Role.ADMIN:
                raise invalid("role", "you cannot remove your own administrator role")
            accounts.upsert(tx.conn, person_id, role=data.role, password_hash=None, now=now)
        updated = people.update(tx.conn, person_id, values, now=now) if values else current
        emit(
            app,
            tx,
            "person.updated",
            space_id=None,
            actor_id=viewer.id,
            payload=views.person(updated),
        )
    if data.password is not None:
        do_set_password(app, person_id, data.password)
    return updated


def do_deactivate_person(app: App, viewer: Viewer, person_id: int) -> Person:
    return check_update_person(app, viewer, person_id, PersonInput(active=False))


def _require_admin(viewer: Viewer) -> None:
    if not can_manage_people(viewer):
        raise Forbidden("only administrators manage people")


def _validated(data: PersonInput, hours: WorkingHours, *, partial: bool = False) -> dict[str, object]:
    values: dict[str, object] = {}
    if data.email is not None:
        values["email"] = validate.email("email", data.email)
    if data.display_name is not None:
        values["display_name"] = validate.text("display_name", data.display_name, max_len=200)
    for field in ("title", "department", "location"):
        raw = getattr(data, field)
        if raw is not None:
            values[field] = validate.optional_text(field, raw, max_len=200)
    if data.timezone is not None:
        if not valid_timezone(data.timezone):
            raise invalid("timezone", f"{data.timezone!r} is not an IANA time zone such as Asia/Tokyo")
        values["timezone"] = data.timezone
    new_hours = parse_hours(data.work_start, data.work_end, data.work_days, hours)
    if not partial or new_hours != hours:
        values.update(people.hours_values(new_hours))
    return values


def _check_manager(conn: Connection, manager_id: int | None, person_id: int | None) -> None:
    """The manager must exist and must not make the management chain a cycle."""
    if manager_id is None:
        return
    chart = people.manager_map(conn)
    if manager_id not in chart:
        raise invalid("manager_id", f"no person with id {manager_id}")
    seen: set[int] = set()
    current: int | None = manager_id
    while current is not None and current not in seen:
        if current == person_id:
            raise invalid("manager_id", "would make a cycle in the management chain")
        seen.add(current)
        current = chart.get(current)


def do_bootstrap_admin(app: App, *, email: str, display_name: str, password: str) -> Person:
    """Create (or promote) an administrator from the command line, where no one is signed in."""
    clean_email = validate.email("email", email)
    check_password(password)
    name = validate.text("display_name", display_name, max_len=200)
    now = app.clock()
    with app.db.transaction() as tx:
        person = people.get_by_email(tx.conn, clean_email)
        if person is None:
            values = people.values_of(
                email=clean_email,
                display_name=name,
                title="Administrator",
                department="",
                location="",
                timezone="UTC",
                hours=WorkingHours(),
            )
            person = people.insert(tx.conn, values, handle=allocate_handle(tx.conn, clean_email), now=now)
            emit(
                app,
                tx,
                "person.created",
                space_id=None,
                actor_id=None,
                payload=views.person(person),
            )
        accounts.upsert(tx.conn, person.id, role=Role.ADMIN, password_hash=None, now=now)
    do_set_password(app, person.id, password)
    return person


def system_viewer(app: App) -> Viewer:
    """The first active administrator: who the command line acts as when no one is named."""
    with app.db.read() as conn:
        admin = accounts.first_admin(conn)
    if admin is None:
        raise NotFound("there is no administrator yet; run `kith init` first")
    return admin


def find_person_by_email(app: App, email: str) -> Person | None:
    with app.db.read() as conn:
        return people.get_by_email(conn, email)
