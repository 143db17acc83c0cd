"""Dating undated reports by what other reports recall.

An article with no date of its own (no publication date, no date in its lead) can still
be dated when another article recalls its happening: "the last time they met in person was
in January 2022, in Geneva".  For each undated article we look for a *recall sentence*
(``Document.recalls``) of another event that

* is about the undated article more than about any report of its own event, by
  ``RECALL_MARGIN`` (language-corrected cosine of the sentence vector: the sentence
  describes the recalled happening, not the one its reports cover), and at least
  ``MIN_RECALL_SIMILARITY``; the undated article itself is left out of that comparison,
  so this holds even when the online clusterer has (wrongly) put it in the recalling
  event, which is what lets the date split them again;
* resolves to a date clearly before the recalling event (a year-less "last July" is
  resolved against that event's date), on the weekday the undated article names, if any.

The best such sentence dates the undated article, at the precision the sentence gives
(usually a month).  Nothing is invented: without such a sentence the article stays undated.
"""
from __future__ import annotations

from typing import Callable, Hashable, Sequence

import numpy as np

from ..enrich.dates import RECENT_DAYS
from ..models import PartialDate
from .similarity import Item, PairScorer
from .window import ActiveWindow, Change

__all__ = ["RecallDating", "RecallIndex", "VectorTable", "infer_dates", "resolve_recall",
           "MIN_RECALL_SIMILARITY", "RECALL_MARGIN"]

#: Least language-corrected cosine between a recall sentence and the article it dates, and
#: how much closer the sentence must be to that article than to any report of its own
#: event.  A wrong date splits an event, so these are strict: they are the smallest round
#: values at which no article of events-dev is dated wrongly (bench/quality.py reports
#: how many articles each run dates this way).
MIN_RECALL_SIMILARITY = 0.3
RECALL_MARGIN = 0.05


def resolve_recall(month: int, year: int | None, day: int | None,
                   anchor: PartialDate) -> PartialDate | None:
    """The recalled date, before ``anchor`` (the recalling event's date), or ``None``.

    >>> str(resolve_recall(7, None, None, PartialDate(2023, 3)))
    '2022-07'
    >>> resolve_recall(3, None, None, PartialDate(2023, 3)) is None   # this month: not a recall
    True
    """
    if year is None:
        if anchor.month is None or month == anchor.month:
            return None
        year = anchor.year if month < anchor.month else anchor.year - 1
    try:
        date = PartialDate(year, month, day)
    except ValueError:
        return None
    # in ordinals: an anchor in the first week of year 1 must not overflow the calendar
    if date.last_day().toordinal() >= anchor.first_day().toordinal() - RECENT_DAYS:
        return None
    return date


class VectorTable:
    """Vectors by key in one growable matrix (freed rows are reused), so a subset is one
    fancy-indexing copy instead of a stack of many small arrays.

    >>> t = VectorTable()
    >>> t.add("a", np.ones(2, dtype=np.float32)); t.add("b", np.zeros(2, dtype=np.float32))
    >>> t.discard("a"); t.add("c", np.full(2, 2, dtype=np.float32))
    >>> list(t), t.matrix(["c", "b"]).tolist()
    (['b', 'c'], [[2.0, 2.0], [0.0, 0.0]])
    """

    def __init__(self) -> None:
        self._vecs = np.zeros((0, 0), dtype=np.float32)
        self._row: dict[Hashable, int] = {}
        self._free: list[int] = []

    def add(self, key: Hashable, vec: np.ndarray) -> None:
        if key in self._row:
            self._vecs[self._row[key]] = vec
            return
        if not self._free:
            n = len(self._vecs)
            grown = np.zeros((max(64, 2 * n), vec.shape[0]), dtype=np.float32)
            if n:
                grown[:n] = self._vecs
            self._vecs = grown
            self._free = list(range(len(grown) - 1, n - 1, -1))
        self._row[key] = self._free.pop()
        self._vecs[self._row[key]] = vec

    def discard(self, key: Hashable) -> None:
        row = self._row.pop(key, None)
        if row is not None:
            self._free.append(row)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._row

    def __iter__(self):
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)

    def matrix(self, keys: Sequence[Hashable]) -> np.ndarray:
        return self._vecs[[self._row[k] for k in keys]]


class RecallIndex:
    """The recall sentences that resolve to a date, kept per event and refreshed incrementally.

    ``refresh(event)`` replaces an event's sentences after its members or its date changed;
    ``match(undated)`` finds, for each undated item, the best sentence that dates it among
    all sentences or only among the rows given.  A stream therefore compares each new
    undated report with the sentences once, and each new sentence with the undated reports
    once, instead of all with all after every batch.  A replaced sentence's row is freed,
    so the index holds what the events in memory hold.
    """

    def __init__(self) -> None:
        self._vecs = VectorTable()
        # row -> (date, weekday of a day-precision date or -1, recalling article id,
        #         (closest own report, its cosine, the second cosine))
        self._meta: dict[int, tuple[PartialDate, int, str, tuple[str, float, float]]] = {}
        self._rows: dict[str, list[int]] = {}
        self._next_row = 0

    def refresh(self, event_id: str, members: list[Item] | None, anchor: PartialDate | None,
                scorer: PairScorer) -> list[int]:
        """Replace the event's sentences (none if it is gone or undated); the new rows."""
        for row in self._rows.pop(event_id, ()):
            self._vecs.discard(row)
            del self._meta[row]
        if not members or anchor is None:
            return []
        own = None
        rows = []
        for x in members:
            if x.recall_vecs is None:
                continue
            for r, v in zip(x.doc.recalls, x.recall_vecs):
                date = resolve_recall(r.month, r.year, r.day, anchor)
                if date is None:
                    continue
                if own is None:
                    own = np.stack([scorer.centered(m) for m in members])
                cv = scorer.centered(Item(x.doc, v))
                sims = own @ cv
                order = np.argsort(-sims)
                second = float(sims[order[1]]) if len(order) > 1 else -np.inf
                rows.append(self._append(cv, date, x.doc.id,
                                         (members[order[0]].doc.id, float(sims[order[0]]), second)))
        if rows:
            self._rows[event_id] = rows
        return rows

    def _append(self, vec: np.ndarray, date: PartialDate, source: str,
                own: tuple[str, float, float]) -> int:
        row, self._next_row = self._next_row, self._next_row + 1
        self._vecs.add(row, vec)
        self._meta[row] = (date, date.first_day().weekday() if date.precision == "day" else -1,
                           source, own)
        return row

    def match(self, ids: Sequence[str], weekdays: Sequence[int | None], Y: np.ndarray,
              rows: list[int] | None = None) -> dict[str, tuple[PartialDate, str, float]]:
        """``{article id: (date, recalling article id, similarity)}`` for the undated
        articles ``ids`` (their weekdays, their language-centred vectors ``Y``) that a
        sentence (of ``rows``, or any) dates."""
        rows = list(self._meta) if rows is None else [r for r in rows if r in self._meta]
        if not len(ids) or not rows:
            return {}
        sims = Y @ self._vecs.matrix(rows).T                 # (undated, sentences)
        meta = [self._meta[r] for r in rows]
        own_id = np.array([m[3][0] for m in meta], dtype=object)
        own_best = np.array([m[3][1] for m in meta])
        own_second = np.array([m[3][2] for m in meta])
        source = np.array([m[2] for m in meta], dtype=object)
        weekday = np.array([m[1] for m in meta])
        # only articles that clear the loosest bound anywhere need a closer look
        loose = np.maximum(MIN_RECALL_SIMILARITY, own_second + RECALL_MARGIN)
        out: dict[str, tuple[PartialDate, str, float]] = {}
        for i in np.flatnonzero((sims >= loose).any(axis=1)):
            aid = ids[i]
            # the closest report of the sentence's own event, leaving this article out
            own = np.where(own_id == aid, own_second, own_best)
            ok = (sims[i] >= MIN_RECALL_SIMILARITY) & (sims[i] >= own + RECALL_MARGIN)
            ok &= source != aid
            if weekdays[i] is not None:   # a recalled day must fall on the weekday named
                ok &= (weekday < 0) | (weekday == weekdays[i])
            if ok.any():
                j = int(np.argmax(np.where(ok, sims[i], -np.inf)))
                out[aid] = (meta[j][0], meta[j][2], float(sims[i, j]))
        return out


def infer_dates(undated: list[Item], events: dict[str, list[Item]],
                event_date: Callable[[str], PartialDate | None], scorer: PairScorer
                ) -> dict[str, tuple[PartialDate, str, float]]:
    """``{article id: (date, recalling article id, similarity)}`` for the undated items
    that some recall sentence dates (all against all; ``RecallIndex`` does it incrementally)."""
    index = RecallIndex()
    for eid, members in events.items():
        index.refresh(eid, members, event_date(eid), scorer)
    if not undated:
        return {}
    return index.match([y.doc.id for y in undated], [y.doc.weekday for y in undated],
                       np.stack([scorer.centered(y) for y in undated]))


class RecallDating:
    """Back-reference dating of the undated articles of an ``ActiveWindow``, incrementally.

    It subscribes to the window and keeps what it derives from it: the undated articles'
    language-centred vectors (new ones apart) and the recall sentences of the events whose
    members or date changed since the last ``find``.  ``find`` compares new undated
    articles with every sentence, and the others only with the sentences refreshed since
    (the rest did not date them before); the caller writes a date it accepts to the window
    (``ActiveWindow.update``), and the article leaves the undated set then.

    Attributes
    ----------
    inferred_dates_ : dict of article id -> (date, recalling article id, similarity) for
        the articles in the window dated so
    """

    def __init__(self, window: ActiveWindow, scorer: PairScorer) -> None:
        self.window = window
        self.scorer = scorer
        self.inferred_dates_: dict[str, tuple[PartialDate, str, float]] = {}
        self._recalls = RecallIndex()
        self._stale: set[str] = set()
        self._undated = VectorTable()
        self._weekday: dict[str, int | None] = {}
        self._new: set[str] = set()
        window.subscribe(self._changed)

    def _changed(self, change: Change) -> None:
        if change.kind == "evict":
            eid = change.events[0]
            self._recalls.refresh(eid, None, None, self.scorer)
            self._stale.discard(eid)
            for m in change.items:
                self._forget(m.doc.id)
                self.inferred_dates_.pop(m.doc.id, None)
            return
        self._stale.update(change.events)
        for it in change.items:
            if change.kind == "add" and it.doc.event_date is None:
                self._undated.add(it.doc.id, self.scorer.centered(it))
                self._weekday[it.doc.id] = it.doc.weekday
                self._new.add(it.doc.id)
            elif change.kind == "update" and it.doc.event_date is not None:
                self._forget(it.doc.id)

    def _forget(self, article_id: str) -> None:
        self._undated.discard(article_id)
        self._weekday.pop(article_id, None)
        self._new.discard(article_id)

    def find(self) -> dict[str, tuple[PartialDate, str, float]]:
        """``{article id: (date, recalling article id, similarity)}`` for the undated
        articles that a recall sentence dates now (recorded in ``inferred_dates_``)."""
        w = self.window
        rows: list[int] = []
        for eid in sorted(self._stale):
            alive = eid in w.events_
            rows += self._recalls.refresh(eid, w.events_.get(eid), w.event_date(eid) if alive else None,
                                          self.scorer)
        self._stale.clear()
        fresh = sorted(aid for aid in self._new if aid in self._undated)
        older = [aid for aid in self._undated if aid not in self._new] if rows else []
        self._new.clear()
        found: dict[str, tuple[PartialDate, str, float]] = {}
        for ids, only in ((fresh, None), (older, rows)):
            if ids:
                found.update(self._recalls.match(ids, [self._weekday[a] for a in ids],
                                                 self._undated.matrix(ids), only))
        for aid, (date, source, sim) in found.items():
            self.inferred_dates_[aid] = (date, source, round(sim, 4))
        return found
