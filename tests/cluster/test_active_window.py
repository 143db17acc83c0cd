"""The active window: one way in, read-only views, subscribers told of every change."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polystory.cluster.similarity import Item
from polystory.cluster.window import ActiveWindow, Change
from polystory.models import Document, PartialDate
from polystory.summary import event_date_of


def _item(aid: str, vec, date: PartialDate | None = None) -> Item:
    v = np.asarray(vec, dtype=np.float32)
    return Item(Document(id=aid, title="", text="", language="en", event_date=date), v / np.linalg.norm(v))


class Mirror:
    """A subscriber that keeps event -> member ids from the changes alone."""

    def __init__(self, window: ActiveWindow) -> None:
        self.members: dict[str, set[str]] = {}
        window.subscribe(self.changed)

    def changed(self, ch: Change) -> None:
        if ch.kind == "add":
            self.members.setdefault(ch.events[0], set()).add(ch.items[0].doc.id)
        elif ch.kind == "move":
            old, new = ch.events
            self.members[old].discard(ch.items[0].doc.id)
            if not self.members[old]:
                del self.members[old]
            self.members.setdefault(new, set()).add(ch.items[0].doc.id)
        elif ch.kind == "evict":
            assert {m.doc.id for m in ch.items} == self.members.pop(ch.events[0])


ops = st.lists(st.tuples(st.sampled_from(["add", "add", "move", "update", "evict"]),
                         st.integers(0, 5), st.integers(0, 30)), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(ops)
def test_any_sequence_of_changes_keeps_the_window_consistent(seq):
    rng = np.random.default_rng(0)
    w = ActiveWindow()
    mirror = Mirror(w)
    n = 0
    for op, e, d in seq:
        ids = sorted(w.assignments_)
        if op == "add" or not ids:
            date = None if d % 3 == 0 else PartialDate(2024, 1 + d % 12, 1 + d % 28)
            w.add(_item(f"a{n}", rng.normal(size=8), date), f"E{e}")
            n += 1
        elif op == "move":
            w.move(ids[d % len(ids)], f"E{e}")
        elif op == "update":
            it = w.item(ids[d % len(ids)])
            w.update(Item(Document(id=it.doc.id, title="", text="", language="en",
                                   event_date=PartialDate(2020, 1 + d % 12)), it.vec))
        else:
            w.evict(sorted(w.events_)[e % len(w.events_)])
        # members, assignments, the ANN index, the neighbourhoods and a subscriber agree
        held = {m.doc.id: eid for eid, ms in w.events_.items() for m in ms}
        assert held == dict(w.assignments_) and w.n_articles == len(held)
        assert all(w.events_.values())                     # no empty event
        assert len(w._index) == len(w._keys) == len(w._local) == len(held)
        assert mirror.members == {eid: {m.doc.id for m in ms} for eid, ms in w.events_.items()}
        for eid, ms in w.events_.items():                  # the date cache never goes stale
            assert w.event_date(eid) == event_date_of([m.doc.event_date for m in ms])
        if held:
            v = w.item(next(iter(held))).vec
            assert set(w.nearest_events(v, 3)) <= set(w.events_)


def test_the_views_are_read_only_and_an_article_is_added_once():
    w = ActiveWindow()
    w.add(_item("a", [1, 0]), "E1")
    with pytest.raises(TypeError):
        w.events_["E2"] = []
    with pytest.raises(TypeError):
        w.assignments_["b"] = "E1"
    with pytest.raises(ValueError, match="already in event E1"):
        w.add(_item("a", [0, 1]), "E2")


def test_the_window_orders_events_by_growth_and_articles_by_arrival():
    w = ActiveWindow()
    for aid, eid, vec in [("a", "E1", [1, 0, 0]), ("b", "E2", [0, 1, 0]), ("c", "E1", [1, .1, 0])]:
        w.add(_item(aid, vec), eid)
    assert list(w.events_) == ["E2", "E1"] and w.oldest() == "E2"   # E1 grew last
    w.move("a", "E2")
    assert list(w.events_) == ["E1", "E2"] and w.opened_by("E2") == "a" and w.arrival("E2") == 0
    assert w.nearest_events(np.array([1, 0, 0], np.float32), 1) == ["E2"]


def test_a_pickled_window_finds_the_same_neighbours():
    rng = np.random.default_rng(1)
    w = ActiveWindow()
    for i in range(40):
        w.add(_item(f"a{i}", rng.normal(size=16)), f"E{i % 7}")
    w.evict("E3")
    clone = pickle.loads(pickle.dumps(w))
    for i in range(10):
        q = rng.normal(size=16).astype(np.float32)
        assert clone.nearest_events(q, 5) == w.nearest_events(q, 5)
