"""Events and stories as people see them: date, headline, languages, actors, order."""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from .models import Document, Event, PartialDate, Story

__all__ = ["summarize_event", "event_date_of", "summarize_story"]

#: Headlines are cut to this many characters.
HEADLINE_CHARS = 140
_SENTENCE = re.compile(r"(.+?[.!?。！？])(\s|$)", re.DOTALL)


def event_date_of(dates: Sequence[PartialDate | None]) -> PartialDate | None:
    """The date of an event from its articles' dates: the most common day if any article
    gives a day, else the most common month, else year; never more precise than that.

    >>> event_date_of([PartialDate(2023, 3), PartialDate(2023, 3, 2), None, PartialDate(2023, 3, 2)])
    PartialDate(year=2023, month=3, day=2)
    >>> event_date_of([PartialDate(2023, 3), None]), event_date_of([None])
    (PartialDate(year=2023, month=3, day=None), None)
    """
    known = [d for d in dates if d is not None]
    for precision in ("day", "month", "year"):
        same = [d for d in known if d.precision == precision]
        if same:
            counts = Counter(same)
            top = max(counts.values())
            return min(d for d, n in counts.items() if n == top)
    return None


def _headline(doc: Document) -> str:
    if doc.title:
        text = doc.title
    else:
        m = _SENTENCE.match(doc.text.strip())
        text = m.group(1) if m else doc.text
    text = " ".join(text.split())
    return text if len(text) <= HEADLINE_CHARS else text[:HEADLINE_CHARS - 1].rstrip() + "…"


def summarize_event(event_id: str, docs: Sequence[Document], story_id: str | None) -> Event:
    """An ``Event`` record from its member documents (in arrival order)."""
    titled = [d for d in docs if d.title]
    names: Counter[str] = Counter()
    for d in docs:
        names.update(d.entity_names[:6])
    return Event(
        id=event_id,
        article_ids=tuple(d.id for d in docs),
        story_id=story_id,
        event_date=event_date_of([d.event_date for d in docs]),
        languages=tuple(sorted({d.language for d in docs})),
        headline=_headline((titled or list(docs))[0]) if docs else "",
        actors=tuple(n for n, _ in names.most_common(6)),
    )


def _date_key(e: Event) -> tuple:
    if e.event_date is None:
        return (1, 0.0, e.id)
    return (0, e.event_date.midpoint_ordinal(), e.id)


def summarize_story(story_id: str, events: Sequence[Event]) -> Story:
    """A ``Story`` with its events in date order (undated ones last)."""
    ordered = sorted(events, key=_date_key)
    biggest = max(events, key=lambda e: (len(e.article_ids), e.id)) if events else None
    names: Counter[str] = Counter()
    for e in events:
        names.update(e.actors)
    # the actors most of its events name, ties by name (so the store can keep the counts)
    return Story(id=story_id, event_ids=tuple(e.id for e in ordered),
                 title=biggest.headline if biggest else "",
                 actors=tuple(n for _, n in sorted((-c, n) for n, c in names.items())[:6]))
