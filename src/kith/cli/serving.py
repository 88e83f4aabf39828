"""Serving the API with uvicorn: one process, or several (``KITH_WORKERS``).

One Python process runs Python on one core at a time, so on a machine with several cores
``kith serve --workers N`` runs N processes, each a whole server with its own engine on
the same database. On SQLite the writers of all of them queue on one lock (see
:mod:`kith.storage.database`); on PostgreSQL they share the server.

On Linux each worker listens on its own socket bound to the same port with
``SO_REUSEPORT``, and the kernel spreads new connections over them by a hash of their
addresses. uvicorn's own ``workers=`` shares one socket instead, and the first process to
wake up accepts a whole burst of new connections: 16 clients that connect at once all land
on one worker and the others stay idle. Elsewhere uvicorn's sharing is what there is.

Each worker hears its own commits at once; with ``hub_backend = "redis"`` it hears the
other workers' at once too, otherwise at its next look at the event log.
"""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
from importlib.util import find_spec
from multiprocessing.connection import wait
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from kith.api.factory import create_api
from kith.app import build_app
from kith.cli.common import opened
from kith.config import Settings, SettingsError
from kith.storage import migrate

# The parent hands its settings to the workers in this variable (``kith demo`` builds its
# settings in code, so the workers could not read the same ones from the environment).
WORKER_SETTINGS = "_KITH_WORKER_SETTINGS"

log = logging.getLogger(__name__)


def serve_app(settings: Settings) -> None:
    """Serve ``settings`` until interrupted (refusing unsafe settings first)."""
    settings.check_for_serving()
    _configure_logging(settings)
    with opened(settings) as app:
        if not migrate.is_current(app.db):
            migrate.upgrade(app.db)
        if settings.workers == 1:
            api = create_api(app)
            _freeze_heap()
            uvicorn.run(api, **_uvicorn_options(settings))
            return
    os.environ[WORKER_SETTINGS] = settings.model_dump_json()
    if sys.platform.startswith("linux"):
        _supervise(settings)
    else:
        uvicorn.run(
            f"{__name__}:worker_api", factory=True, workers=settings.workers, **_uvicorn_options(settings)
        )


def worker_api() -> FastAPI:
    """The application of one worker process, built from the parent's settings."""
    settings = Settings.model_validate_json(os.environ[WORKER_SETTINGS])
    _configure_logging(settings)
    app = build_app(settings)
    atexit.register(app.close)
    return create_api(app)


def _supervise(settings: Settings) -> None:
    """Start the workers, pass SIGINT and SIGTERM on to them, stop them all if one stops."""
    try:  # fail early, in one line, if the address is taken
        _listener(settings, reuse_port=False).close()
    except OSError as exc:
        raise SettingsError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_serve_worker, name=f"kith-worker-{n + 1}", daemon=False)
        for n in range(settings.workers)
    ]
    for worker in workers:
        worker.start()
    log.info(
        "serving on http://%s:%d with %d worker processes (Press CTRL+C to quit)",
        settings.host,
        settings.port,
        settings.workers,
    )

    def stop(_signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        wait([worker.sentinel for worker in workers])
        stop()
        for worker in workers:
            worker.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_worker() -> None:
    """One worker: its own App, its own socket on the shared port."""
    settings = Settings.model_validate_json(os.environ[WORKER_SETTINGS])
    _configure_logging(settings)
    sock = _listener(settings, reuse_port=True)
    with opened(settings) as app:
        config = uvicorn.Config(create_api(app), **_uvicorn_options(settings))
        _freeze_heap()
        uvicorn.Server(config).run(sockets=[sock])


def _freeze_heap() -> None:
    """Keep what is alive before serving out of the garbage collector's sight.

    The modules, the routes and the app (a few hundred thousand objects) live as long as
    the process. A full collection walked them all: on the 2-core machine one took 150 to
    200 ms, a stall of every stream and request, the worst deliveries of bench/fanout.py.
    Frozen, they are never walked again (Instagram's ``gc.freeze()`` before serving).
    """
    gc.collect()
    gc.freeze()


def _listener(settings: Settings, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError:
        sock.close()
        raise
    if reuse_port:
        sock.listen(2048)
    return sock


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    # uvloop and httptools (C) where installed, as uvicorn[standard] does on Linux and macOS;
    # the pure-Python loop and parser elsewhere.
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.log_level == "debug",
        "loop": "uvloop" if find_spec("uvloop") else "asyncio",
        "http": "httptools" if find_spec("httptools") else "h11",
        # per-connection zlib state (45 KiB) and a compression per message and reader: see
        # docs/performance.md, "Fan-out"
        "ws_per_message_deflate": settings.stream_compression,
    }


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
