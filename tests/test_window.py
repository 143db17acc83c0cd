"""Bounded memory: a pipeline whose active window (``max_active``) is smaller than the
stream forgets old events from memory, never from the store."""
from __future__ import annotations

import json

from conftest import needs_shared

from polystory import Article, Pipeline
from polystory.config import Settings
from polystory.store import check_store, open_store


def _events_dev() -> list[Article]:
    rows = [json.loads(l) for l in needs_shared("data/events-dev/events.jsonl").open(encoding="utf-8")]
    return [Article(id=r["id"], text=r["text"], title=r.get("title", ""), url=r.get("url", ""),
                    published=r.get("published", "")) for r in rows]


def test_a_bounded_pipeline_keeps_every_article_in_the_store(tmp_path):
    arts = _events_dev()
    db = str(tmp_path / "window.db")
    settings = Settings(encoder="hashing", max_active=20)
    with Pipeline(settings, db=db) as p:
        outcomes = p.add_many(arts[:60])
        held = p.clusterer.assignments_
        assert len(held) <= 20
        # in memory: the clusterer's and the linker's views agree
        assert set(p.linker.story_of_) == set(p.clusterer.events_)
        stored_events = p.store.list_events()
        assert len(stored_events) > len(p.clusterer.events_)
        for o in outcomes:
            event_id, story_id = p.placement(o)
            assert event_id and story_id
            if o.article_id in held:      # memory and store agree on what memory holds
                assert held[o.article_id] == event_id
    # a restart replays the store into the same bound, and the stream goes on
    with Pipeline(settings, db=db) as p:
        assert len(p.clusterer.assignments_) <= 20
        # whole events, the ones that grew last (a part of an event would be emptied by
        # repair while the store still holds its other members)
        held_events = p.clusterer.events_
        assert held_events and set(held_events) == set(p.store.recent_events(20))
        for eid, members in held_events.items():
            assert sorted(m.doc.id for m in members) == sorted(s.article.id for s in p.store.event_members(eid))
        more = p.add_many(arts[60:])
        assert all(o.status in ("new_event", "joined_event", "duplicate") for o in more)
        assert len(p.clusterer.assignments_) <= 20
    store = open_store(db)
    try:
        assert [str(x) for x in check_store(store)] == []
        assert len(store.list_events()) >= len(stored_events)
        assert sum(len(store.event_members(e)) for e in store.list_events()) == len(arts)
    finally:
        store.close()

