"""The web page in headless Chromium (Playwright), over a live server with the seeds.

Skips when /usr/bin/chromium or playwright is missing (``.ci/run`` installs both).
"""
from __future__ import annotations

import pytest

from .browser import chromium, why_not

REASON = why_not()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

G20, GENEVA, CALL = "000", "003", "004"   # seed id prefixes: the G20 talk, Geneva, the call
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, seeded):
    """A fresh page; fails the test on any script error or CSP violation it logs."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
          if msg.type == "error" else None)
    yield pg
    context.close()
    assert not problems, problems


def _events(seeded) -> dict[str, str]:
    """Seed id prefix -> event id."""
    _, results = seeded
    return {r["id"][:3]: r["event"] for r in results}


def _open(page, live, fragment: str = "#/") -> None:
    page.goto(f"{live.url}/{fragment}")
    _ready(page)


def _ready(page) -> None:
    """Wait until the view for the current location has rendered."""
    page.wait_for_function("() => document.body.dataset.ready === (location.hash || '#/')",
                           timeout=WAIT_MS)


def _row_ids(page, scope: str) -> list[str]:
    return page.eval_on_selector_all(f"{scope} .event-row", "rows => rows.map(r => r.dataset.eventId)")


def test_story_list_shows_the_story_on_a_timeline(page, seeded):
    live, _ = seeded
    ev = _events(seeded)
    _open(page, live)
    card = page.locator(".story", has=page.locator(".actor", has_text="Lavrov"))
    assert card.count() == 1
    order = [ev[GENEVA], ev[CALL], ev[G20]]
    assert _row_ids(page, ".story") == order
    dates = card.locator(".event-row time").evaluate_all("ts => ts.map(t => t.dataset.date)")
    assert [d[:7] for d in dates] == ["2022-01", "2022-07", "2023-03"]
    marks = card.locator(".timeline .mark")
    assert marks.evaluate_all("ms => ms.map(m => m.dataset.eventId)") == order
    lefts = marks.evaluate_all("ms => ms.map(m => parseFloat(m.style.left))")
    assert lefts == sorted(lefts) and lefts[0] < lefts[-1]
    assert "3 articles" in card.locator(".event-row").nth(2).inner_text()


def test_open_the_story_then_the_g20_event(page, seeded):
    live, _ = seeded
    ev = _events(seeded)
    _open(page, live)
    page.locator(".story-title a").first.click()
    _ready(page)
    assert page.url.endswith("#/story/" + seeded[1][0]["story"])
    assert _row_ids(page, ".story") == [ev[GENEVA], ev[CALL], ev[G20]]
    page.locator(f".event-row[data-event-id='{ev[G20]}'] a.headline").click()
    _ready(page)
    columns = page.locator(".column")
    assert sorted(columns.evaluate_all("cs => cs.map(c => c.dataset.lang)")) == ["en", "it", "sq"]
    for lang in ("sq", "it", "en"):
        col = page.locator(f".column[data-lang='{lang}']")
        assert col.locator(".card").count() == 1
        assert "Lavrov" in col.locator(".card .snippet").inner_text()
    # one report opened the event; the two others joined it online or were placed by repair
    assert page.locator(".why.opened").count() == 1
    assert page.locator(".why.joined").count() + page.locator(".why.repaired").count() == 2
    assert page.locator(".why.joined").count() >= 1
    assert any("Lavrov" in t for t in page.locator(".why.joined dd").all_inner_texts())
    assert page.locator(".event-headline").inner_text().startswith("G20")
    page.locator(".neighbours a.prev").click()                  # the story's previous event
    _ready(page)
    assert page.url.endswith("#/event/" + ev[CALL])
    assert page.locator(".column[data-lang='en'] .card").count() == 1


def _search(page, query: str) -> list[str]:
    page.fill("#search-input", query)
    page.press("#search-input", "Enter")
    page.wait_for_function("(q) => document.body.dataset.ready === location.hash && "
                           "document.querySelector('h1 q') && document.querySelector('h1 q').textContent === q "
                           "&& !!document.querySelector('.results')", arg=query, timeout=WAIT_MS)
    return _row_ids(page, ".results")


def test_search_finds_the_same_events_in_both_scripts(page, seeded):
    live, _ = seeded
    _open(page, live)
    latin = _search(page, "Lavrov")
    cyrillic = _search(page, "Лавров")
    assert sorted(latin) == sorted(cyrillic) == sorted(set(_events(seeded).values()))
    assert "Lavrov" in page.locator(".results .matched").first.inner_text()


def test_new_articles_show_up_without_reloading(page, seeded):
    live, _ = seeded
    _open(page, live)
    before = page.locator(".story").count()
    live.post({"id": "live-1", "title": "SpaceX launches Starship on its fourth test flight",
               "text": "SpaceX launched its Starship rocket from Boca Chica, Texas, on Thursday on "
                       "its fourth test flight; both stages came back for controlled splashdowns.",
               "published": "2024-06-06"})
    page.wait_for_function("(n) => document.querySelectorAll('.story').length === n",
                           arg=before + 1, timeout=WAIT_MS)
    assert page.locator(".story", has_text="fourth test flight").count() == 1
    assert page.locator("#live").inner_text().startswith("updated")


def test_article_markup_is_shown_as_text_and_runs_nothing(page, seeded):
    live, _ = seeded
    script = "<script>window.__pwned = 1</script>"
    title = '<img src=x onerror="window.__pwned = 2">Markup in a headline'
    text = (f"{script} A report about a fictional harbour opening in the town of Qarnavik, with "
            f"<b onmouseover=\"window.__pwned = 3\">bold claims</b> and more text after it.")
    result = live.post({"id": "xss-1", "title": title, "text": text,
                        "url": "javascript:window.__pwned = 4", "source": "<i>Evil</i>"})[0]
    assert result["status"] == "new_event"
    _open(page, live, f"#/event/{result['event']}")
    card = page.locator(".card[data-article-id='xss-1']")
    assert card.locator(".title").inner_text() == title
    assert script in card.locator(".snippet").inner_text()
    assert "<i>Evil</i>" in card.locator(".meta").inner_text()
    page.hover(".card .snippet")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img, b, i").count() == 0                  # no element came from the data
    assert page.evaluate("document.scripts.length") == 1              # only /static/app.js
    assert page.locator("a[href^='javascript:']").count() == 0       # the bad URL got no link


def test_the_page_links_the_atom_feeds(page, seeded):
    import feedparser

    live, results = seeded
    ev = _events(seeded)
    _open(page, live)
    head = page.eval_on_selector("link[rel='alternate'][type='application/atom+xml']", "l => l.href")
    assert head == f"{live.url}/events.atom"
    assert page.locator("#events-feed").get_attribute("href") == "/events.atom"
    story = results[0]["story"]
    _open(page, live, f"#/story/{story}")
    feed = page.locator(".crumbs a.feed")
    assert feed.get_attribute("href") == f"/stories/{story}.atom"
    r = page.request.get(live.url + feed.get_attribute("href"))
    assert r.ok and r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.body())
    assert not parsed.bozo and [e.id.rsplit("/", 1)[1] for e in parsed.entries] == \
        [ev[G20], ev[CALL], ev[GENEVA]]          # latest event first
def _label_boxes(page, scope: str) -> list[dict]:
    return page.eval_on_selector_all(
        f"{scope} .mark:not(.hidden-label) .mark-label",
        "ls => ls.map(l => { const b = l.getBoundingClientRect(); "
        "return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; })")


def _overlapping(boxes: list[dict]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[i + 1:], i + 1)
            if a["left"] < b["right"] and b["left"] < a["right"]
            and a["top"] < b["bottom"] and b["top"] < a["bottom"]]


def test_story_page_shows_its_timeline(page, seeded):
    live, results = seeded
    ev = _events(seeded)
    _open(page, live, "#/story/" + results[0]["story"])
    entries = page.locator(".story-timeline .tl-entry")
    assert entries.count() == 3
    dates = entries.evaluate_all("es => es.map(e => e.dataset.date.slice(0, 7))")
    assert dates == ["2022-01", "2022-07", "2023-03"]
    assert "Blinken ha avvertito" in entries.nth(0).locator(".tl-summary").inner_text()
    links = entries.nth(2).locator(".tl-links a")
    assert links.count() == 1 and links.get_attribute("href") == "#/event/" + ev[G20]
    assert not _overlapping(_label_boxes(page, ".story"))


def test_dense_dates_get_labels_that_do_not_overlap(page, seeded):
    """Twelve events on consecutive days (the labels would sit on each other on one row)."""
    live, _ = seeded
    _open(page, live)
    page.evaluate("""() => {
        const events = [...Array(12).keys()].map(i => ({id: 'E' + i, event_date: `2024-05-${String(i + 1).padStart(2, '0')}`,
            languages: ['en'], article_count: 1 + (i % 3), headline: 'Event ' + i}));
        const card = storyCard({id: 'S1', title: 'Dense', actors: [], event_count: 12, article_count: 24,
            languages: ['en'], first_date: '2024-05-01', last_date: '2024-05-12', events: events});
        card.id = 'dense';
        document.getElementById('view').prepend(card);
        layoutAxes();
    }""")
    boxes = _label_boxes(page, "#dense")
    hidden = page.locator("#dense .mark.hidden-label").count()
    assert len(boxes) + hidden == 12 and len(boxes) >= 6
    assert not _overlapping(boxes)
    # every visible label sits within the card
    card = page.locator("#dense").bounding_box()
    assert all(card["y"] <= b["top"] and b["bottom"] <= card["y"] + card["height"] for b in boxes)
