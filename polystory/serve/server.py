"""Run the app with uvicorn: in the foreground (``polystory serve``) or in a thread (tests,
notebooks)."""
from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time

import uvicorn

from ..errors import ConfigError
from ..pipeline import Pipeline
from .app import create_app
from .guard import allowed_hosts_for

__all__ = ["serve", "BackgroundServer", "bind", "is_loopback"]

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


def _server(pipeline: Pipeline, log_level: str, token: str | None,
            allowed_hosts: tuple[str, ...] = ()) -> uvicorn.Server:
    config = uvicorn.Config(create_app(pipeline, token=token, allowed_hosts=allowed_hosts),
                            log_level=log_level,
                            access_log=log_level == "debug",
                            timeout_graceful_shutdown=GRACEFUL_SECONDS)
    return uvicorn.Server(config)


def serve(pipeline: Pipeline, host: str = "127.0.0.1", port: int = 8000,
          log_level: str = "warning", token: str | None = None,
          allowed_hosts: tuple[str, ...] = ()) -> None:
    """Serve until interrupted (Ctrl-C).

    Writes need ``Authorization: Bearer <token>`` when a ``token`` is given; a ``host``
    other than loopback refuses to start without one (``ConfigError``).  Requests are
    answered only for the bound address (and, on loopback, ``localhost``) and the names in
    ``allowed_hosts`` (``polystory.serve.guard``).
    """
    _need_token(host, token)
    sock = bind(host, port)
    _server(pipeline, log_level, token, allowed_hosts_for(host, allowed_hosts)).run(sockets=[sock])


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
                 allowed_hosts: tuple[str, ...] = ()) -> None:
        _need_token(host, token)
        self._sock = bind(host, port)
        self._server = _server(pipeline, log_level, token, allowed_hosts_for(host, allowed_hosts))
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
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(GRACEFUL_SECONDS + 5)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
