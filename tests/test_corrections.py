"""Corrections reach exactly the people who saw the earlier version, and nobody else; the
metrics count how many of them have seen the correction since. Facts and posts, both
engines, through the real HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from tests.conftest import Actor
from tests.movable_clock import Timed, timed_app
from tests.test_facts import call, new_fact, new_space, notes, ok, refused

from kith.actions import corrections
from kith.actions.events import list_since
from kith.domain.models import Notification


@pytest.fixture
def t(database_url: str) -> Iterator[Timed]:
    with timed_app(database_url) as timed:
        yield timed


def told(t: Timed, people: dict[str, Actor]) -> dict[str, list[Notification]]:
    """Each named person's correction notifications (only those who have any)."""
    found = {name: notes(t.app, actor, "correction") for name, actor in people.items()}
    return {name: items for name, items in found.items() if items}


def space_corrections(t: Timed, actor: Actor, space: int, query: str = "") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(call(t.client, actor, "GET", f"/spaces/{space}/corrections{query}"))[
        "items"
    ]
    return items


def see_posts(t: Timed, actor: Actor, *post_ids: int) -> None:
    ok(call(t.client, actor, "POST", "/seen", {"post_ids": list(post_ids)}))


def start_topic(t: Timed, author: Actor, space: int, body: str) -> tuple[int, int]:
    created = ok(
        call(t.client, author, "POST", f"/spaces/{space}/topics", {"title": "Prices", "body": body}), 201
    )
    return created["topic"]["id"], created["post"]["id"]


# facts


def test_a_fact_correction_tells_exactly_who_saw_an_earlier_version(t: Timed) -> None:
    make = t.make
    people = {name: make.person(name) for name in ("owner", "author", "poster", "getter", "never", "reader")}
    owner, author, poster, getter, never, reader = people.values()
    space = new_space(t, owner, "Sales", author, poster, getter, never)
    fact = new_fact(t, author, space, body="Price is 100.\nValid in EMEA.", source_url="https://ex.com/a")
    fid = fact["id"]
    ok(call(t.client, poster, "POST", "/facts/seen", {"fact_ids": [fid]}))  # on screen
    ok(call(t.client, getter, "GET", f"/facts/{fid}"))  # fetched
    ok(call(t.client, reader, "GET", f"/facts/{fid}"))  # a non-member reading a public space
    ok(call(t.client, owner, "GET", f"/facts/{fid}"))  # the editor-to-be saw it too
    assert corrections.summary(t.app, space, None, None) == corrections.CorrectionCounts(0, 0, 0)
    t.clock.advance(minutes=10)
    edited = ok(
        call(
            t.client,
            owner,
            "PATCH",
            f"/facts/{fid}",
            {"body": "Price is 120.\nValid in EMEA.", "source_url": "https://ex.com/b", "note": "new list"},
        )
    )
    assert edited["version"] == 2
    got = told(t, people)
    assert set(got) == {"author", "poster", "getter", "reader"}  # not the editor, not who never saw it
    (correction_id,) = {n.correction_id for items in got.values() for n in items}
    for items in got.values():
        (note,) = items
        assert (note.fact_id, note.space_id, note.actor_id, note.held) == (fid, space, owner.id, False)
        assert note.payload["changed"] == ["body", "source_url"]
        assert note.payload["changes"] == {
            "body": "@@ -1,2 +1,2 @@\n-Price is 100.\n+Price is 120.\n Valid in EMEA.",
            "source_url": {"was": "https://ex.com/a", "now": "https://ex.com/b"},
        }
        assert (note.payload["from_version"], note.payload["to_version"]) == (1, 2)
        assert note.payload["summary"] == "text, source changed: new list"
    (listed,) = space_corrections(t, never, space)
    assert listed == {
        "id": correction_id,
        "space_id": space,
        "kind": "fact",
        "fact_id": fid,
        "from_version": 1,
        "to_version": 2,
        "post_id": None,
        "correction_post_id": None,
        "author_id": owner.id,
        "summary": "text, source changed: new list",
        "recipients": 4,
        "seen_since": 0,
        "created_at": "2026-03-02T09:10:00+00:00",
    }
    # The event says the same, with no names in it.
    (event,) = [e for e in list_since(t.app, 0) if e.type == "correction.created"]
    assert (event.space_id, event.actor_id, event.audience_id, event.payload) == (
        space,
        owner.id,
        None,
        listed,
    )
    # Seeing the new version counts; seeing the old one again (impossible now) or not at all does not.
    ok(call(t.client, getter, "GET", f"/facts/{fid}"))
    ok(call(t.client, never, "GET", f"/facts/{fid}"))  # not a recipient: not counted
    assert space_corrections(t, never, space)[0]["seen_since"] == 1
    ok(call(t.client, poster, "POST", "/facts/seen", {"fact_ids": [fid]}))
    assert space_corrections(t, never, space)[0]["seen_since"] == 2
    assert corrections.summary(t.app, space, None, None) == corrections.CorrectionCounts(1, 4, 2)


def test_only_content_changes_are_corrections_and_later_ones_tell_the_later_viewers(t: Timed) -> None:
    owner, early, middle, late = (t.make.person(n) for n in ("owner", "early", "middle", "late"))
    people = {"owner": owner, "early": early, "middle": middle, "late": late}
    space = new_space(t, owner, "Sales", early, middle, late)
    fid = new_fact(t, owner, space, title="Discount")["id"]
    ok(call(t.client, early, "GET", f"/facts/{fid}"))  # saw v1
    # A new review-by date and a new owner: versions, but no correction.
    ok(call(t.client, owner, "POST", f"/facts/{fid}/review", {"review_by": "2026-04-01"}))
    ok(call(t.client, owner, "PATCH", f"/facts/{fid}", {"owner_id": middle.id, "review_by": "2026-05-01"}))
    assert told(t, people) == {}
    assert space_corrections(t, owner, space) == []
    ok(call(t.client, middle, "GET", f"/facts/{fid}"))  # saw v3
    # The new owner changes the title: v4 tells whoever saw v1..v3 (the old owner wrote v1..v3).
    ok(call(t.client, middle, "PATCH", f"/facts/{fid}", {"title": "Discount 2026"}))
    assert set(told(t, people)) == {"owner", "early"}
    ok(call(t.client, late, "GET", f"/facts/{fid}"))  # saw v4
    ok(call(t.client, early, "GET", f"/facts/{fid}"))  # caught up with v4
    t.clock.advance(minutes=1)
    ok(call(t.client, middle, "PATCH", f"/facts/{fid}", {"title": "Discount 2026 (EMEA)"}))
    got = told(t, people)
    assert {name: len(items) for name, items in got.items()} == {"owner": 2, "early": 2, "late": 1}
    newest = got["late"][0]
    assert newest.payload["changes"] == {"title": {"was": "Discount 2026", "now": "Discount 2026 (EMEA)"}}
    assert newest.payload["summary"] == "title changed"
    assert [
        (c["from_version"], c["to_version"], c["recipients"]) for c in space_corrections(t, owner, space)
    ] == [
        (4, 5, 3),
        (3, 4, 2),
    ]
    # early saw v4, so for the v3->v4 correction they have seen it since; owner has not.
    assert [c["seen_since"] for c in space_corrections(t, owner, space)] == [0, 1]


def test_fact_corrections_in_a_private_space_skip_former_members_and_mute_holds(t: Timed) -> None:
    owner, muted, gone, outsider = (t.make.person(n) for n in ("owner", "muted", "gone", "outsider"))
    night = t.make.person("night", timezone="Asia/Tokyo")
    people = {"owner": owner, "muted": muted, "gone": gone, "outsider": outsider, "night": night}
    space = new_space(t, owner, "Nightjar", muted, gone, night, private=True)
    ok(call(t.client, muted, "PUT", f"/spaces/{space}/notification-level", {"notification_level": "mute"}))
    fid = new_fact(t, owner, space)["id"]
    for who in (muted, gone, night):
        ok(call(t.client, who, "GET", f"/facts/{fid}"))
    refused(call(t.client, outsider, "GET", f"/facts/{fid}"), 404)
    ok(call(t.client, owner, "DELETE", f"/spaces/{space}/members/{gone.id}"), 204)
    ok(call(t.client, owner, "PATCH", f"/facts/{fid}", {"body": "Now it is different."}))
    got = told(t, people)
    # Muted: held for the digest, never dropped. Tokyo at 18:00: outside working hours, held.
    assert {name: [n.held for n in items] for name, items in got.items()} == {
        "muted": [True],
        "night": [True],
    }
    assert space_corrections(t, owner, space)[0]["recipients"] == 2


# posts


def test_a_post_correction_tells_exactly_the_earlier_viewers(t: Timed) -> None:
    names = ("author", "fixer", "seer", "muted", "digest", "never", "gone", "outsider", "tokyo")
    people = {
        name: t.make.person(name, **({"timezone": "Asia/Tokyo"} if name == "tokyo" else {})) for name in names
    }
    author, fixer, seer, muted, digest, never, gone, outsider, tokyo = people.values()
    space = new_space(t, author, "Nightjar", fixer, seer, muted, digest, never, gone, tokyo, private=True)
    ok(call(t.client, muted, "PUT", f"/spaces/{space}/notification-level", {"notification_level": "mute"}))
    ok(call(t.client, digest, "PUT", f"/spaces/{space}/notification-level", {"notification_level": "digest"}))
    topic, wrong = start_topic(t, author, space, "The price is 100")
    other = ok(call(t.client, author, "POST", f"/topics/{topic}/posts", {"body": "Unrelated"}), 201)["id"]
    see_posts(t, author, wrong)  # one's own post: no receipt
    for who in (fixer, seer, muted, digest, gone, tokyo):
        see_posts(t, who, wrong)
    see_posts(t, never, other)  # saw another post only
    see_posts(t, outsider, wrong)  # may not read it: ignored
    ok(call(t.client, author, "DELETE", f"/spaces/{space}/members/{gone.id}"), 204)
    t.clock.advance(minutes=30)
    fix = ok(
        call(
            t.client,
            fixer,
            "POST",
            f"/topics/{topic}/posts",
            {"body": "No: it is 120", "correction_of_id": wrong},
        ),
        201,
    )
    assert fix["correction_of_id"] == wrong
    got = told(t, people)
    assert {name: [n.held for n in items] for name, items in got.items()} == {
        "seer": [False],
        "muted": [True],  # muted: held, still told
        "digest": [True],
        "tokyo": [True],  # 18:30 in Tokyo: after working hours
    }
    note = got["seer"][0]
    assert (note.post_id, note.topic_id, note.space_id, note.actor_id) == (fix["id"], topic, space, fixer.id)
    assert note.payload == {
        "topic_title": "Prices",
        "corrected_post_id": wrong,
        "was": "The price is 100",
        "now": "No: it is 120",
    }
    (listed,) = space_corrections(t, seer, space, "?kind=post")
    assert space_corrections(t, seer, space, "?kind=fact") == []
    assert listed["kind"] == "post"
    assert (listed["post_id"], listed["correction_post_id"], listed["author_id"]) == (
        wrong,
        fix["id"],
        fixer.id,
    )
    assert (listed["recipients"], listed["seen_since"], listed["summary"]) == (4, 0, "No: it is 120")
    (event,) = [e for e in list_since(t.app, 0) if e.type == "correction.created"]
    assert (event.space_id, event.audience_id, event.payload) == (space, None, listed)
    # "Have since seen": a seen receipt of the correcting post, by a recipient.
    see_posts(t, seer, fix["id"])
    assert space_corrections(t, seer, space)[0]["seen_since"] == 1
    see_posts(t, never, fix["id"])  # not a recipient
    see_posts(t, author, fix["id"])
    see_posts(t, muted, wrong)  # the old post again: not the correction
    assert space_corrections(t, seer, space)[0]["seen_since"] == 1
    see_posts(t, muted, fix["id"], fix["id"])
    assert space_corrections(t, seer, space)[0]["seen_since"] == 2
    assert corrections.summary(t.app, space, None, None) == corrections.CorrectionCounts(1, 4, 2)


def test_in_a_public_space_a_non_member_who_saw_the_post_is_told(t: Timed) -> None:
    """Public space: a non-member who saw the post may read it and is told; a member who
    saw only the correction is not."""
    author, fixer, passer, late = (t.make.person(n) for n in ("author", "fixer", "passer", "late"))
    space = new_space(t, author, "Square", fixer, late)
    topic, wrong = start_topic(t, author, space, "Opening hours are 9-5")
    see_posts(t, passer, wrong)
    see_posts(t, fixer, wrong)
    fix = ok(
        call(
            t.client, fixer, "POST", f"/topics/{topic}/posts", {"body": "8-4 now", "correction_of_id": wrong}
        ),
        201,
    )
    see_posts(t, late, fix["id"])
    got = told(t, {"author": author, "fixer": fixer, "passer": passer, "late": late})
    assert set(got) == {"passer"}
    assert space_corrections(t, late, space)[0]["recipients"] == 1


def test_a_post_correction_must_correct_an_earlier_post_of_the_space(t: Timed) -> None:
    author = t.make.person()
    space = new_space(t, author, "Square")
    other_space = new_space(t, author, "Elsewhere")
    topic, first = start_topic(t, author, space, "one")
    _other_topic, elsewhere = start_topic(t, author, other_space, "two")
    events = len(list_since(t.app, 0))
    for bad in (elsewhere, first + 100, 999_999):
        response = call(
            t.client, author, "POST", f"/topics/{topic}/posts", {"body": "fix", "correction_of_id": bad}
        )
        refused(response, 422, "correction_of_id")
    assert len(list_since(t.app, 0)) == events
    assert len(ok(call(t.client, author, "GET", f"/topics/{topic}/posts"))["items"]) == 1
    assert space_corrections(t, author, space) == []


# the metrics helper and the list


def test_summary_counts_a_period_of_both_kinds(t: Timed) -> None:
    owner, a, b = (t.make.person(n) for n in ("owner", "a", "b"))
    space = new_space(t, owner, "Sales", a, b)
    quiet = new_space(t, owner, "Quiet", a)
    start = t.clock.now
    fid = new_fact(t, owner, space)["id"]
    for who in (a, b):
        ok(call(t.client, who, "GET", f"/facts/{fid}"))
    t.clock.advance(hours=1)
    ok(call(t.client, owner, "PATCH", f"/facts/{fid}", {"title": "Changed"}))  # 10:00, told a and b
    t.clock.advance(hours=1)
    topic, wrong = start_topic(t, owner, space, "wrong")
    see_posts(t, a, wrong)
    t.clock.advance(hours=1)
    fix = ok(
        call(t.client, owner, "POST", f"/topics/{topic}/posts", {"body": "right", "correction_of_id": wrong}),
        201,
    )
    ok(call(t.client, a, "GET", f"/facts/{fid}"))
    see_posts(t, a, fix["id"])
    hour = timedelta(hours=1)
    assert corrections.summary(t.app, space, start, start + 4 * hour) == corrections.CorrectionCounts(2, 3, 2)
    assert corrections.summary(t.app, space, start, start + hour) == corrections.CorrectionCounts(0, 0, 0)
    assert corrections.summary(t.app, space, start + hour, start + 2 * hour) == corrections.CorrectionCounts(
        1, 2, 1
    )
    assert corrections.summary(t.app, space, start + 2 * hour, None) == corrections.CorrectionCounts(1, 1, 1)
    assert corrections.summary(t.app, quiet, None, None) == corrections.CorrectionCounts(0, 0, 0)
    with t.app.db.read() as conn:  # a connection works as well as the App
        assert corrections.summary(conn, space, None, None) == corrections.CorrectionCounts(2, 3, 2)


def test_corrections_list_pages_newest_first_and_checks_its_input(t: Timed) -> None:
    owner, reader = t.make.person(), t.make.person()
    space = new_space(t, owner, "Sales", reader)
    fid = new_fact(t, owner, space)["id"]
    for n in range(3):
        ok(call(t.client, reader, "GET", f"/facts/{fid}"))
        ok(call(t.client, owner, "PATCH", f"/facts/{fid}", {"title": f"Title {n}"}))
    page = ok(call(t.client, reader, "GET", f"/spaces/{space}/corrections?limit=2"))
    assert [c["to_version"] for c in page["items"]] == [4, 3]
    rest = ok(
        call(t.client, reader, "GET", f"/spaces/{space}/corrections?limit=2&cursor={page['next_cursor']}")
    )
    assert ([c["to_version"] for c in rest["items"]], rest["next_cursor"]) == ([2], None)
    refused(call(t.client, reader, "GET", f"/spaces/{space}/corrections?kind=rumour"), 422, "kind")
    refused(call(t.client, reader, "GET", f"/spaces/{space}/corrections?cursor=x"), 422, "cursor")
    refused(call(t.client, reader, "GET", f"/spaces/{space}/corrections?limit=500"), 422, "limit")
