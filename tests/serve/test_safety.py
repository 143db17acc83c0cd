"""A server left running on a desktop: other web pages cannot write into it (JSON-only
writes, 415 otherwise) and requests for a foreign ``Host`` (DNS rebinding) are refused
(421), while a same-origin JSON POST still works."""
from __future__ import annotations

import pytest

from polystory import Pipeline
from polystory.config import Settings

from .conftest import Live, seed_records

pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from polystory.serve import BackgroundServer  # noqa: E402

#: The encoder is not under test here.
FAST = Settings(encoder="hashing")


@pytest.fixture
def server(tmp_path):
    with Pipeline(FAST, db=str(tmp_path / "safe.db")) as p, BackgroundServer(p) as srv:
        yield srv


def _stored(srv) -> int:
    return httpx.get(srv.url + "/health").json()["articles"]


def _shape(r, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body == {"ok": False, "status": status, "error": body["error"]}
    return body["error"]


@pytest.mark.parametrize("kind", ["text/plain", "form", "multipart", "none"])
def test_cross_site_simple_requests_cannot_write(server, kind):
    """What a foreign page can send without a CORS preflight: refused, nothing stored."""
    record = seed_records()[0]
    url = server.url + "/articles"
    cross = {"Origin": "http://evil.example"}
    if kind == "text/plain":     # fetch(url, {method: "POST", mode: "no-cors", body: JSON})
        import json

        r = httpx.post(url, content=json.dumps(record), headers={**cross, "content-type": "text/plain"})
    elif kind == "form":         # <form method=post> with the JSON in a field
        r = httpx.post(url, data={"text": record["text"]}, headers=cross)
    elif kind == "multipart":    # <form enctype=multipart/form-data>
        r = httpx.post(url, files={"text": ("a.json", record["text"].encode())}, headers=cross)
    else:
        r = httpx.post(url, content=b'{"text": "' + b"x" * 60 + b'"}')
    assert "JSON only" in _shape(r, 415)
    assert _stored(server) == 0


def test_a_same_origin_json_post_still_works(server):
    record = seed_records()[0]
    r = httpx.post(server.url + "/articles", json=record, headers={"Origin": server.url})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "new_event"
    r = httpx.post(server.url + "/articles", json=seed_records()[1],
                   headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200
    assert _stored(server) == 2


def test_a_foreign_host_is_refused(server):
    """DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 sends its own Host."""
    port = server.url.rsplit(":", 1)[1]
    for path in ("/events", "/health", "/"):
        message = _shape(httpx.get(server.url + path, headers={"Host": f"evil.example:{port}"}), 421)
        assert "evil.example" in message and "--allowed-host" in message
    r = httpx.post(server.url + "/articles", json=seed_records()[0],
                   headers={"Host": f"evil.example:{port}"})
    _shape(r, 421)
    assert _stored(server) == 0
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert httpx.get(server.url + "/health", headers={"Host": host}).status_code == 200, host


def test_configured_names_are_answered(tmp_path):
    with Pipeline(FAST, db=":memory:") as p, \
            BackgroundServer(p, allowed_hosts=("news.example",)) as srv:
        assert httpx.get(srv.url + "/health", headers={"Host": "news.example"}).status_code == 200
        assert httpx.get(srv.url + "/health", headers={"Host": "other.example"}).status_code == 421


def test_serve_allowed_host_option(tmp_path):
    live = Live(str(tmp_path / "cli.db"), args=("--allowed-host", "desk.lan"),
                env={"POLYSTORY_ENCODER": "hashing"})
    try:
        port = live.url.rsplit(":", 1)[1]
        assert live.http.get("/health", headers={"Host": f"desk.lan:{port}"}).status_code == 200
        r = live.http.get("/health", headers={"Host": f"rebound.example:{port}"})
        assert r.status_code == 421 and r.json()["status"] == 421
        r = live.http.post("/articles", content=b'{"text": "' + b"y" * 80 + b'"}',
                           headers={"content-type": "text/plain;charset=UTF-8"})
        assert r.status_code == 415
        assert live.get("/health")["articles"] == 0
    finally:
        live.close()
