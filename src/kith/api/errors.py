"""One JSON error shape for everything: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kith.api.schemas import ErrorResponse
from kith.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KithError,
    NotFound,
    RateLimited,
    RosterInvalid,
    Unauthorized,
)

log = logging.getLogger(__name__)

STATUS = {
    NotFound: 404,
    Forbidden: 403,
    Unauthorized: 401,
    InvalidInput: 422,
    Conflict: 409,
    RateLimited: 429,
}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
}

_NOT_JSON = "is not valid JSON in UTF-8"
_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

_model: dict[str, Any] = {"model": ErrorResponse}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {**_model, "description": "Not signed in, or the token is expired or revoked."},
    403: {**_model, "description": "Signed in, but not allowed to do this."},
    404: {**_model, "description": "Not found, or not visible to the caller."},
    409: {**_model, "description": "Clashes with the current state."},
    422: {**_model, "description": "Invalid input; `fields` names each bad field."},
}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    if rows is not None:
        error["rows"] = rows
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _kith_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KithError)
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    rows = [asdict(row) for row in exc.rows] if isinstance(exc, RosterInvalid) else None
    return error_response(status, exc.code, exc.message, exc.fields, headers, rows)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, str] = {}
    for item in exc.errors():
        if item.get("type") == "json_invalid":
            # Its loc is ("body", <character offset>): the field is the body itself.
            fields.setdefault("body", _NOT_JSON)
            continue
        fields.setdefault(_field_name(tuple(item.get("loc", ()))), str(item.get("msg", "is invalid")))
    message = "; ".join(f"{name}: {msg}" for name, msg in fields.items()) or "invalid request"
    return error_response(422, "invalid_input", message, fields)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI could not decode the JSON body (not UTF-8, or nested too deep): bad input.
        return error_response(422, "invalid_input", f"body: {_NOT_JSON}", {"body": _NOT_JSON})
    code = _HTTP_CODES.get(exc.status_code, "error")
    headers = exc.headers
    if exc.status_code == 405:
        allow = _allowed_methods(request, (headers or {}).get("Allow"))
        headers = {**(headers or {}), "Allow": allow} if allow else headers
    return error_response(exc.status_code, code, str(exc.detail), headers=headers)


def _allowed_methods(request: Request, given: str | None) -> str | None:
    """The methods the OpenAPI document gives this path, or Starlette's answer (which names
    only the first matching route's) for paths outside it. As OpenAPI says, a concrete path
    (``/people/import``) wins over a templated one (``/people/{person_id}``)."""
    path = request.url.path
    matching = [
        (template, operations)
        for template, operations in request.app.openapi().get("paths", {}).items()
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path)
    ]
    if any("{" not in template for template, _ in matching):
        matching = [(template, operations) for template, operations in matching if "{" not in template]
    methods = {name.upper() for _, operations in matching for name in operations} & _METHODS
    return ", ".join(sorted(methods)) if methods else given


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "something went wrong on our side; it has been logged")


def install(api: FastAPI) -> None:
    api.add_exception_handler(KithError, _kith_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(Exception, _unexpected)
