"""Dating undated reports by what other reports recall.

An article with no date of its own (no publication date, no date in its lead) can still
be dated when another article recalls its happening: "the last time they met in person was
in January 2022, in Geneva".  For each undated article we look for a *recall sentence*
(``Document.recalls``) of another event that

* is about the undated article more than about its own article (language-corrected cosine
  of the sentence vector: the sentence describes the recalled happening, not the report
  it sits in), and at least ``MIN_RECALL_SIMILARITY``; this holds even when the online
  clusterer has (wrongly) put both articles in one event, which is what lets the date
  split them again;
* resolves to a date clearly before the recalling event (a year-less "last July" is
  resolved against that event's date).

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

__all__ = ["infer_dates", "resolve_recall", "MIN_RECALL_SIMILARITY"]

#: Least language-corrected cosine between a recall sentence and the article it dates.
MIN_RECALL_SIMILARITY = 0.2


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


def infer_dates(undated: list[Item], events: dict[str, list[Item]],
                event_date: Callable[[str], PartialDate | None], scorer: PairScorer
                ) -> dict[str, tuple[PartialDate, str, float]]:
    """``{article id: (date, recalling article id, similarity)}`` for the undated items
    that some recall sentence dates."""
    if not undated:
        return {}
    sources = []  # (date, source item, centered sentence vector, similarity to own article)
    for eid, members in events.items():
        anchor = event_date(eid)
        if anchor is None:
            continue
        for x in members:
            if x.recall_vecs is None:
                continue
            own = scorer.centered(x)
            for r, v in zip(x.doc.recalls, x.recall_vecs):
                date = resolve_recall(r.month, r.year, r.day, anchor)
                if date is None:
                    continue
                cv = scorer.centered(Item(x.doc, v))
                sources.append((date, x, cv, float(cv @ own)))
    out: dict[str, tuple[PartialDate, str, float]] = {}
    for y in undated:
        cy = scorer.centered(y)
        best = None
        for date, x, cv, own_sim in sources:
            if x.doc.id == y.doc.id:
                continue
            sim = float(cv @ cy)
            if sim >= MIN_RECALL_SIMILARITY and sim > own_sim and (best is None or sim > best[2]):
                best = (date, x.doc.id, sim)
        if best is not None:
            out[y.doc.id] = best
    return out
