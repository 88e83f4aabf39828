"""The web UI: server-rendered pages (Jinja2), htmx, and one small module for the live stream.

:func:`install` mounts it on the FastAPI application of an App; see docs/web.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from kith.web import admin, communities, dashboards, forms, live, pages, personal, spacetools

STATIC = Path(__file__).resolve().parent / "static"


def install(api: FastAPI) -> None:
    """Add the pages, their form and live routes, and the static files to ``api``."""
    for module in (pages, forms, live, communities, dashboards, personal, spacetools, admin):
        api.include_router(module.router)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
