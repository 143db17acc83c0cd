"""The store's vectors by meaning: the nearest stored articles to a query vector.

A reading process (a server's ``/search``, a second API worker) finds articles by meaning
without the writer's clusterer: ``VectorIndex`` holds the document vectors of one encoder
that the store has, loaded on first use and topped up from the store by arrival order
(``articles.seq``), so an article another process stored is found on the next search.
Articles are never deleted and their vectors never change, so the index only grows.

The search is exact: usearch's SIMD brute force over the float16 vectors, unit length,
without converting them (768 bytes an article for 384 dimensions, about 75 MB at 100,000
articles; about 15 ms a query at that size on this machine, 0.4 ms at 1,000; a numpy
product would first convert the whole matrix to float32, 30 times slower).  No graph is
built (an HNSW index of 100,000 vectors takes over a minute to build here, which a
reading process would pay on its first search).  One index per store and encoder, safe
to share between threads.
"""
from __future__ import annotations

import threading
from typing import Callable, Iterable, Sequence

import numpy as np

__all__ = ["VectorIndex"]

#: Rows read from the store per query while topping up.
PAGE = 5000


class VectorIndex:
    """The document vectors of one encoder that a store holds, in arrival order.

    ``fetch(after_seq, limit)`` returns ``(seq, article id, vector)`` rows of clustered
    articles with ``seq > after_seq``, in ``seq`` order (``SQLStore._vectors_after``).

    >>> rows = [(1, "a", np.array([1, 0], np.float32)), (2, "b", np.array([0.6, 0.8], np.float32))]
    >>> ix = VectorIndex(lambda after, limit: [r for r in rows if r[0] > after][:limit])
    >>> [(aid, round(c, 2)) for aid, c in ix.nearest(np.array([0, 1], np.float32), 5)]
    [('b', 0.8), ('a', 0.0)]
    >>> rows.append((3, "c", np.array([0, 1], np.float32))); ix.nearest(np.array([0, 1], np.float32), 1)[0][0]
    'c'
    """

    def __init__(self, fetch: Callable[[int, int], Sequence[tuple[int, str, np.ndarray]]]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._mat = np.zeros((0, 0), dtype=np.float16)
        self._n = 0
        self._last = -1

    def _top_up(self) -> None:
        while True:
            rows = self._fetch(self._last, PAGE)
            if not rows:
                return
            vecs = np.stack([np.asarray(v, dtype=np.float32) for _, _, v in rows])
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = (vecs / np.where(norms > 0, norms, 1.0)).astype(np.float16)
            if self._n + len(rows) > len(self._mat) or self._mat.shape[1] != vecs.shape[1]:
                grown = np.zeros((max(2 * len(self._mat), self._n + len(rows), 1024), vecs.shape[1]),
                                 dtype=np.float16)
                if self._n:
                    grown[:self._n] = self._mat[:self._n]
                self._mat = grown
            self._mat[self._n:self._n + len(rows)] = vecs
            for seq, aid, _ in rows:
                self._row[aid] = len(self._ids)
                self._ids.append(aid)
            self._n += len(rows)
            self._last = rows[-1][0]
            if len(rows) < PAGE:
                return

    def _unit(self, vec: np.ndarray) -> np.ndarray:
        q = np.asarray(vec, dtype=np.float32)
        n = float(np.linalg.norm(q))
        return q / n if n > 0 else q

    def nearest(self, vec: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` stored articles closest to ``vec`` (cosine), best first."""
        with self._lock:
            self._top_up()
            if not self._n:
                return []
            from usearch.index import MetricKind, search

            k = min(k, self._n)
            found = search(self._mat[:self._n], self._unit(vec).astype(np.float16), k,
                           MetricKind.Cos, exact=True)
            rows = np.asarray(found.keys, dtype=np.int64)
            sims = 1.0 - np.asarray(found.distances, dtype=np.float64)
            order = np.lexsort((rows, -sims))     # best first, ties by arrival
            return [(self._ids[rows[i]], float(sims[i])) for i in order]

    def cosines(self, article_ids: Iterable[str], vec: np.ndarray) -> dict[str, float]:
        """The cosine of ``vec`` with each of ``article_ids`` the index holds."""
        with self._lock:
            self._top_up()
            rows = [(a, self._row[a]) for a in dict.fromkeys(article_ids) if a in self._row]
            if not rows:
                return {}
            sims = self._mat[[r for _, r in rows]].astype(np.float32) @ self._unit(vec)
            return {a: float(s) for (a, _), s in zip(rows, sims)}

    def __len__(self) -> int:
        return self._n
