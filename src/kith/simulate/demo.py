"""The one-command demo: a simulated organisation with its history analysed, spaces made
from its communities, and three weeks of life in them.

:func:`build_demo` fills an empty database:

1. the simulated organisation (:mod:`kith.simulate.org`), its roster and its mail and chat
   metadata imported through the real loaders (:mod:`kith.simulate.load`);
2. an analysis run over that history;
3. spaces made from the main detected communities (the dispersed customer-facing one first)
   in one call each, as an analyst would, with invitations that most people accept;
4. three weeks of activity written through the actions at the times they happened: threads
   and questions (:mod:`kith.simulate.content`) posted by people within their working
   hours, replies by people awake at the time, accepted answers, reactions, facts with
   owners and review dates (one corrected after people saw it), and seen receipts when
   each member next looks (their working hours), so the metrics have real curves.

Everything goes through actions with the App's clock set to the moment it happens, so the
event log, the receipts and the metrics are what a real three weeks would leave.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from kith.actions import analysis, analysis_views, people, posts, receipts, topics
from kith.actions.people import PersonInput
from kith.app import App
from kith.domain import hours
from kith.domain.models import Person, Role, Viewer
from kith.simulate.content import Material, Reply, Thread, material_for
from kith.simulate.load import load_org
from kith.simulate.org import SimulatedOrg, simulate_org

DEMO_PASSWORD = "kith-demo-password"  # noqa: S105 - the demo's published sign-in
ADMIN_EMAIL = "admin@kith-demo.example"
HISTORY_DAYS = 60  # of imported mail and chat
LIFE_DAYS = 21  # of activity inside Kith
SPACES = 5  # made from communities


@dataclass
class DemoClock:
    """The App's clock while the demo is built: set to each moment in turn, then released."""

    at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at if self.at is not None else datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DemoSpace:
    id: int
    slug: str
    name: str
    kind: str
    members: int


@dataclass(frozen=True, slots=True)
class DemoOrg:
    password: str
    admin_email: str
    member_email: str
    owner_email: str
    analyst_email: str
    people: int
    interactions: int
    spaces: tuple[DemoSpace, ...]
    topics: int
    posts: int
    facts: int
    # People who keep posting while the demo runs (e-mail addresses), and each space's material.
    actors: tuple[str, ...] = ()
    live_material: dict[int, Material] = field(default_factory=dict)


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


class _Timeline:
    """Steps to run in time order, each with the clock set to its moment."""

    def __init__(self, clock: DemoClock) -> None:
        self.clock = clock
        self.steps: list[_Step] = []
        self.count = 0

    def at(self, when: datetime, run: Callable[[], None]) -> None:
        self.count += 1
        heapq.heappush(self.steps, _Step(when, self.count, run))

    def run(self, until: datetime) -> None:
        while self.steps and self.steps[0].at <= until:
            step = heapq.heappop(self.steps)
            self.clock.at = step.at
            step.run()


def build_demo(
    app: App, clock: DemoClock, *, seed: int = 1, size: int = 600, now: datetime | None = None
) -> DemoOrg:
    """Fill ``app``'s empty database with the demo organisation (``clock`` must be its clock)."""
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = random.Random(seed)
    start_day = (end - timedelta(days=HISTORY_DAYS)).date()
    org = simulate_org(people=size, days=HISTORY_DAYS, seed=seed, start=start_day)
    clock.at = datetime.combine(start_day, datetime.min.time(), UTC)
    admin = people.do_bootstrap_admin(
        app, email=ADMIN_EMAIL, display_name="Ada Admin", password=DEMO_PASSWORD
    )
    admin_viewer = Viewer(admin, Role.ADMIN)
    clock.at = end - timedelta(days=LIFE_DAYS + 1)
    loaded = load_org(app, org)
    by_email = _people_by_email(app, admin_viewer)
    analyst = _make_analyst(app, admin_viewer, org, by_email)
    clock.at = end - timedelta(days=LIFE_DAYS, hours=1)
    analysis.check_run(app, analyst, analysis.AnalysisParams(until=clock.at, seed=seed))
    chosen = _choose_communities(app, org, by_email)
    timeline = _Timeline(clock)
    life = _Life(app, timeline, rng, start=end - timedelta(days=LIFE_DAYS), end=end)
    made = [life.make_space(analyst, community_id, kind) for community_id, kind in chosen]
    timeline.run(end)
    clock.at = None
    customer = made[0]
    owner = life.owners[customer.id][0]
    member = _member_for_demo(life, customer.id, owner)
    actors = tuple(sorted({owner.email, member.email, *life.actor_emails(customer.id, 6)}))
    by_email = {p.email: p for members in life.members.values() for p in members}
    for email in actors:  # they sign in: the visitor as two of them, the live members as all
        people.check_update_person(app, admin_viewer, by_email[email].id, PersonInput(password=DEMO_PASSWORD))
    return DemoOrg(
        password=DEMO_PASSWORD,
        admin_email=ADMIN_EMAIL,
        member_email=member.email,
        owner_email=owner.email,
        analyst_email=analyst.person.email,
        people=len(org.people) + 1,
        interactions=loaded.interactions,
        spaces=tuple(made),
        topics=life.topics,
        posts=life.posts,
        facts=life.facts,
        actors=actors,
        live_material={s.id: material_for(s.kind) for s in made},
    )


def _people_by_email(app: App, viewer: Viewer) -> dict[str, Person]:
    found: dict[str, Person] = {}
    cursor = None
    while True:
        page = people.list_people(app, viewer, cursor=cursor, limit=500)
        found.update({p.email: p for p in page.items})
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


def _make_analyst(app: App, admin: Viewer, org: SimulatedOrg, by_email: dict[str, Person]) -> Viewer:
    """The first person of the People department becomes the demo's analyst."""
    pick = next(p for p in org.people if p.department == "People")
    person = by_email[pick.email]
    updated = people.check_update_person(
        app, admin, person.id, PersonInput(role=Role.ANALYST, password=DEMO_PASSWORD)
    )
    return Viewer(updated, Role.ANALYST)


def _choose_communities(app: App, org: SimulatedOrg, by_email: dict[str, Person]) -> list[tuple[int, str]]:
    """The detected communities to turn into spaces, with the planted kind each matches best:
    the customer-facing one first, then the largest others."""
    ids = {by_email[p.email].id: i for i, p in enumerate(org.people) if p.email in by_email}
    planted_kind = [org.communities[p.community].kind for p in org.people]
    kinds: dict[int, dict[str, int]] = {}
    for community_id, members in analysis_views.community_membership(app, None).items():
        for person_id in members:
            if person_id in ids:
                kind = planted_kind[ids[person_id]]
                kinds.setdefault(community_id, {}).setdefault(kind, 0)
                kinds[community_id][kind] += 1
    ranked = sorted(kinds, key=lambda c: -sum(kinds[c].values()))
    majority = {c: max(kinds[c], key=lambda k: kinds[c][k]) for c in ranked}
    customer = [c for c in ranked if majority[c] == "customer-facing"][:1]
    rest = [c for c in ranked if c not in customer][: SPACES - len(customer)]
    return [(c, majority[c]) for c in customer + rest]


def _member_for_demo(life: _Life, space_id: int, owner: Person) -> Person:
    """A member of the customer-facing space, preferably in Singapore."""
    members = [p for p in life.members[space_id] if p.id != owner.id]
    in_asia = [p for p in members if p.timezone == "Asia/Singapore"]
    return (in_asia or members)[0]


class _Life:
    """Three weeks of a space's life, put on the timeline."""

    def __init__(self, app: App, timeline: _Timeline, rng: random.Random, *, start: datetime, end: datetime):
        self.app = app
        self.timeline = timeline
        self.rng = rng
        self.start = start
        self.end = end
        self.members: dict[int, list[Person]] = {}
        self.owners: dict[int, list[Person]] = {}
        self.looks: dict[tuple[int, int, datetime], list[int]] = {}
        self.topics = self.posts = self.facts = 0

    # spaces and invitations

    def make_space(self, analyst: Viewer, community_id: int, kind: str) -> DemoSpace:
        from kith.actions import community_spaces  # written alongside; see docs/community-spaces.md

        made = community_spaces.check_create_space(self.app, analyst, community_id)
        space = made.space
        owners = list(made.owners)
        invited = list(made.invited)
        self.owners[space.id] = owners
        self.members[space.id] = list(owners)
        for person in invited:
            if self.rng.random() < 0.88:
                when = self._working(
                    person, self.timeline.clock() + timedelta(hours=self.rng.uniform(0.5, 50))
                )
                self.timeline.at(when, self._accept(person, space.id))
        material = material_for(kind)
        self._plan_material(space.id, material)
        return DemoSpace(space.id, space.slug, space.name, kind, len(owners) + len(invited))

    def _accept(self, person: Person, space_id: int) -> Callable[[], None]:
        def run() -> None:
            from kith.actions import community_spaces

            community_spaces.check_accept_invitation(self.app, Viewer(person, Role.MEMBER), space_id)
            self.members[space_id].append(person)

        return run

    # threads, replies, answers, receipts

    def _plan_material(self, space_id: int, material: Material) -> None:
        span = (self.end - self.start - timedelta(days=3)).total_seconds()
        # The questions the live members ask were asked once before too (answered): a
        # visitor asking one again sees the earlier answer among the similar questions.
        earlier = tuple(
            Thread(question, question, question=True, replies=(Reply(answer, accepted=True),))
            for question, answer in material.live
        )
        threads = material.threads + earlier
        for i, thread in enumerate(threads):
            offset = timedelta(days=2.5) + timedelta(seconds=span * (i + self.rng.random()) / len(threads))
            self.timeline.at(self.start + offset, self._thread(space_id, thread))
        for i, card in enumerate(material.facts):
            self.timeline.at(self.start + timedelta(days=2, hours=2 * i), self._fact(space_id, card))

    def _awake_member(self, space_id: int, at: datetime, *, besides: set[int] = frozenset()) -> Person | None:  # type: ignore[assignment]
        candidates = [
            p
            for p in self.members[space_id]
            if p.id not in besides and hours.is_working(p.hours, p.timezone, at)
        ]
        return self.rng.choice(candidates) if candidates else None

    def _working(self, person: Person, at: datetime) -> datetime:
        """``at``, or the start of the person's next working period plus a few minutes."""
        start = hours.next_work_start(person.hours, person.timezone, at)
        return at if start == at else start + timedelta(minutes=self.rng.uniform(3, 90))

    def _thread(self, space_id: int, thread: Thread) -> Callable[[], None]:
        def run() -> None:
            now = self.timeline.clock()
            author = self._awake_member(space_id, now)
            if author is None:
                author = self.rng.choice(self.members[space_id])
            viewer = Viewer(author, Role.MEMBER)
            topic, first = topics.check_create_topic(
                self.app,
                viewer,
                space_id,
                title=thread.title,
                body=thread.body,
                is_question=thread.question,
                urgent=thread.urgent,
            )
            self.topics += 1
            self.posts += 1
            self._plan_sightings(space_id, first.id, author.id, now)
            when = now
            for reply in thread.replies:
                when += timedelta(minutes=self.rng.uniform(8, 240))
                self.timeline.at(when, self._reply(space_id, topic.id, first.id, author, reply))

        return run

    def _reply(
        self, space_id: int, topic_id: int, first_id: int, asker: Person, reply: Any
    ) -> Callable[[], None]:
        def run() -> None:
            now = self.timeline.clock()
            replier = asker if reply.correction else self._awake_member(space_id, now, besides={asker.id})
            if replier is None:  # nobody else awake: the next one to start work answers then
                others = [p for p in self.members[space_id] if p.id != asker.id]
                if not others:
                    return
                first = min(others, key=lambda p: hours.next_work_start(p.hours, p.timezone, now))
                later = self._working(first, now)
                if later < self.end:
                    self.timeline.at(later, self._reply(space_id, topic_id, first_id, asker, reply))
                return
            post = posts.check_create_post(
                self.app,
                Viewer(replier, Role.MEMBER),
                topic_id,
                reply.body,
                correction_of_id=first_id if reply.correction else None,
            )
            self.posts += 1
            self._plan_sightings(space_id, post.id, replier.id, now)
            if self.rng.random() < 0.5:
                self.timeline.at(
                    now + timedelta(minutes=self.rng.uniform(5, 120)), self._react(asker, post.id)
                )
            if reply.accepted:
                later = self._working(asker, now + timedelta(minutes=self.rng.uniform(10, 90)))
                self.timeline.at(later, self._accept_answer(asker, topic_id, post.id))

        return run

    def _react(self, person: Person, post_id: int) -> Callable[[], None]:
        def run() -> None:
            posts.check_react(
                self.app, Viewer(person, Role.MEMBER), post_id, self.rng.choice(["thumbsup", "tada", "eyes"])
            )

        return run

    def _accept_answer(self, asker: Person, topic_id: int, post_id: int) -> Callable[[], None]:
        def run() -> None:
            topics.check_accept_answer(self.app, Viewer(asker, Role.MEMBER), topic_id, post_id)

        return run

    def _plan_sightings(self, space_id: int, post_id: int, author_id: int, posted: datetime) -> None:
        """Most members see the post when they next look: soon if working, else next morning.

        People look every half hour while working (each on their own phase) and once at the
        start of their day, so one look sees every post that arrived since the last one."""
        for person in self.members[space_id]:
            if person.id == author_id or self.rng.random() > 0.9:
                continue
            when = self._look_time(person, posted + timedelta(minutes=self.rng.expovariate(1 / 45)))
            if when >= self.end:
                continue
            key = (person.id, space_id, when)
            if key in self.looks:
                self.looks[key].append(post_id)
            else:
                self.looks[key] = [post_id]
                self.timeline.at(when, self._see(person, space_id, self.looks[key]))

    def _look_time(self, person: Person, at: datetime) -> datetime:
        phase = timedelta(minutes=(person.id * 7) % 30)
        if hours.is_working(person.hours, person.timezone, at):
            grid = timedelta(minutes=30)
            epoch = datetime(2000, 1, 1, tzinfo=UTC) + phase
            return epoch + -((epoch - at) // grid) * grid
        return hours.next_work_start(person.hours, person.timezone, at) + phase + timedelta(minutes=4)

    def _see(self, person: Person, space_id: int, post_ids: list[int]) -> Callable[[], None]:
        def run() -> None:
            viewer = Viewer(person, Role.MEMBER)
            receipts.check_mark_seen(self.app, viewer, post_ids)
            receipts.check_mark_read(self.app, viewer, space_id)

        return run

    # facts

    def _fact(self, space_id: int, card: Any) -> Callable[[], None]:
        def run() -> None:
            from kith.actions import facts

            now = self.timeline.clock()
            owner = self.owners[space_id][0]
            review_by = (self.end + timedelta(days=card.review_in_days)).date()
            fact = facts.check_create_fact(
                self.app,
                Viewer(owner, Role.MEMBER),
                space_id,
                title=card.title,
                body=card.body,
                source_url=card.source_url,
                review_by=review_by,
            )
            self.facts += 1
            for person in self.members[space_id]:
                if person.id != owner.id and self.rng.random() < 0.6:
                    when = self._working(person, now + timedelta(hours=self.rng.uniform(0.2, 30)))
                    self.timeline.at(when, self._see_fact(person, fact.id))
            if card.revision:
                when = self._working(owner, now + timedelta(days=6))
                self.timeline.at(when, self._revise_fact(owner, fact.id, card.revision))

        return run

    def _see_fact(self, person: Person, fact_id: int) -> Callable[[], None]:
        def run() -> None:
            from kith.actions import facts

            facts.check_mark_seen(self.app, Viewer(person, Role.MEMBER), [fact_id])

        return run

    def _revise_fact(self, owner: Person, fact_id: int, body: str) -> Callable[[], None]:
        def run() -> None:
            from kith.actions import facts

            facts.check_edit_fact(self.app, Viewer(owner, Role.MEMBER), fact_id, body=body, note="corrected")

        return run

    def actor_emails(self, space_id: int, count: int) -> list[str]:
        """A few members spread over time zones: they keep the space alive during the demo."""
        by_zone: dict[str, Person] = {}
        for person in self.members[space_id]:
            by_zone.setdefault(person.timezone, person)
        return [p.email for p in list(by_zone.values())[:count]]


def demo_start_day(now: datetime) -> date:
    return (now - timedelta(days=HISTORY_DAYS)).date()
