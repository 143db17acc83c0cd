"""The store's vector index: the graph (HNSW) finds what the exact search finds, is saved
beside the store, reused by the next process, extended as articles arrive, and rebuilt
when what is saved does not match the store."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from polystory.embed import get_encoder
from polystory.store import SQLiteStore
from polystory.store.vectors import VectorIndex

from conftest import needs_shared


@pytest.fixture(scope="module")
def corpus():
    """Real articles (events-dev and ecbplus-dev) as hashing-encoder vectors, and their
    titles as queries."""
    rows = []
    for name in ("data/events-dev/events.jsonl", "data/ecbplus-dev/docs.jsonl"):
        with needs_shared(name).open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh]
    enc = get_encoder("hashing")
    vecs = enc.encode([f"{r.get('title', '')}\n{r['text']}" for r in rows])
    titled = [i for i, r in enumerate(rows) if r.get("title")]
    queries = enc.encode([rows[i]["title"] for i in titled[:60]])
    return [r["id"] for r in rows], np.asarray(vecs, dtype=np.float32), queries


class Rows:
    """A store's ``_vectors_after`` over a growing list, counting the rows it handed out."""

    def __init__(self, ids, vecs, n):
        self.ids, self.vecs, self.n = ids, vecs, n

    def __call__(self, after, limit):
        return [(i + 1, self.ids[i], self.vecs[i]) for i in range(max(after, 0), self.n)][:limit]


def _top(ix, q, k):
    return [aid for aid, _ in ix.nearest(q, k)]


def test_the_graph_finds_what_the_exact_search_finds(corpus):
    ids, vecs, queries = corpus
    rows = Rows(ids, vecs, len(ids))
    exact = VectorIndex(rows, graph_from=None)
    graph = VectorIndex(rows, graph_from=200, background=False)
    overlap = [len(set(_top(exact, q, 20)) & set(_top(graph, q, 20))) / 20 for q in queries]
    assert graph.graph_rows_ == len(ids) and exact.graph_ is None
    assert np.mean(overlap) >= 0.97, np.mean(overlap)
    # the same similarity ranks both: a stored vector finds itself first, at cosine 1
    (first, cos), *_ = graph.nearest(vecs[123], 5)
    assert first == ids[123] and cos == pytest.approx(1.0, abs=2e-3)
    assert graph.cosines([ids[5], "nope"], vecs[5]).keys() == {ids[5]}


def test_a_saved_graph_is_reused_then_extended_with_what_arrives(corpus, tmp_path):
    ids, vecs, queries = corpus
    path = tmp_path / "s.db.vectors-hashing.usearch"
    rows = Rows(ids, vecs, 600)
    first = VectorIndex(rows, path=path, graph_from=200, graph_step=100, background=False)
    first.nearest(queries[0], 10)
    assert first.graph_added_ == 600 and path.exists()
    assert json.loads(path.with_name(path.name + ".json").read_text())["rows"] == 600

    second = VectorIndex(rows, path=path, graph_from=200, graph_step=100, background=False)
    assert _top(second, queries[0], 10) == _top(first, queries[0], 10)
    assert (second.graph_rows_, second.graph_added_) == (600, 0)     # loaded, not built

    rows.n = 650        # fewer than a step arrive: searched exactly in the tail
    assert _top(second, vecs[640], 1) == [ids[640]]
    assert (second.graph_rows_, second.graph_added_) == (600, 0)
    rows.n = 800        # a step: the graph is extended by what it lacks, and saved
    assert _top(second, vecs[790], 1) == [ids[790]]
    assert (second.graph_rows_, second.graph_added_) == (800, 200)
    third = VectorIndex(rows, path=path, graph_from=200, background=False)
    third.nearest(queries[1], 5)
    assert (third.graph_rows_, third.graph_added_) == (800, 0)


def test_a_damaged_or_foreign_graph_is_built_again(corpus, tmp_path, caplog):
    ids, vecs, queries = corpus
    path = tmp_path / "s.db.vectors-hashing.usearch"
    rows = Rows(ids, vecs, 500)
    VectorIndex(rows, path=path, graph_from=200, background=False).nearest(queries[0], 5)
    meta = path.with_name(path.name + ".json")

    other = Rows(["x" + i for i in ids], vecs, 500)    # another store at the same path
    ix = VectorIndex(other, path=path, graph_from=200, background=False)
    assert _top(ix, vecs[7], 1) == ["x" + ids[7]]
    assert ix.graph_added_ == 500 and "ignoring the saved vector graph" in caplog.text

    path.write_bytes(b"not a graph")
    caplog.clear()
    ix = VectorIndex(other, path=path, graph_from=200, background=False)
    assert _top(ix, vecs[9], 1) == ["x" + ids[9]] and ix.graph_added_ == 500
    assert "ignoring the saved vector graph" in caplog.text
    assert json.loads(meta.read_text())["last_id"] == "x" + ids[499]   # saved again, whole


def test_searches_answer_exactly_while_the_graph_is_built(corpus):
    ids, vecs, queries = corpus
    rows = Rows(ids, vecs, len(ids))
    exact = VectorIndex(rows, graph_from=None)
    ix = VectorIndex(rows, graph_from=200)             # built in a background thread
    assert _top(ix, queries[2], 10) == _top(exact, queries[2], 10)
    deadline = time.monotonic() + 60
    while ix.graph_ is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ix.graph_rows_ == len(ids)
    assert _top(ix, vecs[42], 1) == [ids[42]]


def test_a_file_store_saves_its_graph_beside_it(tmp_path):
    store = SQLiteStore(tmp_path / "news.db")
    try:
        assert store.vector_graph_path("multilingual-e5-small") == \
            str(tmp_path / "news.db.vectors-multilingual-e5-small.usearch")
        assert store.vector_index("hashing").path == tmp_path / "news.db.vectors-hashing.usearch"
    finally:
        store.close()
    memory = SQLiteStore(":memory:")
    assert memory.vector_graph_path("hashing") is None
    memory.close()
