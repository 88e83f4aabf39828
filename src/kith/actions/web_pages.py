"""Reads the web pages need beyond the API's: names for ids, a person's spaces, my posts'
seen counts, and where the event log stands.

Each read checks the viewer's right to what it returns, as every ``get_*`` does: a private
space (and so whether someone belongs to it) stays hidden from those who may not see it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from kith.actions.access import access_readable_space, access_topic
from kith.app import App
from kith.domain import permissions
from kith.domain.errors import NotFound
from kith.domain.models import Membership, Person, Post, Space, Viewer
from kith.storage import events, people, receipts, spaces
from kith.storage import metrics as metrics_store

MAX_NAMES = 1000


def last_event_id(app: App) -> int:
    """The newest event id: a page rendered after reading it resumes the stream from it,
    so nothing that happens between the render and the stream's opening is missed."""
    with app.db.read() as conn:
        return events.last_id(conn)


def get_people(app: App, viewer: Viewer, person_ids: Collection[int]) -> dict[int, Person]:
    """People by id (the directory is readable by everyone signed in), at most MAX_NAMES."""
    wanted = sorted(set(person_ids))[:MAX_NAMES]
    if not wanted:
        return {}
    with app.db.read() as conn:
        return people.get_many(conn, wanted)


@dataclass(frozen=True, slots=True)
class PersonSpace:
    """A space someone belongs to, as the viewer may see it."""

    space: Space
    membership: Membership


def list_person_spaces(app: App, viewer: Viewer, person_id: int) -> list[PersonSpace]:
    """The spaces ``person_id`` belongs to that the viewer may see exist, by name."""
    with app.db.read() as conn:
        if people.get(conn, person_id) is None:
            raise NotFound(f"no person with id {person_id}")
        theirs = spaces.member_space_ids(conn, person_id)
        visible = spaces.list_visible(conn, viewer.id, see_private=viewer.is_admin, include_archived=False)
        found: list[PersonSpace] = []
        for space, mine in visible:
            if space.id not in theirs or not permissions.can_see_space(viewer, space, mine):
                continue
            membership = spaces.get_membership(conn, space.id, person_id)
            if membership is not None:
                found.append(PersonSpace(space, membership))
    return sorted(found, key=lambda item: item.space.name.lower())


def my_seen_counts(app: App, viewer: Viewer, topic_id: int, shown: Sequence[Post]) -> dict[int, int]:
    """How many members have seen each of the viewer's own posts among ``shown`` (posts of a
    readable topic): authors see their posts' counts, the numbers ``receipts.added`` carries."""
    mine = sorted({p.id for p in shown if p.author_id == viewer.id and p.topic_id == topic_id})
    with app.db.read() as conn:
        access_topic(conn, viewer, topic_id)
        if not mine:
            return {}
        counts = receipts.seen_counts(conn, mine)
    return {post_id: counts.get(post_id, 0) for post_id in mine}


def question_times(
    app: App, viewer: Viewer, space_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime | None]]:
    """When each question of a readable space asked in [``start``, ``end``) was asked and
    first answered (``None``: not yet): the distribution the dashboard draws, where the
    metrics give only its median and 90th percentile."""
    with app.db.read() as conn:
        access_readable_space(conn, viewer, space_id)
        return [(q.created_at, q.first_reply_at) for q in metrics_store.questions(conn, space_id, start, end)]
