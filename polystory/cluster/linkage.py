"""Average linkage in which an event's date belongs to the whole event.

Repair re-clusters a neighbourhood of articles by average linkage of the pairwise "same
event" probabilities.  Plain average linkage weighs one pair of reports whose dates
conflict like any other pair, so the undated reports of two look-alike happenings (two
finals of one club, two summits of the same leaders) bridge them: only the few dated
reports know the happenings are years apart, and they are outvoted.

Here an undated report takes the date of the group it is in, as it does when an article
is scored online against an event (``OnlineEventClusterer``): two groups whose dates
conflict (``PairScorer.date_conflict``) have every cross pair scaled down, not only the
dated ones.  A group's date is ``summary.event_date_of`` of its members' dates (so it can
change as groups merge), and undated groups conflict with nothing.  The combiner's
features still describe the two reports as they are; only the conflict is the groups'.

With every report dated, or none, this is exactly average linkage (UPGMA) cut at the
threshold: the closest pair of groups merges first, while its mean probability reaches
the threshold.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..models import PartialDate
from ..summary import event_date_of
from .similarity import day_bounds

__all__ = ["group_average_linkage", "linkage_path", "cut_path"]

#: ``conflict(lo_a, hi_a, lo_b, hi_b)``: the matrix of date conflicts between the day
#: intervals of rows ``a`` and columns ``b`` (ordinal days, NaN where undated).
Conflict = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def group_average_linkage(proba: np.ndarray, dates: Sequence[PartialDate | None], threshold: float,
                          conflict: Conflict, factor: float) -> np.ndarray:
    """Cluster labels (0..k-1, in order of first member) of average linkage over ``proba``
    (symmetric, without the date conflict) cut at ``threshold``, where a pair's probability
    is scaled by ``factor`` when ``conflict`` holds between the two reports' dates, an
    undated report taking its group's date.

    >>> from polystory.models import PartialDate as D
    >>> p = np.array([[1, .9, .8, .1], [.9, 1, .8, .1], [.8, .8, 1, .7], [.1, .1, .7, 1.]])
    >>> far = lambda a0, a1, b0, b1: np.abs(a0[:, None] - b0[None, :]) > 60
    >>> group_average_linkage(p, [D(2022, 5, 28), None, None, D(2024, 6, 1)], 0.5, far, 0.1).tolist()
    [0, 0, 0, 1]
    """
    return cut_path(linkage_path(proba, dates, conflict, factor, floor=threshold), len(proba), threshold)


def cut_path(path: list[tuple[int, int, float]], n: int, threshold: float) -> np.ndarray:
    """The labels of ``n`` reports after the merges of ``path`` that come before the first
    one below ``threshold`` (the greedy linkage stops there)."""
    label = np.arange(n)
    for a, b, value in path:
        if value < threshold:
            break
        label[label == b] = a
    # a group's label is its rank by first report (a group keeps its lowest index)
    return np.unique(label, return_inverse=True)[1].astype(np.int64)


def linkage_path(proba: np.ndarray, dates: Sequence[PartialDate | None], conflict: Conflict,
                 factor: float, floor: float) -> list[tuple[int, int, float]]:
    """The merges of the greedy linkage, ``(kept group, merged group, mean probability)``
    in order, down to the first below ``floor`` (included); groups are named by their
    lowest report index.  Cutting it at any threshold from ``floor`` up gives that
    threshold's clustering (``cut_path``)."""
    n = len(proba)
    path: list[tuple[int, int, float]] = []
    if n < 2:
        return path
    base = (np.asarray(proba, dtype=np.float64) + np.asarray(proba, dtype=np.float64).T) / 2.0
    np.fill_diagonal(base, 0.0)
    own_lo, own_hi = day_bounds(dates)
    undated = np.isnan(own_lo)
    lo, hi = own_lo.copy(), own_hi.copy()          # each report's date, or its group's

    def weighted(rows: np.ndarray) -> np.ndarray:
        gate = np.where(conflict(lo[rows], hi[rows], lo, hi), factor, 1.0)
        w = base[rows] * gate
        w[np.arange(len(rows)), rows] = 0.0
        return w

    W = weighted(np.arange(n))                      # pair weights under the current dates
    label = np.arange(n)                            # each report's group
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    group_date: dict[int, PartialDate | None] = dict(enumerate(dates))
    size = np.ones(n)
    alive = np.ones(n, dtype=bool)
    # mean weight between groups, rows and columns by the group's first report; -inf: none
    M = W.copy()
    np.fill_diagonal(M, -np.inf)
    arg = M.argmax(axis=1)                          # each group's closest group
    best = M[np.arange(n), arg]
    while True:
        a = int(np.argmax(best))
        if not np.isfinite(best[a]):
            break
        value = float(best[a])
        a, b = sorted((a, int(arg[a])))
        path.append((a, b, value))
        if value < floor:
            break
        members[a] += members.pop(b)
        label[label == b] = a
        size[a] += size[b]
        alive[b] = False
        new_date = event_date_of([dates[m] for m in members[a]])
        if new_date != group_date[a] or new_date != group_date[b]:
            # its undated reports take the merged group's date
            moved = np.array([m for m in members[a] if undated[m]], dtype=np.int64)
            if len(moved):
                nlo, nhi = day_bounds([new_date])
                lo[moved], hi[moved] = nlo[0], nhi[0]
                w = weighted(moved)
                W[moved] = w
                W[:, moved] = w.T
        group_date[a] = new_date
        del group_date[b]
        # the merged group's mean weight to every other group
        row = np.bincount(label, weights=W[members[a]].sum(axis=0), minlength=n) / (size[a] * size)
        row[~alive] = -np.inf
        row[a] = -np.inf
        M[b, :] = M[:, b] = -np.inf
        M[a, :] = M[:, a] = row
        best[b] = -np.inf
        # a group whose closest was a or b looks again; any other compares with a's new row
        others = np.flatnonzero(alive)
        others = others[others != a]
        hit = np.isin(arg[others], (a, b))
        again, rest = others[hit], others[~hit]
        rest = rest[row[rest] > best[rest]]
        arg[rest], best[rest] = a, row[rest]
        if len(again):
            arg[again] = M[again].argmax(axis=1)
            best[again] = M[again, arg[again]]
        arg[a] = int(np.argmax(row))
        best[a] = row[arg[a]]
    return path
