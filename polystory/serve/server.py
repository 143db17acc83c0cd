"""Run the app with uvicorn: in the foreground (``polystory serve``) or in a thread (tests,
notebooks)."""
from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from ..errors import ConfigError
from ..pipeline import Pipeline
from .app import create_app
from .guard import allowed_hosts_for

__all__ = ["serve", "BackgroundServer", "Watch", "bind", "is_loopback"]

log = logging.getLogger(__name__)

#: Seconds that open requests get to finish when the server stops.
GRACEFUL_SECONDS = 5


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one); ``ConfigError`` if taken."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` only reaches this machine (every address it resolves to is loopback).

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback
                               for i in infos)


def _need_token(host: str, token: str | None) -> None:
    if not token and not is_loopback(host):
        raise ConfigError(f"listening on {host} (not loopback) needs a write token: anyone who "
                          f"can reach it could add articles; set POLYSTORY_TOKEN or pass token=")


@dataclass(frozen=True)
class Watch:
    """What ``serve --watch`` monitors: feed URLs, the time between polls, how to fetch."""

    sources: tuple[str, ...]
    every_s: float = 600.0
    options: Any = None          # polystory.watch.FetchOptions (the defaults when None)


class _MonitorThread:
    """The monitor inside the server: it writes through the same lock as ``POST /articles``
    (the server stays the single writer), and stops with the server."""

    def __init__(self, app, watch: Watch) -> None:
        from ..watch import FetchOptions, Monitor
        from .api import ingest

        state = app.state.polystory
        self.monitor = Monitor(
            state.pipeline.store, list(watch.sources),
            lambda arts: [r["status"] for r in ingest(state, arts)["results"]],
            every_s=watch.every_s, options=watch.options or FetchOptions())
        state.monitor = self.monitor
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="polystory-watch", daemon=True)

    def _run(self) -> None:
        try:
            self.monitor.run(self._stop)
        except Exception:  # noqa: BLE001 - the server goes on; the log says why watching stopped
            log.exception("the monitor stopped")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(GRACEFUL_SECONDS + 30)
        self.monitor.close()


def _server(pipeline: Pipeline, log_level: str, token: str | None,
            allowed_hosts: tuple[str, ...] = (), watch: Watch | None = None):
    app = create_app(pipeline, token=token, allowed_hosts=allowed_hosts)
    config = uvicorn.Config(app,
                            log_level=log_level,
                            access_log=log_level == "debug",
                            timeout_graceful_shutdown=GRACEFUL_SECONDS)
    return uvicorn.Server(config), (_MonitorThread(app, watch) if watch else None)


def serve(pipeline: Pipeline, host: str = "127.0.0.1", port: int = 8000,
          log_level: str = "warning", token: str | None = None,
          allowed_hosts: tuple[str, ...] = (), watch: Watch | None = None) -> None:
    """Serve until interrupted (Ctrl-C); with ``watch``, the monitor polls its sources
    into the pipeline from a thread meanwhile (``polystory serve --watch``).

    Writes need ``Authorization: Bearer <token>`` when a ``token`` is given; a ``host``
    other than loopback refuses to start without one (``ConfigError``).  Requests are
    answered only for the bound address (and, on loopback, ``localhost``) and the names in
    ``allowed_hosts`` (``polystory.serve.guard``).
    """
    _need_token(host, token)
    sock = bind(host, port)
    server, monitor = _server(pipeline, log_level, token, allowed_hosts_for(host, allowed_hosts), watch)
    if monitor:
        monitor.start()
    try:
        server.run(sockets=[sock])
    finally:
        if monitor:
            monitor.stop()


class BackgroundServer:
    """The app served from a thread on a free port; a context manager.

    >>> from polystory import Pipeline
    >>> import httpx
    >>> with Pipeline(db=":memory:") as p, BackgroundServer(p) as srv:
    ...     httpx.get(srv.url + "/health").json()["events"]
    0
    """

    def __init__(self, pipeline: Pipeline, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "warning", token: str | None = None,
                 allowed_hosts: tuple[str, ...] = (), watch: Watch | None = None) -> None:
        _need_token(host, token)
        self._sock = bind(host, port)
        self._server, self._monitor = _server(pipeline, log_level, token,
                                              allowed_hosts_for(host, allowed_hosts), watch)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="polystory-serve", daemon=True)
        host, port = self._sock.getsockname()[:2]
        self.url = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"

    def start(self, timeout: float = 30.0) -> "BackgroundServer":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        if self._monitor:
            self._monitor.start()
        return self

    def stop(self) -> None:
        if self._monitor:
            self._monitor.stop()
        self._server.should_exit = True
        self._thread.join(GRACEFUL_SECONDS + 5)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
