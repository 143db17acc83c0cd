"""``polystory serve --watch SOURCES``: the monitor inside the server (the single writer);
``/health`` shows each source's last poll, items seen, errors and next poll."""
from __future__ import annotations

import time

import pytest

from polystory import Pipeline
from polystory.config import Settings

from .site import EVENTS_DEV, Site, by_language, dev_rows, page_html, rss

pytestmark = pytest.mark.skipif(not EVENTS_DEV.exists(), reason="../shared/data/events-dev not present")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from serve.conftest import Live  # noqa: E402  (tests/serve: the live-server helper)

WAIT_S = 180


def _wait(get, until) -> dict:
    """Poll ``get()`` until ``until(value)``; the value (waiting, not asserting)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        value = get()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_serve_watch_ingests_through_the_server_and_reports_in_health(tmp_path):
    with Site() as site:
        rows = by_language(dev_rows())
        for lang in ("es", "de"):
            items = []
            for r in rows[lang][:3]:
                site.add(f"/{lang}/{r['id']}", body=page_html(r).encode())
                items.append((site.url(f"/{lang}/{r['id']}"), r))
            site.add(f"/feeds/{lang}.xml", body=rss(lang, lang, items), content_type="application/rss+xml")
        sources = tmp_path / "sources.txt"
        sources.write_text("\n".join(site.url(p) for p in ("/feeds/es.xml", "/feeds/de.xml", "/feeds/none.xml")),
                           encoding="utf-8")
        live = Live(str(tmp_path / "served.db"),
                    args=("--watch", str(sources), "--allow-network", "127.0.0.1/32",
                          "--host-delay", "0", "--every", "1h"),
                    env={"POLYSTORY_ENCODER": "hashing"})
        try:
            health = _wait(lambda: live.get("/health"),
                           lambda h: sum(s["done"] for s in h.get("watch", [])) == 6
                           and all(s["last_poll"] for s in h["watch"]))
            by = {s["url"]: s for s in health["watch"]}
            assert set(by) == {site.url(p) for p in ("/feeds/es.xml", "/feeds/de.xml", "/feeds/none.xml")}
            es = by[site.url("/feeds/es.xml")]
            assert (es["items_seen"], es["done"], es["errors"], es["last_status"]) == (3, 3, 0, "200")
            assert es["next_poll"] > es["last_poll"]
            gone = by[site.url("/feeds/none.xml")]
            assert gone["errors"] == 1 and "HTTP 404" in gone["last_error"]
            assert health["revision"] >= 1                       # written through the server
            events = live.get("/events", limit=0)
            assert events["article_total"] == 6
            # a POST still works beside the monitor
            r = live.http.post("/articles", json={"id": "posted", "text": rows["en"][0]["text"]})
            assert r.status_code == 200
            assert live.get("/events", limit=0)["article_total"] == 7
        finally:
            status = live.close()
        assert status in (0, 130), live.stderr()
        assert "watching 3 source(s) every 1h" in live.stderr()


def test_health_without_watch_is_unchanged(tmp_path):
    from polystory.serve import BackgroundServer

    with Pipeline(Settings(encoder="hashing"), db=":memory:") as p, BackgroundServer(p) as srv:
        assert set(httpx.get(srv.url + "/health").json()) == {"ok", "events", "stories", "articles",
                                                              "revision", "store"}
