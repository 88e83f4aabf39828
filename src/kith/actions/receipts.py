"""Read pointers and seen receipts.

A read pointer is per person and space: everything up to it counts as read, and the unread
count is the live posts by others after it. A seen receipt is written when a post was
actually on someone's screen, once per person and post, at the first sighting: nothing is
written per recipient when a post is sent (architecture rule 7).

A post's seen count is the number of people who have seen it while members of its space:
a sighting counts from the first time the person sees the post as a member, and stays
counted if they leave the space later (they did see it). So a count only ever grows, and
only a report of sightings grows it: REST and events agree without anything to publish
when someone leaves. A non-member's sighting of a public space's post is recorded (for the
interaction graph) but counts only once they see the post again as a member.

Published events, all personal (``audience_id``): ``read.updated`` to the reader (so that
their other devices follow), and ``receipts.added`` to each author whose posts were newly
seen by members, one event per author per report, carrying the new totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from kith.actions import interactions
from kith.actions.access import access_post, access_readable_space
from kith.actions.events import emit
from kith.app import App
from kith.domain.errors import invalid
from kith.domain.models import Viewer
from kith.storage import posts as post_store
from kith.storage import receipts, spaces

MAX_SEEN_PER_REPORT = 500


@dataclass(frozen=True, slots=True)
class ReadState:
    space_id: int
    last_read_post_id: int
    unread_count: int


@dataclass(frozen=True, slots=True)
class SeenSummary:
    """Who has seen a post (while a member of its space): counts for every reader, names
    only where they may see them. ``member_count`` is the space's members now."""

    post_id: int
    member_count: int
    seen_count: int
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    seen_by: tuple[tuple[int, datetime], ...] | None


def check_mark_read(app: App, viewer: Viewer, space_id: int, post_id: int | None = None) -> ReadState:
    """Move the viewer's read pointer in a space to ``post_id`` (default: the newest post)."""
    now = app.clock()
    with app.db.transaction() as tx:
        access_readable_space(tx.conn, viewer, space_id)
        newest = receipts.latest_post_id(tx.conn, space_id)
        target = newest if post_id is None else post_id
        if target > newest:
            raise invalid("post_id", "is not a post of this space")
        pointer = receipts.advance_pointer(tx.conn, viewer.id, space_id, target, now)
        unread = receipts.unread_counts(tx.conn, viewer.id).get(space_id, 0)
        state = ReadState(space_id, pointer, unread)
        emit(
            app,
            tx,
            "read.updated",
            space_id=None,
            actor_id=viewer.id,
            audience_id=viewer.id,
            payload={"space_id": space_id, "last_read_post_id": pointer, "unread_count": unread},
        )
    return state


def unread_counts(app: App, viewer: Viewer) -> tuple[dict[int, int], dict[int, int]]:
    """The viewer's unread counts and read pointers, by space."""
    with app.db.read() as conn:
        return receipts.unread_counts(conn, viewer.id), receipts.read_pointers(conn, viewer.id)


def check_mark_seen(app: App, viewer: Viewer, post_ids: list[int]) -> list[int]:
    """Record that the viewer saw these posts on screen; returns those seen for the first time.

    Posts the viewer may not read, deleted posts and the viewer's own are ignored, without
    saying which, so that the answer reveals nothing about posts one cannot read.
    """
    if len(post_ids) > MAX_SEEN_PER_REPORT:
        raise invalid("post_ids", f"at most {MAX_SEEN_PER_REPORT} per report")
    now = app.clock()
    with app.db.transaction() as tx:
        found = post_store.readable_among(
            tx.conn, sorted(set(post_ids)), spaces.readable_space_ids(viewer.id)
        )
        others = [(pid, author, space_id) for pid, author, space_id in found if author != viewer.id]
        member_of = spaces.member_space_ids(tx.conn, viewer.id) if others else set()
        new, counted = receipts.record_seen(
            tx.conn,
            viewer.id,
            [pid for pid, _a, _s in others],
            now,
            as_member=[pid for pid, _a, space_id in others if space_id in member_of],
        )
        if new:
            fresh_authors = {pid: author for pid, author, _space in others if pid in set(new)}
            interactions.record_seen(tx, viewer.id, fresh_authors, now)
        if counted:
            # The totals count those who saw the post as members, as GET /posts/{id}/seen
            # does; a sighting from outside the space (a public one) changes no total.
            totals = receipts.seen_counts(tx.conn, counted)
            by_author: dict[int, list[int]] = defaultdict(list)
            for pid, author, _space in others:
                if pid in totals:
                    by_author[author].append(pid)
            for author, ids in by_author.items():
                emit(
                    app,
                    tx,
                    "receipts.added",
                    space_id=None,
                    actor_id=viewer.id,
                    audience_id=author,
                    payload={"seen": [{"post_id": pid, "seen_count": totals[pid]} for pid in sorted(ids)]},
                )
    return new


def get_seen(app: App, viewer: Viewer, post_id: int) -> SeenSummary:
    """How many people have seen a post as members of its space, and when; who, for the
    author (and for every reader in spaces that show it)."""
    with app.db.read() as conn:
        post, space, _membership = access_post(conn, viewer, post_id)
        member_count = spaces.member_counts(conn, [space.id]).get(space.id, 0)
        seen = receipts.seen_by(conn, post_id)
        show_who = post.author_id == viewer.id or space.seen_by_visible
    times = [at for _pid, at in seen]
    return SeenSummary(
        post_id=post_id,
        member_count=member_count,
        seen_count=len(seen),
        first_seen_at=min(times) if times else None,
        last_seen_at=max(times) if times else None,
        seen_by=tuple(seen) if show_who else None,
    )
