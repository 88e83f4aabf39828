"""Routing: a request found through Kith's route index, beside FastAPI's own scan.

Run from the repository root (a few seconds)::

    .venv/bin/python bench/routing.py [--requests 3000]

The application is built as ``kith serve`` builds it (every API router and the web UI) on a
fresh SQLite database, and each request below is sent straight to it as ASGI, in this
process, with no server or socket in between, so what differs between the two columns is
the routing alone: first through the installed :class:`kith.api.routeindex.RouteIndex`,
then with the index taken out of the way (FastAPI's router called directly, which tries
every router in order). The requests carry no token, so the routes answer 401 (or what
they answer to an anonymous caller) without touching the database: the work measured is
routing, FastAPI's dependency resolution and the error response. The figure is CPU time
per request (``time.process_time``), best of 5 rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from kith.api.factory import create_api
from kith.api.routeindex import RouteIndex
from kith.app import build_app
from kith.config import Settings
from kith.storage import migrate

REQUESTS = [
    ("POST", "/api/v1/topics/7/posts", b'{"body": "hi"}'),  # creating a post (6th router)
    ("GET", "/api/v1/spaces", b""),  # the space list (4th router)
    ("GET", "/api/v1/stream/sse", b""),  # the event stream over SSE
    ("GET", "/api/v1/health", b""),  # the last API router
    ("GET", "/spaces/7", b""),  # a web page (after every API router)
    ("GET", "/api/v1/nowhere", b""),  # no route: FastAPI's scan in both columns
]


async def request(app: Any, method: str, path: str, body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = [0]

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]

    await app(scope, receive, send)
    return status[0]


async def cpu_per_request(app: Any, method: str, path: str, body: bytes, count: int) -> tuple[float, int]:
    status = await request(app, method, path, body)  # warm
    best = float("inf")
    for _round in range(5):
        started = time.process_time()
        for _ in range(count):
            await request(app, method, path, body)
        best = min(best, (time.process_time() - started) / count)
    return best, status


async def measure(count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        app = build_app(Settings(database_url=f"sqlite:///{Path(directory) / 'kith.db'}", demo=True))
        try:
            migrate.upgrade(app.db)
            api = create_api(app)
            index = api.router.middleware_stack
            assert isinstance(index, RouteIndex)
            scan = index.fallback  # FastAPI's router, trying every entry in order
            entries, routes = len(api.router.routes), len(index.paths())
            print(f"{entries} top-level entries, {routes} routes; {count} requests x 5")
            print(f"{'request':40} {'status':>6} {'index us':>9} {'scan us':>8} {'scan/index':>10}")
            for method, path, body in REQUESTS:
                # The index sits inside FastAPI's middleware; call the same middleware both
                # ways, swapping what the router calls.
                indexed, status = await cpu_per_request(api, method, path, body, count)
                api.router.middleware_stack = scan  # type: ignore[assignment]  # narrower than ASGI
                try:
                    scanned, _ = await cpu_per_request(api, method, path, body, count)
                finally:
                    api.router.middleware_stack = index
                print(
                    f"{method + ' ' + path:40} {status:>6} {indexed * 1e6:9.0f} {scanned * 1e6:8.0f} "
                    f"{scanned / indexed:9.2f}x"
                )
        finally:
            app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    args = parser.parse_args()
    asyncio.run(measure(args.requests))


if __name__ == "__main__":
    main()
