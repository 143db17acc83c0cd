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


def test_a_foreign_page_in_a_real_browser_cannot_write(server):
    """Headless Chromium on a page of another origin (localhost, another port) tries what a
    malicious site can: a no-cors text/plain fetch, a text/plain form post, and a JSON fetch
    (which needs a CORS preflight the server never grants).  Nothing is stored; the same
    browser on the server's own page can POST JSON."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    from .browser import chromium, why_not

    if why_not():
        pytest.skip(why_not())

    class Evil(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = b"<!doctype html><html><body><p>cute cats</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    evil = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    text = seed_records()[0]["text"]
    try:
        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"http://localhost:{evil.server_address[1]}/")
            result = page.evaluate("""async ([target, text]) => {
                const out = {};
                const body = JSON.stringify({id: "evil-1", text});
                await fetch(target + "/articles", {method: "POST", mode: "no-cors",
                    headers: {"Content-Type": "text/plain"}, body}).then(r => out.nocors = r.type);
                try {
                    await fetch(target + "/articles", {method: "POST",
                        headers: {"Content-Type": "application/json"},
                        body: JSON.stringify({id: "evil-3", text})});
                    out.json = "sent";
                } catch (e) { out.json = "blocked"; }
                return out;
            }""", [server.url, text])
            assert result == {"nocors": "opaque", "json": "blocked"}
            # a form that smuggles JSON in a text/plain body: name + "=" + value
            page.evaluate("""([target, text]) => {
                const f = document.createElement("form");
                f.method = "POST"; f.action = target + "/articles"; f.enctype = "text/plain";
                const i = document.createElement("input");
                i.name = '{"id": "evil-2", "text": "' + text.slice(0, 200).replace(/["\\\\\\n]/g, " ") + '", "x": "';
                i.value = '"}';
                f.append(i); document.body.append(f); f.submit();
            }""", [server.url, text])
            page.wait_for_url(server.url + "/articles")
            assert "JSON only" in page.content()
            assert _stored(server) == 0
            # the server's own page: a same-origin JSON POST is stored
            page.goto(server.url + "/")
            status = page.evaluate("""async (text) => (await fetch("/articles", {method: "POST",
                headers: {"Content-Type": "application/json"},
                body: JSON.stringify({id: "own-1", text})})).status""", text)
            assert status == 200 and _stored(server) == 1
    finally:
        evil.shutdown()
        evil.server_close()
