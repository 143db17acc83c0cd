"""A news site on 127.0.0.1 for the monitor's tests: feeds and article pages made from the
shared events-dev articles (many languages), served from a thread by ``http.server``.

Each route is a ``Route`` (status, body, headers, ETag / Last-Modified validators, a delay
before answering, a gate that holds the answer until released, a streamed endless body);
``hits`` counts the GETs of every path.
"""
from __future__ import annotations

import html
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
import datetime as dt

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
EVENTS_DEV = SHARED / "data" / "events-dev" / "events.jsonl"


def dev_rows() -> list[dict]:
    return [json.loads(l) for l in EVENTS_DEV.read_text(encoding="utf-8").splitlines() if l.strip()]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    etag: str = ""
    last_modified: str = ""
    delay_s: float = 0.0
    gate: threading.Event | None = None
    stream_bytes: int = 0          # > 0: stream this many bytes with no Content-Length


class Site:
    """Routes by path; start with ``with Site() as site``; ``site.url(path)``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.arrived: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                site._answer(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route | None = None, **kw) -> Route:
        self.routes[path] = route = route or Route(**kw)
        return route

    def wait_for(self, path: str) -> threading.Event:
        """An event set when ``path`` is first requested."""
        return self.arrived.setdefault(path, threading.Event())

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        with self._lock:
            self.hits[path] += 1
            route = self.routes.get(path)
            arrived = self.arrived.setdefault(path, threading.Event())
        arrived.set()
        if route is None:
            h.send_response(404)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            body = b"<html><body><h1>Not found</h1></body></html>"
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if route.gate is not None:
            route.gate.wait(60)
        if route.delay_s:
            time.sleep(route.delay_s)       # the server is slow; the client's timeout decides
        try:
            if route.etag and h.headers.get("If-None-Match") == route.etag or \
                    route.last_modified and h.headers.get("If-Modified-Since") == route.last_modified:
                h.send_response(304)
                h.end_headers()
                return
            h.send_response(route.status)
            h.send_header("Content-Type", route.content_type)
            if route.etag:
                h.send_header("ETag", route.etag)
            if route.last_modified:
                h.send_header("Last-Modified", route.last_modified)
            for k, v in route.headers.items():
                h.send_header(k, v)
            if route.stream_bytes:
                h.end_headers()
                chunk = b"<p>" + b"x" * 65530 + b"</p>"
                for _ in range(route.stream_bytes // len(chunk)):
                    h.wfile.write(chunk)
                return
            h.send_header("Content-Length", str(len(route.body)))
            h.end_headers()
            h.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def __enter__(self) -> "Site":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        for route in self.routes.values():
            if route.gate is not None:
                route.gate.set()
        self._server.shutdown()
        self._server.server_close()


# --- content ------------------------------------------------------------------------------
def full_date(row: dict) -> str:
    """The row's publication date as YYYY-MM-DD (a month or year alone: its first day)."""
    d = (row.get("published") or "2024-01-01")[:10]
    return d + "-01" * ((10 - len(d)) // 3)


def title_of(row: dict) -> str:
    if row.get("title"):
        return row["title"]
    first = row["text"].strip().split("\n", 1)[0]
    return first[:90]


def page_html(row: dict, charset: str = "utf-8") -> str:
    """An article page: navigation and footer boilerplate around the article's paragraphs."""
    paras = "".join(f"<p>{html.escape(p.strip())}</p>" for p in row["text"].split("\n") if p.strip())
    return (f'<!doctype html><html lang="{row["language"]}"><head><meta charset="{charset}">'
            f"<title>{html.escape(title_of(row))}</title>"
            f'<meta property="article:published_time" content="{full_date(row)}T08:00:00Z">'
            f"</head><body><nav><a href='/'>Home</a> | <a href='/world'>World</a> | Sport</nav>"
            f"<article><h1>{html.escape(title_of(row))}</h1>{paras}</article>"
            f"<footer>Copyright the site. All rights reserved. Cookie settings.</footer>"
            f"</body></html>")


def summary_of(row: dict) -> str:
    return " ".join(row["text"].split())[:300]


def rss(title: str, language: str, items: list[tuple[str, dict]]) -> bytes:
    """An RSS 2.0 feed: ``items`` are (link, row)."""
    out = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
           f"<title>{html.escape(title)}</title><link>http://127.0.0.1/</link>"
           f"<language>{language}</language><description>test</description>"]
    for link, row in items:
        pub = format_datetime(dt.datetime.fromisoformat(full_date(row)).replace(
            hour=8, tzinfo=dt.timezone.utc))
        out.append(f"<item><title>{html.escape(title_of(row))}</title><link>{html.escape(link)}</link>"
                   f"<guid>{html.escape(link)}</guid><pubDate>{pub}</pubDate>"
                   f"<description>{html.escape(summary_of(row))}</description></item>")
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


def by_language(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["language"], []).append(r)
    return out


Builder = Callable[[Site], None]
