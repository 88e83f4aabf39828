"""Facts (knowledge cards) through the real HTTP API on both engines: writing, versions,
reviewing, overdue flags told once per date, filters, seen tracking and who may do what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from tests.conftest import Actor
from tests.movable_clock import Timed, timed_app

from kith.actions import facts as fact_actions
from kith.actions import jobs, notify
from kith.actions.events import list_since
from kith.app import App
from kith.domain.models import Notification, Role
from kith.storage.tables import fact_seen

API = "/api/v1"
MISSING = 999_999
# The movable clock starts on Monday 2 March 2026, 09:00 UTC.
TODAY = "2026-03-02"


@pytest.fixture
def t(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url) as timed:
        yield timed


def call(client: TestClient, actor: Actor, method: str, path: str, body: Any = None) -> Response:
    return client.request(method, API + path, json=body, headers=actor.headers)


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def refused(response: Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    if field is not None:
        assert field in error["fields"], error
        assert field in error["message"]
    return error


def new_space(t: Timed, owner: Actor, name: str, *members: Actor, private: bool = False) -> int:
    body = {"name": name, "visibility": "private" if private else "public"}
    space: int = ok(call(t.client, owner, "POST", "/spaces", body), 201)["id"]
    for member in members:
        ok(call(t.client, owner, "POST", f"/spaces/{space}/members", {"person_id": member.id}), 201)
    return space


def new_fact(t: Timed, author: Actor, space: int, title: str = "Price list", **fields: Any) -> dict[str, Any]:
    body = {"title": title, "body": fields.pop("body", "Standard price is **100**."), **fields}
    created: dict[str, Any] = ok(call(t.client, author, "POST", f"/spaces/{space}/facts", body), 201)
    return created


def notes(app: App, actor: Actor, kind: str | None = None) -> list[Notification]:
    items = notify.list_notifications(app, actor.viewer, limit=200).items
    return [n for n in items if kind is None or n.kind == kind]


def events_of(app: App, prefix: str) -> list[Any]:
    return [e for e in list_since(app, 0) if e.type.startswith(prefix)]


def seen_rows(app: App, fact_id: int) -> dict[int, tuple[int, datetime, datetime]]:
    with app.db.read() as conn:
        rows = conn.execute(sa.select(fact_seen).where(fact_seen.c.fact_id == fact_id)).mappings()
        return {r["person_id"]: (r["version"], r["first_seen_at"], r["seen_at"]) for r in rows}


# writing and reading


def test_a_member_writes_a_fact_rendered_safely_owned_and_due_in_90_days(t: Timed) -> None:
    owner, member = t.make.person("Olga"), t.make.person("Mika")
    space = new_space(t, owner, "Sales", member)
    body = "Price is **100** <script>alert(1)</script> [list](javascript:alert(1)) [ok](https://ex.com)"
    fact = new_fact(t, member, space, body=body, source_url="https://example.com/prices")
    assert fact["owner_id"] == member.id
    assert fact["created_by"] == member.id
    assert fact["version"] == 1
    assert fact["review_by"] == "2026-05-31"  # 90 days after 2 March
    assert fact["overdue"] is False
    assert fact["archived"] is False
    assert fact["source"] == body
    assert "<strong>100</strong>" in fact["html"]
    assert "<script" not in fact["html"]
    assert 'href="javascript' not in fact["html"]
    assert 'href="https://ex.com"' in fact["html"]
    assert ok(call(t.client, owner, "GET", f"/facts/{fact['id']}")) == fact
    # The event carries the same view the API answers.
    created = events_of(t.app, "fact.")
    assert [(e.type, e.space_id, e.actor_id, e.payload) for e in created] == [
        ("fact.created", space, member.id, fact)
    ]
    history = ok(call(t.client, owner, "GET", f"/facts/{fact['id']}/history"))
    assert history["fact"] == fact
    assert [(v["version"], v["editor_id"], v["note"], v["title"]) for v in history["versions"]] == [
        (1, member.id, "", "Price list")
    ]


def test_an_owner_may_be_named_among_the_members(t: Timed) -> None:
    owner, member, outsider = t.make.person(), t.make.person(), t.make.person()
    space = new_space(t, owner, "Sales", member)
    fact = new_fact(t, owner, space, owner_id=member.id, review_by="2026-04-01", note="first cut")
    assert (fact["owner_id"], fact["created_by"], fact["review_by"]) == (member.id, owner.id, "2026-04-01")
    response = call(
        t.client,
        owner,
        "POST",
        f"/spaces/{space}/facts",
        {"title": "x", "body": "y", "owner_id": outsider.id},
    )
    refused(response, 422, "owner_id")


BAD_FACTS: list[tuple[dict[str, Any], str]] = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"title": "two\nlines"}, "title"),
    ({"body": ""}, "body"),
    ({"body": "x" * 20_001}, "body"),
    ({"source_url": "javascript:alert(1)"}, "source_url"),
    ({"source_url": "ftp://example.com/file"}, "source_url"),
    ({"source_url": "not a url"}, "source_url"),
    ({"source_url": "https://"}, "source_url"),
    ({"source_url": "https://exa mple.com/"}, "source_url"),
    ({"source_url": "https://example.com:99999/"}, "source_url"),
    ({"source_url": "https://example.com/" + "a" * 2000}, "source_url"),
    ({"review_by": "2026-13-01"}, "review_by"),
    ({"review_by": "2026-3-9"}, "review_by"),
    ({"review_by": "tomorrow"}, "review_by"),
    ({"review_by": "20260401"}, "review_by"),
    ({"review_by": "2006-03-01"}, "review_by"),  # twenty years ago
    ({"review_by": "2046-03-01"}, "review_by"),  # twenty years ahead
    ({"review_by": "9999-12-31"}, "review_by"),
    ({"review_by": 20260401}, "review_by"),
    ({"owner_id": 0}, "owner_id"),
    ({"note": "n" * 501}, "note"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_FACTS, ids=[f"{f}:{next(iter(b))}" for b, f in BAD_FACTS])
def test_bad_input_names_the_field_and_changes_nothing(t: Timed, fields: dict[str, Any], field: str) -> None:
    owner = t.make.person()
    space = new_space(t, owner, "Sales")
    fact = new_fact(t, owner, space)
    before = ok(call(t.client, owner, "GET", f"/facts/{fact['id']}/history"))
    events = len(list_since(t.app, 0))
    body = {"title": "A title", "body": "A body", **fields}
    refused(call(t.client, owner, "POST", f"/spaces/{space}/facts", body), 422, field)
    refused(call(t.client, owner, "PATCH", f"/facts/{fact['id']}", fields), 422, field)
    assert ok(call(t.client, owner, "GET", f"/facts/{fact['id']}/history")) == before
    assert [f["id"] for f in ok(call(t.client, owner, "GET", f"/spaces/{space}/facts"))["items"]] == [
        fact["id"]
    ]
    assert len(list_since(t.app, 0)) == events


def test_bad_review_dates_and_list_parameters_are_refused(t: Timed) -> None:
    owner = t.make.person()
    space = new_space(t, owner, "Sales")
    fact = new_fact(t, owner, space)
    for bad in ("2026-02-30", TODAY, "2026-03-01", "yesterday"):
        refused(
            call(t.client, owner, "POST", f"/facts/{fact['id']}/review", {"review_by": bad}), 422, "review_by"
        )
    for query, field in [
        ("sort=title", "sort"),
        ("due_within=-1", "due_within"),
        ("due_within=5000", "due_within"),
        ("cursor=nonsense", "cursor"),
        ("limit=0", "limit"),
        ("overdue=perhaps", "overdue"),
        ("owner_id=0", "owner_id"),
    ]:
        refused(call(t.client, owner, "GET", f"/spaces/{space}/facts?{query}"), 422, field)
        refused(call(t.client, owner, "GET", f"/facts?{query}"), 422, field)
    refused(call(t.client, owner, "POST", "/facts/seen", {"fact_ids": list(range(1, 502))}), 422, "fact_ids")
    refused(call(t.client, owner, "POST", "/facts/seen", {"fact_ids": ["1"]}), 422)
    assert ok(call(t.client, owner, "GET", f"/facts/{fact['id']}"))["version"] == 1


# versions


def test_every_edit_is_a_version_with_its_editor_time_and_note(t: Timed) -> None:
    owner, member = t.make.person("Olga"), t.make.person("Mika")
    space = new_space(t, owner, "Sales", member)
    fact = new_fact(t, member, space)
    t.clock.advance(hours=1)
    edited = ok(
        call(t.client, member, "PATCH", f"/facts/{fact['id']}", {"title": "Prices 2026", "note": "new year"})
    )
    assert (edited["version"], edited["title"], edited["source"]) == (2, "Prices 2026", fact["source"])
    assert edited["updated_at"] == "2026-03-02T10:00:00+00:00"
    # The same values again: no new version, no event.
    events = len(list_since(t.app, 0))
    same = ok(
        call(t.client, member, "PATCH", f"/facts/{fact['id']}", {"title": "Prices 2026", "source_url": ""})
    )
    assert same == edited
    assert len(list_since(t.app, 0)) == events
    t.clock.advance(hours=1)
    by_owner = ok(
        call(
            t.client,
            owner,
            "PATCH",
            f"/facts/{fact['id']}",
            {
                "body": "Standard price is **120**.",
                "source_url": "https://example.com/p",
                "owner_id": owner.id,
            },
        )
    )
    assert (by_owner["version"], by_owner["owner_id"], by_owner["source_url"]) == (
        3,
        owner.id,
        "https://example.com/p",
    )
    assert "<strong>120</strong>" in by_owner["html"]
    t.clock.advance(hours=1)
    reviewed = ok(call(t.client, owner, "POST", f"/facts/{fact['id']}/review", {"review_by": "2026-09-01"}))
    assert (reviewed["version"], reviewed["review_by"], reviewed["source"]) == (
        4,
        "2026-09-01",
        by_owner["source"],
    )
    history = ok(call(t.client, member, "GET", f"/facts/{fact['id']}/history"))
    assert history["fact"] == reviewed
    assert [
        (
            v["version"],
            v["editor_id"],
            v["note"],
            v["title"],
            v["owner_id"],
            v["review_by"],
            v["created_at"][11:16],
        )
        for v in history["versions"]
    ] == [
        (1, member.id, "", "Price list", member.id, "2026-05-31", "09:00"),
        (2, member.id, "new year", "Prices 2026", member.id, "2026-05-31", "10:00"),
        (3, owner.id, "", "Prices 2026", owner.id, "2026-05-31", "11:00"),
        (4, owner.id, "reviewed", "Prices 2026", owner.id, "2026-09-01", "12:00"),
    ]
    assert "<strong>100</strong>" in history["versions"][1]["html"]
    assert [e.type for e in events_of(t.app, "fact.")] == ["fact.created"] + ["fact.updated"] * 3
    assert events_of(t.app, "fact.")[-1].payload == reviewed


def test_archiving_hides_a_fact_from_lists_and_stops_changes(t: Timed) -> None:
    owner = t.make.person()
    space = new_space(t, owner, "Sales")
    fact = new_fact(t, owner, space)
    archived = ok(call(t.client, owner, "POST", f"/facts/{fact['id']}/archive"))
    assert archived["archived"] is True
    assert archived["version"] == 1
    assert ok(call(t.client, owner, "POST", f"/facts/{fact['id']}/archive")) == archived  # again: nothing
    assert [e.type for e in events_of(t.app, "fact.")] == ["fact.created", "fact.archived"]
    assert events_of(t.app, "fact.archived")[0].payload == archived
    assert ok(call(t.client, owner, "GET", f"/spaces/{space}/facts"))["items"] == []
    listed = ok(call(t.client, owner, "GET", f"/spaces/{space}/facts?include_archived=true"))["items"]
    assert [f["id"] for f in listed] == [fact["id"]]
    refused(call(t.client, owner, "PATCH", f"/facts/{fact['id']}", {"title": "again"}), 403)
    refused(call(t.client, owner, "POST", f"/facts/{fact['id']}/review", {}), 403)
    assert ok(call(t.client, owner, "GET", f"/facts/{fact['id']}"))["title"] == "Price list"


# who may do what


def test_owner_space_owners_and_admins_change_a_fact_other_members_do_not(t: Timed) -> None:
    owner, author, member, outsider = (t.make.person(n) for n in ("Olga", "Ann", "Mika", "Nina"))
    admin = t.make.admin
    space = new_space(t, owner, "Sales", author, member)
    fact = new_fact(t, author, space)
    path = f"/facts/{fact['id']}"
    for who in (member, outsider):
        refused(call(t.client, who, "PATCH", path, {"title": "mine now"}), 403)
        refused(call(t.client, who, "POST", f"{path}/review", {}), 403)
        refused(call(t.client, who, "POST", f"{path}/archive"), 403)
        assert ok(call(t.client, who, "GET", path))["version"] == 1  # they read it (a public space)
    # A non-member reads a public space's facts but does not write one.
    refused(call(t.client, outsider, "POST", f"/spaces/{space}/facts", {"title": "t", "body": "b"}), 403)
    assert ok(call(t.client, author, "PATCH", path, {"title": "by the fact's owner"}))["version"] == 2
    assert ok(call(t.client, owner, "PATCH", path, {"title": "by the space's owner"}))["version"] == 3
    assert ok(call(t.client, admin, "PATCH", path, {"title": "by an administrator"}))["version"] == 4
    assert ok(call(t.client, owner, "POST", f"{path}/review", {}))["version"] == 5
    ok(call(t.client, admin, "POST", f"{path}/archive"))


def test_an_archived_space_takes_no_new_facts_nor_changes(t: Timed) -> None:
    owner = t.make.person()
    space = new_space(t, owner, "Sales")
    fact = new_fact(t, owner, space)
    ok(call(t.client, owner, "POST", f"/spaces/{space}/archive"))
    refused(call(t.client, owner, "POST", f"/spaces/{space}/facts", {"title": "t", "body": "b"}), 403)
    refused(call(t.client, owner, "PATCH", f"/facts/{fact['id']}", {"title": "t"}), 403)
    refused(call(t.client, owner, "POST", f"/facts/{fact['id']}/review", {}), 403)
    refused(call(t.client, owner, "POST", f"/facts/{fact['id']}/archive"), 403)
    assert ok(call(t.client, owner, "GET", f"/facts/{fact['id']}"))["version"] == 1


SECRET = "zanzibarite"
# Every facts route, against a fact of a private space; {space} and {fact} are filled in.
PRIVATE_REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", "/spaces/{space}/facts", None),
    ("GET", "/spaces/{space}/facts?overdue=true&sort=updated", None),
    ("POST", "/spaces/{space}/facts", {"title": "let me in", "body": "please"}),
    ("GET", "/facts?space_id={space}", None),
    ("GET", "/facts/{fact}", None),
    ("PATCH", "/facts/{fact}", {"title": "defaced"}),
    ("POST", "/facts/{fact}/review", {}),
    ("POST", "/facts/{fact}/archive", None),
    ("GET", "/facts/{fact}/history", None),
    ("GET", "/spaces/{space}/corrections", None),
    ("GET", "/spaces/{space}/corrections?kind=fact", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), PRIVATE_REQUESTS, ids=[f"{m} {p}" for m, p, _ in PRIVATE_REQUESTS]
)
def test_a_private_spaces_facts_do_not_exist_for_non_members(
    t: Timed, method: str, path: str, body: Any
) -> None:
    owner, member = t.make.person("Olga"), t.make.person("Mika")
    outsider, analyst = t.make.person("Nina"), t.make.person("Ari", role=Role.ANALYST)
    space = new_space(t, owner, "Nightjar", member, private=True)
    fact = new_fact(t, owner, space, title=f"The {SECRET} terms", body=f"{SECRET} is the price")
    refused(call(t.client, member, "PATCH", f"/facts/{fact['id']}", {"body": f"{SECRET} costs more"}), 403)
    ok(call(t.client, owner, "PATCH", f"/facts/{fact['id']}", {"body": f"{SECRET} costs more"}))
    before = ok(call(t.client, owner, "GET", f"/facts/{fact['id']}/history"))
    for who in (outsider, analyst, t.make.admin):
        response = call(t.client, who, method, path.format(space=space, fact=fact["id"]), body)
        assert response.status_code == 404, (who.person.display_name, response.text)
        assert response.json()["error"]["code"] == "not_found"
        assert SECRET not in response.text
        assert "Nightjar" not in response.text
        missing = call(t.client, who, method, path.format(space=MISSING, fact=MISSING), body)
        assert missing.status_code == 404
        assert re.sub(r"\d+", "#", missing.text) == re.sub(r"\d+", "#", response.text)
    assert ok(call(t.client, owner, "GET", f"/facts/{fact['id']}/history")) == before
    assert set(seen_rows(t.app, fact["id"])) == {owner.id}


def test_lists_and_seen_reports_skip_a_private_spaces_facts(t: Timed) -> None:
    owner, outsider = t.make.person(), t.make.person()
    private = new_space(t, owner, "Nightjar", private=True)
    public = new_space(t, owner, "Square")
    hidden = new_fact(t, owner, private, title=f"{SECRET} terms")
    shown = new_fact(t, owner, public, title="Open terms")
    for query in ("", f"?owner_id={owner.id}", "?q=terms", "?include_archived=true&sort=updated"):
        response = call(t.client, outsider, "GET", f"/facts{query}")
        assert [f["id"] for f in ok(response)["items"]] == [shown["id"]]
        assert SECRET not in response.text
    assert ok(
        call(t.client, outsider, "POST", "/facts/seen", {"fact_ids": [hidden["id"], shown["id"], MISSING]})
    ) == {"newly_seen": [shown["id"]]}
    assert set(seen_rows(t.app, hidden["id"])) == {owner.id}
    assert {f["id"] for f in ok(call(t.client, owner, "GET", "/facts"))["items"]} == {
        hidden["id"],
        shown["id"],
    }


# lists


def test_filters_sorting_and_pages(t: Timed) -> None:
    owner, member = t.make.person("Olga"), t.make.person("Mika")
    space = new_space(t, owner, "Sales", member)
    other = new_space(t, owner, "Support", member)
    made = {}
    for title, author, due in [
        ("Price list EMEA", owner, "2026-03-05"),
        ("Price list APAC", member, "2026-03-20"),
        ("Discount 10%", owner, "2026-03-05"),
        ("Support hours", member, "2026-06-01"),
        ("Escalation path", owner, "2026-04-01"),
    ]:
        made[title] = new_fact(t, author, space, title=title, review_by=due)["id"]
        t.clock.advance(minutes=1)
    elsewhere = new_fact(t, owner, other, title="Price list (support)", review_by="2026-03-03")["id"]

    def ids(query: str, path: str = f"/spaces/{space}/facts") -> list[int]:
        return [f["id"] for f in ok(call(t.client, member, "GET", f"{path}?{query}"))["items"]]

    by = made.__getitem__
    assert ids("") == [
        by("Price list EMEA"),
        by("Discount 10%"),
        by("Price list APAC"),
        by("Escalation path"),
        by("Support hours"),
    ]
    assert ids("sort=updated") == [made[k] for k in reversed(list(made))]
    assert ids(f"owner_id={member.id}") == [by("Price list APAC"), by("Support hours")]
    assert ids("q=price LIST") == [by("Price list EMEA"), by("Price list APAC")]
    assert ids("q=10%") == [by("Discount 10%")]
    assert ids("q=%") == [by("Discount 10%")]  # a literal %, not a wildcard
    assert ids("due_within=3") == [by("Price list EMEA"), by("Discount 10%")]
    assert ids("due_within=30") == [
        by("Price list EMEA"),
        by("Discount 10%"),
        by("Price list APAC"),
        by("Escalation path"),
    ]
    assert ids("overdue=true") == []
    assert ids("q=price", "/facts") == [elsewhere, by("Price list EMEA"), by("Price list APAC")]
    assert ids(f"q=price&space_id={other}", "/facts") == [elsewhere]
    # Time passes: the 5 March facts fall overdue and stay "due" within any window.
    t.clock.advance(days=5)
    assert ids("overdue=true") == [by("Price list EMEA"), by("Discount 10%")]
    assert ids("overdue=false") == [by("Price list APAC"), by("Escalation path"), by("Support hours")]
    assert ids("due_within=0") == [by("Price list EMEA"), by("Discount 10%")]
    listed = ok(call(t.client, member, "GET", f"/spaces/{space}/facts?overdue=true"))["items"]
    assert [f["overdue"] for f in listed] == [True, True]
    assert ok(call(t.client, member, "GET", f"/facts/{by('Support hours')}"))["overdue"] is False
    # Pages of two in both orders walk every fact once, ties on the date broken by id.
    for sort in ("review_by", "updated"):
        seen: list[int] = []
        cursor = ""
        while True:
            page = ok(call(t.client, member, "GET", f"/spaces/{space}/facts?sort={sort}&limit=2{cursor}"))
            seen += [f["id"] for f in page["items"]]
            if page["next_cursor"] is None:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert seen == ids(f"sort={sort}")
    page = ok(call(t.client, member, "GET", f"/spaces/{space}/facts?limit=2"))
    refused(
        call(t.client, member, "GET", f"/spaces/{space}/facts?sort=updated&cursor={page['next_cursor']}"),
        422,
        "cursor",
    )


# overdue


def test_overdue_facts_are_flagged_to_their_owner_once_per_review_date(t: Timed) -> None:
    owner, member = t.make.person("Olga"), t.make.person("Mika")
    space = new_space(t, owner, "Sales", member)
    fact = new_fact(t, owner, space, review_by="2026-03-10", owner_id=member.id)
    archived = new_fact(t, owner, space, review_by="2026-03-04")
    ok(call(t.client, owner, "POST", f"/facts/{archived['id']}/archive"))
    assert [j.name for j in jobs.all_jobs()].count("facts.overdue") == 1
    job = next(j for j in jobs.all_jobs() if j.name == "facts.overdue")
    assert job.run is fact_actions.flag_overdue
    assert job.every_seconds == 300
    assert job.run(t.app) == 0
    t.clock.advance(days=8)  # 10 March: due today, not overdue yet
    assert job.run(t.app) == 0
    assert ok(call(t.client, member, "GET", f"/facts/{fact['id']}"))["overdue"] is False
    t.clock.advance(days=1)  # 11 March
    assert ok(call(t.client, member, "GET", f"/facts/{fact['id']}"))["overdue"] is True
    assert job.run(t.app) == 1
    assert job.run(t.app) == 0
    t.clock.advance(days=3)
    assert job.run(t.app) == 0  # told once per date
    told = notes(t.app, member, "fact_overdue")
    assert [(n.fact_id, n.space_id, n.actor_id, n.held, n.payload) for n in told] == [
        (
            fact["id"],
            space,
            None,
            False,
            {"fact_title": "Price list", "review_by": "2026-03-10", "days_overdue": 1},
        )
    ]
    assert notes(t.app, owner) == []
    # Reviewed: due again later, no longer overdue; falling overdue again is told again.
    reviewed = ok(call(t.client, member, "POST", f"/facts/{fact['id']}/review", {"review_by": "2026-03-20"}))
    assert reviewed["overdue"] is False
    assert reviewed["version"] == 2
    history = ok(call(t.client, member, "GET", f"/facts/{fact['id']}/history"))["versions"]
    assert history[-1]["note"] == "reviewed"
    assert job.run(t.app) == 0
    t.clock.advance(days=7)  # 21 March
    assert job.run(t.app) == 1
    assert [n.payload["review_by"] for n in notes(t.app, member, "fact_overdue")] == [
        "2026-03-20",
        "2026-03-10",
    ]
    # A review without a date: due 90 days from today.
    again = ok(call(t.client, member, "POST", f"/facts/{fact['id']}/review", {}))
    assert again["review_by"] == "2026-06-19"


def test_a_fact_written_with_a_past_review_date_is_overdue_at_once(t: Timed) -> None:
    owner = t.make.person()
    space = new_space(t, owner, "Sales")
    fact = new_fact(t, owner, space, review_by="2026-02-20")
    assert fact["overdue"] is True
    assert [f["id"] for f in ok(call(t.client, owner, "GET", "/facts?overdue=true"))["items"]] == [fact["id"]]
    assert fact_actions.flag_overdue(t.app) == 1
    assert [n.payload["days_overdue"] for n in notes(t.app, owner, "fact_overdue")] == [10]
    reviewed = ok(call(t.client, owner, "POST", f"/facts/{fact['id']}/review", {}))
    assert (reviewed["overdue"], reviewed["review_by"]) == (False, "2026-05-31")


def test_an_owner_who_muted_the_space_is_still_told_and_quiet_hours_hold_it(t: Timed) -> None:
    owner = t.make.person("Olga")
    night = t.make.person("Nat", timezone="Asia/Tokyo", work_start="09:00", work_end="17:00")
    space = new_space(t, owner, "Sales", night)
    ok(call(t.client, owner, "PUT", f"/spaces/{space}/notification-level", {"notification_level": "mute"}))
    mine = new_fact(t, owner, space, review_by="2026-03-03")
    theirs = new_fact(t, night, space, review_by="2026-03-03")
    t.clock.advance(days=2, hours=12)  # Wednesday 21:00 UTC: Thursday 06:00 in Tokyo
    assert fact_actions.flag_overdue(t.app) == 2
    assert [(n.fact_id, n.held) for n in notes(t.app, owner, "fact_overdue")] == [(mine["id"], True)]
    assert [(n.fact_id, n.held) for n in notes(t.app, night, "fact_overdue")] == [(theirs["id"], True)]


# seen


def test_seen_keeps_the_highest_version_and_the_first_and_last_time(t: Timed) -> None:
    owner, member, reader = t.make.person(), t.make.person(), t.make.person()
    space = new_space(t, owner, "Sales", member)
    fact = new_fact(t, owner, space)
    start = t.clock.now
    assert seen_rows(t.app, fact["id"]) == {owner.id: (1, start, start)}  # the writer saw it
    t.clock.advance(minutes=5)
    assert ok(call(t.client, member, "POST", "/facts/seen", {"fact_ids": [fact["id"], fact["id"]]})) == {
        "newly_seen": [fact["id"]]
    }
    first = t.clock.now
    t.clock.advance(minutes=5)
    assert ok(call(t.client, member, "POST", "/facts/seen", {"fact_ids": [fact["id"]]})) == {"newly_seen": []}
    ok(call(t.client, owner, "PATCH", f"/facts/{fact['id']}", {"title": "New title"}))
    t.clock.advance(minutes=5)
    ok(call(t.client, reader, "GET", f"/facts/{fact['id']}"))  # a non-member reading a public space
    ok(call(t.client, member, "GET", f"/facts/{fact['id']}"))
    rows = seen_rows(t.app, fact["id"])
    assert rows[member.id] == (2, first, t.clock.now)
    assert rows[reader.id] == (2, t.clock.now, t.clock.now)
    assert rows[owner.id] == (2, start, first + timedelta(minutes=5))  # the editor saw what they wrote


def test_the_clock_is_utc_for_today(t: Timed) -> None:
    assert fact_actions.today_of(t.app).isoformat() == TODAY
    t.clock.now = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    assert fact_actions.today_of(t.app).isoformat() == TODAY
