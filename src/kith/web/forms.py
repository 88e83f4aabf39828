"""What the pages' forms do: sign in and out, join and leave, start topics, reply, react,
accept an answer, resolve, mark read, preview Markdown.

Every route here changes state (or, for the preview, answers a POST) and so depends on
``csrf_checked`` (``signin_checked`` for the sign-in form): without the page's token it
answers 403 and changes nothing. Forms work without JavaScript (a redirect after the
POST); with htmx (``HX-Request``) they answer a fragment or an ``HX-Trigger`` instead.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.actions import auth, posts, receipts, spaces, topics
from kith.domain import markup, views
from kith.domain.errors import RateLimited, Unauthorized, invalid
from kith.domain.models import Topic
from kith.web.pages import _id, safe_next, topic_context
from kith.web.render import SECURITY_HEADERS, WebRoute, render
from kith.web.session import (
    SIGNIN_COOKIE,
    AppDep,
    CsrfDep,
    clear_session,
    presession,
    set_session,
    signin_checked,
    signin_csrf,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=300)]
Flag = Annotated[str, Form(max_length=10)]
ON = ("on", "1", "true", "yes")


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _back(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


@router.post("/signin", dependencies=[Depends(signin_checked)])
def signin(
    request: Request,
    app: AppDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    try:
        session = auth.check_login(app, email, password)
    except (Unauthorized, RateLimited) as exc:
        value, _new = presession(request)
        status = 429 if isinstance(exc, RateLimited) else 401
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        context = {
            "signin_csrf": signin_csrf(app, value),
            "next": safe_next(next),
            "error": exc.message,
            "email": email,
        }
        return render(request, "signin.html", context, status=status, headers=headers)
    response = _back(safe_next(next))
    set_session(response, request, session.token, session.expires_at, app.clock())
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(request: Request, app: AppDep, signed: CsrfDep) -> Response:
    auth.do_logout(app, signed.token)
    response = _back("/signin")
    clear_session(response, request)
    return response


@router.post("/spaces/{space_id}/join")
def join(app: AppDep, signed: CsrfDep, space_id: int) -> Response:
    spaces.check_join(app, signed.viewer, _id(space_id))
    return _back(f"/spaces/{space_id}")


@router.post("/spaces/{space_id}/leave")
def leave(app: AppDep, signed: CsrfDep, space_id: int) -> Response:
    spaces.check_leave(app, signed.viewer, _id(space_id))
    return _back("/")


@router.post("/spaces/{space_id}/read")
def mark_read(request: Request, app: AppDep, signed: CsrfDep, space_id: int) -> Response:
    state = receipts.check_mark_read(app, signed.viewer, _id(space_id))
    if _htmx(request):
        return _trigger("kith:read", {"space_id": state.space_id, "unread_count": state.unread_count})
    return _back(f"/spaces/{space_id}")


@router.post("/spaces/{space_id}/topics")
def start_topic(
    request: Request,
    app: AppDep,
    signed: CsrfDep,
    space_id: int,
    title: Short = "",
    body: Text = "",
    is_question: Flag = "",
    urgent: Flag = "",
) -> Response:
    topic, _post = topics.check_create_topic(
        app,
        signed.viewer,
        _id(space_id),
        title=title,
        body=body,
        is_question=is_question in ON,
        urgent=urgent in ON,
    )
    if _htmx(request):  # the form stays put on an error (shown beside it), moves on success
        return Response(status_code=204, headers={**SECURITY_HEADERS, "HX-Redirect": f"/topics/{topic.id}"})
    return _back(f"/topics/{topic.id}")


@router.post("/topics/{topic_id}/posts")
def reply(
    request: Request,
    app: AppDep,
    signed: CsrfDep,
    topic_id: int,
    body: Text = "",
    urgent: Flag = "",
) -> Response:
    viewer = signed.viewer
    post = posts.check_create_post(app, viewer, _id(topic_id), body, urgent=urgent in ON)
    if not _htmx(request):
        return _back(f"/topics/{topic_id}#post-{post.id}")
    topic = topics.get_topic(app, viewer, topic_id)
    context = topic_context(app, viewer, topic, [post])
    context["post"] = post
    return render(request, "_post.html", context)


@router.post("/topics/{topic_id}/accept")
def accept(request: Request, app: AppDep, signed: CsrfDep, topic_id: int, post_id: Short = "") -> Response:
    chosen: int | None = None
    if post_id.strip():
        if not post_id.strip().isdigit():
            raise invalid("post_id", "must be a post id")
        chosen = int(post_id)
    topic = topics.check_accept_answer(app, signed.viewer, _id(topic_id), chosen)
    return _topic_changed(request, topic, f"#post-{chosen}" if chosen else "")


@router.post("/topics/{topic_id}/resolve")
def resolve(request: Request, app: AppDep, signed: CsrfDep, topic_id: int, resolved: Flag = "1") -> Response:
    topic = topics.check_set_resolved(app, signed.viewer, _id(topic_id), resolved=resolved in ON)
    return _topic_changed(request, topic, "")


def _topic_changed(request: Request, topic: Topic, anchor: str) -> Response:
    if _htmx(request):
        return _trigger("kith:topic", views.topic(topic))
    return _back(f"/topics/{topic.id}{anchor}")


@router.post("/posts/{post_id}/react")
def react(
    request: Request,
    app: AppDep,
    signed: CsrfDep,
    post_id: int,
    emoji: Annotated[str, Form(max_length=64)] = "",
    op: Flag = "add",
) -> Response:
    viewer = signed.viewer
    post = posts.check_react(app, viewer, _id(post_id), emoji, add=op != "remove")
    if not _htmx(request):
        return _back(f"/topics/{post.topic_id}#post-{post.id}")
    topic = topics.get_topic(app, viewer, post.topic_id)
    context = topic_context(app, viewer, topic, [post])
    context["post"] = post
    return render(request, "_post.html", context)


@router.post("/preview")
def preview(request: Request, signed: CsrfDep, body: Text = "") -> HTMLResponse:
    """The composer's Markdown, rendered and sanitised as a post would be."""
    html = markup.render(body) if body.strip() else ""
    return render(request, "_preview.html", {"html": html})


def _trigger(name: str, detail: dict[str, Any]) -> Response:
    """No content to swap: the live module applies ``detail`` as it would the event."""
    return Response(status_code=204, headers={**SECURITY_HEADERS, "HX-Trigger": json.dumps({name: detail})})
