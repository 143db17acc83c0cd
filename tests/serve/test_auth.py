"""Writes need a token when the server has one, and always off loopback; reads stay open.
The servers run on both stores (``store_url``)."""
from __future__ import annotations

import re

import pytest

from polystory import Pipeline
from polystory.errors import ConfigError

from .conftest import Live, seed_records

#: The encoder is not under test here: character n-gram hashing keeps these servers fast.
FAST = {"POLYSTORY_ENCODER": "hashing"}


def _articles(live: Live) -> int:
    return live.get("/health")["articles"]


def test_a_write_token_guards_posts_and_leaves_reads_open(store_url, tmp_path):
    live = Live(store_url, env={**FAST, "POLYSTORY_TOKEN": "s3cret-token"},
                log=tmp_path / "auth.log")
    try:
        record = seed_records()[0]
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"},
                        {"Authorization": "Basic s3cret-token"}):
            r = live.http.post("/articles", json=record, headers=headers)
            assert r.status_code == 401, headers
            assert r.json() == {"ok": False, "status": 401, "error": r.json()["error"]}
            assert "Bearer" in r.json()["error"] and r.headers["www-authenticate"].startswith("Bearer")
        assert _articles(live) == 0                     # nothing was stored
        r = live.http.post("/articles", json=record, headers={"Authorization": "Bearer s3cret-token"})
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "new_event"
        assert _articles(live) == 1
        assert live.http.get("/events").status_code == 200      # reads need no token
        assert live.http.get(f"/articles/{record['id']}").status_code == 200
    finally:
        live.close()


def test_serving_beyond_loopback_makes_and_prints_a_token(store_url, tmp_path):
    live = Live(store_url, env=FAST, host="0.0.0.0", log=tmp_path / "open.log")
    try:
        said = live.stderr()
        token = re.search(r"Authorization: Bearer (\S+)'", said).group(1)
        assert len(token) >= 24
        record = seed_records()[1]
        assert live.http.post("/articles", json=record).status_code == 401
        r = live.http.post("/articles", json=record, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        live.close()


def test_the_library_refuses_to_serve_beyond_loopback_without_a_token():
    pytest.importorskip("uvicorn")
    from polystory.serve import BackgroundServer

    # the refusal happens before any request reaches the store: an in-memory one
    with Pipeline(db=":memory:") as p:
        with pytest.raises(ConfigError, match="needs a write token"):
            BackgroundServer(p, host="0.0.0.0")
        with BackgroundServer(p, host="0.0.0.0", token="t0ken") as srv:   # with one it serves
            import httpx

            url = srv.url.replace("0.0.0.0", "127.0.0.1")
            assert httpx.get(url + "/health").status_code == 200
            assert httpx.post(url + "/articles", json={"text": "x" * 50}).status_code == 401
