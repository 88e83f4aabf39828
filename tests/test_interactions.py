"""Interactions: Kith's own activity as ties, and the import loader (runs, dedupe, undo)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from tests.conftest import Factory

from kith.actions import interactions, posts, receipts, spaces, topics
from kith.actions.interactions import ImportFailed
from kith.app import App
from kith.domain.errors import Forbidden, NotFound
from kith.domain.interactions import InteractionRecord
from kith.storage import interactions as store
from kith.storage.tables import discovered_people, people
from kith.storage.tables import interactions as interactions_table


def _ties(app: App, kind: str | None = None) -> dict[tuple[int, int, str], float]:
    """Every interaction as (source, target, kind) -> summed weight."""
    query = sa.select(
        interactions_table.c.source_id,
        interactions_table.c.target_id,
        interactions_table.c.kind,
        sa.func.sum(interactions_table.c.weight),
    ).group_by(interactions_table.c.source_id, interactions_table.c.target_id, interactions_table.c.kind)
    if kind is not None:
        query = query.where(interactions_table.c.kind == kind)
    with app.db.read() as conn:
        return {(s, t, k): round(w, 6) for s, t, k, w in conn.execute(query)}


# Kith's own activity


def test_replies_mentions_reactions_answers_and_sightings_become_ties(app: App, make: Factory) -> None:
    ana, bo, cy, di = (make.person(n) for n in ("Ana", "Bo", "Cy", "Di"))
    space = spaces.check_create_space(app, ana.viewer, name="Floor")
    for actor in (bo, cy, di):
        spaces.check_join(app, actor.viewer, space.space.id)
    topic, first = topics.check_create_topic(
        app,
        ana.viewer,
        space.space.id,
        title="Who knows?",
        body=f"asking @{cy.person.handle}",
        is_question=True,
    )
    assert _ties(app) == {(ana.id, cy.id, "mention"): 1.0}

    b = posts.check_create_post(app, bo.viewer, topic.id, "me")
    c = posts.check_create_post(app, cy.viewer, topic.id, "and me", reply_to_id=b.id)
    posts.check_create_post(app, di.viewer, topic.id, "all of us, @space")
    replies = _ties(app, "reply")
    assert replies == {
        (bo.id, ana.id, "reply"): 1.0,
        (cy.id, ana.id, "reply"): 1.0,  # the topic's author
        (cy.id, bo.id, "reply"): 1.0,  # the post replied to
        (di.id, ana.id, "reply"): 1.0,
        (di.id, bo.id, "reply"): 0.25,  # earlier participants, weaker
        (di.id, cy.id, "reply"): 0.25,
    }
    assert not _ties(app, "mention").keys() - {(ana.id, cy.id, "mention")}  # @space adds no tie

    posts.check_react(app, di.viewer, c.id, "thumbsup")
    posts.check_react(app, di.viewer, c.id, "tada")
    posts.check_react(app, cy.viewer, c.id, "tada")  # one's own post: no tie
    posts.check_react(app, di.viewer, c.id, "tada", add=False)  # taking it back: no tie
    assert _ties(app, "reaction") == {(di.id, cy.id, "reaction"): 1.0}

    topics.check_accept_answer(app, ana.viewer, topic.id, c.id)
    topics.check_accept_answer(app, ana.viewer, topic.id, c.id)  # again: nothing new
    assert _ties(app, "answer") == {(ana.id, cy.id, "answer"): 3.0, (cy.id, ana.id, "answer"): 3.0}

    receipts.check_mark_seen(app, bo.viewer, [first.id, c.id, b.id])
    receipts.check_mark_seen(app, bo.viewer, [first.id])  # seen already: nothing new
    assert _ties(app, "seen") == {(bo.id, ana.id, "seen"): 0.1, (bo.id, cy.id, "seen"): 0.1}


# the loader


AT = datetime(2001, 5, 1, 9, 0, tzinfo=UTC)


def _records(
    pairs: list[tuple[str, str]], *, origin: str = "email", kind: str = "mail"
) -> list[InteractionRecord]:
    return [
        InteractionRecord(s, t, kind, AT + timedelta(minutes=i), origin, 1.0, f"<m{i}@example.com>")  # type: ignore[arg-type]
        for i, (s, t) in enumerate(pairs)
    ]


def test_load_matches_discovers_and_leaves_out_external_addresses(app: App, make: Factory) -> None:
    ana, bo = make.person("Ana", email="ana@example.com"), make.person("Bo", email="bo@example.com")
    records = _records(
        [
            ("ana@example.com", "bo@example.com"),
            ("bo@example.com", "carla@example.com"),  # the organisation's domain, not in the directory
            ("ana@example.com", "someone@elsewhere.org"),  # external
            ("ana@example.com", "ana@example.com"),  # to oneself
        ]
    )
    result = interactions.load(
        app, make.admin.viewer, "email", "test.mbox", records, names={"carla@example.com": "Carla Díaz"}
    )
    assert result.status == "done"
    assert result.stats["interactions_new"] == 2
    assert result.stats["people_discovered"] == 1
    assert result.stats["ties_external"] == 1
    assert result.stats["ties_to_self"] == 1
    with app.db.read() as conn:
        carla = conn.execute(sa.select(people).where(people.c.email == "carla@example.com")).mappings().one()
    assert carla["display_name"] == "Carla Díaz"
    assert carla["active"] is False
    ties = _ties(app)
    assert ties == {(ana.id, bo.id, "mail"): 1.0, (bo.id, carla["id"], "mail"): 1.0}

    again = interactions.load(app, make.admin.viewer, "email", "test.mbox", records)
    assert again.stats["interactions_new"] == 0
    assert again.stats["interactions_already_known"] == 2
    assert _ties(app) == ties


def test_a_source_that_fails_half_way_leaves_nothing(app: App, make: Factory) -> None:
    make.person("Ana", email="ana@example.com")

    def corrupt() -> Iterator[InteractionRecord]:
        for i in range(interactions.CHUNK * 2 + 10):  # two chunks are written before it fails
            yield InteractionRecord(
                "ana@example.com", f"new{i % 50}@example.com", "mail", AT + timedelta(seconds=i), "email"
            )
        raise ImportFailed("broken.mbox, message 10011", "the headers cannot be read")

    with pytest.raises(ImportFailed, match=r"broken\.mbox, message 10011"):
        interactions.load(app, make.admin.viewer, "email", "broken.mbox", corrupt())
    with app.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(interactions_table)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(discovered_people)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(people)).scalar_one() == 2  # admin, Ana
        runs = store.list_runs(conn)
    assert runs[0]["status"] == "failed"
    assert "message 10011" in runs[0]["error"]


def test_undo_removes_a_run_and_only_the_people_it_alone_discovered(app: App, make: Factory) -> None:
    make.person("Ana", email="ana@example.com")
    first = interactions.load(
        app,
        make.admin.viewer,
        "edges",
        "a.csv",
        _records([("ana@example.com", "x@example.com")], origin="csv"),
    )
    second = interactions.load(
        app,
        make.admin.viewer,
        "edges",
        "b.csv",
        [
            InteractionRecord("x@example.com", "ana@example.com", "edge", AT, "csv"),
            InteractionRecord("ana@example.com", "y@example.com", "edge", AT, "csv"),
        ],
    )
    assert second.stats["people_discovered"] == 1  # y; x was known from the first run
    undone = interactions.undo(app, make.admin.viewer, second.run_id)
    assert undone.stats["undone_interactions"] == 2
    assert undone.stats["undone_people"] == 1
    with app.db.read() as conn:
        emails = {row[0] for row in conn.execute(sa.select(people.c.email))}
        assert "x@example.com" in emails
        assert "y@example.com" not in emails
        assert store.get_run(conn, second.run_id)["status"] == "undone"  # type: ignore[index]
        assert store.count_for_run(conn, first.run_id) == 1
    with pytest.raises(NotFound):
        interactions.undo(app, make.admin.viewer, 999_999)


def test_only_finished_runs_count_in_the_network(app: App, make: Factory) -> None:
    make.person("Ana", email="ana@example.com")
    make.person("Bo", email="bo@example.com")
    interactions.load(
        app, make.admin.viewer, "email", "m.mbox", _records([("ana@example.com", "bo@example.com")])
    )
    with app.db.transaction() as tx:
        running = store.create_run(tx.conn, "email", "half.mbox", AT, None)
        bo = tx.conn.execute(sa.select(people.c.id).where(people.c.email == "bo@example.com")).scalar_one()
        ana = tx.conn.execute(sa.select(people.c.id).where(people.c.email == "ana@example.com")).scalar_one()
        store.insert(
            tx.conn,
            [
                {
                    "source_id": bo,
                    "target_id": ana,
                    "kind": "mail",
                    "at": AT,
                    "weight": 1.0,
                    "origin": "email",
                    "context": "<half@example.com>",
                    "run_id": running,
                    "dedupe_key": "half",
                }
            ],
        )
    with app.db.read() as conn:
        columns = store.window(conn, None, None)
    assert columns["source"].tolist() == [ana]
    assert columns["target"].tolist() == [bo]
    with app.db.read() as conn:
        assert store.window(conn, AT + timedelta(days=1), None)["source"].size == 0


def test_only_administrators_import(app: App, make: Factory) -> None:
    member = make.person("Member")
    with pytest.raises(Forbidden):
        interactions.load(app, member.viewer, "email", "x.mbox", [])
    with pytest.raises(Forbidden):
        interactions.undo(app, member.viewer, 1)
