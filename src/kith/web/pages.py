"""The pages: home, a space, its members, a topic, search, a person, and signing in.

Each route reads through ``kith.actions`` and renders a template; none holds SQL. Pages
that show live data carry the event id they were rendered at (read first), from which the
live module resumes the stream, so nothing between the render and the stream is missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.actions import (
    analysis_views,
    catch_up,
    invitations,
    people,
    posts,
    presence,
    search,
    spaces,
    topics,
    web_pages,
)
from kith.app import App
from kith.domain import permissions
from kith.domain.errors import NotFound
from kith.domain.models import Membership, Person, Post, Topic, Viewer
from kith.web.render import WebRoute, render
from kith.web.session import AppDep, SignedDep, presession, remember_presession, session_of, signin_csrf

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MAX_ID = 2_147_483_647


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//elsewhere`` or ``https://elsewhere``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin")
def signin_page(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if session_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signin(request, next)


def _signin(request: Request, next: str | None) -> Response:
    value, new = presession(request)
    page = render(
        request,
        "signin.html",
        {"signin_csrf": signin_csrf(request.app.state.kith, value), "next": safe_next(next)},
    )
    if new:
        remember_presession(page, request, value)
    return page


@router.get("/")
def home(request: Request, app: AppDep) -> Response:
    """Home for the signed in; the sign-in page itself (not a redirect) for a visitor."""
    signed = session_of(request)
    if signed is None:
        return _signin(request, "/")
    viewer = signed.viewer
    last = web_pages.last_event_id(app)
    visible = spaces.list_spaces(app, viewer)
    mine = [s for s in visible if s.membership is not None]
    others = [s for s in visible if s.membership is None and s.space.is_public]
    return render(
        request,
        "home.html",
        {
            "active": "home",
            "last_event_id": last,
            "mine": mine,
            "others": others,
            "catch_up": catch_up.get_catch_up(app, viewer),
            "invitations": invitations.list_mine(app, viewer, status="pending"),
        },
    )


def _topic_filters(questions: str | None, unresolved: str | None) -> tuple[bool, bool]:
    return questions in ("1", "on", "true"), unresolved in ("1", "on", "true")


@router.get("/spaces/{space_id}")
def space_page(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    space_id: int,
    questions: Annotated[str | None, Query(max_length=10)] = None,
    unresolved: Annotated[str | None, Query(max_length=10)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    scheduled: Annotated[str | None, Query(max_length=4)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    last = web_pages.last_event_id(app)
    view = spaces.get_space(app, viewer, _id(space_id))
    only_questions, only_unresolved = _topic_filters(questions, unresolved)
    page = topics.list_topics(
        app,
        viewer,
        view.space.id,
        questions_only=only_questions,
        unresolved_only=only_unresolved,
        cursor=cursor,
        limit=50,
    )
    context = {
        "active": "",
        "last_event_id": last,
        "view": view,
        "space": view.space,
        "membership": view.membership,
        "topics": page.items,
        "next_cursor": page.next_cursor,
        "authors": web_pages.get_people(app, viewer, {t.author_id for t in page.items}),
        "questions": only_questions,
        "unresolved": only_unresolved,
        "can_start": permissions.can_start_topic(viewer, view.space, view.membership),
        "can_join": view.membership is None and permissions.can_join(viewer, view.space),
        "scheduled_now": scheduled == "1",
    }
    template = "_topics.html" if request.headers.get("hx-target") == "topics" else "space.html"
    if template == "space.html":
        from kith.web import spacetools  # the space page's panels beyond topics

        context.update(
            spacetools.facts_context(app, viewer, view.space.id, view.membership, view.space.archived)
        )
        if context["can_start"]:
            context.update(spacetools.send_later_context(app, viewer, view.space.id))
    return render(request, template, context)


@router.get("/spaces/{space_id}/members")
def members_page(request: Request, app: AppDep, signed: SignedDep, space_id: int) -> HTMLResponse:
    viewer = signed.viewer
    last = web_pages.last_event_id(app)
    states = {p["person_id"]: p for p in presence.get_space_presence(app, viewer, _id(space_id))}
    view = spaces.get_space(app, viewer, space_id)
    members = spaces.list_members(app, viewer, space_id)
    found = web_pages.get_people(app, viewer, {m.person_id for m in members})
    rows = [
        MemberRow(m, found[m.person_id], states.get(m.person_id))
        for m in members
        if m.person_id in found and found[m.person_id].active
    ]
    # Those here now first, then by name.
    rows.sort(key=lambda row: (row.status == "offline", row.person.display_name.lower()))
    return render(
        request,
        "members.html",
        {"last_event_id": last, "view": view, "space": view.space, "rows": rows},
    )


@dataclass(frozen=True, slots=True)
class MemberRow:
    membership: Membership
    person: Person
    presence: dict[str, Any] | None

    @property
    def status(self) -> str:
        return str(self.presence["status"]) if self.presence else "offline"


def topic_context(
    app: App, viewer: Viewer, topic: Topic, shown: tuple[Post, ...] | list[Post]
) -> dict[str, Any]:
    """What the topic page and a post card need: permissions, names, counts."""
    view = spaces.get_space(app, viewer, topic.space_id)
    first = posts.list_posts(app, viewer, topic.id, limit=1).items
    return {
        "topic": topic,
        "space": view.space,
        "membership": view.membership,
        "first_post_id": first[0].id if first else None,
        "authors": web_pages.get_people(app, viewer, {p.author_id for p in shown} | {topic.author_id}),
        "seen": web_pages.my_seen_counts(app, viewer, topic.id, shown),
        "can_reply": permissions.can_reply(viewer, view.space, view.membership),
        "can_react": permissions.can_react(viewer, view.space, view.membership),
        "can_accept": permissions.can_accept_answer(viewer, view.membership, topic)
        and not view.space.archived,
        "can_resolve": permissions.can_resolve_topic(viewer, view.membership, topic)
        and not view.space.archived,
        "can_join": view.membership is None and permissions.can_join(viewer, view.space),
    }


@router.get("/topics/{topic_id}")
def topic_page(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    topic_id: int,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    last = web_pages.last_event_id(app)
    topic = topics.get_topic(app, viewer, _id(topic_id))
    page = posts.list_posts(app, viewer, topic.id, cursor=cursor, limit=app.settings.page_size_max)
    context = topic_context(app, viewer, topic, page.items)
    context.update({"last_event_id": last, "posts": page.items, "next_cursor": page.next_cursor})
    return render(request, "topic.html", context)


@router.get("/posts/{post_id}/card")
def post_card(request: Request, app: AppDep, signed: SignedDep, post_id: int) -> HTMLResponse:
    """One post as the topic page shows it: what the live module swaps in on an event."""
    viewer = signed.viewer
    post = posts.get_post(app, viewer, _id(post_id))
    topic = topics.get_topic(app, viewer, post.topic_id)
    context = topic_context(app, viewer, topic, [post])
    context["post"] = post
    return render(request, "_post.html", context)


@router.get("/search")
def search_page(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    q: Annotated[str, Query(max_length=200)] = "",
    space: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    viewer = signed.viewer
    space_id = int(space) if space and space.isdigit() and 0 < int(space) <= MAX_ID else None
    hits = search.search_posts(app, viewer, q, space_id=space_id, limit=50) if q.strip() else []
    visible = spaces.list_spaces(app, viewer)
    names = {s.space.id: s.space.name for s in visible}
    authors = web_pages.get_people(app, viewer, {h.author_id for h in hits})
    readable = [s for s in visible if s.membership is not None or s.space.is_public]
    return render(
        request,
        "search.html",
        {
            "active": "search",
            "q": q,
            "space_id": space_id,
            "hits": hits,
            "space_names": names,
            "spaces": readable,
            "authors": authors,
        },
    )


@router.get("/people/{person_id}")
def person_page(request: Request, app: AppDep, signed: SignedDep, person_id: int) -> HTMLResponse:
    viewer = signed.viewer
    last = web_pages.last_event_id(app)
    person = people.get_person(app, viewer, _id(person_id))
    if not person.active and not viewer.is_admin:
        raise NotFound(f"no person with id {person_id}")
    state = presence.get_people_presence(app, viewer, [person.id])
    manager = people.get_person(app, viewer, person.manager_id) if person.manager_id else None
    return render(
        request,
        "person.html",
        {
            "active": "me" if person.id == viewer.id else "",
            "last_event_id": last,
            "person": person,
            "manager": manager,
            "presence": state[0] if state else None,
            "memberships": web_pages.list_person_spaces(app, viewer, person.id),
            "me_in_network": analysis_views.get_me(app, viewer) if person.id == viewer.id else None,
        },
    )


def _id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound("no such id")
    return value
