"""The FastAPI application for one container."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import kith
from kith import web
from kith.actions.presence import keep_presence
from kith.api import errors
from kith.api.groupcommit import GroupCommit
from kith.api.routeindex import RouteIndex
from kith.api.routes import (
    analysis,
    auth,
    catch_up,
    community_spaces,
    corrections,
    digests,
    facts,
    feeds,
    health,
    imports,
    invitations,
    metrics,
    notifications,
    people,
    posts,
    presence,
    receipts,
    roster,
    routing,
    scheduled,
    search,
    similar,
    spaces,
    stream,
    topics,
)
from kith.api.scheduler import Scheduler
from kith.app import App

API_PREFIX = "/api/v1"


def create_api(app: App) -> FastAPI:
    """Build the HTTP application serving ``app``."""

    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        # Sync routes and dependencies run on anyio's thread pool (40 threads by default).
        # On SQLite, where one write runs at a time and queries are work in this process,
        # many threads only queue on the write lock and pass the GIL back and forth.
        threads = app.settings.threads or (4 if app.db.is_sqlite else 40)
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        # The stream's dispatcher follows the event log in this event loop while we serve.
        await app.start_streaming()
        keeping = asyncio.create_task(keep_presence(app), name="kith-presence")
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                # The job under way, if any, finishes first (on a thread: the loop goes on).
                await anyio.to_thread.run_sync(scheduler.stop)
            # Presence first: this process's people go offline while Redis still carries news.
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeping
            await app.stop_streaming()

    api = FastAPI(
        lifespan=lifespan,
        title="Kith",
        version=kith.__version__,
        summary="Find the real communities in an organisation and help information move through them.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.kith = app
    api.state.writes = GroupCommit(app)
    # The periodic jobs (digests...), in a thread while the server runs (KITH_SCHEDULER).
    scheduler = Scheduler(app) if app.settings.scheduler else None
    api.state.scheduler = scheduler
    errors.install(api)
    routers = (
        auth,
        roster,
        people,
        spaces,
        topics,
        posts,
        receipts,
        presence,
        search,
        similar,
        routing,
        scheduled,
        facts,
        corrections,
        notifications,
        catch_up,
        digests,
        feeds,
        stream,
        imports,
        analysis,
        community_spaces,
        invitations,
        metrics,
        health,
    )
    index = RouteIndex(api)
    for module in routers:
        index.include(module.router, prefix=API_PREFIX)

    index.include(feeds.public)

    # The web UI: its pages (the home page at "/"), forms, live stream and static files.
    web.install(api, include=index.include)
    index.install()

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = _openapi_with_one_error_shape(api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _openapi_with_one_error_shape(api: FastAPI) -> dict[str, Any]:
    """FastAPI documents its own 422 body; ours is ErrorResponse everywhere."""
    schema = get_openapi(title=api.title, version=api.version, summary=api.summary, routes=api.routes)
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"] = {
                    "description": "Invalid input; `fields` names each bad field.",
                    "content": {"application/json": {"schema": ref}},
                }
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema
