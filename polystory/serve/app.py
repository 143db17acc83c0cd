"""``create_app(pipeline)``: the FastAPI app that serves the JSON API and the web page."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Iterable

from fastapi import FastAPI, Request

from ..pipeline import Pipeline
from .api import router
from .atom import router as atom_router
from .errors import error_response, install_handlers
from .guard import HostGuard, MisdirectedRequest, allowed_hosts_for
from .state import DEFAULT_MAX_BODY, ServeState
from .web import add_web, security_headers

__all__ = ["create_app"]

DESCRIPTION = """Events and stories from a multilingual news stream, over one polystory store.

`POST /articles` adds articles (with `Authorization: Bearer <token>` when the server has a
write token); the other routes read events, stories and articles.
Errors have one shape: `{"ok": false, "error": "...", "status": N}`. The web page is at `/`."""


def _version() -> str:
    try:
        return version("polystory")
    except PackageNotFoundError:
        return "0"


def create_app(pipeline: Pipeline, *, max_body: int = DEFAULT_MAX_BODY,
               token: str | None = None, allowed_hosts: Iterable[str] | None = None) -> FastAPI:
    """The app over ``pipeline`` (its store is the one the CLI uses with the same ``--db``).

    ``max_body`` is the largest request body accepted, in bytes (larger ones get 413).
    With a ``token``, ``POST /articles`` needs ``Authorization: Bearer <token>`` (else 401).
    ``allowed_hosts`` are the ``Host`` names answered (``polystory.serve.guard``; default:
    the loopback names; ``["*"]``: any); other requests get 421.
    The caller owns the pipeline and closes it after the server stops.
    """
    app = FastAPI(title="polystory", version=_version(), description=DESCRIPTION)
    app.state.polystory = ServeState(pipeline, max_body=max_body, token=token)
    install_handlers(app)
    guard = HostGuard(allowed_hosts if allowed_hosts is not None else allowed_hosts_for("127.0.0.1"))
    app.state.host_guard = guard

    @app.middleware("http")
    async def _host(request: Request, call_next):
        try:
            guard.check(request.headers.get("host"))
        except MisdirectedRequest as e:   # DNS rebinding, or a name the operator did not allow
            return error_response(str(e), e.status)
        return await call_next(request)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(security_headers(request.url.path))
        return response

    app.include_router(atom_router)   # before router: /stories/{id}.atom is not a story id
    app.include_router(router)
    add_web(app)
    return app
