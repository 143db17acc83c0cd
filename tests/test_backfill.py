"""``polystory backfill``: embedding on a local multi-node Ray cluster, clustering in time order.

The cluster is real: a head node without CPUs (so nothing runs beside the driver) and one or
two worker nodes of one CPU each, every node its own raylet; the Ray Data actors therefore
run on the worker nodes only.  The module starts one cluster with one worker node, then adds
the second (about 5 s to start, 1 s to stop).  The tests that store articles run on both
stores (``store_url``): an SQLite file, then a PostgreSQL database.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from polystory.backfill import (BackfillReport, PrecomputedEncoder, backfill, batch_sizing,
                                time_key)
from polystory.cli import main
from polystory.embed import embedding_key
from polystory.store import is_postgres_url, open_store

from conftest import raw_db, seed_articles

SEED_EVENTS = [["000", "001", "002"], ["003"], ["004"]]


def _groups(db: str) -> tuple[list[list[str]], int, list[str]]:
    """(articles grouped by event, number of stories, ids of all stored articles)."""
    s = open_store(db)
    try:
        stored = s.list_articles()
        groups: dict[str, list[str]] = {}
        for a in stored:
            groups.setdefault(a.event_id, []).append(a.article.id)
        return sorted(sorted(g) for g in groups.values()), len(s.list_stories()), \
            [a.article.id for a in stored]
    finally:
        s.close()


# --- no Ray needed ------------------------------------------------------------------------
def test_importing_polystory_does_not_import_ray():
    code = ("import sys, polystory, polystory.cli, polystory.backfill, polystory.pipeline; "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_polystory_does_not_load_usearch_before_ray():
    """usearch loaded before Ray starts makes Ray's GCS client abort the process
    (std::regex_error from the two C++ runtimes), so no module the driver imports loads it."""
    code = ("import sys, polystory, polystory.cli, polystory.backfill, polystory.pipeline, "
            "polystory.store, polystory.serve.search; "
            "assert 'usearch' not in sys.modules, 'usearch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_time_order_dated_then_undated_in_input_order():
    whens = {0: "", 1: "2023-03-02", 2: "2022-01-01", 3: "", 4: "2023-03-01"}
    order = sorted(whens, key=lambda i: time_key(whens[i], i))
    assert order == [2, 4, 1, 0, 3]


def test_batches_spread_over_the_workers():
    assert batch_sizing(5, 2, 64) == 1
    assert batch_sizing(84, 1, 64) == 21
    assert batch_sizing(84, 2, 8) == 8
    assert batch_sizing(0, 3, 64) == 1


def test_precomputed_encoder_answers_from_vectors_then_asks_the_base():
    class Base:
        name, dim = "fake/1", 2
        calls: list = []

        def encode(self, texts):
            self.calls.append(list(texts))
            import numpy as np
            return np.ones((len(texts), 2), dtype=np.float32)

    import numpy as np
    base = Base()
    enc = PrecomputedEncoder(base, {embedding_key("fake/1", "a"): np.array([1, 0], np.float32)})
    out = enc.encode(["a", "b"])
    assert out.tolist() == [[1, 0], [1, 1]] and base.calls == [["b"]]
    assert (enc.hits, enc.misses, enc.name, enc.dim) == (1, 1, "fake/1", 2)


def test_a_clear_error_without_ray(monkeypatch, tmp_path, store_url):
    monkeypatch.setitem(sys.modules, "ray", None)
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "x"}) + "\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["backfill", str(src), "--db", store_url])
    assert res.exit_code != 0
    assert "pip install 'polystory[backfill]'" in res.output
    if is_postgres_url(store_url):    # the store was not touched: no file, no tables
        assert raw_db(store_url).version() == 0
    else:
        assert not Path(store_url).exists()


def test_an_unreachable_cluster_fails_fast_in_one_line(tmp_path, store_url):
    pytest.importorskip("ray.data")
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"id": "a", "text": seed_articles()[0].text}) + "\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["backfill", str(src), "--db", store_url,
                                    "--address", "127.0.0.1:1"])
    assert res.exit_code == 1
    assert res.output.startswith("Error: cannot start or reach Ray at 127.0.0.1:1: nothing answers")
    s = open_store(store_url)
    assert s.list_articles() == []
    s.close()


# --- on Ray -----------------------------------------------------------------------------------
# (this one first: it starts and stops its own local Ray before the module's cluster is up)
def test_cli_starts_a_local_ray_and_prints_a_summary(tmp_path, store_url):
    pytest.importorskip("ray.data")
    src = tmp_path / "two.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for a in seed_articles()[3:]:
            fh.write(json.dumps({"id": a.id, "text": a.text}) + "\n")
    args = ["backfill", str(src), "--db", store_url, "--workers", "1"]
    res = CliRunner().invoke(main, args + ["--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["articles"] == 2 and out["to_workers"] == 2
    assert set(out["statuses"]) <= {"new_event", "joined_event"}
    assert sum(out["statuses"].values()) == 2 and out["statuses"]["new_event"] == out["events"]
    assert out["workers"] == 1 and out["embedded_on_driver"] == 0
    assert out["seconds"] > 0 and out["articles_per_second"] > 0
    import ray
    assert not ray.is_initialized()   # the local Ray it started is shut down
    res = CliRunner().invoke(main, args)   # again: nothing to do, so no Ray at all
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"2 articles (2 duplicate); store: {out['events']} events")


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("ray.data")
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    yield c
    c.shutdown()


def _backfill(cluster, db: str, workers: int) -> BackfillReport:
    return backfill(seed_articles(), db=db, address=cluster.address, workers=workers)


def test_backfill_on_one_worker_node(cluster, store_url):
    db = store_url
    r = _backfill(cluster, db, workers=1)
    groups, stories, ids = _groups(db)
    assert groups == SEED_EVENTS and stories == 1
    assert sorted(ids) == ["000", "001", "002", "003", "004"]    # each stored once
    assert (r.articles, r.to_workers, r.workers, r.events, r.stories) == (5, 5, 1, 3, 1)
    assert r.statuses == {"new_event": 3, "joined_event": 2}
    assert r.embedded_on_driver == 0 and r.vectors_from_workers >= 5


@pytest.fixture(scope="module")
def two_worker_nodes(cluster):
    """The module's cluster with its second worker node (added once)."""
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    return cluster


@pytest.fixture(scope="module")
def two_worker_runs(two_worker_nodes):
    """Store kind -> (store, report) of the two-worker backfill, made on first use; the
    PostgreSQL databases are dropped after the module."""
    runs: dict[str, tuple[str, BackfillReport]] = {}
    drops: list = []   # (server, URL) of each database made
    yield runs, drops
    for server, url in drops:
        server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def two_worker_db(request, two_worker_nodes, two_worker_runs, tmp_path_factory):
    """The seeds backfilled on two worker nodes into one store of each kind, shared by the
    tests of this kind (a function-scoped parameter: a module-scoped one would let pytest
    reorder this module's tests, whose Ray clusters must come and go in file order)."""
    kind = request.param
    runs, drops = two_worker_runs
    if kind not in runs:
        if kind == "sqlite":
            db = str(tmp_path_factory.mktemp("backfill") / "two.db")
        else:
            server = request.getfixturevalue("postgres_server")
            db = server.create_database()
            drops.append((server, db))
        runs[kind] = (db, _backfill(two_worker_nodes, db, workers=2))
    return runs[kind]


def test_backfill_on_two_worker_nodes_matches_the_pipeline(two_worker_db, seeds_pipeline):
    db, r = two_worker_db
    groups, stories, ids = _groups(db)
    assert groups == SEED_EVENTS and stories == 1
    assert sorted(ids) == ["000", "001", "002", "003", "004"]
    assert (r.workers, r.embedded_on_driver) == (2, 0)
    # the same events as the ordinary pipeline over the same articles
    p, outcomes = seeds_pipeline
    ref: dict[str, list[str]] = {}
    for o in outcomes:
        ref.setdefault(p.placement(o)[0], []).append(o.article_id)
    assert groups == sorted(sorted(g) for g in ref.values())
    # dated articles first, by date; the undated ones after them in input order
    assert ids == ["000", "002", "001", "003", "004"]


def test_backfill_again_adds_nothing_twice(two_worker_db, cluster):
    db, _ = two_worker_db
    before = _groups(db)
    r = _backfill(cluster, db, workers=2)
    assert r.statuses == {"duplicate": 5} and r.to_workers == 0 and r.workers == 0
    assert _groups(db) == before
    s = open_store(db)
    try:
        n = s._q("SELECT COUNT(*), COUNT(DISTINCT id) FROM articles")[0]
        docs = s._q("SELECT COUNT(*) FROM doc_embeddings")[0][0]
    finally:
        s.close()
    assert tuple(n) == (5, 5) and docs == 5
    res = CliRunner().invoke(main, ["check", "--db", db])   # the store's invariants hold
    assert res.exit_code == 0, res.output
