"""Question routing: who in the space is most likely to answer a question, and is awake.

The candidates are the space's active members who have not muted it, the asker aside.
Each gets a score (``docs/faster.md`` has the formula) from:

- **similar questions they answered**: the earlier questions of the space most like this
  one (TF-IDF cosine, :mod:`kith.actions.similar`, at most :data:`SIMILAR_TOPICS`), each
  adding its similarity once if they gave its first reply and once more if they gave its
  accepted answer;
- **accepted answers** and **first replies** to questions in the space, counted;
- **centrality**: with person-level analysis allowed (``KITH_PERSON_LEVEL_ANALYSIS``) and
  a space made from a detected community, their within-community degree z-score in the
  newest analysis run that has the community; otherwise their degree in the space's own
  reply network (how many people they have exchanged replies with), which every member
  can see in the threads anyway. Analysis results about people are not shown through a
  space unless the deployment allows person-level results (``docs/privacy.md``).

Those within their working hours now come first; the others follow, each with when they
start work next. Only the asker, the space's owners and administrators (who may read the
space) see the list.

Routing a question (:func:`check_route_question`) notifies the chosen people (kind
``question``) and records the routing at stage 1; :func:`widen_due`, a periodic job, tells
the next :attr:`~kith.config.Settings.routing_batch` awake candidates not told yet every
``KITH_ROUTING_WIDEN_MINUTES`` while the question has no reply from anyone else and no
accepted answer, up to ``KITH_ROUTING_MAX_STAGE``.

Published events: ``notification.created`` (personal, to each person told live) and
``question.routed`` (personal, to the asker and to whoever asked for the routing): the
routing's state and who was just told.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from kith.actions import similar
from kith.actions.access import access_topic
from kith.actions.events import emit
from kith.actions.notify import Notice, excerpt, notify
from kith.app import App
from kith.domain import hours, permissions, views
from kith.domain.errors import Conflict, Forbidden, invalid
from kith.domain.models import (
    Membership,
    QuestionRouting,
    RoutingCandidate,
    RoutingPlan,
    RoutingReason,
    Space,
    Topic,
    Viewer,
)
from kith.storage import analysis as analysis_store
from kith.storage import notifications, posts, spaces, topics
from kith.storage import routing as store
from kith.storage.database import Tx
from kith.storage.people import from_row as person_from_row

SIMILAR_TOPICS = 10
LIMIT_MAX = 50
NOTIFY_MAX = 50
DUE_BATCH = 100
# The weights of the score (docs/faster.md).
W_SIMILAR = 2.0
W_ACCEPTED = 1.0
W_FIRST = 0.5
W_CENTRAL = 0.5


def get_routing(app: App, viewer: Viewer, topic_id: int, *, limit: int = 10) -> RoutingPlan:
    """The members most likely to answer the question, awake ones first (asker, owners, admins)."""
    limit = max(1, min(limit, LIMIT_MAX))
    with app.db.read() as conn:
        topic, space, _membership = _access_routing(conn, viewer, topic_id)
        ranked = rank_candidates(app, conn, topic, space, app.clock())
        told = notifications.already_told(conn, "question", topic.id)
        routing = store.get(conn, topic.id)
    return RoutingPlan(topic.id, routing, tuple(ranked[:limit]), tuple(sorted(told)))


def check_route_question(
    app: App, viewer: Viewer, topic_id: int, notify_ids: Sequence[int] | None = None, *, limit: int = 10
) -> RoutingPlan:
    """Notify ``notify_ids`` (members of the space), or the top awake candidates when None,
    that this question waits for them; start (or restart) widening the circle.

    People already told about this question are not told again. Refused for a question
    that already has a reply from someone else or an accepted answer (409).
    """
    if notify_ids is not None:
        if not notify_ids:
            raise invalid("notify", "name at least one person, or leave it out for the top awake")
        if len(notify_ids) > NOTIFY_MAX:
            raise invalid("notify", f"at most {NOTIFY_MAX} people")
    now = app.clock()
    with app.db.transaction() as tx:
        topic, space, _membership = _access_routing(tx.conn, viewer, topic_id)
        if space.archived:
            raise Forbidden("this space is archived")
        if _answered(topic):
            raise Conflict("this question already has an answer")
        ranked = rank_candidates(app, tx.conn, topic, space, now)
        told = notifications.already_told(tx.conn, "question", topic.id)
        if notify_ids is None:
            chosen = [c.person_id for c in ranked if c.awake and c.person_id not in told]
            chosen = chosen[: app.settings.routing_batch]
        else:
            known = {c.person_id for c in ranked}
            for person_id in notify_ids:
                if person_id not in known:
                    raise invalid("notify", f"{person_id} is not a member of this space who can be asked")
            chosen = [p for p in dict.fromkeys(notify_ids) if p not in told]
        widen_at = now + timedelta(minutes=app.settings.routing_widen_minutes)
        routing = store.upsert(tx.conn, topic.id, requested_by=viewer.id, now=now, widen_at=widen_at)
        notified = _tell(app, tx, topic, routing, chosen)
        _announce(app, tx, topic, routing, notified, viewer.id)
        told |= set(notified)
    return RoutingPlan(topic.id, routing, tuple(ranked[:limit]), tuple(sorted(told)), tuple(notified))


def widen_due(app: App) -> int:
    """The periodic job: widen the circle of every routed question due now; returns how many
    people were told.

    Each question is claimed in its own write transaction, where it is read again: a second
    process running the job at the same time finds it already moved on.
    """
    now = app.clock()
    with app.db.read() as conn:
        due = store.due(conn, now, limit=DUE_BATCH)
    told = 0
    for topic_id in due:
        with app.db.transaction() as tx:
            routing = store.claim_due(tx.conn, topic_id, now)
            if routing is not None:
                told += _widen(app, tx, routing, now)
    return told


def _widen(app: App, tx: Tx, routing: QuestionRouting, now: datetime) -> int:
    topic = topics.get(tx.conn, routing.topic_id)
    space = spaces.get(tx.conn, topic.space_id) if topic is not None else None
    if topic is None or space is None:
        return 0
    if _answered(topic) or space.archived:
        done = store.update(tx.conn, topic.id, {"done_at": now, "widen_at": None})
        _announce(app, tx, topic, done, [], routing.requested_by)
        return 0
    told = notifications.already_told(tx.conn, "question", topic.id)
    waiting = [c for c in rank_candidates(app, tx.conn, topic, space, now) if c.person_id not in told]
    if not waiting:
        done = store.update(tx.conn, topic.id, {"done_at": now, "widen_at": None})
        _announce(app, tx, topic, done, [], routing.requested_by)
        return 0
    chosen = [c.person_id for c in waiting if c.awake][: app.settings.routing_batch]
    later = now + timedelta(minutes=app.settings.routing_widen_minutes)
    if not chosen:  # nobody left is awake: look again after another period
        store.update(tx.conn, topic.id, {"widen_at": later})
        return 0
    stage = routing.stage + 1
    last = stage >= app.settings.routing_max_stage
    widened = store.update(tx.conn, topic.id, {"stage": stage, "widen_at": None if last else later})
    notified = _tell(app, tx, topic, widened, chosen)
    _announce(app, tx, topic, widened, notified, routing.requested_by)
    return len(notified)


def rank_candidates(
    app: App, conn: Connection, topic: Topic, space: Space, now: datetime
) -> list[RoutingCandidate]:
    """Every candidate of the space for ``topic``, ranked: awake first, then by score."""
    people = [person_from_row(row) for row in store.candidates(conn, space.id)]
    people = [p for p in people if p.id != topic.author_id]
    if not people:
        return []
    first_by, accepted_by = _answers(conn, space.id, topic.id)
    similar_credit, similar_topics = _similar_credit(app, conn, topic, first_by, accepted_by)
    central, central_text = _centrality(app, conn, space, {p.id for p in people})
    first_counts = Counter(first_by.values())
    accepted_counts = Counter(accepted_by.values())
    ranked = []
    for person in people:
        credit = similar_credit.get(person.id, 0.0)
        accepted = accepted_counts.get(person.id, 0)
        first = first_counts.get(person.id, 0)
        centrality = central.get(person.id, 0.0)
        score = (
            W_SIMILAR * credit
            + W_ACCEPTED * math.log1p(accepted)
            + W_FIRST * math.log1p(first)
            + W_CENTRAL * centrality
        )
        reasons = _reasons(similar_topics.get(person.id, []), accepted, first, centrality, central_text)
        awake = hours.is_working(person.hours, person.timezone, now)
        wakes_at = None if awake else hours.next_work_start(person.hours, person.timezone, now)
        ranked.append(
            RoutingCandidate(
                person.id, person.display_name, score, awake, wakes_at, person.timezone, tuple(reasons)
            )
        )
    ranked.sort(key=lambda c: (not c.awake, -c.score, c.person_id))
    return ranked


def _answers(conn: Connection, space_id: int, topic_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """Who gave the first reply to, and the accepted answer of, each earlier question."""
    first_by: dict[int, int] = {}
    accepted_by: dict[int, int] = {}
    for question, first, accepted in store.answerers(conn, space_id):
        if question == topic_id:
            continue
        if first is not None:
            first_by[question] = first
        if accepted is not None:
            accepted_by[question] = accepted
    return first_by, accepted_by


def _similar_credit(
    app: App, conn: Connection, topic: Topic, first_by: dict[int, int], accepted_by: dict[int, int]
) -> tuple[dict[int, float], dict[int, list[tuple[int, str]]]]:
    opening = posts.list_in_topic(conn, topic.id, after_id=None, limit=1)
    text = "\n".join([topic.title, *(p.source for p in opening if not p.deleted)])
    credit: dict[int, float] = defaultdict(float)
    answered: dict[int, list[tuple[int, str]]] = defaultdict(list)
    found = similar.similar_topics(
        app, conn, topic.space_id, text, exclude_topic_id=topic.id, limit=SIMILAR_TOPICS
    )
    for doc, score in found:
        helpers = [p for p in (first_by.get(doc.id), accepted_by.get(doc.id)) if p is not None]
        for person_id in helpers:
            credit[person_id] += score
        for person_id in dict.fromkeys(helpers):
            answered[person_id].append((doc.id, doc.title))
    return credit, answered


def _centrality(
    app: App, conn: Connection, space: Space, person_ids: set[int]
) -> tuple[dict[int, float], str]:
    """Each candidate's centrality in [0, 1] and the sentence that explains it."""
    if app.settings.person_level_analysis and space.community_id is not None:
        run_id = analysis_store.latest_run_with(conn, space.community_id)
        if run_id is not None:
            z = {
                m["person_id"]: float(m["metrics"].get("z") or 0.0)
                for m in analysis_store.members(conn, run_id, space.community_id)
                if m["person_id"] in person_ids
            }
            return _scaled(z), "well connected within the community (latest analysis)"
    degree: Counter[int] = Counter()
    for pair in {tuple(sorted(p)) for p in store.reply_pairs(conn, space.id)}:
        degree.update(pair)
    return _by_max({p: float(degree[p]) for p in person_ids}), "replies with many people here"


def _scaled(values: dict[int, float]) -> dict[int, float]:
    """Min-max scaled to [0, 1]; all 0 when they are all equal (nobody stands out)."""
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if high <= low:
        return dict.fromkeys(values, 0.0)
    return {k: (v - low) / (high - low) for k, v in values.items()}


def _by_max(values: dict[int, float]) -> dict[int, float]:
    """Divided by the largest, so the best connected has 1 and nobody 0 has more than 0."""
    high = max(values.values(), default=0.0)
    return {k: v / high for k, v in values.items()} if high > 0 else {}


def _reasons(
    similar_topics: list[tuple[int, str]], accepted: int, first: int, centrality: float, central_text: str
) -> list[RoutingReason]:
    reasons = []
    if similar_topics:
        titles = ", ".join(f"“{title}”" for _, title in similar_topics[:3])
        count = len(similar_topics)
        text = f"answered {count} similar question{'s' if count > 1 else ''}: {titles}"
        reasons.append(RoutingReason("similar", text, count, tuple(t for t, _ in similar_topics)))
    if accepted:
        plural = "s" if accepted > 1 else ""
        reasons.append(
            RoutingReason("accepted", f"{accepted} accepted answer{plural} in this space", accepted)
        )
    if first:
        plural = "s" if first > 1 else ""
        reasons.append(RoutingReason("answers", f"first to reply to {first} question{plural} here", first))
    if centrality >= 0.5:
        reasons.append(RoutingReason("central", central_text))
    return reasons


def _access_routing(
    conn: Connection, viewer: Viewer, topic_id: int
) -> tuple[Topic, Space, Membership | None]:
    topic, space, membership = access_topic(conn, viewer, topic_id)
    if topic.author_id != viewer.id and not permissions.can_manage_space(viewer, membership):
        raise Forbidden("only the asker and the space's owners see who might answer")
    return topic, space, membership


def _answered(topic: Topic) -> bool:
    return topic.first_reply_at is not None or topic.accepted_post_id is not None


def _tell(app: App, tx: Tx, topic: Topic, routing: QuestionRouting, person_ids: list[int]) -> list[int]:
    if not person_ids:
        return []
    opening = posts.list_in_topic(tx.conn, topic.id, after_id=None, limit=1)
    notice = Notice(
        "question",
        space_id=topic.space_id,
        topic_id=topic.id,
        post_id=opening[0].id if opening else None,
        actor_id=topic.author_id,
        payload={
            "topic_title": topic.title,
            "excerpt": excerpt(opening[0].source) if opening and not opening[0].deleted else "",
            "stage": routing.stage,
        },
    )
    return [n.person_id for n in notify(app, tx, person_ids, notice)]


def _announce(
    app: App, tx: Tx, topic: Topic, routing: QuestionRouting, notified: list[int], requested_by: int | None
) -> None:
    """Tell the asker (and whoever asked for the routing) where the routing stands."""
    payload = {**views.question_routing(routing), "notified": sorted(notified)}
    for person_id in dict.fromkeys(p for p in (topic.author_id, requested_by) if p is not None):
        emit(
            app,
            tx,
            "question.routed",
            space_id=None,
            actor_id=None,
            payload=payload,
            audience_id=person_id,
        )
