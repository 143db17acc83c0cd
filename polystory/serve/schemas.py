"""Response and request shapes, for validation and for the OpenAPI document (/openapi.json)."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

__all__ = [
    "ArticleIn", "Outcome", "IngestResult", "EventSummary", "EventList", "Evidence",
    "ArticleBrief", "EventDetail", "StorySummary", "StoryList", "DocumentOut", "ArticleOut",
    "SearchHit", "SearchResult", "Health", "ErrorOut", "ARTICLES_BODY",
]


class ArticleIn(BaseModel):
    """One article, as in the JSONL input."""

    text: str = Field(description="The article text (plain text, or an HTML page).")
    id: Optional[str] = Field(None, description="Your id; derived from the content if absent.")
    title: Optional[str] = None
    url: Optional[str] = None
    published: Optional[str] = Field(None, description="YYYY-MM-DD, YYYY-MM, YYYY, ISO 8601 or RFC 822.")
    language: Optional[str] = Field(None, description="ISO 639-1 code; detected if absent.")
    source: Optional[str] = Field(None, description="Outlet name.")


#: The request body of POST /articles for the OpenAPI document (the route parses it itself).
ARTICLES_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "anyOf": [ArticleIn.model_json_schema(),
                  {"type": "array", "items": ArticleIn.model_json_schema()}]}}},
}


class Outcome(BaseModel):
    id: str
    status: Literal["new_event", "joined_event", "duplicate", "rejected"]
    event: Optional[str]
    story: Optional[str]
    reason: str
    duplicate_of: Optional[str] = None


class IngestResult(BaseModel):
    ok: bool = True
    revision: int
    results: list[Outcome]


class EventSummary(BaseModel):
    id: str
    story: Optional[str]
    event_date: Optional[str] = Field(description="YYYY-MM-DD, YYYY-MM or YYYY; null if undated.")
    languages: list[str]
    article_count: int
    articles: list[str]
    headline: str
    actors: list[str]


class EventList(BaseModel):
    ok: bool = True
    total: int = Field(description="Events that match the filters.")
    article_total: int = Field(description="Articles in those events.")
    revision: int
    limit: int
    offset: int
    events: list[EventSummary]


class Evidence(BaseModel):
    """Why an article is in its event (stored by the clusterer with the membership)."""

    kind: Literal["joined", "opened", "repaired"]
    score: Optional[float]
    closest: Optional[str]
    similarity: Optional[float]
    probability: Optional[float]
    shared_names: list[str]
    shared_names_display: list[str]
    date_agreement: Optional[float]


class ArticleBrief(BaseModel):
    id: str
    title: str
    headline: str = Field(description="The title, or the first sentence of an untitled article.")
    url: str
    source: str
    language: str
    published: Optional[str]
    event_date: Optional[str]
    actors: list[str]
    snippet: str
    truncated: bool
    evidence: Evidence


class EventDetail(EventSummary):
    ok: bool = True
    story_title: str
    headlines: dict[str, str] = Field(description="A representative headline per language.")
    by_language: dict[str, list[ArticleBrief]]
    previous: Optional[EventSummary] = Field(description="The event before this one in its story.")
    next: Optional[EventSummary] = Field(description="The event after this one in its story.")


class StorySummary(BaseModel):
    id: str
    title: str
    actors: list[str]
    event_count: int
    article_count: int
    languages: list[str]
    first_date: Optional[str]
    last_date: Optional[str]
    events: list[EventSummary] = Field(description="In time order, undated last.")


class StoryDetail(StorySummary):
    ok: bool = True


class StoryList(BaseModel):
    ok: bool = True
    total: int
    revision: int
    limit: int
    offset: int
    stories: list[StorySummary]


class DocumentOut(BaseModel):
    title: str
    text: str
    language: str
    published: Optional[str]
    event_date: Optional[str]
    actors: list[str]
    numbers: list[str]


class ArticleOut(BaseModel):
    ok: bool = True
    id: str
    status: Literal["clustered", "rejected"]
    reason: str
    event: Optional[str]
    story: Optional[str]
    title: str
    url: str
    source: str
    published: str
    language: str
    text: str = Field(description="The text as it was sent.")
    document: Optional[DocumentOut] = Field(description="What the pipeline made of it (null if rejected).")
    evidence: Optional[Evidence]


class SearchHit(EventSummary):
    score: float
    cosine: float
    matched_names: list[str]


class SearchResult(BaseModel):
    ok: bool = True
    query: str
    total: int
    results: list[SearchHit]


class WatchSource(BaseModel):
    url: str
    title: str
    last_poll: Optional[str] = Field(description="ISO 8601, UTC; null before the first poll.")
    next_poll: Optional[str]
    last_status: str = Field(description="'200', '304' or 'error'.")
    last_error: str
    items_seen: int
    polls: int
    errors: int
    failures: int = Field(description="Errors in a row (the source is backed off).")
    queued: int
    done: int
    failed: int


class Health(BaseModel):
    ok: bool = True
    events: int
    stories: int
    articles: int = Field(description="Clustered articles in the pipeline's memory.")
    revision: int
    store: str
    watch: Optional[list[WatchSource]] = Field(
        None, description="Per source, when the server runs the monitor (serve --watch).")


class ErrorOut(BaseModel):
    ok: Literal[False] = False
    error: str
    status: int


class TimelineEntryOut(BaseModel):
    date: str = Field(description="YYYY-MM-DD (YYYY-MM where only the month is known).")
    summary: str = Field(description="Sentences chosen from the reports of that date.")
    articles: list[str] = Field(description="Reports of that date, then reports naming it.")
    events: list[str] = Field(description="The events of those reports.")
    language: str = Field(description="Language of the summary.")


class StoryTimeline(BaseModel):
    ok: bool = True
    story: str
    total: int
    timeline: list[TimelineEntryOut] = Field(description="In date order.")
