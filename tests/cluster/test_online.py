"""The online clusterer and its repair, on the real seed vectors and on toy vectors."""
from __future__ import annotations

import datetime

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
    assert c.repair().moved == {}
    v = np.zeros(384, dtype=np.float32)
    v[0] = 1
    doc = Document(id="only", title="", text="x", language="en")
    a = c.learn_one(Item(doc, v))
    assert a.new and c.repair().moved == {} and c.assignments_ == {"only": a.event_id}
    assert c.learn_one(Item(doc, v)).evidence == {"duplicate": True}


def _vec(*xs):
    v = np.zeros(384, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


def test_back_reference_dates_an_undated_report():
    scorer = PairScorer(combiner={"event": {}})
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
    scorer = PairScorer(combiner={"event": never})
    recalling = Item(Document(id="x", title="", text="...", language="en",
                              event_date=PartialDate(2023, 3, 2),
                              recalls=(Recall("They last met in Geneva in January 2022.", 1, 2022),)),
                     _vec(1, 0, 0.2), np.stack([_vec(0, 1, 0.2)]))
    undated = Item(Document(id="y", title="", text="...", language="en"), _vec(0, 1, 0.25))
    for order in ([undated, recalling], [recalling, undated]):
        c = OnlineEventClusterer(threshold=0.99, scorer=scorer)
        dated = {}
        for it in order:
            c.learn_one(it)
            dated.update(c.repair().dated)
        assert dated == {"y": (PartialDate(2022, 1), "x")}
        assert c.inferred_dates_["y"][:2] == (PartialDate(2022, 1), "x")
        assert not c._dating._undated   # dated: no longer waiting for a date
        other = Item(Document(id="z", title="", text="...", language="en",
                              event_date=PartialDate(2023, 5, 1)), _vec(0, 0, 1))
        c.learn_one(other)
        assert c.repair().moved == {} and set(c.inferred_dates_) == {"y"}


def _happening(k: int, copy: int) -> Item:
    """Report ``copy`` of happening ``k``: its own direction, its own month (synthetic
    orthogonal vectors minus the shipped language mean share that mean's direction, so
    days or a week apart the shipped combiner need not tell them apart)."""
    v = np.zeros(384, dtype=np.float32)
    v[k] = 1.0
    v[383] = 0.05 * copy
    day = datetime.date(2023, 1, 1) + datetime.timedelta(days=30 * k)
    doc = Document(id=f"h{k}-{copy}", title="", text="...", language="en",
                   event_date=PartialDate(day.year, day.month, day.day))
    return Item(doc, v / np.linalg.norm(v))


def test_retire_keeps_memory_bounded_and_forgets_the_oldest_events():
    c = OnlineEventClusterer(max_active=10)
    retired: list[str] = []
    for k in range(30):
        for copy in range(2):
            c.learn_one(_happening(k, copy))
        c.repair()
        retired += c.retire()
        # what is in memory is consistent: members, assignments and the ANN index agree
        held = {it.doc.id for members in c.events_.values() for it in members}
        assert held == set(c.assignments_) and len(held) <= 10
        w = c.window_
        assert len(w._index) == len(held) == len(w._keys) == len(w._local)
        assert set(c._dating._undated) <= held and set(c.inferred_dates_) <= held
    assert len(retired) == 25 and len(c.events_) == 5
    # the oldest events left first, the most recent ones stay
    assert [c.events_[e][0].doc.id for e in c.events_] == [f"h{k}-0" for k in range(25, 30)]
    # a late report of a retired happening opens a new event; one of a held happening joins
    assert c.learn_one(_happening(0, 2)).new
    assert not c.learn_one(_happening(29, 2)).new


def test_an_event_that_grows_stays_in_memory():
    c = OnlineEventClusterer(max_active=12)
    for k in range(1, 9):
        c.learn_one(_happening(k, 0))
        c.learn_one(_happening(0, k))      # happening 0 keeps being reported: 8 reports
        c.repair()
        c.retire()
    # happening 0 began first but grew last: it stays, with the most recent others
    assert sorted(c.assignments_) == sorted([f"h0-{k}" for k in range(1, 9)] + ["h5-0", "h6-0", "h7-0", "h8-0"])


def test_recall_index_drops_replaced_sentences():
    """Refreshing an event replaces its sentences: the index holds only the live ones, and
    still finds what they date."""
    from polystory.cluster.backref import RecallIndex

    scorer = PairScorer()
    recalling = Item(Document(id="x", title="", text="...", language="en",
                              event_date=PartialDate(2023, 3, 2),
                              recalls=(Recall("They last met in Geneva in January 2022.", 1, 2022),)),
                     _vec(1, 0, 0.2), np.stack([_vec(0, 1, 0.2)]))
    undated = _vec(0, 1, 0.25)
    index = RecallIndex()
    for _ in range(100):
        index.refresh("A", [recalling], PartialDate(2023, 3, 2), scorer)
    assert len(index._vecs) == len(index._meta) == 1
    found = index.match(["y"], [None], np.stack([scorer.centered(Item(recalling.doc, undated))]))
    assert found["y"][:2] == (PartialDate(2022, 1), "x")


def test_a_report_split_off_the_event_it_opened_gets_an_event_of_its_own():
    """Repair splits the opener of an event from the reports that joined it: the larger
    part keeps the event's id, and the opener's new id (derived from its one member, as
    the id of the event it opened was) must not be that same id, or it silently stays."""
    c = OnlineEventClusterer()
    docs = [Document(id=i, title="", text="x", language="en") for i in ("a", "b", "c")]
    items = [Item(d, _vec(1, k)) for k, d in enumerate(docs)]
    first = c.learn_one(items[0])          # "a" opens its event
    for it in items[1:]:
        c.restore_one(it, first.event_id)  # "b" and "c" joined it
    moved = c._reassign(items, np.array([1, 2, 2]))
    assert c.assignments_["b"] == c.assignments_["c"] == first.event_id
    assert moved == {"a": c.assignments_["a"]} and c.assignments_["a"] != first.event_id
    assert sorted(len(m) for m in c.events_.values()) == [1, 2]


def test_the_neighbour_relation_is_stored_link_by_link_and_comes_back_whole():
    """Arrivals and repairs report every link they make (the pipeline stores them), and a
    clusterer that replays the same members and links has the same relation: a restart
    does not depend on repair finding neighbours again."""
    c = OnlineEventClusterer()
    a, b, x = (Item(Document(id=i, title="", text="x", language="en"), _vec(1, k))
               for k, i in enumerate(("a", "b", "x")))
    for it, eid in ((a, "E1"), (b, "E2"), (x, "E3")):
        c.restore_one(it, eid)
    stored = set(c._link("E2", ("E3",)))          # an arrival in E2 found E3 close
    assert c.neighbour_events("E1") == []
    moved = c._reassign([a, b], np.array([1, 1]))   # repair joins "b" to "a": E1 takes E2's neighbours
    assert moved == {"b": "E1"} and "E2" not in c.events_
    assert c.neighbour_events("E1") == ["E3"] and c.neighbour_events("E3") == ["E1"]
    stored |= c._links_made
    assert stored == {("E2", "E3"), ("E1", "E3")}
    again = OnlineEventClusterer()
    for it, eid in ((a, "E1"), (b, "E1"), (x, "E3")):
        again.restore_one(it, eid)
    again.restore_links(sorted(stored))
    assert again.neighbour_events("E1") == ["E3"] and again.neighbour_events("E3") == ["E1"]
