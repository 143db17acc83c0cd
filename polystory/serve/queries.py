"""Read queries shared by the JSON API and the web page: JSON-ready dicts from the store.

Every function takes a ``Pipeline`` and reads only its store: the event and story
summaries the writer keeps there (``store/readmodel.py``), filtered and paged in SQL, and
the stored articles of one event; never the clusterer's memory.  So the HTTP layer never
touches SQL, and what another process wrote to the store shows on the next request.  The
web page renders these same dicts (it reads the API).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..enrich.entities import KEY_CHARS, MIN_KEY_CHARS, entity_key
from ..errors import NotFound
from ..models import Event, PartialDate, Story
from ..pipeline import Pipeline
from ..store import StoredArticle
from ..summary import summarize_event

__all__ = [
    "EventFilter", "date_str", "event_summary", "list_events", "events_page", "event_detail",
    "list_stories", "stories_page", "story_detail", "article_detail", "evidence_of", "query_keys",
]

#: Characters of an article's cleaned text shown on the event page (the rest on demand).
SNIPPET_CHARS = 600
#: Actors listed per article.
ARTICLE_ACTORS = 8

_WORD = re.compile(r"[^\W_][\w'’\-]*", re.UNICODE)


def date_str(d: PartialDate | None) -> str | None:
    """A partial date as ``YYYY[-MM[-DD]]``, or ``None``."""
    return str(d) if d is not None else None


def query_keys(text: str) -> list[str]:
    """Name keys of the words of a query, as ``entity_key`` makes them (any script).

    >>> query_keys("Лавров and Lavrov, G-20")
    ['lavro', 'and', 'g20']
    """
    keys: dict[str, None] = {}
    for m in _WORD.finditer(text):
        key = entity_key(m.group())
        if len(key) >= MIN_KEY_CHARS or any(c.isdigit() for c in key):
            keys.setdefault(key[:KEY_CHARS], None)
    return list(keys)


def _consistent(query):
    """Run ``query(p, ...)`` in one store snapshot: a page never mixes two states of a store
    that an ingest is changing meanwhile."""
    @functools.wraps(query)
    def run(p: Pipeline, *args, **kwargs):
        with p.store.snapshot():
            return query(p, *args, **kwargs)
    return run


# --- events ---------------------------------------------------------------------------------
def event_summary(event: Event) -> dict:
    """The fields of an event that lists and timelines show."""
    return {"id": event.id, "story": event.story_id, "event_date": date_str(event.event_date),
            "languages": list(event.languages), "article_count": len(event.article_ids),
            "articles": list(event.article_ids), "headline": event.headline,
            "actors": list(event.actors)}


@dataclass(frozen=True)
class EventFilter:
    """Which events a listing keeps.

    ``since`` / ``until`` compare date intervals (an event dated 2023-03 is kept by
    ``since=2023-03-15``); undated events are dropped when either is set.  ``q`` keeps
    events where every word occurs in the headline, titles, actors or texts, or names an
    actor of the event in any script (``Лавров`` finds Lavrov).
    """

    since: PartialDate | None = None
    until: PartialDate | None = None
    language: str | None = None
    q: str | None = None

    def words(self) -> list[tuple[str, list[str]]]:
        """The words of ``q``, case-folded, each with its name keys (``query_keys``)."""
        return [(w.casefold(), query_keys(w)) for w in (self.q or "").split()]

    def store_filters(self) -> dict:
        """The filter as keyword arguments of ``SQLStore.events_page``."""
        return {"since": self.since, "until": self.until, "language": self.language or None,
                "words": self.words()}

    def accepts(self, event: Event, members: Sequence[StoredArticle]) -> bool:
        """Whether the filter keeps ``event`` (the store applies it in SQL; this is the same
        rule on an event's members, for code that holds them)."""
        return (self._date_ok(event.event_date)
                and (not self.language or self.language in event.languages)
                and (not self.q or _matches_text(self.q, event, members)))

    def _date_ok(self, d: PartialDate | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if d is None:
            return False
        if self.since is not None and d.last_day() < self.since.first_day():
            return False
        return self.until is None or d.first_day() <= self.until.last_day()


def _matches_text(q: str, event: Event, members: Sequence[StoredArticle]) -> bool:
    docs = [m.document for m in members if m.document is not None]
    haystack = " ".join([event.headline, *event.actors,
                         *(f"{d.title} {' '.join(d.entity_names)} {d.text}" for d in docs)]).casefold()
    keys = {k for d in docs for k in d.entities}
    for word in q.split():
        if word.casefold() in haystack:
            continue
        if not set(query_keys(word)) & keys:
            return False
    return True


@_consistent
def events_page(p: Pipeline, flt: EventFilter = EventFilter(), *, story: str | None = None,
                limit: int | None = None, offset: int = 0,
                newest_first: bool = False) -> tuple[list[Event], int, int]:
    """One page of the events (of one story, if given) that pass ``flt``, in order of their
    first article (the reverse with ``newest_first``), with the number of such events and
    of their articles (one snapshot)."""
    return p.store.events_page(story_id=story, limit=limit, offset=offset,
                               newest_first=newest_first, **flt.store_filters())


def list_events(p: Pipeline, flt: EventFilter = EventFilter(), *,
                story: str | None = None) -> list[Event]:
    """Events (of one story, if given) that pass ``flt``, in order of their first article."""
    return events_page(p, flt, story=story)[0]


def _display_names(members: Iterable[StoredArticle]) -> dict[str, str]:
    """Name key -> how the articles write it (``lavro`` -> ``Lavrov``)."""
    names: dict[str, str] = {}
    for m in members:
        if m.document is not None:
            for key, name in zip(m.document.entities, m.document.entity_names):
                names.setdefault(key, name)
    return names


def evidence_of(m: StoredArticle, member_ids: set[str], names: dict[str, str]) -> dict:
    """Why an article is in its event, from what the clusterer stored with its membership.

    ``kind`` is ``joined`` (it scored above the threshold against ``closest``, a member),
    ``opened`` (it started the event; ``closest`` is then the nearest report elsewhere, if
    any) or ``repaired`` (re-clustering its neighbourhood put it here).
    """
    ev = m.evidence or {}
    if ev.get("repaired"):
        kind = "repaired"
    elif ev.get("closest") in member_ids and ev.get("closest") != m.article.id:
        kind = "joined"
    else:
        kind = "opened"
    shared = list(ev.get("shared_names") or [])
    return {"kind": kind, "score": m.score, "closest": ev.get("closest"),
            "similarity": ev.get("similarity"), "probability": ev.get("probability"),
            "shared_names": shared, "shared_names_display": [names.get(k, k) for k in shared],
            "date_agreement": ev.get("date_agreement")}


def _article_brief(m: StoredArticle, member_ids: set[str], names: dict[str, str]) -> dict:
    d = m.document
    return {"id": m.article.id, "title": d.title or m.article.title,
            "headline": summarize_event(m.article.id, [d], None).headline, "url": m.article.url,
            "source": d.source or m.article.source, "language": d.language,
            "published": date_str(d.published), "event_date": date_str(d.event_date),
            "actors": list(d.entity_names[:ARTICLE_ACTORS]), "snippet": d.text[:SNIPPET_CHARS],
            "truncated": len(d.text) > SNIPPET_CHARS,
            "evidence": evidence_of(m, member_ids, names)}


def _neighbours(p: Pipeline, event: Event) -> tuple[dict | None, dict | None, str]:
    """The events before and after ``event`` in its story's time order, and the story title."""
    if event.story_id is None:
        return None, None, ""
    try:
        story = p.store.story_summary(event.story_id)["story"]
    except NotFound:
        return None, None, ""
    if event.id not in story.event_ids:
        return None, None, ""
    i = story.event_ids.index(event.id)
    around = [story.event_ids[j] for j in (i - 1, i + 1) if 0 <= j < len(story.event_ids)]
    events = p.store.events_by_id(around)
    prev = event_summary(events[story.event_ids[i - 1]]) if i > 0 else None
    nxt = event_summary(events[story.event_ids[i + 1]]) if i + 1 < len(story.event_ids) else None
    return prev, nxt, story.title


@_consistent
def event_detail(p: Pipeline, event_id: str) -> dict:
    """One event: its articles by language with evidence, headlines per language, neighbours.

    Raises ``NotFound`` for an unknown id.
    """
    event, members = p.store.event(event_id)
    members = [m for m in members if m.document is not None]
    ids = {m.article.id for m in members}
    names = _display_names(members)
    by_language: dict[str, list[StoredArticle]] = {}
    for m in members:
        by_language.setdefault(m.document.language, []).append(m)
    prev, nxt, story_title = _neighbours(p, event)
    return {**event_summary(event), "story_title": story_title,
            "headlines": p.store.event_headlines(event_id),
            "by_language": {lang: [_article_brief(m, ids, names) for m in ms]
                            for lang, ms in sorted(by_language.items())},
            "previous": prev, "next": nxt}


# --- stories --------------------------------------------------------------------------------
def _story_json(story: Story, ordered: list[Event]) -> dict:
    dated = [e.event_date for e in ordered if e.event_date is not None]
    return {"id": story.id, "title": story.title, "actors": list(story.actors),
            "event_count": len(ordered), "article_count": sum(len(e.article_ids) for e in ordered),
            "languages": sorted({lang for e in ordered for lang in e.languages}),
            "first_date": date_str(dated[0]) if dated else None,
            "last_date": date_str(dated[-1]) if dated else None,
            "events": [event_summary(e) for e in ordered]}


def _story_jsons(p: Pipeline, stories: list[dict]) -> list[dict]:
    events = p.store.story_events([s["story"].id for s in stories])
    return [_story_json(s["story"], events[s["story"].id]) for s in stories]


@_consistent
def story_detail(p: Pipeline, story_id: str) -> dict:
    """A story with its events in time order (undated last).  Raises ``NotFound``."""
    return _story_jsons(p, [p.store.story_summary(story_id)])[0]


@_consistent
def stories_page(p: Pipeline, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict], int]:
    """One page of the stories, largest first, each with its events in time order, and the
    number of stories."""
    stories, total = p.store.stories_page(limit=limit, offset=offset)
    return _story_jsons(p, stories), total


def list_stories(p: Pipeline) -> list[dict]:
    """All stories, largest first, each with its events in time order."""
    return stories_page(p)[0]


# --- articles -------------------------------------------------------------------------------
@_consistent
def article_detail(p: Pipeline, article_id: str) -> dict:
    """One stored article: the input as given, what the pipeline derived, where it went.

    Raises ``NotFound`` for an unknown id.
    """
    s = p.store.article(article_id)
    a, d = s.article, s.document
    out = {"id": a.id, "status": s.status, "reason": s.reason, "event": s.event_id,
           "story": s.story_id, "title": a.title, "url": a.url, "source": a.source,
           "published": a.published, "language": d.language if d else a.language,
           "text": a.text, "document": None, "evidence": None}
    if d is not None:
        out["document"] = {"title": d.title, "text": d.text, "language": d.language,
                           "published": date_str(d.published), "event_date": date_str(d.event_date),
                           "actors": list(d.entity_names), "numbers": list(d.numbers)}
    if s.event_id is not None:
        members = p.store.event_members(s.event_id)
        out["evidence"] = evidence_of(s, {m.article.id for m in members}, _display_names(members))
    return out
