"""The monitor against a local news site (127.0.0.1) made from events-dev articles in
several languages: a feed that changes between polls, 304s, 404/500 pages, a redirect loop,
a slow and a huge response, a page in windows-1251, an item whose page is gone (summary
kept), a robots.txt that forbids a path, and items pointing at private addresses.  The
monitor keeps going, reports each problem by source, and ends with every reachable item
ingested once."""
from __future__ import annotations

import datetime as dt
import html

import pytest

from polystory import Pipeline
from polystory.config import Settings
from polystory.store import check_store
from polystory.watch import FetchOptions, Monitor, canonical_url, item_article_id

from .site import EVENTS_DEV, Route, Site, by_language, dev_rows, full_date, page_html, title_of, rss, summary_of

pytestmark = pytest.mark.skipif(not EVENTS_DEV.exists(), reason="../shared/data/events-dev not present")

#: Fast and explicit: small timeouts, no politeness delay, 127.0.0.1 allowed by name.
OPTIONS = FetchOptions(timeout_s=0.5, host_delay_s=0.0, retries=1, backoff_s=0.0,
                       max_bytes=1024 * 1024, allow_networks=("127.0.0.1/32",))
FAST = Settings(encoder="hashing")
ROBOTS = "User-agent: *\nDisallow: /private/\n"


class Clock:
    """The monitor's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


def build(site: Site) -> dict:
    """The site's feeds and pages; what the test expects of each item."""
    langs = by_language(dev_rows())
    site.add("/robots.txt", body=ROBOTS.encode(), content_type="text/plain")
    plan: dict = {"page": [], "summary": [], "feeds": {}}

    def page(path: str, row: dict, **kw) -> str:
        charset = kw.pop("charset", "utf-8")
        site.add(path, body=page_html(row, charset).encode(charset),
                 content_type=f"text/html; charset={charset}", **kw)
        return site.url(path)

    # es: a feed that changes between polls (ETag); 3 items first, then 5
    es = langs["es"][:5]
    es_links = [page(f"/es/{r['id']}?utm_source=rss", r) for r in es]
    plan["es_rows"], plan["es_links"] = es, es_links
    site.add("/feeds/es.xml", body=rss("Noticias", "es", list(zip(es_links[:3], es[:3]))),
             content_type="application/rss+xml", etag='"es-1"')
    plan["page"] += list(zip(es_links[:3], es[:3]))
    # de: Last-Modified validator; the second poll is a 304
    de = langs["de"][:3]
    de_links = [page(f"/de/{r['id']}", r) for r in de]
    site.add("/feeds/de.xml", body=rss("Nachrichten", "de", list(zip(de_links, de))),
             content_type="application/rss+xml", last_modified="Mon, 30 Nov 2026 10:00:00 GMT")
    plan["page"] += list(zip(de_links, de))
    # ru: a page in windows-1251, a page that is gone (404), a page that fails (500)
    ru = langs["ru"][:4]
    ru_links = [page(f"/ru/{ru[0]['id']}", ru[0], charset="windows-1251"),
                site.url(f"/ru/gone-{ru[1]['id']}"),
                page(f"/ru/{ru[2]['id']}", ru[2], status=500),
                page(f"/ru/{ru[3]['id']}", ru[3])]
    site.add("/feeds/ru.xml", body=rss("Новости", "ru", list(zip(ru_links, ru))),
             content_type="application/rss+xml; charset=utf-8")
    plan["page"] += [(ru_links[0], ru[0]), (ru_links[3], ru[3])]
    plan["summary"] += [(ru_links[1], ru[1], "HTTP 404", "ru"), (ru_links[2], ru[2], "HTTP 500", "ru")]
    plan["cp1251"] = (ru_links[0], ru[0])
    # fr: robots.txt forbids /private/; a page that redirects forever; a slow and a huge page
    fr = langs["fr"][:5]
    fr_links = [page(f"/fr/{fr[0]['id']}", fr[0]),
                page(f"/private/{fr[1]['id']}", fr[1]),
                site.url(f"/fr/loop-{fr[2]['id']}"),
                page(f"/fr/slow-{fr[3]['id']}", fr[3], delay_s=3.0),
                site.url(f"/fr/huge-{fr[4]['id']}")]
    site.add(f"/fr/loop-{fr[2]['id']}", status=302, headers={"Location": f"/fr/loop2-{fr[2]['id']}"})
    site.add(f"/fr/loop2-{fr[2]['id']}", status=302, headers={"Location": f"/fr/loop-{fr[2]['id']}"})
    site.add(f"/fr/huge-{fr[4]['id']}", stream_bytes=8 * 1024 * 1024)
    site.add("/feeds/fr.xml", body=rss("Actualités", "fr", list(zip(fr_links, fr))),
             content_type="application/rss+xml")
    plan["page"] += [(fr_links[0], fr[0])]
    plan["summary"] += [(fr_links[1], fr[1], "robots.txt", "fr"), (fr_links[2], fr[2], "redirects", "fr"),
                        (fr_links[3], fr[3], "timed out", "fr"), (fr_links[4], fr[4], "limit", "fr")]
    plan["robots_forbidden"] = f"/private/{fr[1]['id']}"
    # en: items pointing at private addresses and at a file, beside a good one
    en = langs["en"][:4]
    en_links = [page(f"/en/{en[0]['id']}", en[0]), "http://10.0.0.7/internal/report",
                "http://192.168.1.1/admin", "file:///etc/passwd"]
    site.add("/feeds/en.xml", body=rss("News", "en", list(zip(en_links, en))),
             content_type="application/rss+xml")
    plan["page"] += [(en_links[0], en[0])]
    plan["summary"] += [(en_links[1], en[1], "private", "en"), (en_links[2], en[2], "private", "en"),
                        (en_links[3], en[3], "not an http(s) URL", "en")]
    # feeds that fail: gone, broken, redirecting forever, too slow, too big
    site.add("/feeds/broken.xml", status=500, body=b"oops")
    site.add("/feeds/loop.xml", status=301, headers={"Location": "/feeds/loop.xml?again"})
    site.add("/feeds/loop.xml?again", status=301, headers={"Location": "/feeds/loop.xml"})
    site.add("/feeds/slow.xml", body=rss("Slow", "it", []), delay_s=3.0)
    site.add("/feeds/huge.xml", stream_bytes=8 * 1024 * 1024, content_type="application/rss+xml")
    plan["failing"] = {"/feeds/missing.xml": "HTTP 404", "/feeds/broken.xml": "HTTP 500",
                       "/feeds/loop.xml": "redirects", "/feeds/slow.xml": "timed out",
                       "/feeds/huge.xml": "limit"}
    plan["good"] = ["/feeds/es.xml", "/feeds/de.xml", "/feeds/ru.xml", "/feeds/fr.xml", "/feeds/en.xml"]
    return plan


@pytest.fixture
def world(tmp_path):
    with Site() as site, Pipeline(FAST, db=str(tmp_path / "watch.db")) as p:
        plan = build(site)
        sources = [site.url(f) for f in plan["good"] + list(plan["failing"])]
        clock = Clock()
        monitor = Monitor(p.store, sources, lambda arts: [o.status for o in p.add_many(arts)],
                          every_s=600, options=OPTIONS, clock=clock)
        yield site, p, monitor, plan, clock
        monitor.close()


def _stored(p, link: str):
    key = canonical_url(link) if link.startswith("http") else link
    return p.store.article(item_article_id(key))


def test_every_reachable_item_is_ingested_once_and_each_problem_reported(world):
    site, p, monitor, plan, clock = world
    report = monitor.poll()

    # pages read in full: the article's own sentences, no navigation or footer
    for link, row in plan["page"]:
        stored = _stored(p, link)
        assert stored.status == "clustered", (link, stored.reason)
        last = [x for x in row["text"].split("\n") if x.strip()][-1].strip()
        assert last[:60] in stored.article.text, link
        assert "Cookie settings" not in stored.article.text and "Home | World" not in stored.article.text
        assert stored.article.published == full_date(row)
        assert stored.article.url == canonical_url(link)
    # the windows-1251 page is read as Cyrillic
    link, row = plan["cp1251"]
    stored = _stored(p, link)
    assert [x for x in row["text"].split("\n") if x.strip()][-1].strip()[:60] in stored.article.text
    assert stored.article.title == title_of(row) and stored.document.language == "ru"
    # pages that cannot be had: the feed's summary is kept, and the reason is reported by source
    by_url = {i.link: i for i in monitor.queue.items()}
    for link, row, why, feed in plan["summary"]:
        # feedparser turns file:///etc/passwd into file://etc/passwd: still no http(s) URL
        item = by_url.get(link) or next(i for i in by_url.values() if i.link.startswith("file:"))
        assert item.state == "done" and item.via == "summary" and why in item.error, (link, item.error)
        stored = p.store.article(item.article_id)
        assert stored.status == "clustered", (link, stored.reason)
        assert stored.article.text.strip() in (summary_of(row).strip(), html.escape(summary_of(row)).strip())
        assert item.source == site.url(f"/feeds/{feed}.xml")
        assert (item.url, item.error) in report.sources[item.source].item_errors
    # robots.txt was read once and the forbidden page never requested
    assert site.hits["/robots.txt"] == 1
    assert site.hits[plan["robots_forbidden"]] == 0
    # the failing feeds are reported by source and backed off; the good ones are not
    status = {s["url"]: s for s in monitor.status()}
    for path, why in plan["failing"].items():
        s = status[site.url(path)]
        assert s["last_status"] == "error" and why in s["last_error"] and s["failures"] == 1, s
        assert why in report.sources[site.url(path)].error
        assert s["next_poll"] == "2026-12-01T08:20:00Z"          # every (10 min) doubled
    for path in plan["good"]:
        s = status[site.url(path)]
        assert s["last_status"] == "200" and s["errors"] == 0 and s["next_poll"] == "2026-12-01T08:10:00Z"
    assert status[site.url("/feeds/fr.xml")]["items_seen"] == 5
    assert status[site.url("/feeds/fr.xml")]["done"] == 5
    expected = len(plan["page"]) + len(plan["summary"])
    assert monitor.queue.counts() == {"queued": 0, "fetched": 0, "done": expected, "failed": 0}
    assert len(p.store.list_articles()) == expected

    # second poll, ten minutes on: the es feed has two more items; de answers 304
    clock.now += dt.timedelta(minutes=10)
    site.routes["/feeds/es.xml"] = Route(
        body=rss("Noticias", "es", list(zip(plan["es_links"], plan["es_rows"]))),
        content_type="application/rss+xml", etag='"es-2"')
    before = dict(site.hits)
    report = monitor.poll()
    assert report.sources[site.url("/feeds/es.xml")].new_items == 2
    assert report.sources[site.url("/feeds/de.xml")].status == "304"
    assert report.sources[site.url("/feeds/broken.xml")].status == "skipped"   # backed off
    for link, row in zip(plan["es_links"][3:], plan["es_rows"][3:]):
        assert _stored(p, link).status == "clustered"
    # every page was requested once in all (the 500 page once per try: 2 tries, then never)
    pages = [l for l, _ in plan["page"]] + plan["es_links"][3:]
    for link in pages:
        assert site.hits[link[len(site.base):]] == 1, link
    assert site.hits["/ru/" + plan["summary"][1][1]["id"]] == 2
    assert all(site.hits[k] == before.get(k, 0) for k in before
               if not k.startswith(("/feeds/", "/es/")))
    assert len(p.store.list_articles()) == expected + 2
    assert check_store(p.store) == []

    # a third poll: nothing new anywhere, nothing fetched again
    clock.now += dt.timedelta(minutes=10)
    report = monitor.poll()
    assert report.sources[site.url("/feeds/es.xml")].status == "304"
    assert report.ingested == 0 and len(p.store.list_articles()) == expected + 2


def test_a_private_address_is_refused_without_allow_private(tmp_path):
    """Default options: a feed on 127.0.0.1 is never requested, and the source says why."""
    with Site() as site, Pipeline(FAST, db=str(tmp_path / "private.db")) as p:
        site.add("/feed.xml", body=rss("Local", "en", []), content_type="application/rss+xml")
        monitor = Monitor(p.store, [site.url("/feed.xml")], lambda arts: [], clock=Clock(),
                          options=FetchOptions(host_delay_s=0.0))
        try:
            report = monitor.poll()
        finally:
            monitor.close()
        assert site.hits["/feed.xml"] == 0
        error = report.sources[site.url("/feed.xml")].error
        assert "127.0.0.1 is a loopback or private address" in error and "--allow-private" in error
        assert monitor.status()[0]["last_error"] == error


def test_a_redirect_to_a_private_address_is_refused(tmp_path):
    """127.0.0.1 allowed by name, but a redirect from it into the LAN is checked again."""
    with Site() as site, Pipeline(FAST, db=str(tmp_path / "redirect.db")) as p:
        site.add("/feed.xml", status=302, headers={"Location": "http://10.1.2.3/feed.xml"})
        monitor = Monitor(p.store, [site.url("/feed.xml")], lambda arts: [], clock=Clock(),
                          options=OPTIONS)
        try:
            error = monitor.poll().sources[site.url("/feed.xml")].error
        finally:
            monitor.close()
        assert "10.1.2.3 is a loopback or private address" in error


def test_the_queue_and_status_live_in_either_store(store_url):
    """The watch tables on SQLite and PostgreSQL (migration 2): a poll, then a second poll
    whose feed is unchanged (ETag) stores nothing twice."""
    with Site() as site, Pipeline(FAST, db=store_url) as p:
        rows = by_language(dev_rows())["it"][:3]
        items = []
        for r in rows:
            site.add(f"/it/{r['id']}", body=page_html(r).encode())
            items.append((site.url(f"/it/{r['id']}"), r))
        site.add("/feeds/it.xml", body=rss("Notizie", "it", items), content_type="application/rss+xml",
                 etag='"v1"')
        clock = Clock()
        monitor = Monitor(p.store, [site.url("/feeds/it.xml")],
                          lambda arts: [o.status for o in p.add_many(arts)], options=OPTIONS, clock=clock)
        try:
            assert monitor.poll().ingested == 3
            clock.now += dt.timedelta(minutes=11)
            report = monitor.poll()
        finally:
            monitor.close()
        assert report.sources[site.url("/feeds/it.xml")].status == "304" and report.ingested == 0
        [status] = monitor.status()
        assert (status["items_seen"], status["done"], status["polls"], status["errors"]) == (3, 3, 2, 0)
        assert status["last_poll"] == "2026-12-01T08:11:00Z" and status["next_poll"] == "2026-12-01T08:21:00Z"
        assert sorted(a.article.id for a in p.store.list_articles()) == \
            sorted(item_article_id(canonical_url(l)) for l, _ in items)
        assert check_store(p.store) == []


def test_a_stop_leaves_the_rest_queued_and_a_restart_finishes_it(tmp_path):
    """What ``serve --watch`` does on Ctrl-C: the monitor stops between items; the items
    not reached stay queued and the next start ingests each of them once."""
    import threading

    with Site() as site, Pipeline(FAST, db=str(tmp_path / "stop.db")) as p:
        rows = by_language(dev_rows())["en"][:20]
        items = []
        for r in rows:
            site.add(f"/en/{r['id']}", body=page_html(r).encode())
            items.append((site.url(f"/en/{r['id']}"), r))
        site.add("/feeds/en.xml", body=rss("News", "en", items), content_type="application/rss+xml")
        stop = threading.Event()

        def ingest(arts):
            stop.set()                      # stop once the first batch is being ingested
            return [o.status for o in p.add_many(arts)]

        monitor = Monitor(p.store, [site.url("/feeds/en.xml")], ingest, options=OPTIONS, clock=Clock())
        monitor.run(stop)
        counts = monitor.queue.counts()
        monitor.close()
        assert counts["done"] == 16 and counts["queued"] == 4, counts
        again = Monitor(p.store, [site.url("/feeds/en.xml")],
                        lambda arts: [o.status for o in p.add_many(arts)], options=OPTIONS, clock=Clock())
        try:
            again.drain()
        finally:
            again.close()
        assert again.queue.counts()["done"] == 20
        assert all(site.hits[l[len(site.base):]] == 1 for l, _ in items)
        assert len(p.store.list_articles()) == 20
