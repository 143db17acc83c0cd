"""Atom feeds of events, so people can subscribe in any feed reader.

``GET /events.atom`` takes the filters of ``GET /events`` (it runs the same query,
``queries.events_page``, on the summaries the store keeps) and lists the newest events first; ``GET /stories/{id}.atom`` lists
one story's events.  Each entry is one event: its headline, date, languages and actors, and
a link per article to where it was published.  The XML is built with ElementTree (every
text escaped) and characters XML 1.0 cannot hold are dropped.
"""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Iterable, Optional
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..models import Event
from ..pipeline import Pipeline
from ..store import StoredArticle
from .api import _date_param   # the /events parameters, parsed by the same code
from .queries import EventFilter, date_str, events_page
from .state import state_of

__all__ = ["router", "events_feed", "ATOM_TYPE"]

ATOM_TYPE = "application/atom+xml; charset=utf-8"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: Entries in a feed unless ``limit`` says otherwise (feed readers poll often; keep it small).
FEED_LIMIT = 50
#: Most entries one feed holds.
MAX_FEED_LIMIT = 500
#: Articles linked from one entry.
ENTRY_ARTICLES = 20

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

router = APIRouter()


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text or "")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        node.text = _clean(text)
    return node


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _updated(event: Event, members: Iterable[StoredArticle]) -> dt.datetime:
    """When an event last changed, as far as the store knows: its latest article's
    publication date, else the first day of its event date (the store keeps no arrival
    times)."""
    days = [m.document.published.first_day() for m in members
            if m.document is not None and m.document.published is not None]
    if not days and event.event_date is not None:
        days = [event.event_date.first_day()]
    if not days:
        return _EPOCH
    d = max(days)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc)


def _entry(feed: ET.Element, base: str, event: Event, members: list[StoredArticle]) -> dt.datetime:
    updated = _updated(event, members)
    entry = _sub(feed, "entry")
    _sub(entry, "id", f"{base}/events/{quote(event.id)}")
    _sub(entry, "title", event.headline or event.id)
    _sub(entry, "updated", _stamp(updated))
    _sub(entry, "link", rel="alternate", type="text/html", href=f"{base}/#/event/{quote(event.id)}")
    _sub(entry, "link", rel="related", type="application/json", href=f"{base}/events/{quote(event.id)}")
    lines = [f"Event date: {date_str(event.event_date) or 'undated'}",
             f"Languages: {', '.join(event.languages)}",
             f"Articles: {len(event.article_ids)}"]
    if event.actors:
        lines.append(f"Actors: {', '.join(event.actors)}")
    shown = [m for m in members if m.document is not None][:ENTRY_ARTICLES]
    for m in shown:
        title = m.document.title or m.article.title or m.article.id
        where = m.document.source or m.article.source
        lines.append(f"[{m.document.language}] {title}" + (f" ({where})" if where else "")
                     + (f" {m.article.url}" if m.article.url else ""))
        if m.article.url.startswith(("http://", "https://")):
            _sub(entry, "link", rel="related", href=m.article.url, title=title)
    for lang in event.languages:
        _sub(entry, "category", term=lang, label=f"language {lang}")
    _sub(entry, "summary", "\n".join(lines), type="text")
    return updated


def events_feed(p: Pipeline, events: list[Event], *, base: str, title: str, self_url: str,
                feed_id: str) -> bytes:
    """An Atom document with one entry per event (in the order given)."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{base}/")
    _sub(feed, "generator", "polystory", uri="https://pypi.org/project/polystory/")
    updated_node = _sub(feed, "updated")
    newest = _EPOCH
    for event in events:
        newest = max(newest, _entry(feed, base, event, p.store.event_members(event.id)))
    updated_node.text = _stamp(newest)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8",
                                                                      xml_declaration=False)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


Limit = Query(FEED_LIMIT, ge=1, le=MAX_FEED_LIMIT, description="Most entries (newest first).")


@router.get("/events.atom", tags=["feeds"], response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}})
def get_events_atom(request: Request,
                    since: Optional[str] = Query(None, description="As for /events."),
                    until: Optional[str] = Query(None, description="As for /events."),
                    language: Optional[str] = Query(None, description="As for /events."),
                    story: Optional[str] = Query(None, description="As for /events."),
                    q: Optional[str] = Query(None, description="As for /events."),
                    limit: int = Limit) -> Response:
    """The newest events as an Atom feed, with the filters of ``/events``."""

    p = state_of(request).pipeline
    flt = EventFilter(since=_date_param("since", since), until=_date_param("until", until),
                      language=language or None, q=q or None)
    with p.store.snapshot():
        events = events_page(p, flt, story=story or None, limit=limit, newest_first=True)[0]
        said = [f"{k}={v}" for k, v in (("since", since), ("until", until), ("language", language),
                                         ("story", story), ("q", q)) if v]
        body = events_feed(p, events, base=_base(request), self_url=str(request.url),
                           title="polystory: new events" + (f" ({', '.join(said)})" if said else ""),
                           feed_id=str(request.url))
    return Response(body, media_type=ATOM_TYPE)


@router.get("/stories/{story_id}.atom", tags=["feeds"], response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}})
def get_story_atom(story_id: str, request: Request, limit: int = Limit) -> Response:
    """One story's events as an Atom feed, latest in time first, undated last (404 for an unknown story)."""
    p = state_of(request).pipeline
    with p.store.snapshot():
        story = p.story(story_id)        # NotFound -> 404
        by_id = p.store.events_by_id(story.event_ids)
        ordered = [by_id[e] for e in story.event_ids if e in by_id]
        dated = [e for e in ordered if e.event_date is not None]
        events = (dated[::-1] + [e for e in ordered if e.event_date is None])[:limit]
        base = _base(request)
        body = events_feed(p, events, base=base, self_url=str(request.url),
                           title=f"polystory story: {story.title or story.id}",
                           feed_id=f"{base}/stories/{quote(story.id)}")
    return Response(body, media_type=ATOM_TYPE)
