"""The web UI: server-rendered pages (Jinja2), htmx, and one small module for the live stream.

:func:`install` mounts it on the FastAPI application of an App; see docs/web.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from kith.web import admin, communities, dashboards, forms, live, pages, personal, spacetools

STATIC = Path(__file__).resolve().parent / "static"


def install(api: FastAPI, include: Callable[[APIRouter], None] | None = None) -> None:
    """Add the pages, their form and live routes, and the static files to ``api``;
    ``include`` adds a router (``api.include_router`` unless given)."""
    add = include or api.include_router
    for module in (pages, forms, live, communities, dashboards, personal, spacetools, admin):
        add(module.router)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
