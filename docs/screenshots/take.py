"""Screenshots of the main pages, for the README and the user guide: ``make screenshots``.

Builds the demo organisation (``kith.simulate.demo.build_demo``, 300 people) in a
temporary SQLite database with person-level results on, serves it on a free port, and
saves 1280x800 PNGs of the main pages into this directory with Playwright driving Debian's
Chromium (``/usr/bin/chromium``; never ``playwright install``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from kith.actions import auth, people
from kith.app import build_app
from kith.config import Settings
from kith.simulate.demo import DemoClock, build_demo
from kith.storage import migrate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import serving  # noqa: E402 - the test suite's real-server helper

CHROMIUM = "/usr/bin/chromium"
SIZE = {"width": 1280, "height": 800}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.db"
        settings = Settings(database_url=url, demo=True, person_level_analysis=True, scheduler=False)
        clock = DemoClock()
        app = build_app(settings, clock=clock)
        migrate.upgrade(app.db)
        org = build_demo(app, clock, seed=1, size=300)
        tokens = {}
        for role, email in (
            ("member", org.member_email),
            ("owner", org.owner_email),
            ("analyst", org.analyst_email),
        ):
            person = people.find_person_by_email(app, email)
            assert person is not None, email
            auth.do_set_password(app, person.id, org.password)
            tokens[role] = auth.check_login(app, email, org.password).token
        tokens["admin"] = auth.check_login(app, org.admin_email, org.password).token
        space = org.spaces[0].id
        with serving(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )

            def shoot(role: str, path: str, name: str, full: bool = False) -> None:
                context = browser.new_context(base_url=base, viewport=SIZE, color_scheme="light")
                context.add_cookies([{"name": "kith_session", "value": tokens[role], "url": base}])
                page = context.new_page()
                page.goto(path)
                page.wait_for_load_state("networkidle") if "dashboard" in path else page.wait_for_timeout(600)
                page.screenshot(path=str(HERE / f"{name}.png"), full_page=full)
                context.close()
                print(f"saved docs/screenshots/{name}.png ({path} as the {role})")

            shoot("owner", "/", "home")
            shoot("owner", f"/spaces/{space}", "space")
            first_topic = _first_topic(app, org.owner_email, space)
            if first_topic is not None:
                shoot("owner", f"/topics/{first_topic}", "topic")
            shoot("owner", f"/spaces/{space}/dashboard", "dashboard", full=True)
            shoot("analyst", "/map", "community-map")
            shoot("analyst", "/map/communities/1", "community")
            shoot("analyst", "/analysis", "flow-and-silos")
            shoot("member", "/map", "my-place")
            shoot("admin", "/admin/analysis", "admin-analysis")
            shoot("admin", "/admin/imports", "admin-imports")
            browser.close()
        app.close()


def _first_topic(app: object, email: str, space_id: int) -> int | None:
    from kith.actions import topics
    from kith.domain.models import Role, Viewer

    kith = app  # an App
    person = people.find_person_by_email(kith, email)  # type: ignore[arg-type]
    if person is None:
        return None
    found = topics.list_topics(kith, Viewer(person, Role.MEMBER), space_id, limit=5)  # type: ignore[arg-type]
    questions = [t for t in found.items if t.is_question] or list(found.items)
    return questions[0].id if questions else None


if __name__ == "__main__":
    main()
