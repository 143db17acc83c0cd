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
    # in ordinals: an anchor in the first week of year 1 must not overflow the calendar
    if date.last_day().toordinal() >= anchor.first_day().toordinal() - RECENT_DAYS:
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
    # recall sentences that resolve to a date before their event, with their own event
    dates, source_ids, vecs, own_best, own_second, own_arg = [], [], [], [], [], []
    for eid, members in events.items():
        anchor = event_date(eid)
        if anchor is None:
            continue
        own = np.stack([scorer.centered(m) for m in members])
        for x in members:
            if x.recall_vecs is None:
                continue
            for r, v in zip(x.doc.recalls, x.recall_vecs):
                date = resolve_recall(r.month, r.year, r.day, anchor)
                if date is None:
                    continue
                cv = scorer.centered(Item(x.doc, v))
                sims = own @ cv
                order = np.argsort(-sims)
                dates.append(date)
                source_ids.append(x.doc.id)
                vecs.append(cv)
                own_arg.append(members[order[0]].doc.id)
                own_best.append(sims[order[0]])
                own_second.append(sims[order[1]] if len(order) > 1 else -np.inf)
    if not dates:
        return {}
    S = np.stack(vecs)
    Y = np.stack([scorer.centered(y) for y in undated])
    sims = Y @ S.T                                           # (undated, sources)
    out: dict[str, tuple[PartialDate, str, float]] = {}
    for i, y in enumerate(undated):
        # the closest report of the sentence's own event, leaving y itself out
        own = np.where(np.array(own_arg) == y.doc.id, own_second, own_best)
        ok = (sims[i] >= MIN_RECALL_SIMILARITY) & (sims[i] >= own + RECALL_MARGIN)
        ok &= np.array([sid != y.doc.id and _weekday_fits(d, y.doc.weekday)
                        for sid, d in zip(source_ids, dates)])
        if ok.any():
            j = int(np.argmax(np.where(ok, sims[i], -np.inf)))
            out[y.doc.id] = (dates[j], source_ids[j], float(sims[i, j]))
    return out
