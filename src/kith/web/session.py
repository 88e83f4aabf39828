"""Browser sessions: the session cookie, CSRF tokens, and the signed-in viewer of a page.

The session cookie holds a bearer token from :func:`kith.actions.auth.check_login` (the
database keeps only its hash), HttpOnly so that no script can read it, SameSite=Lax, and
Secure when the page came over https. Every POST carries a CSRF token, an HMAC of the
session token under the server's secret key: in a hidden field of each form, and in the
``X-CSRF-Token`` header that htmx and the live module send (``hx-headers`` on ``<body>``).
A POST without it, or with one from another session, is refused with 403. The sign-in form,
sent before there is a session, is protected the same way by a random pre-session cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from kith.actions import auth
from kith.app import App
from kith.domain.errors import KithError
from kith.domain.models import Viewer

SESSION_COOKIE = "kith_session"
SIGNIN_COOKIE = "kith_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_TOKEN = 256


class SignInRequired(Exception):
    """No valid session: the page answers with the sign-in page (or a redirect to it)."""


class CsrfRefused(Exception):
    """A state-changing request without a valid CSRF token, or from another site."""


@dataclass(frozen=True, slots=True)
class Signed:
    """The signed-in person of a request, their session token and its CSRF token."""

    viewer: Viewer
    token: str
    csrf: str


def get_app(request: Request) -> App:
    app: App = request.app.state.kith
    return app


def _mac(app: App, purpose: str, value: str) -> str:
    key = app.settings.secret_key.encode()
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_for(app: App, session_token: str) -> str:
    """The CSRF token of a session: useless without the session cookie it is bound to."""
    return _mac(app, "csrf", session_token)


def signin_csrf(app: App, presession: str) -> str:
    return _mac(app, "signin", presession)


def is_secure(request: Request) -> bool:
    """Whether the browser reached us over https (uvicorn's --proxy-headers sets the scheme
    from X-Forwarded-Proto behind a trusted proxy)."""
    return request.url.scheme == "https"


def set_session(
    response: Response, request: Request, token: str, expires_at: datetime, now: datetime
) -> None:
    max_age = max(1, int((expires_at - now).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_secure(request))


def presession(request: Request) -> tuple[str, bool]:
    """The random pre-session value behind the sign-in form's CSRF token, and whether it is
    new (then :func:`remember_presession` sets its cookie)."""
    value = request.cookies.get(SIGNIN_COOKIE, "")
    if value and len(value) <= 64:
        return value, False
    return secrets.token_urlsafe(24), True


def remember_presession(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        SIGNIN_COOKIE, value, path="/", httponly=True, samesite="lax", secure=is_secure(request)
    )


def session_of(request: Request) -> Signed | None:
    """The request's session, if its cookie holds a live token (a database read)."""
    app = get_app(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        viewer = auth.access_viewer(app, token)
    except KithError:
        return None
    signed = Signed(viewer, token, csrf_for(app, token))
    request.state.signed = signed
    return signed


def signed_in(request: Request) -> Signed:
    """Dependency: the signed-in viewer, or :class:`SignInRequired`."""
    signed = session_of(request)
    if signed is None:
        raise SignInRequired
    return signed


def same_site(request: Request) -> bool:
    """False when the browser says the request comes from another site (Fetch Metadata),
    or its Origin is not this server's."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.scheme == request.url.scheme and parts.netloc == request.headers.get("host", "")


async def _sent_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def csrf_checked(request: Request, signed: Annotated[Signed, Depends(signed_in)]) -> Signed:
    """Dependency of every state-changing route: a session, and its CSRF token sent back."""
    sent = await _sent_token(request)
    if not same_site(request) or not hmac.compare_digest(sent.encode(), signed.csrf.encode()):
        raise CsrfRefused
    return signed


async def signin_checked(request: Request) -> None:
    """The sign-in form's CSRF check, against the pre-session cookie."""
    cookie = request.cookies.get(SIGNIN_COOKIE, "")
    sent = await _sent_token(request)
    expected = signin_csrf(get_app(request), cookie) if cookie else ""
    if not expected or not same_site(request) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused


SignedDep = Annotated[Signed, Depends(signed_in)]
CsrfDep = Annotated[Signed, Depends(csrf_checked)]
AppDep = Annotated[App, Depends(get_app)]
