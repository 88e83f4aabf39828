"""Finding a request's route by its path's leading segment, before FastAPI's linear scan.

FastAPI (0.165) keeps each ``include_router`` as one entry of the application's route list
and, for every request, asks each entry in turn whether one of its routes matches, then
asks the one that does again to handle it. Every route before the right one is tried, at a
few microseconds each through FastAPI's scope bookkeeping: with Kith's 38 entries (146
routes), reaching the 28th (``/api/v1/health``) cost 0.85 ms of CPU and a web page 0.45 ms
(``bench/routing.py``); a post, ninth in line, paid for the eight entries before it.

:class:`RouteIndex` records, for each entry it includes, the path of every route in it, and
files the entry under the path's leading segment (the one after ``/api/v1`` for the API,
the first one otherwise: ``api/v1/topics``, ``spaces``, ``static``). A request then tries
only the entries filed under its own leading segment, in their original order, plus the
entries whose leading segment is a parameter (they may match anything). The first full
match handles the request, exactly as FastAPI's own scan would have chosen it: an entry
filed elsewhere cannot match a path that does not start with its segment. Anything else
(no full match: a 404, a 405, a redirect for a trailing slash) goes to FastAPI's own scan,
which answers it as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

API_SEGMENTS = ("api", "v1")


def leading(path: str) -> str:
    """The segment a path is filed under: the one after ``/api/v1`` for the API, the
    first one otherwise (``""`` for ``/``)."""
    parts = path.split("/", 4)  # "", "api", "v1", "topics", rest
    if len(parts) > 3 and parts[1] == API_SEGMENTS[0] and parts[2] == API_SEGMENTS[1]:
        return "api/v1/" + parts[3]
    return parts[1] if len(parts) > 1 else ""


class RouteIndex:
    """Includes routers into ``api`` (recording their paths), then dispatches by segment."""

    def __init__(self, api: FastAPI) -> None:
        self.api = api
        self._paths: dict[int, list[str]] = {}  # id of a top-level entry: the paths it serves
        self._by_segment: dict[str, tuple[BaseRoute, ...]] = {}
        self._anywhere: tuple[BaseRoute, ...] = ()
        self._fallback: ASGIApp | None = None

    def include(self, router: APIRouter, prefix: str = "") -> None:
        """``api.include_router(router, prefix=prefix)``, remembering the paths it adds."""
        paths = [getattr(route, "path", None) for route in router.routes]
        if not all(isinstance(path, str) for path in paths):
            # a router within the router: include its routes in the router's module instead
            raise TypeError(f"RouteIndex.include: a route without a path in {router!r}")
        self.api.include_router(router, prefix=prefix)
        self._paths[id(self.api.router.routes[-1])] = [prefix + str(path) for path in paths]

    def install(self) -> None:
        """File every top-level entry and put the dispatch in front of the router."""
        by_segment: dict[str, list[BaseRoute]] = {}
        anywhere: list[BaseRoute] = []
        filed: list[tuple[BaseRoute, set[str] | None]] = []
        for route in self.api.router.routes:
            segments = self._segments(route)
            filed.append((route, segments))
            if segments is None:
                anywhere.append(route)
            else:
                for segment in segments:
                    by_segment.setdefault(segment, [])
        # Each segment's entries, and the entries that may match anywhere, in route order.
        for segment, entries in by_segment.items():
            entries.extend(r for r, s in filed if s is None or segment in s)
        self._by_segment = {segment: tuple(entries) for segment, entries in by_segment.items()}
        self._anywhere = tuple(anywhere)
        self._fallback = self.api.router.middleware_stack
        self.api.router.middleware_stack = self

    def _segments(self, route: BaseRoute) -> set[str] | None:
        """The segments ``route`` may match under, or None for any path at all."""
        paths = self._paths.get(id(route))
        if paths is None:
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                return None  # an entry we cannot read
            if isinstance(route, Mount) and leading(path + "/") != leading(path + "/v1/x"):
                return None  # a mount at "/", "/api" or "/api/v1": below it is anything
            paths = [path]
        return _filed_under(paths)

    def candidates(self, path: str) -> tuple[BaseRoute, ...]:
        """The top-level entries that may match ``path``, in the application's order."""
        return self._by_segment.get(leading(path), self._anywhere)

    @property
    def fallback(self) -> ASGIApp:
        """FastAPI's own router, which tries every entry in order (set by :meth:`install`)."""
        assert self._fallback is not None, "install() first"
        return self._fallback

    def anywhere(self) -> tuple[BaseRoute, ...]:
        """The entries tried for every path (a parameter or a mount where the segment is)."""
        return self._anywhere

    def paths(self) -> list[str]:
        """Every path format of the routers included through :meth:`include`."""
        return [path for paths in self._paths.values() for path in paths]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            for route in self.candidates(path):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    _enter(scope, child_scope, self.api.router)
                    await route.handle(scope, receive, send)
                    return
        await self.fallback(scope, receive, send)


def _enter(scope: Scope, child_scope: Scope, router: APIRouter) -> None:
    """What FastAPI's router does to the scope of the route it chose (its ``_update_scope``):
    the child's own ``fastapi`` entries join the request's rather than replace them."""
    scope.setdefault("router", router)
    ours = child_scope.get("fastapi")
    if isinstance(ours, dict):
        child_scope = {key: value for key, value in child_scope.items() if key != "fastapi"}
        scope.setdefault("fastapi", {}).update(ours)
    scope.update(child_scope)


def _filed_under(paths: Iterable[str]) -> set[str] | None:
    segments = set()
    for path in paths:
        segment = leading(path)
        if "{" in segment:
            return None  # a parameter where the segment is: it may match any path
        segments.add(segment)
    return segments
