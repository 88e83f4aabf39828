"""A small sample organisation: a few dozen people in eight time zones, spaces, topics, posts.

Everything is created through actions, exactly as people using Kith would create it. The
network-analysis issue replaces this with the full synthetic organisation.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from kith.actions import people, posts, spaces, topics
from kith.actions.people import PersonInput
from kith.app import App
from kith.domain.models import Person, Role, Viewer

OFFICES = (
    ("London", "Europe/London", "08:30", "17:00"),
    ("New York", "America/New_York", "09:00", "17:30"),
    ("Singapore", "Asia/Singapore", "09:00", "18:00"),
    ("Sydney", "Australia/Sydney", "08:30", "17:00"),
    ("São Paulo", "America/Sao_Paulo", "09:00", "18:00"),
    ("Berlin", "Europe/Berlin", "08:00", "16:30"),
    ("Tokyo", "Asia/Tokyo", "09:30", "18:30"),
    ("Bangalore", "Asia/Kolkata", "10:00", "19:00"),
)
DEPARTMENTS = ("Sales", "Customer Success", "Product", "Engineering")
FIRST = (
    "Ana",
    "Ben",
    "Chen",
    "Divya",
    "Emeka",
    "Fatima",
    "Gustavo",
    "Hana",
    "Ivan",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Camila",
    "Dev",
    "Elif",
    "Finn",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
)
LAST = (
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Sharma",
    "Silva",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Haddad",
    "Kowalski",
    "Mensah",
    "Rossi",
)
DEMO_PASSWORD = "kith-demo-password"  # noqa: S105 - the demo's published sign-in

TOPICS = (
    (
        "Competitor X cut prices in APAC",
        False,
        "Heard from a client in **Singapore** today: Competitor X is offering 20% off multi-year "
        "deals. Has anyone seen this elsewhere? @space",
    ),
    (
        "How do we handle data residency questions for German clients?",
        True,
        "A prospect in Munich asked whether their data stays in the EU. What do we answer, and "
        "is there a document I can send?",
    ),
    (
        "Renewal playbook: what worked this quarter",
        False,
        "Sharing what worked in three renewals:\n\n1. Start 90 days out\n2. Bring usage data\n"
        "3. Involve the sponsor early",
    ),
    (
        "Which SSO providers do we support?",
        True,
        "Client in Tokyo wants to know if we support Okta and Azure AD out of the box.",
    ),
    (
        "New pricing sheet is live",
        False,
        "The Q3 pricing sheet is in the shared drive. The old one is **withdrawn**: please stop sending it.",
    ),
)
REPLIES = (
    "Same here in London: two clients mentioned it this week.",
    "Thanks, this is really useful. Adding it to my notes for Monday's call.",
    "We have a one-pager for this; I will post the link once legal approves the update.",
    "Yes, both are supported; SAML works for the rest.",
    "Good catch. I updated the CRM template accordingly.",
    "Can we get this into the onboarding guide for new account managers?",
)


@dataclass(frozen=True, slots=True)
class SampleOrg:
    admin_email: str
    member_email: str
    password: str
    people: int
    spaces: int
    topics: int


def build_sample(app: App, *, seed: int = 1, size: int = 36) -> SampleOrg:
    """Fill an empty database with a sample organisation; deterministic for ``seed``."""
    rng = random.Random(seed)
    admin = people.do_bootstrap_admin(
        app, email="admin@kith.example", display_name="Ada Admin", password=DEMO_PASSWORD
    )
    admin_viewer = Viewer(admin, Role.ADMIN)
    staff = _people(app, admin_viewer, rng, size)
    viewers = [Viewer(p, Role.MEMBER) for p in staff]
    community = spaces.check_create_space(
        app,
        viewers[0],
        name="Customer Voices",
        slug="customer-voices",
        description="Customer-facing people across offices sharing what clients tell us, now.",
    ).space
    team = spaces.check_create_space(
        app,
        viewers[1],
        name="Product Engineering",
        slug="product-engineering",
        kind="team",
        description="Product and engineering team room.",
        visibility="private",
    ).space
    news = spaces.check_create_space(
        app,
        admin_viewer,
        name="Company News",
        slug="company-news",
        kind="announcements",
        description="Announcements from leadership.",
    ).space
    for viewer in viewers:
        person = viewer.person
        if person.department in ("Sales", "Customer Success") or rng.random() < 0.2:
            spaces.check_join(app, viewer, community.id)
        if person.department in ("Product", "Engineering") and viewer is not viewers[1]:
            spaces.check_add_member(app, viewers[1], team.id, person.id)
        spaces.check_join(app, viewer, news.id)
    members = [v for v in viewers if v.person.department in ("Sales", "Customer Success")] or viewers
    count = 0
    for title, question, body in TOPICS:
        author = rng.choice(members)
        topic, _ = topics.check_create_topic(
            app, author, community.id, title=title, body=body, is_question=question
        )
        count += 1
        replies = []
        for _ in range(rng.randint(1, 4)):
            replier = rng.choice([m for m in members if m is not author])
            mention = f" @{author.person.handle}" if rng.random() < 0.4 else ""
            reply = posts.check_create_post(app, replier, topic.id, rng.choice(REPLIES) + mention)
            replies.append(reply)
            if rng.random() < 0.6:
                posts.check_react(app, author, reply.id, rng.choice(["thumbsup", "tada", "eyes"]))
        if question and replies:
            topics.check_accept_answer(app, author, topic.id, replies[0].id)
    topics.check_create_topic(
        app,
        admin_viewer,
        news.id,
        title="Welcome to Kith",
        body="This is where announcements live. Comment below with questions.",
    )
    topics.check_create_topic(
        app,
        viewers[1],
        team.id,
        title="Release train for next week",
        body="Private to the team: the release train leaves Tuesday.",
    )
    return SampleOrg(
        admin_email=admin.email,
        member_email=members[0].person.email,
        password=DEMO_PASSWORD,
        people=len(staff) + 1,
        spaces=3,
        topics=count + 2,
    )


def _people(app: App, admin: Viewer, rng: random.Random, size: int) -> list[Person]:
    made: list[Person] = []
    for i in range(size):
        first = FIRST[i % len(FIRST)]
        last = rng.choice(LAST)
        office, zone, start, end = OFFICES[i % len(OFFICES)]
        department = DEPARTMENTS[(i // len(OFFICES)) % len(DEPARTMENTS)]
        ascii_last = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode()
        email = f"{first}.{ascii_last}{i}@kith.example".lower().replace("'", "")
        manager = made[0].id if made and i % 6 != 0 else (made[i - 6].id if i >= 6 else None)
        made.append(
            people.check_create_person(
                app,
                admin,
                PersonInput(
                    email=email,
                    display_name=f"{first} {last}",
                    department=department,
                    title=rng.choice(
                        (
                            "Account Manager",
                            "Customer Success Manager",
                            "Engineer",
                            "Product Manager",
                            "Solutions Consultant",
                        )
                    ),
                    location=office,
                    timezone=zone,
                    work_start=start,
                    work_end=end,
                    manager_id=manager,
                    password=DEMO_PASSWORD,
                ),
            )
        )
    return made
