"""A restart anywhere between batches continues the stream as if there had been none: a
pipeline reopened on its store after every batch of a real stream (events-dev blind, then
ecbplus-dev) ends with exactly the events and stories of the uninterrupted run, whether it
replays the store when it opens or at its first write.  On both
stores, with the hashing encoder (the restarts replay the store each time)."""
from __future__ import annotations

import dataclasses

from conftest import shared_stream

from polystory import Pipeline
from polystory.config import Settings
from polystory.pipeline import BATCH
from polystory.store import open_store

#: ecbplus-dev articles after events-dev (each restart replays everything before it).
ECBPLUS = 120


def _placements(db: str) -> tuple[dict, list]:
    store = open_store(db)
    try:
        arts = {s.article.id: (s.status, s.event_id, s.story_id) for s in store.list_articles()}
        return arts, list(store.iter_events())
    finally:
        store.close()


def test_restarting_after_every_batch_changes_nothing(store_url, tmp_path):
    arts = shared_stream(ECBPLUS)
    settings = Settings(encoder="hashing")
    whole = str(tmp_path / "whole.db")
    with Pipeline(settings, db=whole) as p:
        p.add_many(arts)
    with_restarts = store_url
    for i in range(0, len(arts), BATCH):
        # every other restart replays the store at its first write, not when it opens
        eager = i // BATCH % 2 == 0
        with Pipeline(settings, db=with_restarts, restore=eager) as p:
            assert p.restored_ is eager and (eager or not p.clusterer.events_)
            p.add_many(arts[i:i + BATCH])
            assert p.restored_
    want, got = _placements(whole), _placements(with_restarts)
    assert len({e for _, e, _ in want[0].values()}) > 40          # a real stream of events
    assert got[0] == want[0]
    assert got[1] == want[1]


#: Short lines an outlet prints around every article (not matched by any pattern: only
#: their repetition across articles marks them as furniture).
FURNITURE = ("Subscribe to our newsletter", "Most read this week", "Sign up for our alerts")


def _with_furniture(arts):
    """Every other article framed by the same outlet furniture, in the middle of its text
    too, so cleaning depends on how many earlier articles carried each line."""
    out = []
    for i, a in enumerate(arts):
        if i % 2 == 0:
            paras = a.text.split("\n\n")
            text = "\n\n".join([paras[0], FURNITURE[i % 3], *paras[1:], FURNITURE[(i + 1) % 3],
                                FURNITURE[(i + 2) % 3]])
            a = dataclasses.replace(a, text=text)
        out.append(a)
    return out


def _documents(db: str) -> dict[str, str]:
    store = open_store(db)
    try:
        return {s.article.id: s.document.text for s in store.list_articles() if s.document}
    finally:
        store.close()


def test_a_restart_keeps_the_boilerplate_line_counts(store_url, tmp_path):
    """Cleaning drops a short line once it was seen in two other articles (``LineStats``):
    the counts are stored with each article, so after a restart the next articles are
    cleaned, and so embedded and clustered, as without one."""
    arts = _with_furniture(shared_stream())
    settings = Settings(encoder="hashing")
    whole = str(tmp_path / "whole.db")
    with Pipeline(settings, db=whole) as p:
        p.add_many(arts)
    for i in range(0, len(arts), BATCH):
        with Pipeline(settings, db=store_url, restore=i // BATCH % 2 == 0) as p:
            p.add_many(arts[i:i + BATCH])
    want = _documents(whole)
    kept = [aid for aid, text in want.items() if FURNITURE[0] in text]
    assert 0 < len(kept) <= 2 and len(want) > 60      # dropped once seen twice elsewhere
    assert _documents(store_url) == want
    assert _placements(store_url) == _placements(whole)
