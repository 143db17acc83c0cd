"""HTTP errors: one JSON shape, ``{"ok": false, "error": "...", "status": N}``, for all of them.

polystory's own exceptions carry their HTTP status (``NotFound.status == 404``); the
handlers below render those, FastAPI's validation errors and Starlette's HTTP errors
(unknown route, wrong method) in the same shape.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import PolystoryError

__all__ = ["BadRequest", "Unprocessable", "Unauthorized", "PayloadTooLarge", "error_response", "install_handlers"]

log = logging.getLogger(__name__)


class BadRequest(PolystoryError, ValueError):
    """The request cannot be read (malformed JSON, a bad query parameter)."""

    status = 400


class Unprocessable(PolystoryError, ValueError):
    """The request is well-formed JSON but not articles (missing ``text``, wrong types)."""

    status = 422


class Unauthorized(PolystoryError):
    """A write without the server's token (``Authorization: Bearer <token>``)."""

    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="polystory"'}


class PayloadTooLarge(PolystoryError):
    """The request body is over the server's limit."""

    status = 413


def error_response(message: str, status: int, headers: dict | None = None) -> JSONResponse:
    """The one error shape."""
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status,
                        headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: ``query parameter 'limit': ...``."""
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ())]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])!r}" if len(loc) > 1 else ".".join(loc)
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _polystory_error(request: Request, exc: PolystoryError) -> JSONResponse:
    if exc.status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(str(exc), exc.status, getattr(exc, "headers", None))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(str(exc.detail), exc.status_code, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(_validation_message(exc), 422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path)
    return error_response(f"internal error: {type(exc).__name__}", 500)


def install_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` in the one JSON shape."""
    app.add_exception_handler(PolystoryError, _polystory_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
