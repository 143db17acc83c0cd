"""The web page: static HTML, CSS and one vanilla JS file from ``static/``, no build step.

The page renders what the JSON API returns (the same queries), with ``textContent``
only, and polls ``/events`` to refresh when articles arrive.  Every response carries a
Content-Security-Policy that allows scripts from this server only (no inline script).
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "CSP", "add_web", "security_headers"]

STATIC = Path(__file__).with_name("static")

#: Scripts, styles, images and requests from this origin only; nothing inline, no frames.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

#: FastAPI's own documentation pages load Swagger UI / ReDoc from a CDN with an inline
#: script; they get no CSP (they show no stored data).
DOC_PATHS = ("/docs", "/redoc")


def security_headers(path: str) -> dict[str, str]:
    """Headers added to every response for ``path``."""
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "X-Frame-Options": "DENY"}
    if not path.startswith(DOC_PATHS):
        headers["Content-Security-Policy"] = CSP
    return headers


def add_web(app: FastAPI) -> None:
    """Serve the page at ``/`` and its files under ``/static``."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
