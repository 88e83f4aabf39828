"""What every command shares: settings, the container, and errors as one readable line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError

from kith.app import App, build_app
from kith.config import Settings, SettingsError
from kith.domain.errors import KithError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"setting KITH_{name.upper()}: {first['msg']}") from None


@contextmanager
def opened(settings: Settings | None = None) -> Iterator[App]:
    app = build_app(settings or load_settings())
    try:
        yield app
    finally:
        app.close()


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a person can cause into one line and a non-zero exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except KithError as exc:
            raise fail(exc.message) from None
        except SettingsError as exc:
            raise fail(str(exc)) from None
        except OperationalError as exc:
            raise fail(
                f"the database is unavailable or not initialised ({exc.orig}); run `kith db upgrade`"
            ) from None
        except OSError as exc:
            raise fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper
