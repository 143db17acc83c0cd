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

import datetime as dt
from typing import Callable

import numpy as np

from ..enrich.dates import RECENT_DAYS
from ..models import PartialDate
from .similarity import Item, PairScorer

__all__ = ["infer_dates", "resolve_recall", "MIN_RECALL_SIMILARITY", "RECALL_MARGIN"]

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
    if date.last_day() >= anchor.first_day() - dt.timedelta(days=RECENT_DAYS):
        return None
    return date


def _weekday_fits(date: PartialDate, weekday: int | None) -> bool:
    """A recalled day must fall on the weekday the undated report names, if it names one."""
    return weekday is None or date.precision != "day" or date.first_day().weekday() == weekday


def infer_dates(undated: list[Item], events: dict[str, list[Item]],
                event_date: Callable[[str], PartialDate | None], scorer: PairScorer
                ) -> dict[str, tuple[PartialDate, str, float]]:
    """``{article id: (date, recalling article id, similarity)}`` for the undated items
    that some recall sentence dates."""
    if not undated:
        return {}
    sources = []  # (date, source item, centered sentence vector, centered own-event vectors)
    for eid, members in events.items():
        anchor = event_date(eid)
        if anchor is None:
            continue
        own = [(m.doc.id, scorer.centered(m)) for m in members]
        for x in members:
            if x.recall_vecs is None:
                continue
            for r, v in zip(x.doc.recalls, x.recall_vecs):
                date = resolve_recall(r.month, r.year, r.day, anchor)
                if date is not None:
                    sources.append((date, x, scorer.centered(Item(x.doc, v)), own))
    out: dict[str, tuple[PartialDate, str, float]] = {}
    for y in undated:
        cy = scorer.centered(y)
        best = None
        for date, x, cv, own in sources:
            if x.doc.id == y.doc.id or not _weekday_fits(date, y.doc.weekday):
                continue
            sim = float(cv @ cy)
            if sim < MIN_RECALL_SIMILARITY or (best is not None and sim <= best[2]):
                continue
            # the sentence must describe y better than any report of its own event
            if all(sim >= float(cv @ c) + RECALL_MARGIN for aid, c in own if aid != y.doc.id):
                best = (date, x.doc.id, sim)
        if best is not None:
            out[y.doc.id] = best
    return out
