"""The directory, and people management for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.actions import people
from kith.actions.people import PersonInput
from kith.api.deps import AppDep, PersonId, ViewerDep
from kith.api.errors import ERROR_RESPONSES
from kith.api.schemas import PeoplePage, PersonCreate, PersonOut, PersonUpdate
from kith.domain import views
from kith.domain.models import Person, Role

router = APIRouter(tags=["people"], responses=ERROR_RESPONSES)
Filter = Annotated[str | None, Query(max_length=200)]


def _out(person: Person) -> PersonOut:
    return PersonOut(**views.person(person))


@router.get("/people")
def list_people(
    app: AppDep,
    viewer: ViewerDep,
    q: Filter = None,
    department: Filter = None,
    location: Filter = None,
    include_inactive: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PeoplePage:
    """People by name, e-mail or handle (``q``), department and location."""
    page = people.list_people(
        app,
        viewer,
        query=q,
        department=department,
        location=location,
        include_inactive=include_inactive,
        cursor=cursor,
        limit=limit,
    )
    return PeoplePage(items=[_out(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/people/{person_id}")
def get_person(app: AppDep, viewer: ViewerDep, person_id: PersonId) -> PersonOut:
    return _out(people.get_person(app, viewer, person_id))


@router.post("/people", status_code=201)
def create_person(app: AppDep, viewer: ViewerDep, body: PersonCreate) -> PersonOut:
    """Administrators add a person."""
    data = PersonInput(**{**body.model_dump(), "role": Role(body.role)})
    return _out(people.check_create_person(app, viewer, data))


@router.patch("/people/{person_id}")
def update_person(app: AppDep, viewer: ViewerDep, person_id: PersonId, body: PersonUpdate) -> PersonOut:
    """Administrators change a person; ``active: false`` deactivates and signs them out."""
    values = body.model_dump(exclude_unset=True)
    if "manager_id" in values and values["manager_id"] is None:
        del values["manager_id"]
        values["clear_manager"] = True
    if values.get("role") is not None:
        values["role"] = Role(values["role"])
    return _out(people.check_update_person(app, viewer, person_id, PersonInput(**values)))


@router.post("/people/{person_id}/deactivate")
def deactivate_person(app: AppDep, viewer: ViewerDep, person_id: PersonId) -> PersonOut:
    return _out(people.do_deactivate_person(app, viewer, person_id))
