"""The same events however the stream arrives: events-dev (blind) in one run, in chunks of
10 ingested by separate pipelines on one store (as `polystory ingest` runs would), and one
article at a time (as POSTs to `polystory serve` arrive)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from polystory import Article, Pipeline
from polystory.embed import get_encoder
from polystory.eval import evaluate

from conftest import needs_shared


class MemoEncoder:
    """The real encoder, each text embedded once for the whole module."""

    def __init__(self) -> None:
        self._inner = get_encoder("e5-small")
        self.name, self.dim = self._inner.name, self._inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            self._memo.update(zip(todo, self._inner.encode(todo)))
        return np.stack([self._memo[t] for t in texts])


@pytest.fixture(scope="module")
def dev():
    path = needs_shared("data/events-dev/events.jsonl")
    rows = [json.loads(l) for l in path.open(encoding="utf-8")]
    arts = [Article(id=r["id"], text=r["text"], title=r["title"], url=r["url"], published=r["published"])
            for r in rows]
    return arts, rows, MemoEncoder()


def _placements(p: Pipeline, ids) -> list[dict]:
    out = []
    for i in ids:
        s = p.store.article(i)
        out.append({"id": i, "event": s.event_id, "story": s.story_id})
    return out


@pytest.fixture(scope="module")
def one_run(dev, tmp_path_factory):
    arts, rows, enc = dev
    with Pipeline(db=str(tmp_path_factory.mktemp("one") / "s.db"), encoder=enc) as p:
        p.add_many(arts)
        return _placements(p, [a.id for a in arts])


def _f1(rows, out) -> tuple[float, float]:
    r = evaluate(rows, out)
    return r["events"]["bcubed"]["f1"], r["stories"]["bcubed"]["f1"]


def test_chunks_of_ten_by_separate_runs_give_the_one_run_events(dev, one_run, tmp_path):
    arts, rows, enc = dev
    db = str(tmp_path / "chunks.db")
    for k in range(0, len(arts), 10):
        with Pipeline(db=db, encoder=enc) as p:     # a fresh process each time: replay, then add
            p.add_many(arts[k:k + 10])
    with Pipeline(db=db, encoder=enc) as p:
        chunks = _placements(p, [a.id for a in arts])
    ev1, st1 = _f1(rows, one_run)
    ev2, st2 = _f1(rows, chunks)
    assert abs(ev1 - ev2) <= 0.01 and abs(st1 - st2) <= 0.01, (ev1, ev2, st1, st2)


def test_one_article_at_a_time_gives_the_one_run_events(dev, one_run, tmp_path):
    arts, rows, enc = dev
    with Pipeline(db=str(tmp_path / "single.db"), encoder=enc) as p:
        for a in arts:
            p.add(a)
        single = _placements(p, [a.id for a in arts])
    ev1, st1 = _f1(rows, one_run)
    ev2, st2 = _f1(rows, single)
    assert abs(ev1 - ev2) <= 0.01 and abs(st1 - st2) <= 0.01, (ev1, ev2, st1, st2)
