"""The route index chooses, for every path, the route FastAPI's own scan would choose."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match
from tests.conftest import Factory

from kith.api.factory import create_api
from kith.api.routeindex import RouteIndex, leading
from kith.app import App

PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


@pytest.fixture
def api(sqlite_app: App) -> FastAPI:
    return create_api(sqlite_app)


def index_of(api: FastAPI) -> RouteIndex:
    stack = api.router.middleware_stack
    assert isinstance(stack, RouteIndex)
    return stack


def scope_for(method: str, path: str, kind: str = "http") -> dict[str, object]:
    return {"type": kind, "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def first_full(routes: tuple[BaseRoute, ...] | list[BaseRoute], scope: dict[str, object]) -> BaseRoute | None:
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match is Match.FULL:
            return route
    return None


def concrete_paths(api: FastAPI) -> Iterator[tuple[str, str, str]]:
    """(scope type, method, concrete path) for every route the application serves."""
    for path in index_of(api).paths():
        yield "http", "GET", PARAM.sub("7", path)
        yield "http", "POST", PARAM.sub("word", path)
        yield "websocket", "GET", PARAM.sub("7", path)


def test_leading_segments() -> None:
    assert leading("/api/v1/topics/7/posts") == "api/v1/topics"
    assert leading("/api/v1/health") == "api/v1/health"
    assert leading("/api/v1") == "api"
    assert leading("/spaces/7") == "spaces"
    assert leading("/static/kith.css") == "static"
    assert leading("/") == ""


def test_every_route_is_found_where_fastapi_would_find_it(api: FastAPI) -> None:
    index = index_of(api)
    checked = 0
    for kind, method, path in concrete_paths(api):
        scope = scope_for(method, path, kind)
        chosen = first_full(index.candidates(path), scope)
        assert chosen is first_full(api.router.routes, scope), (kind, method, path)
        checked += 1
    assert checked == 3 * len(index.paths()) > 3 * 140  # the API's and the web UI's routes


def test_every_router_is_filed_and_a_post_tries_few(api: FastAPI) -> None:
    index = index_of(api)
    assert index.anywhere() == ()  # no entry that would be tried for every request
    everything = len(api.router.routes)
    assert 0 < len(index.candidates("/api/v1/topics/7/posts")) <= 4 < everything


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nowhere", 404),  # no route: FastAPI's own scan answers
        ("PUT", "/api/v1/health", 405),  # the path exists, not the method
        ("GET", "/api/v1/health", 200),
        ("GET", "/static/nowhere.css", 404),
    ],
)
def test_what_the_index_does_not_match_fastapi_answers_as_before(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    if status >= 400 and path.startswith("/api/"):
        assert "error" in response.json() or "detail" in response.json()


def test_a_trailing_slash_is_still_redirected(client: TestClient, make: Factory) -> None:
    member = make.person("Mia")
    response = client.get("/api/v1/spaces/", headers=member.headers, follow_redirects=False)
    assert response.status_code in (307, 308)
    assert response.headers["location"].endswith("/api/v1/spaces")


def test_a_router_within_a_router_is_refused_rather_than_left_unchecked() -> None:
    inner, outer = APIRouter(), APIRouter()

    @inner.get("/x")
    def x() -> dict[str, str]:
        return {}

    outer.include_router(inner, prefix="/inner")
    with pytest.raises(TypeError, match="without a path"):
        RouteIndex(FastAPI()).include(outer)


def test_a_mount_at_the_root_or_over_the_api_is_tried_for_every_path() -> None:
    api = FastAPI()
    index = RouteIndex(api)
    api.mount("/api", FastAPI())
    api.mount("/static", FastAPI())
    api.mount("/", FastAPI())
    index.install()
    assert [getattr(r, "path", None) for r in index.anywhere()] == ["/api", ""]
    assert [getattr(r, "path", None) for r in index.candidates("/static/kith.css")] == ["/api", "/static", ""]
    assert [getattr(r, "path", None) for r in index.candidates("/api/v1/topics")] == ["/api", ""]
