"""Neighbourhoods kept incrementally equal the batch computation, whatever the order in
which articles arrive and leave (real events-dev texts, hashing encoder vectors)."""
from __future__ import annotations

import json
import random

import numpy as np

from polystory.cluster.neighbourhood import Neighbourhoods, local_means
from polystory.embed import get_encoder

from conftest import needs_shared


def _vectors(n: int = 60):
    path = needs_shared("data/events-dev/events.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][:n]
    vecs = get_encoder("hashing").encode([f"{r.get('title', '')}\n{r['text']}" for r in rows])
    return [r["id"] for r in rows], np.asarray(vecs, dtype=np.float32)


def test_incremental_means_equal_batch_means_in_any_order():
    ids, vecs = _vectors()
    expected = local_means(vecs, ids, k=5)
    for seed in range(3):
        order = list(range(len(ids)))
        random.Random(seed).shuffle(order)
        nb = Neighbourhoods(k=5)
        for n, i in enumerate(order):
            nb.add(ids[i], vecs[i])
            if n % 7 == 0:   # ask on the way, so entries exist that later arrivals make stale
                nb.means([ids[j] for j in order[:n + 1]])
        got = nb.means(ids)
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_discarded_articles_leave_every_neighbourhood():
    ids, vecs = _vectors()
    nb = Neighbourhoods(k=5)
    for aid, v in zip(ids, vecs):
        nb.add(aid, v)
    nb.means(ids)
    gone = set(ids[::3])
    for aid in sorted(gone):
        nb.discard(aid)
    kept = [i for i, aid in enumerate(ids) if aid not in gone]
    expected = local_means(vecs[kept], [ids[i] for i in kept], k=5)
    np.testing.assert_allclose(nb.means([ids[i] for i in kept]), expected, atol=1e-5)
    assert len(nb) == len(kept) and ids[0] not in nb


def test_a_newcomer_is_not_stored_by_asking():
    ids, vecs = _vectors(10)
    nb = Neighbourhoods(k=3)
    for aid, v in zip(ids[:-1], vecs[:-1]):
        nb.add(aid, v)
    m = nb.means([ids[-1]], [vecs[-1]])
    assert ids[-1] not in nb
    np.testing.assert_allclose(m[0], local_means(vecs, ids, k=3)[-1], atol=1e-5)
