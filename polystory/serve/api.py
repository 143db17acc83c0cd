"""The JSON API: each route calls one query (``queries``, ``search``) and returns its dict.

Reads run in FastAPI's thread pool and go through the store (its summaries, paged in SQL;
``/search`` its vectors and name keys).  Writes (``POST /articles``) touch the pipeline's
in-memory models, so they hold ``ServeState.lock``.
"""
from __future__ import annotations

import logging
from typing import Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..errors import NotFound
from ..models import Article, PartialDate
from . import schemas
from .body import parse_articles, read_body
from .errors import BadRequest
from .guard import check_json_write
from .queries import EventFilter, article_detail, event_detail, event_summary, events_page, \
    stories_page, story_detail
from .search import search_store
from .state import ServeState, check_write, state_of

__all__ = ["router", "ingest"]

log = logging.getLogger(__name__)

#: Most items one list or search response holds.
MAX_LIMIT = 500

ERRORS = {s: {"model": schemas.ErrorOut} for s in (400, 401, 404, 413, 415, 421, 422, 500)}
router = APIRouter(responses=ERRORS)

Limit = Query(50, ge=0, le=MAX_LIMIT, description="Most items returned.")
Offset = Query(0, ge=0, description="Items skipped (for paging).")


def _listing(payload: dict) -> JSONResponse:
    """A listing's JSON, the bytes FastAPI renders for its ``response_model``, without
    validating the payload against the model first: on a page of large stories that costs
    seven times the encoding (120 ms against 17 ms for a story of 3,000 events).  The
    payloads are built field by field in the models' order and types
    (``tests/serve/test_payloads.py`` checks them against the models)."""
    return JSONResponse(payload)


def _date_param(name: str, value: str | None) -> PartialDate | None:
    if not value:
        return None
    try:
        return PartialDate.parse(value)
    except ValueError as e:
        raise BadRequest(f"query parameter {name!r}: {e}") from None


# --- writes ---------------------------------------------------------------------------------
def ingest(state: ServeState, articles: list[Article]) -> dict:
    """Add articles under the write lock; each result has the article's current placement."""
    with state.lock:
        outcomes = state.pipeline.add_many(articles)
        results = []
        for o in outcomes:
            event, story = state.pipeline.placement(o)
            results.append({"id": o.article_id, "status": o.status, "event": event, "story": story,
                            "reason": o.reason, "duplicate_of": o.duplicate_of})
        if any(o.status != "duplicate" for o in outcomes):
            state.revision += 1
    log.info("POST /articles: %d article(s)", len(articles))
    return {"ok": True, "revision": state.revision, "results": results}


@router.post("/articles", response_model=schemas.IngestResult, tags=["articles"],
             openapi_extra={"requestBody": schemas.ARTICLES_BODY})
async def post_articles(request: Request) -> dict:
    """Add one article (a JSON object) or several (a list); one result per article:
    ``new_event``, ``joined_event``, ``duplicate`` or ``rejected`` (with a reason)."""
    state = state_of(request)
    check_write(request, state)
    body = await read_body(request, state.max_body)
    check_json_write(request.headers.get("content-type"))   # no cross-site form or text/plain
    articles = parse_articles(body, state.pipeline.settings.max_text_chars)
    return await run_in_threadpool(ingest, state, articles)


# --- reads ----------------------------------------------------------------------------------
@router.get("/articles/{article_id}", response_model=schemas.ArticleOut, tags=["articles"])
def get_article(article_id: str, request: Request) -> dict:
    """One article: the input as sent, what the pipeline derived, its event and story."""
    return {"ok": True, **article_detail(state_of(request).pipeline, article_id)}


@router.get("/events", response_model=schemas.EventList, tags=["events"])
def get_events(request: Request,
               since: Optional[str] = Query(None, description="Events dated on or after (YYYY[-MM[-DD]])."),
               until: Optional[str] = Query(None, description="Events dated on or before (YYYY[-MM[-DD]])."),
               language: Optional[str] = Query(None, description="Events with an article in this language."),
               story: Optional[str] = Query(None, description="Only this story's events."),
               q: Optional[str] = Query(None, description="Words in the headline, titles, actors or texts."),
               limit: int = Limit, offset: int = Offset) -> JSONResponse:
    """Events in order of their first article, filtered, one page at a time."""
    state = state_of(request)
    flt = EventFilter(since=_date_param("since", since), until=_date_param("until", until),
                      language=language or None, q=q or None)
    events, total, articles = events_page(state.pipeline, flt, story=story or None, limit=limit,
                                          offset=offset)
    return _listing({"ok": True, "total": total, "article_total": articles,
                     "revision": state.revision, "limit": limit, "offset": offset,
                     "events": [event_summary(e) for e in events]})


@router.get("/events/{event_id}", response_model=schemas.EventDetail, tags=["events"])
def get_event(event_id: str, request: Request) -> dict:
    """One event: articles by language, date, actors, a headline per language, why each
    article was grouped, and the events before and after it in its story."""
    return {"ok": True, **event_detail(state_of(request).pipeline, event_id)}


@router.get("/stories", response_model=schemas.StoryList, tags=["stories"])
def get_stories(request: Request, limit: int = Limit, offset: int = Offset) -> JSONResponse:
    """Stories, largest first, each with its events in time order (undated last)."""
    state = state_of(request)
    stories, total = stories_page(state.pipeline, limit=limit, offset=offset)
    return _listing({"ok": True, "total": total, "revision": state.revision, "limit": limit,
                     "offset": offset, "stories": stories})


@router.get("/stories/{story_id}", response_model=schemas.StoryDetail, tags=["stories"])
def get_story(story_id: str, request: Request) -> JSONResponse:
    """One story with its events in time order (undated last)."""
    return _listing({**story_detail(state_of(request).pipeline, story_id), "ok": True})


@router.get("/search", response_model=schemas.SearchResult, tags=["events"])
def get_search(request: Request,
               q: str = Query(..., min_length=1, max_length=500, description="Words in any language."),
               limit: int = Query(20, ge=1, le=MAX_LIMIT)) -> JSONResponse:
    """Events for a query in any language: by meaning (the encoder of the store's vectors)
    and by the names it mentions in any script ("Lavrov" and "Лавров" find the same events);
    every stored event, read from the store."""
    state = state_of(request)
    p = state.pipeline
    vec = state.encode_query(q)
    results = []
    with p.store.snapshot():   # the search and the events it found: one state of the store
        for h in search_store(p.store, q, vec, p.encoder.name, limit):
            try:
                event = p.store.event_summary(h.event_id)
            except NotFound:
                continue
            names = p.store.event_name_display(h.event_id, h.names)
            results.append({**event_summary(event), "score": h.score, "cosine": h.cosine,
                            "matched_names": [names.get(k, k) for k in h.names]})
    return _listing({"ok": True, "query": q, "total": len(results), "results": results})


@router.get("/health", response_model=schemas.Health, tags=["service"],
            response_model_exclude_none=True)
def get_health(request: Request) -> dict:
    """Counts of what the store holds, and the change counter; with ``serve --watch``,
    each source's last poll, items seen, errors and next poll (``watch``)."""
    state = state_of(request)
    p = state.pipeline
    events, stories = p.store.counts()
    out = {"ok": True, "events": events, "stories": stories,
           "articles": len(p.clusterer.assignments_), "revision": state.revision,
           "store": p.store.path}
    if state.monitor is not None:
        out["watch"] = state.monitor.status()
    return out


@router.get("/stories/{story_id}/timeline", response_model=schemas.StoryTimeline, tags=["stories"])
def get_story_timeline(story_id: str, request: Request,
                       dates: Optional[int] = Query(None, ge=1, le=MAX_LIMIT,
                                                    description="At most this many dates "
                                                                "(default: the story's salient ones)."),
                       lang: Optional[str] = Query(None, min_length=2, max_length=8,
                                                   description="Summaries in this language where "
                                                               "the story has reports in it.")) -> dict:
    """A story's timeline: its most salient dates, each with a short summary chosen from its
    reports, and the articles and events of that date."""
    entries = state_of(request).pipeline.timeline(story_id, dates=dates, language=lang or None)
    return {"ok": True, "story": story_id, "total": len(entries),
            "timeline": [e.as_dict() for e in entries]}
