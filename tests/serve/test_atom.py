"""Atom feeds of events (``/events.atom``, with the filters of ``/events``) and of one story
(``/stories/{id}.atom``), read back with feedparser, over events-dev articles."""
from __future__ import annotations

import json

import pytest

from polystory import Article, Pipeline
from polystory.config import Settings

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"

pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
feedparser = pytest.importorskip("feedparser")

from polystory.serve import BackgroundServer  # noqa: E402

#: Character n-gram hashing: the feeds, not the encoder, are under test.
FAST = Settings(encoder="hashing")


def dev_articles(n: int) -> list[Article]:
    path = SHARED / "data/events-dev/events.jsonl"
    if not path.exists():
        pytest.skip("../shared/data/events-dev not present")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Article(id=r["id"], text=r["text"], title=r.get("title", ""), url=r.get("url", ""),
                    published=r.get("published", ""), language=r.get("language", ""))
            for r in rows[:n]]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("atom") / "atom.db"
    with Pipeline(FAST, db=str(db)) as p:
        arts = dev_articles(30)
        # a title with characters XML 1.0 cannot hold, and markup: the feed must still parse
        arts.append(Article(id="ctl", text=arts[0].text + "\n\nMore.", title="Bad\x0b title <b>&</b>",
                            url="javascript:alert(1)", published="2024-06-07", language="es"))
        p.add_many(arts)
        with BackgroundServer(p) as srv:
            yield srv


def _feed(srv, path: str, **params):
    r = httpx.get(srv.url + path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def _event_id(entry) -> str:
    return entry.id.rsplit("/", 1)[1]


def test_events_feed_lists_the_newest_events_first(server):
    listed = httpx.get(server.url + "/events", params={"limit": 500}).json()
    parsed = _feed(server, "/events.atom")
    assert listed["total"] > 5
    ids = [_event_id(e) for e in parsed.entries]
    assert ids == [e["id"] for e in listed["events"]][::-1][:50]
    by_id = {e["id"]: e for e in listed["events"]}
    for entry in parsed.entries:
        event = by_id[_event_id(entry)]
        assert entry.title == event["headline"]
        assert entry.link == f"{server.url}/#/event/{event['id']}"
        assert sorted(t.term for t in entry.tags) == sorted(event["languages"])
        assert f"Articles: {event['article_count']}" in entry.summary
        assert entry.updated_parsed is not None
        detail = httpx.get(f"{server.url}/events/{event['id']}").json()
        urls = {a["url"] for arts in detail["by_language"].values() for a in arts
                if a["url"].startswith("http")}
        assert {l.href for l in entry.links if l.rel == "related" and l.get("type") != "application/json"} == urls
    assert parsed.feed.title == "polystory: new events"


@pytest.mark.parametrize("params", [{"language": "ru"}, {"language": "de"}, {"q": "Starship"},
                                    {"since": "2024-06"}, {"until": "2022-12-31"}])
def test_events_feed_takes_the_filters_of_events(server, params):
    listed = httpx.get(server.url + "/events", params={**params, "limit": 500}).json()
    parsed = _feed(server, "/events.atom", **params)
    assert listed["total"] >= 1, params
    assert [_event_id(e) for e in parsed.entries] == [e["id"] for e in listed["events"]][::-1]
    assert all(f"{k}={v}" in parsed.feed.title for k, v in params.items())


def test_events_feed_limit_and_bad_parameters(server):
    assert len(_feed(server, "/events.atom", limit=2).entries) == 2
    r = httpx.get(server.url + "/events.atom", params={"since": "yesterday"})
    assert r.status_code == 400 and r.json()["ok"] is False and "since" in r.json()["error"]
    assert httpx.get(server.url + "/events.atom", params={"limit": 0}).status_code == 422


def test_markup_and_control_characters_stay_text(server):
    parsed = _feed(server, "/events.atom", limit=500)
    text = " ".join(e.summary for e in parsed.entries)
    assert "Bad title <b>&</b>" in text              # escaped, the control character dropped
    assert not any(l.href.startswith("javascript:") for e in parsed.entries for l in e.links)


def test_story_feed_lists_its_events(server):
    stories = httpx.get(server.url + "/stories", params={"limit": 500}).json()["stories"]
    story = max(stories, key=lambda s: s["event_count"])
    assert story["event_count"] >= 2
    parsed = _feed(server, f"/stories/{story['id']}.atom")
    dated = [e["id"] for e in story["events"] if e["event_date"]]
    undated = [e["id"] for e in story["events"] if not e["event_date"]]
    assert [_event_id(e) for e in parsed.entries] == dated[::-1] + undated
    assert parsed.feed.title == f"polystory story: {story['title']}"
    # the JSON route of the same story is unchanged
    assert httpx.get(f"{server.url}/stories/{story['id']}").json()["id"] == story["id"]


def test_unknown_story_feed_is_404_in_the_error_shape(server):
    r = httpx.get(server.url + "/stories/nope.atom")
    assert r.status_code == 404
    assert r.json() == {"ok": False, "status": 404, "error": "no story with id 'nope'"}


def test_the_page_links_the_feeds(server):
    """Without a browser (``test_browser.py`` clicks them): the page's head and footer name
    the events feed, and the story view builds its story's feed link."""
    html = httpx.get(server.url + "/").text
    assert '<link rel="alternate" type="application/atom+xml" title="polystory: new events" ' \
           'href="/events.atom">' in html
    assert 'id="events-feed" href="/events.atom"' in html
    js = httpx.get(server.url + "/static/app.js").text
    assert '"/stories/" + encodeURIComponent(id) + ".atom"' in js
