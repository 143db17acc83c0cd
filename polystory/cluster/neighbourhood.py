"""Each article's neighbourhood in the stream: the local background of its vector.

Two reports of one happening are close in a dense embedding; so are the reports of a
look-alike happening (another rehab check-in, another title fight of the same boxer).
Globally the two are hard to tell apart; *locally* they are not: subtract from an
article's vector the mean vector of its ``k`` nearest articles in the stream, and what is
left points at what sets it apart from its neighbours.  When the neighbourhood holds
both look-alikes, the residuals of one event point one way and those of the other the
opposite way; when it holds only the article's own event (an event larger than ``k``),
the residuals are noise and the signal says little either way.  ``local_cos`` of
``PairScorer`` is the cosine of two such residuals (hubness reduction by local centring,
in the spirit of CSLS; raw vectors, so a neighbourhood in one language also takes out
that language's direction).

``Neighbourhoods`` keeps the neighbourhoods of the articles in memory exact as the stream
changes: an entry is computed when first asked for and dropped when a newcomer comes
closer than its ``k``-th neighbour or one of its neighbours leaves.  ``local_means``
computes them for a fixed set (the bench, ``polystory pairs``).  Both give the same
values for the same articles in memory, whatever the order they came in.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["LOCAL_K", "Neighbourhoods", "local_means"]

#: Neighbours whose mean is an article's local background.  Measured (bench/quality.py
#: --generalise, proxy): 10 too few (the background is the article's own event), 20 best,
#: 40 close to it (the background becomes the whole subject).
LOCAL_K = 20


def _nearest(sims: np.ndarray, ids: Sequence[str], k: int) -> tuple[np.ndarray, float]:
    """Indices of the ``k`` highest ``sims`` (ties broken by id, so the choice does not
    depend on the order rows were stored in) and the ``k``-th similarity (``-inf`` when
    there are ``k`` or fewer candidates: any newcomer would enter)."""
    ok = np.flatnonzero(np.isfinite(sims))
    if len(ok) <= k:
        return ok, -np.inf
    part = ok[np.argpartition(-sims[ok], k - 1)[:k]]
    kth = float(sims[part].min())
    cand = ok[sims[ok] >= kth]
    if len(cand) > k:  # ties at the boundary
        cand = np.array(sorted(cand.tolist(), key=lambda r: (-sims[r], ids[r])))[:k]
    return cand, kth


def local_means(vecs: np.ndarray, ids: Sequence[str], k: int = LOCAL_K) -> np.ndarray:
    """Mean vector of each row's ``k`` nearest other rows (cosine of unit rows); zeros
    for a row with no other.

    >>> v = np.eye(3, dtype=np.float32)
    >>> local_means(v, ["a", "b", "c"], k=1).astype(float).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    vecs = np.asarray(vecs, dtype=np.float32)
    out = np.zeros_like(vecs)
    for s in range(0, len(vecs), 512):
        sims = vecs[s:s + 512] @ vecs.T
        for i, row in enumerate(sims, start=s):
            row[i] = -np.inf
            nb, _ = _nearest(row, ids, k)
            if len(nb):
                out[i] = vecs[nb].mean(axis=0)
    return out


class Neighbourhoods:
    """The ``k`` nearest articles of each article in memory, and their mean vector.

    ``add`` and ``discard`` are the only changes; ``means`` answers for stored articles
    (themselves left out of their neighbourhood) and for newcomers not stored yet.

    Examples
    --------
    >>> nb = Neighbourhoods(k=1)
    >>> for aid, v in [("a", [1, 0]), ("b", [0.8, 0.6]), ("c", [0, 1])]:
    ...     nb.add(aid, np.array(v, dtype=np.float32))
    >>> nb.means(["a", "c"]).astype(float).round(1).tolist()
    [[0.8, 0.6], [0.8, 0.6]]
    >>> nb.add("d", np.array([0.6, 0.8], dtype=np.float32)); nb.means(["c"]).astype(float).round(1).tolist()
    [[0.6, 0.8]]
    """

    def __init__(self, k: int = LOCAL_K) -> None:
        self.k = k
        self._mat = np.zeros((0, 0), dtype=np.float32)   # one row per stored article
        self._live = np.zeros(0, dtype=bool)
        self._kth = np.zeros(0)                          # +inf: no entry for the row
        self._ids: list[str] = []                        # row -> article id ("" if free)
        self._row: dict[str, int] = {}
        self._free: list[int] = []
        self._top = 0                                    # rows ever used: the rest are zeros
        self._mean: dict[str, np.ndarray] = {}           # the entries
        self._members: dict[str, np.ndarray] = {}        # rows of each entry's neighbours
        self._holders: dict[int, set[str]] = {}          # row -> entries it is a neighbour in

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._row

    def add(self, article_id: str, vec: np.ndarray) -> None:
        if article_id in self._row:
            return
        vec = np.asarray(vec, dtype=np.float32)
        if not self._free:
            n = len(self._mat)
            cap = max(64, 2 * n)
            grown = np.zeros((cap, vec.shape[0]), dtype=np.float32)
            if n:
                grown[:n] = self._mat
            self._mat = grown
            self._live = np.concatenate([self._live, np.zeros(cap - n, dtype=bool)])
            self._kth = np.concatenate([self._kth, np.full(cap - n, np.inf)])
            self._ids += [""] * (cap - n)
            self._free = list(range(cap - 1, n - 1, -1))
        # entries the newcomer comes into (at or above their k-th neighbour) are stale
        if self._mean:
            top = self._top
            hit = np.flatnonzero(self._mat[:top] @ vec >= self._kth[:top])
            for r in hit.tolist():
                self._drop(self._ids[r])
        row = self._free.pop()
        self._top = max(self._top, row + 1)
        self._mat[row] = vec
        self._live[row] = True
        self._ids[row] = article_id
        self._row[article_id] = row

    def discard(self, article_id: str) -> None:
        row = self._row.pop(article_id, None)
        if row is None:
            return
        self._drop(article_id, row)
        for holder in sorted(self._holders.pop(row, ())):
            self._drop(holder)
        self._live[row] = False
        self._ids[row] = ""
        self._free.append(row)

    def _drop(self, article_id: str, row: int | None = None) -> None:
        if self._mean.pop(article_id, None) is None:
            return
        row = self._row[article_id] if row is None else row
        self._kth[row] = np.inf
        for r in self._members.pop(article_id).tolist():
            held = self._holders.get(r)
            if held is not None:
                held.discard(article_id)
                if not held:
                    del self._holders[r]

    def means(self, article_ids: Sequence[str], vecs: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """Mean vector of each article's ``k`` nearest stored articles (for an article not
        stored, ``vecs`` gives its vector); zeros when nothing else is stored."""
        dim = self._mat.shape[1] if len(self._row) else (len(vecs[0]) if vecs is not None and len(vecs) else 0)
        todo = [i for i, a in enumerate(article_ids) if a not in self._mean]
        fresh: dict[int, np.ndarray] = {}
        if todo:
            q = np.stack([self._mat[self._row[article_ids[i]]] if article_ids[i] in self._row
                          else np.asarray(vecs[i], dtype=np.float32) for i in todo])
            top = self._top
            sims = q @ self._mat[:top].T
            sims[:, ~self._live[:top]] = -np.inf
            for j, i in enumerate(todo):
                aid = article_ids[i]
                row = self._row.get(aid)
                if row is not None:
                    sims[j, row] = -np.inf
                nb, kth = _nearest(sims[j], self._ids, self.k)
                mean = self._mat[nb].mean(axis=0) if len(nb) else np.zeros(dim, np.float32)
                if row is None:
                    fresh[i] = mean
                    continue
                self._mean[aid] = mean
                self._members[aid] = nb
                self._kth[row] = kth
                for r in nb.tolist():
                    self._holders.setdefault(r, set()).add(aid)
        out = np.zeros((len(article_ids), dim), dtype=np.float32)
        for i, aid in enumerate(article_ids):
            out[i] = fresh[i] if i in fresh else self._mean[aid]
        return out
