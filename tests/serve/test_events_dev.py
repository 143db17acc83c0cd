"""A blind copy of the labelled dev set through the API: 84 articles in 12 languages."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
FIELDS = ("id", "url", "title", "text", "published")


@pytest.fixture(scope="module")
def dev(live):
    path = SHARED / "data" / "events-dev" / "events.jsonl"
    if not path.exists():
        pytest.skip("../shared/data/events-dev/events.jsonl not present")
    key = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = live.post([{k: row[k] for k in FIELDS} for row in key])   # blind: no labels
    return live, key, results


def test_every_article_is_placed_and_reads_back(dev):
    live, key, results = dev
    assert [r["id"] for r in results] == [row["id"] for row in key]
    assert all(r["status"] in ("new_event", "joined_event") and r["event"] and r["story"]
               for r in results)
    for row, r in zip(key, results):
        a = live.get(f"/articles/{row['id']}")
        assert a["text"] == row["text"] and a["title"] == row["title"] and a["url"] == row["url"]
        assert a["event"] == r["event"]


def test_events_and_stories_cover_all_articles(dev):
    live, key, results = dev
    events = live.get("/events", limit=500)
    assert events["article_total"] == len(key)
    listed = sorted(a for e in events["events"] for a in e["articles"])
    assert listed == sorted(row["id"] for row in key)
    stories = live.get("/stories", limit=500)["stories"]
    assert sum(s["article_count"] for s in stories) == len(key)
    assert 10 <= events["total"] <= 30 and 3 <= len(stories) <= 8   # 13 events in 4 groups
    group = {row["id"]: row["group"] for row in key}
    for s in stories:                # a story follows one group of events
        groups = [group[a] for e in s["events"] for a in e["articles"]]
        assert max(groups.count(g) for g in groups) * 2 > len(groups)


def test_search_finds_the_same_events_in_both_scripts(dev):
    live, key, _ = dev
    group = {row["id"]: row["group"] for row in key}
    latin = live.get("/search", q="Lavrov")["results"]
    cyrillic = live.get("/search", q="Лавров")["results"]
    assert latin and {e["id"] for e in latin} == {e["id"] for e in cyrillic}
    for e in latin:     # mostly articles of the Blinken-Lavrov group
        groups = [group[a] for a in e["articles"]]
        assert groups.count("blinken-lavrov") * 2 > len(groups)


def test_search_by_meaning(dev):
    live, key, _ = dev
    group = {row["id"]: row["group"] for row in key}
    for query, expected in [("SpaceX rocket test flight", "starship"),
                            ("finale de la Ligue des champions", "ucl-finals")]:
        hits = live.get("/search", q=query)["results"]
        assert hits, query
        top = [group[a] for a in hits[0]["articles"]]
        assert top.count(expected) * 2 > len(top), (query, hits[0]["headline"])
