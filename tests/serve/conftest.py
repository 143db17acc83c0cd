"""Live servers for the serve tests: ``polystory serve`` on 127.0.0.1 (a free port), run as
a user runs it, in a subprocess that is stopped with Ctrl-C (SIGINT) after the module.

Each test module gets its own server over a fresh store (``scope="module"``): the first
embedding loads the encoder, and ingesting the seeds takes seconds.  A subprocess keeps the
encoder out of the test process.  The modules run once on each store (``module_store_url``):
an SQLite file, then a PostgreSQL database.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polystory.ingest import read
from polystory.store import is_postgres_url

DEMO = Path(__file__).resolve().parents[2] / "polystory" / "data" / "demo"
#: Ingesting through HTTP waits for the pipeline (the encoder on 2 cores): be patient.
TIMEOUT = 300
#: Seconds a server may take to start answering.
START_SECONDS = 60


def seed_records() -> list[dict]:
    """The five seed articles as JSON objects, read with ``polystory.ingest.read``."""
    return [{"id": a.id, "text": a.text, "title": a.title, "url": a.url,
             "published": a.published, "source": a.source} for a in read(str(DEMO))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Live:
    """A ``polystory serve`` subprocess over the store ``db``, and an HTTP client for it.

    ``args`` are further command-line arguments, ``env`` further environment variables;
    the server's stderr goes to ``log`` (by default beside an SQLite file; a PostgreSQL
    store needs one given).
    """

    def __init__(self, db: str, args: tuple[str, ...] = (), env: dict[str, str] | None = None,
                 host: str = "127.0.0.1", log: Path | None = None) -> None:
        for name in ("fastapi", "uvicorn", "httpx"):
            pytest.importorskip(name, reason=f"{name} is needed for the serve tests (the test extra)")
        import httpx

        if log is None and is_postgres_url(db):
            raise ValueError("Live over a PostgreSQL store needs a log path")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = log or Path(db).with_suffix(".log")
        with self.log.open("wb") as log:   # a file, not a pipe: a full pipe would block the server
            self.proc = subprocess.Popen([sys.executable, "-m", "polystory.cli", "serve", "--db", db,
                                          "--host", host, "--port", str(port), *args],
                                         stderr=log, env={**os.environ, **(env or {})})
        self.http = httpx.Client(base_url=self.url, timeout=TIMEOUT)
        self._wait_until_up(httpx)

    def _wait_until_up(self, httpx) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self.http.get("/health")
                return
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"polystory serve did not start: {self.stderr()[-2000:]}")
                time.sleep(0.2)

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def post(self, payload) -> list[dict]:
        r = self.http.post("/articles", json=payload)
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def get(self, path: str, **params) -> dict:
        r = self.http.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> int:
        """Stop the server as Ctrl-C does; its exit status."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="module")
def live(module_store_url, tmp_path_factory):
    """An empty store behind a live server: an SQLite file, then a PostgreSQL database."""
    srv = Live(module_store_url, log=tmp_path_factory.mktemp("serve") / "serve.log")
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def seeded(live):
    """The live server after POSTing the five seeds; (server, results)."""
    return live, live.post(seed_records())
