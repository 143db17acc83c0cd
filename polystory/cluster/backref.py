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

from typing import Callable, Sequence

import numpy as np

from ..enrich.dates import RECENT_DAYS
from ..models import PartialDate
from .similarity import Item, PairScorer

__all__ = ["RecallIndex", "infer_dates", "resolve_recall", "MIN_RECALL_SIMILARITY", "RECALL_MARGIN"]

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


class RecallIndex:
    """The recall sentences that resolve to a date, kept per event and refreshed incrementally.

    ``refresh(event)`` replaces an event's sentences after its members or its date changed;
    ``match(undated)`` finds, for each undated item, the best sentence that dates it among
    all sentences or only among the rows given.  A stream therefore compares each new
    undated report with the sentences once, and each new sentence with the undated reports
    once, instead of all with all after every batch.  Replaced sentences leave dead rows;
    ``compact`` drops them once they outnumber the live ones, so the index holds about what
    the events in memory hold.
    """

    def __init__(self) -> None:
        self._vecs = np.zeros((0, 0), dtype=np.float32)
        self._n = 0
        self._alive: list[bool] = []
        self._dates: list[PartialDate] = []
        self._weekday: list[int] = []          # weekday of a day-precision date, else -1
        self._source: list[str] = []
        self._own: list[tuple[str, float, float]] = []  # closest own report, its and 2nd cosine
        self._rows: dict[str, list[int]] = {}

    def refresh(self, event_id: str, members: list[Item] | None, anchor: PartialDate | None,
                scorer: PairScorer) -> list[int]:
        """Replace the event's sentences (none if it is gone or undated); the new rows."""
        for row in self._rows.pop(event_id, ()):
            self._alive[row] = False
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

    def compact(self) -> None:
        """Drop the rows of replaced sentences when they outnumber the live ones (row
        numbers change: call it before ``refresh``, not between ``refresh`` and ``match``)."""
        live = [r for r in range(self._n) if self._alive[r]]
        if self._n - len(live) <= len(live):
            return
        new_row = {r: i for i, r in enumerate(live)}
        self._vecs = self._vecs[live].copy() if live else np.zeros((0, 0), dtype=np.float32)
        self._n = len(live)
        self._alive = [True] * self._n
        self._dates = [self._dates[r] for r in live]
        self._weekday = [self._weekday[r] for r in live]
        self._source = [self._source[r] for r in live]
        self._own = [self._own[r] for r in live]
        self._rows = {e: [new_row[r] for r in rows] for e, rows in self._rows.items()}

    def _append(self, vec: np.ndarray, date: PartialDate, source: str,
                own: tuple[str, float, float]) -> int:
        if self._n == len(self._vecs):
            grown = np.zeros((max(64, 2 * self._n), vec.shape[0]), dtype=np.float32)
            if self._n:
                grown[:self._n] = self._vecs[:self._n]
            self._vecs = grown
        self._vecs[self._n] = vec
        self._alive.append(True)
        self._dates.append(date)
        self._weekday.append(date.first_day().weekday() if date.precision == "day" else -1)
        self._source.append(source)
        self._own.append(own)
        self._n += 1
        return self._n - 1

    def match(self, ids: Sequence[str], weekdays: Sequence[int | None], Y: np.ndarray,
              rows: list[int] | None = None) -> dict[str, tuple[PartialDate, str, float]]:
        """``{article id: (date, recalling article id, similarity)}`` for the undated
        articles ``ids`` (their weekdays, their language-centred vectors ``Y``) that a
        sentence (of ``rows``, or any) dates."""
        rows = [r for r in (range(self._n) if rows is None else rows) if self._alive[r]]
        if not len(ids) or not rows:
            return {}
        idx = np.asarray(rows)
        sims = Y @ self._vecs[idx].T                        # (undated, sentences)
        own_id = np.array([self._own[r][0] for r in rows], dtype=object)
        own_best = np.array([self._own[r][1] for r in rows])
        own_second = np.array([self._own[r][2] for r in rows])
        source = np.array([self._source[r] for r in rows], dtype=object)
        weekday = np.array([self._weekday[r] for r in rows])
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
                out[aid] = (self._dates[rows[j]], self._source[rows[j]], float(sims[i, j]))
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
