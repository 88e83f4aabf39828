"""The directory: listing and searching people, and administrators managing them."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.conftest import PASSWORD, Actor, Factory

from kith.actions import people as people_actions
from kith.actions.people import PersonInput
from kith.app import App
from kith.domain.errors import InvalidInput
from kith.domain.models import Role

PEOPLE = "/api/v1/people"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["display_name"] for p in response.json()["items"]]


def create(client: TestClient, admin: Actor, **fields: Any) -> httpx.Response:
    return client.post(PEOPLE, json=fields, headers=admin.headers)


def build_directory(make: Factory) -> dict[str, Actor]:
    return {
        "ana": make.person("Ana Silva", department="Sales", location="Lisbon"),
        "bo": make.person("Bo Chen", department="Engineering", location="Singapore"),
        "cy": make.person("Cy Anand", department="sales", location="Pune"),
        "di": make.person("Di Okafor", department="Engineering", location="Lisbon"),
    }


# reading the directory


def test_list_and_search(client: TestClient, make: Factory) -> None:
    people = build_directory(make)
    viewer = people["ana"]
    everyone = names(client.get(PEOPLE, headers=viewer.headers))
    assert everyone == ["Root Admin", "Ana Silva", "Bo Chen", "Cy Anand", "Di Okafor"]

    def search(**params: str) -> list[str]:
        return names(client.get(PEOPLE, params=params, headers=viewer.headers))

    assert search(q="an") == ["Ana Silva", "Cy Anand"]
    assert search(q="ANA") == ["Ana Silva", "Cy Anand"]
    assert search(q="okafor") == ["Di Okafor"]
    assert search(q=people["bo"].person.email.upper()) == ["Bo Chen"]
    assert search(q=people["bo"].person.handle) == ["Bo Chen"]
    assert search(department="Sales") == ["Ana Silva", "Cy Anand"]
    assert search(department="engineering") == ["Bo Chen", "Di Okafor"]
    assert search(location="Lisbon") == ["Ana Silva", "Di Okafor"]
    assert search(department="Engineering", location="Lisbon") == ["Di Okafor"]
    assert search(q="silva", location="Pune") == []
    assert search(department="Sal") == []


def test_search_treats_wildcards_literally(client: TestClient, make: Factory) -> None:
    build_directory(make)
    viewer = make.person("Percent 100%")
    for text, expected in (("%", ["Percent 100%"]), ("_", []), ("\\", []), ("a%n", [])):
        assert names(client.get(PEOPLE, params={"q": text}, headers=viewer.headers)) == expected, text


def test_search_with_unstorable_characters_is_not_a_server_error(client: TestClient, make: Factory) -> None:
    viewer = make.person("Ana Silva")
    for params in ({"q": "a\x00b"}, {"department": "\x00"}, {"location": "x\x00"}):
        response = client.get(PEOPLE, params=params, headers=viewer.headers)
        assert response.status_code in (200, 422), (params, response.text)
        if response.status_code == 422:
            field = next(iter(params))
            assert field in assert_error(response, 422, "invalid_input")["fields"]


def test_cursor_pagination_has_no_gaps_and_no_duplicates(client: TestClient, make: Factory) -> None:
    for n in range(10):
        make.person(f"Member {n:02d}")
    viewer = make.person("Viewer")
    everyone = [p["id"] for p in client.get(PEOPLE, headers=viewer.headers).json()["items"]]
    assert len(everyone) == 12
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = client.get(PEOPLE, params=params, headers=viewer.headers).json()
        pages += 1
        seen.extend(p["id"] for p in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 5
    assert pages == 3
    assert seen == everyone
    assert len(set(seen)) == len(seen)


def test_pagination_keeps_filters_and_exact_pages_end_cleanly(client: TestClient, make: Factory) -> None:
    for n in range(4):
        make.person(f"Sales {n}", department="Sales")
        make.person(f"Other {n}", department="Other")
    viewer = make.person("Viewer")
    first = client.get(PEOPLE, params={"department": "Sales", "limit": 2}, headers=viewer.headers).json()
    second = client.get(
        PEOPLE,
        params={"department": "Sales", "limit": 2, "cursor": first["next_cursor"]},
        headers=viewer.headers,
    ).json()
    assert [p["display_name"] for p in first["items"] + second["items"]] == [f"Sales {n}" for n in range(4)]
    assert second["next_cursor"] is None


def test_bad_list_parameters_are_422(client: TestClient, make: Factory) -> None:
    viewer = make.person("Viewer")
    for params, field in (
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJ4Il0"}, "cursor"),  # ["x"]
        ({"cursor": "Wy0xXQ"}, "cursor"),  # [-1]
        ({"cursor": "Wzk5OTk5OTk5OTk5XQ"}, "cursor"),  # [99999999999]: past a 32-bit id
        ({"cursor": "WzFd" * 60}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"q": "x" * 201}, "q"),
        ({"include_inactive": "perhaps"}, "include_inactive"),
    ):
        response = client.get(PEOPLE, params=params, headers=viewer.headers)
        error = assert_error(response, 422, "invalid_input")
        assert field in error["fields"], (params, error)


def test_get_person(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva", title="Buyer", timezone="Europe/Lisbon", work_days="sun-thu")
    bo = make.person("Bo Chen")
    body = client.get(f"{PEOPLE}/{ana.id}", headers=bo.headers).json()
    assert body["display_name"] == "Ana Silva"
    assert body["title"] == "Buyer"
    assert body["timezone"] == "Europe/Lisbon"
    assert body["work_days"] == "mon,tue,wed,thu,sun"
    assert body["active"] is True
    assert_error(client.get(f"{PEOPLE}/999999", headers=bo.headers), 404, "not_found")
    for bad in ("0", "-1", "99999999999", "abc"):
        assert_error(client.get(f"{PEOPLE}/{bad}", headers=bo.headers), 422, "invalid_input")


def test_reading_needs_sign_in(client: TestClient) -> None:
    assert_error(client.get(PEOPLE), 401, "unauthorized")
    assert_error(client.get(f"{PEOPLE}/1"), 401, "unauthorized")


# administrators create people


def test_admin_creates_a_person_who_can_sign_in(client: TestClient, make: Factory) -> None:
    response = create(
        client,
        make.admin,
        email="Ana.Silva@Example.com",
        display_name="Ana Silva",
        title="Buyer",
        department="Sales",
        location="Lisbon",
        timezone="Europe/Lisbon",
        work_start="08:00",
        work_end="16:00",
        work_days="mon-thu",
        role="analyst",
        password="long enough secret",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "Ana.Silva@Example.com"
    assert body["handle"] == "ana.silva"
    assert (body["work_start"], body["work_end"], body["work_days"]) == ("08:00", "16:00", "mon,tue,wed,thu")
    login = client.post(
        "/api/v1/auth/login", json={"email": "ana.silva@example.com", "password": "long enough secret"}
    )
    assert login.status_code == 200, login.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json()['token']}"}).json()
    assert me["role"] == "analyst"
    assert me["id"] == body["id"]


def test_handles_are_allocated_from_the_address(client: TestClient, make: Factory) -> None:
    handles = []
    for email in ("ana@one.example", "ana@two.example", "ANA@three.example", "anabel@one.example"):
        response = create(client, make.admin, email=email, display_name="Ana")
        assert response.status_code == 201, response.text
        handles.append(response.json()["handle"])
    assert handles == ["ana", "ana2", "ana3", "anabel"]


def test_email_is_unique_whatever_its_case(client: TestClient, make: Factory) -> None:
    assert create(client, make.admin, email="ana@example.com", display_name="Ana").status_code == 201
    response = create(client, make.admin, email="ANA@Example.COM", display_name="Another Ana")
    error = assert_error(response, 409, "conflict")
    assert "email" in error["fields"]
    listed = client.get(PEOPLE, params={"q": "ana"}, headers=make.admin.headers).json()["items"]
    assert [p["display_name"] for p in listed] == ["Ana"]


def test_create_validation_names_the_field(client: TestClient, make: Factory) -> None:
    good = {"email": "new@example.com", "display_name": "New Person"}
    for changes, field in (
        ({"email": "not an address"}, "email"),
        ({"email": None}, "email"),
        ({"display_name": "  "}, "display_name"),
        ({"timezone": "Atlantis/Capital"}, "timezone"),
        ({"work_start": "7am"}, "work_start"),
        ({"work_days": "weekdays"}, "work_days"),
        ({"manager_id": 999999}, "manager_id"),
        ({"manager_id": 99999999999}, "manager_id"),
        ({"role": "owner"}, "role"),
        ({"password": "short"}, "password"),
        ({"nickname": "Nana"}, "nickname"),
        ({"title": "x" * 201}, "title"),
    ):
        response = create(client, make.admin, **{**good, **changes})
        error = assert_error(response, 422, "invalid_input")
        assert field in error["fields"], (changes, error)
    missing = client.post(PEOPLE, json={"email": "x@example.com"}, headers=make.admin.headers)
    assert "display_name" in assert_error(missing, 422, "invalid_input")["fields"]
    assert client.get(PEOPLE, params={"q": "new"}, headers=make.admin.headers).json()["items"] == []


def test_create_with_a_manager(client: TestClient, make: Factory) -> None:
    boss = make.person("Boss")
    response = create(client, make.admin, email="ana@example.com", display_name="Ana", manager_id=boss.id)
    assert response.status_code == 201, response.text
    assert response.json()["manager_id"] == boss.id


# administrators change people


def test_update_a_person(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    response = client.patch(
        f"{PEOPLE}/{ana.id}",
        json={
            "title": "Head of Buying",
            "department": "Sales",
            "timezone": "Asia/Tokyo",
            "work_end": "18:00",
        },
        headers=make.admin.headers,
    )
    assert response.status_code == 200, response.text
    body = client.get(f"{PEOPLE}/{ana.id}", headers=ana.headers).json()
    assert (body["title"], body["department"], body["timezone"], body["work_start"], body["work_end"]) == (
        "Head of Buying",
        "Sales",
        "Asia/Tokyo",
        "09:00",
        "18:00",
    )


def test_update_email_clash_is_409(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    bo = make.person("Bo Chen")
    response = client.patch(
        f"{PEOPLE}/{bo.id}", json={"email": ana.person.email.upper()}, headers=make.admin.headers
    )
    assert "email" in assert_error(response, 409, "conflict")["fields"]
    # Changing the case of one's own address is no clash.
    response = client.patch(
        f"{PEOPLE}/{ana.id}", json={"email": ana.person.email.upper()}, headers=make.admin.headers
    )
    assert response.status_code == 200, response.text


def test_management_cycles_are_refused(client: TestClient, make: Factory) -> None:
    ceo = make.person("Ceo")
    vp = make.person("Vp", manager_id=ceo.id)
    lead = make.person("Lead", manager_id=vp.id)

    def set_manager(person: Actor, manager: Actor) -> httpx.Response:
        return client.patch(
            f"{PEOPLE}/{person.id}", json={"manager_id": manager.id}, headers=make.admin.headers
        )

    for person, manager in ((ceo, lead), (ceo, vp), (vp, vp)):
        error = assert_error(set_manager(person, manager), 422, "invalid_input")
        assert "manager_id" in error["fields"]
        assert "manager_id" in error["message"]
    assert client.get(f"{PEOPLE}/{ceo.id}", headers=ceo.headers).json()["manager_id"] is None
    # Moving someone within the chart is fine.
    assert set_manager(lead, ceo).status_code == 200


def test_a_manager_can_be_removed(client: TestClient, make: Factory) -> None:
    boss = make.person("Boss")
    ana = make.person("Ana Silva", manager_id=boss.id)
    response = client.patch(f"{PEOPLE}/{ana.id}", json={"manager_id": None}, headers=make.admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["manager_id"] is None
    assert client.get(f"{PEOPLE}/{ana.id}", headers=ana.headers).json()["manager_id"] is None


def test_update_unknown_person_is_404(client: TestClient, make: Factory) -> None:
    response = client.patch(f"{PEOPLE}/999999", json={"title": "x"}, headers=make.admin.headers)
    assert_error(response, 404, "not_found")


def test_admins_cannot_lock_themselves_out(client: TestClient, make: Factory) -> None:
    admin = make.admin
    error = assert_error(
        client.patch(f"{PEOPLE}/{admin.id}", json={"active": False}, headers=admin.headers),
        422,
        "invalid_input",
    )
    assert "active" in error["fields"]
    error = assert_error(
        client.patch(f"{PEOPLE}/{admin.id}", json={"role": "member"}, headers=admin.headers),
        422,
        "invalid_input",
    )
    assert "role" in error["fields"]
    assert client.get("/api/v1/me", headers=admin.headers).json()["role"] == "admin"


def test_deactivate(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    bo = make.person("Bo Chen")
    response = client.post(f"{PEOPLE}/{ana.id}/deactivate", headers=make.admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert names(client.get(PEOPLE, headers=bo.headers)) == ["Root Admin", "Bo Chen"]
    with_inactive = client.get(PEOPLE, params={"include_inactive": True}, headers=bo.headers)
    assert names(with_inactive) == ["Root Admin", "Ana Silva", "Bo Chen"]
    assert client.get(f"{PEOPLE}/{ana.id}", headers=bo.headers).json()["active"] is False
    assert (
        client.post("/api/v1/auth/login", json={"email": ana.person.email, "password": PASSWORD}).status_code
        == 401
    )


def test_members_cannot_manage_people(client: TestClient, make: Factory) -> None:
    ana = make.person("Ana Silva")
    bo = make.person("Bo Chen")
    for response in (
        create(client, ana, email="x@example.com", display_name="X"),
        client.patch(f"{PEOPLE}/{bo.id}", json={"title": "Boss"}, headers=ana.headers),
        client.patch(f"{PEOPLE}/{ana.id}", json={"role": "admin"}, headers=ana.headers),
        client.post(f"{PEOPLE}/{bo.id}/deactivate", headers=ana.headers),
    ):
        assert_error(response, 403, "forbidden")
    analyst = make.person("Al Analyst", role=Role.ANALYST)
    assert_error(create(client, analyst, email="y@example.com", display_name="Y"), 403, "forbidden")
    assert client.get(f"{PEOPLE}/{bo.id}", headers=ana.headers).json()["title"] == ""
    assert client.get("/api/v1/me", headers=ana.headers).json()["role"] == "member"


def test_simultaneous_creations_get_distinct_handles_and_one_address(
    client: TestClient, make: Factory
) -> None:
    admin = make.admin
    n = 6
    start = threading.Barrier(n)

    def create_at_once(email: str) -> list[httpx.Response]:
        results: list[httpx.Response] = []

        def run(i: int) -> None:
            start.wait()
            results.append(create(client, admin, email=email.format(i=i), display_name="Sam"))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    same_local_part = create_at_once("sam@d{i}.example")
    assert {r.status_code for r in same_local_part} == {201}, [r.text for r in same_local_part]
    assert sorted(r.json()["handle"] for r in same_local_part) == sorted(
        ["sam", *(f"sam{k}" for k in range(2, n + 1))]
    )
    same_address = create_at_once("Same@Example.com")
    assert sorted(r.status_code for r in same_address) == [201] + [409] * (n - 1), [
        r.text for r in same_address
    ]


def test_a_refused_password_creates_and_changes_nothing(app: App, make: Factory) -> None:
    """Through the actions, as the CLI and importers call them (the API checks length first)."""
    admin = make.admin.viewer
    new = PersonInput(email="new@example.com", display_name="New", password="short")
    with pytest.raises(InvalidInput) as refused:
        people_actions.check_create_person(app, admin, new)
    assert "password" in refused.value.fields
    assert people_actions.find_person_by_email(app, "new@example.com") is None
    ana = make.person("Ana Silva")
    with pytest.raises(InvalidInput):
        people_actions.check_update_person(app, admin, ana.id, PersonInput(title="Boss", password="x" * 1025))
    assert people_actions.get_person(app, admin, ana.id).title == ""
