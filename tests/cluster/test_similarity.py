"""The pair features as matrices: the same values as one pair at a time, and the
``names_disjoint`` signal."""
from __future__ import annotations

import numpy as np
import pytest

from polystory.cluster import Item, PairScorer
from polystory.cluster.neighbourhood import local_means
from polystory.models import Document, PartialDate


def _item(i: int, names: tuple[str, ...], lang: str = "en", date: PartialDate | None = None,
          numbers: tuple[str, ...] = (), weekday: int | None = None) -> Item:
    rng = np.random.default_rng(i)
    v = rng.standard_normal(384).astype(np.float32)
    doc = Document(id=f"a{i}", title="", text="", language=lang, entities=names, numbers=numbers,
                   event_date=date, weekday=weekday)
    return Item(doc, v / np.linalg.norm(v))


def _stream() -> list[Item]:
    return [
        _item(0, ("lavro", "blink", "delhi", "g20"), "en", PartialDate(2023, 3, 2), ("10",), 3),
        _item(1, ("lavro", "blink", "genev"), "it", PartialDate(2022, 1), ("2022",)),
        _item(2, ("lavro", "blink", "delhi", "zakha"), "sq", None, ("10", "3"), 3),
        _item(3, ("madri", "liver", "paris", "salah"), "es", PartialDate(2022, 5, 28), ("1", "0")),
        _item(4, ("inter", "city", "istan", "rodri"), "es", None, ("1", "0"), 5),
        _item(5, ("biden",), "en", PartialDate(2022, 11, 14)),
        _item(6, (), "ar"),
    ]


def test_feature_matrix_equals_one_pair_at_a_time():
    items = _stream()
    sc = PairScorer()
    for it in items:
        sc.learn_one(it)
    local = local_means(np.array([it.vec for it in items]), [it.doc.id for it in items], k=3)
    m = sc.feature_matrix(items[:4], items, local=(local[:4], local))
    p = sc.event_proba(m)
    assert p.shape == (4, len(items))
    for i, a in enumerate(items[:4]):
        for j, b in enumerate(items):
            f = sc.features(a, b, local=(local[i], local[j]))
            assert set(f) == set(m)
            for name, value in f.items():
                assert abs(m[name][i, j] - value) < 1e-6, (name, i, j)
            assert abs(p[i, j] - sc.event_proba(f)) < 1e-9


def test_names_disjoint_needs_several_names_on_both_sides_and_none_shared():
    items = _stream()
    sc = PairScorer()
    for it in items:
        sc.learn_one(it)
    d = sc.feature_matrix(items, items)["names_disjoint"]
    assert d[3, 4] == 1.0          # two finals: 4 names each, none shared
    assert d[0, 3] == 1.0          # a summit and a final
    assert d[0, 5] == 0.0 and d[4, 6] == 0.0   # one side names fewer than 3
    assert 0.0 < d[0, 2] < 0.01    # reports of one meeting share rare names
    assert d[0, 1] < d[0, 3]       # shared protagonists count, a little


def test_local_cos_tells_look_alikes_apart_where_the_raw_cosine_cannot():
    """Two happenings of one kind: every report is close to every other (one shared
    direction), but within the neighbourhood the reports of each happening lean their own
    way; minus the local background, same-happening pairs agree and look-alikes oppose."""
    rng = np.random.default_rng(0)
    kind, first, second = (rng.standard_normal(384) for _ in range(3))
    vecs = [kind * 3 + (first if i < 5 else second) + 0.3 * rng.standard_normal(384) for i in range(10)]
    items = [Item(Document(id=f"r{i}", title="", text="", language="en"),
                  (v / np.linalg.norm(v)).astype(np.float32)) for i, v in enumerate(vecs)]
    sc = PairScorer()
    for it in items:
        sc.learn_one(it)
    local = local_means(np.array([it.vec for it in items]), [it.doc.id for it in items], k=9)
    f = sc.feature_matrix(items, items, local=(local, local))
    same = np.array([[(i < 5) == (j < 5) for j in range(10)] for i in range(10)]) & ~np.eye(10, dtype=bool)
    other = ~same & ~np.eye(10, dtype=bool)
    assert f["cos_raw"][other].min() > 0.8                       # the raw cosine: all alike
    assert f["local_cos"][same].min() > 0.3 > 0 > f["local_cos"][other].max()


def test_a_combiner_feature_that_was_not_computed_is_a_clear_error():
    items = _stream()
    sc = PairScorer()
    for it in items:
        sc.learn_one(it)
    with pytest.raises(ValueError, match="local_cos"):
        sc.event_proba(sc.feature_matrix(items, items))


def test_language_means_belong_to_one_encoder():
    from polystory.embed import E5Small, HashingEncoder

    assert set(E5Small().language_means) >= {"_global", "en"}
    assert HashingEncoder().language_means == {}
    doc = Document(id="a", title="", text="x", language="en")
    # the default (e5's) means are dropped for vectors of another dimension ...
    sc = PairScorer()
    sc.learn_one(Item(doc, np.ones(128, dtype=np.float32) / np.sqrt(128)))
    assert sc.prior_mean("en") is None
    # ... and means passed explicitly must fit the vectors
    with pytest.raises(ValueError, match="dimensions"):
        PairScorer(language_means=E5Small().language_means).learn_one(
            Item(doc, np.ones(128, dtype=np.float32) / np.sqrt(128)))


def test_pairs_similarity_averages_the_event_and_graded_heads_under_the_date_gate():
    """``similarity`` (what ``polystory pairs`` prints) is the mean of the clusterer's event
    probability and the shipped graded head; dates that conflict scale both; a combiner
    without a graded head (the static encoder's) gives the event probability alone."""
    from polystory.cluster.similarity import DATE_CONFLICT_FACTOR, load_combiner

    items = _stream()
    local = local_means(np.array([it.vec for it in items]), [it.doc.id for it in items], k=3)
    shipped = load_combiner()
    assert "graded" in shipped
    sc = PairScorer(combiner=shipped)
    for it in items:
        sc.learn_one(it)
    m = sc.feature_matrix(items, items, local=(local, local))
    event, graded = sc.event_proba(m, conflict=False), sc._proba("graded", m)
    assert np.allclose(sc.similarity(m, conflict=False), (event + graded) / 2)
    # 0 (2023-03-02) and 1 (2022-01) conflict, 0 and 2 (undated) do not
    both = sc.similarity(m)
    assert both[0, 1] == pytest.approx(DATE_CONFLICT_FACTOR * (event[0, 1] + graded[0, 1]) / 2)
    assert both[0, 2] == pytest.approx((event[0, 2] + graded[0, 2]) / 2)
    # the graded head learnt no date weight: its pairs carry no dates
    assert not any(n.startswith(("date_", "undated_")) for n in shipped["graded"]["weights"])
    alone = PairScorer(combiner={"event": shipped["event"]})
    for it in items:
        alone.learn_one(it)
    assert np.allclose(alone.similarity(m), alone.event_proba(m))
