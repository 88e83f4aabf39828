"""The demo: a simulated organisation, analysed, with spaces made from its communities and
three weeks of life in them, then members who keep posting through the real API."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from tests.conftest import FAST_HASHER, make_settings

from kith.app import App, build_app
from kith.client import KithClient
from kith.simulate.demo import DemoClock, DemoOrg, build_demo
from kith.simulate.live import LiveMembers
from kith.storage import migrate
from live import serving

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, DemoOrg]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    clock = DemoClock()
    app = build_app(
        make_settings(f"sqlite:///{path}", person_level_analysis=True), clock=clock, hasher=FAST_HASHER
    )
    migrate.upgrade(app.db)
    org = build_demo(app, clock, seed=3, size=200)
    yield app, org
    app.close()


def count(app: App, sql: str) -> int:
    with app.db.read() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_the_demo_has_spaces_from_communities_with_life_in_them(demo: tuple[App, DemoOrg]) -> None:
    app, org = demo
    assert len(org.spaces) >= 3
    assert org.spaces[0].kind == "customer-facing"
    # Every demo space was made from a detected community, private, with accepted invitations.
    with app.db.read() as conn:
        rows = conn.execute(sa.text("SELECT id, community_id, visibility FROM spaces")).all()
    assert {r.id for r in rows} == {s.id for s in org.spaces}
    assert all(r.community_id is not None and r.visibility == "private" for r in rows)
    assert count(app, "SELECT count(*) FROM space_invitations WHERE status = 'accepted'") > 50
    # Questions asked and answered, facts (one corrected after people saw it), receipts.
    assert org.topics == count(app, "SELECT count(*) FROM topics") >= 15
    assert count(app, "SELECT count(*) FROM topics WHERE is_question AND accepted_post_id IS NOT NULL") >= 8
    assert count(app, "SELECT count(*) FROM topics WHERE first_reply_at IS NOT NULL") >= 10
    assert org.facts == count(app, "SELECT count(*) FROM facts") >= 5
    assert count(app, "SELECT count(*) FROM corrections WHERE kind = 'fact'") == 1
    assert count(app, "SELECT count(*) FROM corrections WHERE kind = 'post'") == 1
    assert count(app, "SELECT count(*) FROM correction_recipients") > 0
    assert count(app, "SELECT count(*) FROM post_seen") > 10 * org.posts
    # People post within their working hours: the demo's clock followed each of them.
    assert count(app, "SELECT count(*) FROM analysis_runs WHERE status = 'done'") == 1


def test_the_printed_sign_ins_work(demo: tuple[App, DemoOrg]) -> None:
    app, org = demo
    with serving(app) as url:
        for email in (org.member_email, org.owner_email, org.analyst_email, org.admin_email, *org.actors):
            with KithClient.login(url, email, org.password) as client:
                assert client.me()["email"] == email
        with KithClient.login(url, org.owner_email, org.password) as owner:
            spaces = {s["id"]: s for s in owner.spaces()}
            assert spaces[org.spaces[0].id]["my_role"] == "owner"
        with KithClient.login(url, org.analyst_email, org.password) as analyst:
            assert analyst.me()["role"] == "analyst"


def test_no_real_mail_appears_in_the_demo(demo: tuple[App, DemoOrg]) -> None:
    app, _org = demo
    with app.db.read() as conn:
        emails = set(conn.execute(sa.text("SELECT email FROM people")).scalars())
    assert all(e.endswith("@kith-demo.example") for e in emails), sorted(emails)[:5]
    # Nobody from the Enron corpus: its addresses are @enron.com.
    enron = DATA / "README.md"
    if enron.exists():
        assert not any(re.search(r"enron", e) for e in emails)


def test_live_members_ask_answer_and_react_through_the_api(demo: tuple[App, DemoOrg]) -> None:
    app, org = demo
    before = count(app, "SELECT count(*) FROM events")
    with serving(app) as url:
        members = LiveMembers(url, org.actors, org.password, org.live_material)
        assert members._sign_in()
        rng = random.Random(5)
        asked: dict[int, int] = {}
        for _ in range(12):
            members.step(rng, asked)
        members.stop()
    assert members.steps == 12
    assert count(app, "SELECT count(*) FROM events") > before
    with pytest.raises(httpx.HTTPError):  # the server is gone; nothing left running
        httpx.get(url, timeout=1)
