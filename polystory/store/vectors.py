"""The store's vectors by meaning: the nearest stored articles to a query vector.

A reading process (a server's ``/search``, a second API worker) finds articles by meaning
without the writer's clusterer: ``VectorIndex`` holds the document vectors of one encoder
that the store has, loaded on first use and topped up from the store by arrival order
(``articles.seq``), so an article another process stored is found on the next search.
Articles are never deleted and their vectors never change, so the index only grows.

Two parts answer a query, so that its cost does not grow with the store:

* **a graph** (usearch's HNSW, float16, keyed by ``seq``) over the vectors up to some
  point of arrival, once the store holds ``graph_from`` of them.  It is built and later
  extended by a background thread, on a copy that replaces the one searched when it is
  done, so a search never waits for it; beside a file store it is saved next to the store
  (``<store>.vectors-<encoder>.usearch`` and a ``.json`` that says up to which article),
  so the next process loads it in a fraction of a second instead of building it (18 s at
  55,000 articles of the hashing encoder on this machine);
* **the tail**: the vectors that arrived after the graph's, searched exactly (usearch's
  SIMD brute force over the float16 rows, without converting them), a few thousand at most.

The graph's candidates are re-scored exactly against the same rows as the tail's, so one
similarity ranks both.  Below ``graph_from`` vectors there is no graph and the search is
exact (0.4 ms at 1,000 articles; 15 ms at 100,000, which the graph brings to about 2 ms).
One index per store and encoder, safe to share between threads.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    from usearch.index import Index

# usearch is imported where it is used, never when polystory.store is: loaded before Ray
# starts in the same process (``polystory backfill``), its C++ runtime makes Ray's GCS
# client abort (std::regex_error).

__all__ = ["VectorIndex", "GRAPH_FROM", "GRAPH_STEP"]

log = logging.getLogger(__name__)

#: Rows read from the store per query while topping up.
PAGE = 5000
#: Vectors from which a graph is built (below it, the exact search costs under 3 ms).
GRAPH_FROM = 20_000
#: Vectors that arrive after the graph's before it is extended (the exact tail's bound).
GRAPH_STEP = 4_000
#: HNSW parameters: links per node, and the candidate lists of an insertion and a search
#: (a search looks at no fewer candidates than it returns).
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 256


class VectorIndex:
    """The document vectors of one encoder that a store holds, in arrival order.

    ``fetch(after_seq, limit)`` returns ``(seq, article id, vector)`` rows of clustered
    articles with ``seq > after_seq``, in ``seq`` order (``SQLStore._vectors_after``).
    ``path``: where the graph is saved and looked for (``None``: kept in memory only);
    ``graph_from``: vectors from which a graph is used (``None``: never, always exact);
    ``background``: build the graph in a thread (``False``: within the search that needs it).

    >>> rows = [(1, "a", np.array([1, 0], np.float32)), (2, "b", np.array([0.6, 0.8], np.float32))]
    >>> ix = VectorIndex(lambda after, limit: [r for r in rows if r[0] > after][:limit])
    >>> [(aid, round(c, 2)) for aid, c in ix.nearest(np.array([0, 1], np.float32), 5)]
    [('b', 0.8), ('a', 0.0)]
    >>> rows.append((3, "c", np.array([0, 1], np.float32))); ix.nearest(np.array([0, 1], np.float32), 1)[0][0]
    'c'
    """

    def __init__(self, fetch: Callable[[int, int], Sequence[tuple[int, str, np.ndarray]]], *,
                 path: str | os.PathLike | None = None, graph_from: int | None = GRAPH_FROM,
                 graph_step: int = GRAPH_STEP, background: bool = True) -> None:
        self._fetch = fetch
        self.path = Path(path) if path is not None else None
        self.graph_from = graph_from
        self.graph_step = graph_step
        self.background = background
        self._lock = threading.Lock()
        self._search_lock = threading.Lock()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._mat = np.zeros((0, 0), dtype=np.float16)
        self._seqs = np.zeros(0, dtype=np.int64)
        self._n = 0
        self._last = -1
        self._loaded = False          # a saved graph was looked for
        self._building = False
        self.graph_: Index | None = None   # over the first ``graph_rows_`` rows, keyed by seq
        self.graph_rows_ = 0
        self.graph_added_ = 0         # vectors this object put into a graph (not loaded)

    # --- the rows --------------------------------------------------------------------
    def _top_up(self) -> None:
        while True:
            rows = self._fetch(self._last, PAGE)
            if not rows:
                break
            vecs = np.stack([np.asarray(v, dtype=np.float32) for _, _, v in rows])
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = (vecs / np.where(norms > 0, norms, 1.0)).astype(np.float16)
            if self._n + len(rows) > len(self._mat) or self._mat.shape[1] != vecs.shape[1]:
                size = max(2 * len(self._mat), self._n + len(rows), 1024)
                grown = np.zeros((size, vecs.shape[1]), dtype=np.float16)
                seqs = np.zeros(size, dtype=np.int64)
                if self._n:
                    grown[:self._n] = self._mat[:self._n]
                    seqs[:self._n] = self._seqs[:self._n]
                self._mat, self._seqs = grown, seqs   # readers keep the old arrays: still valid
            self._mat[self._n:self._n + len(rows)] = vecs
            self._seqs[self._n:self._n + len(rows)] = [seq for seq, _, _ in rows]
            for seq, aid, _ in rows:
                self._row[aid] = len(self._ids)
                self._ids.append(aid)
            self._n += len(rows)
            self._last = rows[-1][0]
            if len(rows) < PAGE:
                break

    def _due(self) -> bool:
        """Whether the graph should be built or extended now (called under the lock; a
        saved graph is looked for first); if so, the caller runs ``_extend``."""
        if self.graph_from is None or self._n < self.graph_from or self._building:
            return False
        if not self._loaded:
            self._loaded = True
            self._load()
        if self.graph_ is not None and self._n - self.graph_rows_ < self.graph_step:
            return False
        self._building = True
        return True

    def _current(self):
        """Top up, then what a query reads (the arrays stay valid: growth makes new ones);
        starts the graph's build or extension where it is due."""
        with self._lock:
            self._top_up()
            due = self._due()
            held = (self._n, self._mat, self._seqs, self._ids, self.graph_, self.graph_rows_)
        if due:
            if self.background:
                threading.Thread(target=self._extend, name="polystory-vector-graph", daemon=True).start()
            else:
                self._extend()
                with self._lock:
                    held = held[:4] + (self.graph_, self.graph_rows_)
        return held

    # --- the graph -------------------------------------------------------------------
    def _new_graph(self, ndim: int) -> Index:
        from usearch.index import Index, MetricKind

        return Index(ndim=ndim, metric=MetricKind.Cos, dtype="f16", connectivity=CONNECTIVITY,
                     expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)

    def _extend(self) -> None:
        """Add the rows the graph lacks to a copy of it, then search the copy."""
        try:
            with self._lock:
                n, graph, start = self._n, self.graph_, self.graph_rows_
                mat, seqs = self._mat, self._seqs
            grown = graph.copy() if graph is not None else self._new_graph(mat.shape[1])
            grown.add(seqs[start:n], mat[start:n], threads=1)
            with self._lock:
                self.graph_, self.graph_rows_ = grown, n
                self.graph_added_ += n - start
            self._save(grown, n, seqs, mat.shape[1])
        except Exception:   # the exact search still answers
            log.exception("building the vector graph failed; searching exactly")
        finally:
            with self._lock:
                self._building = False

    def _sidecar(self) -> Path:
        return self.path.with_name(self.path.name + ".json")

    def _save(self, graph: Index, n: int, seqs: np.ndarray, ndim: int) -> None:
        if self.path is None:
            return
        with self._lock:
            last_id = self._ids[n - 1]
        meta = {"rows": n, "last_seq": int(seqs[n - 1]), "last_id": last_id, "ndim": ndim}
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            graph.save(str(tmp))
            os.replace(tmp, self.path)
            tmp_meta = self._sidecar().with_name(f"{self._sidecar().name}.{os.getpid()}.tmp")
            tmp_meta.write_text(json.dumps(meta))
            os.replace(tmp_meta, self._sidecar())
        except OSError as e:    # a read-only folder: the graph lives in memory only
            log.warning("cannot save the vector graph to %s: %s", self.path, e)
            tmp.unlink(missing_ok=True)

    def _load(self) -> None:
        """Take a saved graph that matches the rows held (called under the lock)."""
        if self.path is None or not self.path.exists():
            return
        try:
            meta = json.loads(self._sidecar().read_text())
            rows, last_seq = int(meta["rows"]), int(meta["last_seq"])
            if (not 0 < rows <= self._n or int(self._seqs[rows - 1]) != last_seq
                    or self._ids[rows - 1] != meta["last_id"] or meta["ndim"] != self._mat.shape[1]):
                raise ValueError("it does not match the store's vectors")
            from usearch.index import Index

            graph = Index.restore(str(self.path))
            if graph is None or len(graph) != rows or graph.ndim != self._mat.shape[1]:
                raise ValueError("its size does not match its description")
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            log.warning("ignoring the saved vector graph %s (%s); building it again", self.path, e)
            return
        self.graph_, self.graph_rows_ = graph, rows

    # --- queries ---------------------------------------------------------------------
    def _unit(self, vec: np.ndarray) -> np.ndarray:
        q = np.asarray(vec, dtype=np.float32)
        n = float(np.linalg.norm(q))
        return q / n if n > 0 else q

    def nearest(self, vec: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` stored articles closest to ``vec`` (cosine), best first (exact below
        ``graph_from`` vectors; the graph's approximate neighbours and the exact tail above)."""
        from usearch.index import MetricKind, search

        n, mat, seqs, ids, graph, g = self._current()
        if not n:
            return []
        k = min(k, n)
        q = self._unit(vec)
        if graph is None:
            found = search(mat[:n], q.astype(np.float16), k, MetricKind.Cos, exact=True)
            rows = np.asarray(found.keys, dtype=np.int64)
            sims = 1.0 - np.asarray(found.distances, dtype=np.float64)
        else:
            with self._search_lock:    # one search at a time on a graph (its buffers)
                keys = np.asarray(graph.search(q.astype(np.float16), min(k, g)).keys, dtype=np.int64)
            cand = [np.searchsorted(seqs[:g], keys)]
            if n > g:
                tail = search(mat[g:n], q.astype(np.float16), min(k, n - g), MetricKind.Cos, exact=True)
                cand.append(np.asarray(tail.keys, dtype=np.int64) + g)
            rows = np.unique(np.concatenate(cand))
            sims = (mat[rows].astype(np.float32) @ q).astype(np.float64)
        order = np.lexsort((rows, -sims))[:k]     # best first, ties by arrival
        return [(ids[rows[i]], float(sims[i])) for i in order]

    def cosines(self, article_ids: Iterable[str], vec: np.ndarray) -> dict[str, float]:
        """The cosine of ``vec`` with each of ``article_ids`` the index holds."""
        n, mat, *_ = self._current()
        with self._lock:
            rows = [(a, self._row[a]) for a in dict.fromkeys(article_ids)
                    if self._row.get(a, n) < n]
        if not rows:
            return {}
        sims = mat[[r for _, r in rows]].astype(np.float32) @ self._unit(vec)
        return {a: float(s) for (a, _), s in zip(rows, sims)}

    def __len__(self) -> int:
        return self._n
