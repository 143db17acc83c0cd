"""The online clusterer and its repair, on the real seed vectors and on toy vectors."""
from __future__ import annotations

import pickle

import numpy as np

from polystory.cluster import Item, OnlineEventClusterer, PairScorer
from polystory.cluster.backref import infer_dates
from polystory.enrich.recall import Recall
from polystory.models import Document, PartialDate


def _seed_items(seeds_pipeline) -> list[Item]:
    p, outcomes = seeds_pipeline
    by_id = {it.doc.id: it for members in p.clusterer.events_.values() for it in members}
    # the documents as they arrived (before back-reference dating)
    return [Item(p.store.article(o.article_id).document, by_id[o.article_id].vec,
                 by_id[o.article_id].recall_vecs) for o in outcomes]


def _run(items, threshold=0.6):
    c = OnlineEventClusterer(threshold=threshold)
    for it in items:
        c.learn_one(it)
    c.repair()
    return c


def test_same_order_same_events(seeds_pipeline):
    items = _seed_items(seeds_pipeline)
    a, b = _run(items), _run(items)
    assert a.assignments_ == b.assignments_
    assert len(set(a.assignments_.values())) >= 2


def test_pickle_round_trip(seeds_pipeline):
    items = _seed_items(seeds_pipeline)
    c = _run(items[:3])
    clone = pickle.loads(pickle.dumps(c))
    assert clone.assignments_ == c.assignments_
    assert clone.predict_one(items[3]).event_id == c.predict_one(items[3]).event_id


def test_empty_and_single_streams():
    c = OnlineEventClusterer()
    assert c.repair() == {}
    v = np.zeros(384, dtype=np.float32)
    v[0] = 1
    doc = Document(id="only", title="", text="x", language="en")
    a = c.learn_one(Item(doc, v))
    assert a.new and c.repair() == {} and c.assignments_ == {"only": a.event_id}
    assert c.learn_one(Item(doc, v)).evidence == {"duplicate": True}


def _vec(*xs):
    v = np.zeros(384, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


def test_back_reference_dates_an_undated_report():
    scorer = PairScorer(combiner={"event": {}, "story": {}})
    geneva = _vec(0, 1, 0.2)
    recalling = Item(Document(id="x", title="", text="...", language="en",
                              event_date=PartialDate(2023, 3, 2),
                              recalls=(Recall("They last met in Geneva in January 2022.", 1, 2022),)),
                     _vec(1, 0, 0.2), np.stack([geneva]))
    undated = Item(Document(id="y", title="", text="...", language="en"), _vec(0, 1, 0.25))
    events = {"A": [recalling], "B": [undated]}
    dates = {"A": PartialDate(2023, 3, 2), "B": None}
    found = infer_dates([undated], events, dates.get, scorer)
    assert found["y"][0] == PartialDate(2022, 1) and found["y"][1] == "x"
    # a sentence that is about the recalling event's own reports dates nothing
    own = Item(Document(id="x2", title="", text="...", language="en"), geneva)
    assert infer_dates([undated], {"A": [recalling, own], "B": [undated]}, dates.get, scorer) == {}


def test_back_reference_dating_is_incremental_and_order_free():
    """An undated report is dated whether the recalling report arrives after it (its new
    sentence is compared with the older undated reports) or before it (the new undated
    report is compared with every sentence); a later batch does not redo either."""
    never = {"bias": -10.0, "weights": {}}   # no two articles are one event here
    scorer = PairScorer(combiner={"event": never, "story": never})
    recalling = Item(Document(id="x", title="", text="...", language="en",
                              event_date=PartialDate(2023, 3, 2),
                              recalls=(Recall("They last met in Geneva in January 2022.", 1, 2022),)),
                     _vec(1, 0, 0.2), np.stack([_vec(0, 1, 0.2)]))
    undated = Item(Document(id="y", title="", text="...", language="en"), _vec(0, 1, 0.25))
    for order in ([undated, recalling], [recalling, undated]):
        c = OnlineEventClusterer(threshold=0.99, scorer=scorer)
        for it in order:
            c.learn_one(it)
            c.repair()
        assert c.inferred_dates_["y"][:2] == (PartialDate(2022, 1), "x")
        assert not c._undated
        other = Item(Document(id="z", title="", text="...", language="en",
                              event_date=PartialDate(2023, 5, 1)), _vec(0, 0, 1))
        c.learn_one(other)
        assert c.repair() == {} and set(c.inferred_dates_) == {"y"}
