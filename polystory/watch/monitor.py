"""The monitor: poll sources, queue new item URLs, fetch each page once, ingest each once.

One ``poll`` does, for every due source (every source with ``force``):

1. a conditional GET of the feed (``If-None-Match`` / ``If-Modified-Since`` from the last
   answer); a 304 changes nothing;
2. each entry's link, made canonical (courlan: lower-case host, tracking parameters such
   as ``utm_*`` dropped, the query sorted, no fragment), is queued in the store with the
   feed's title, summary and date, in the same transaction as the source's new status;
3. the queue is drained: each item's page is fetched (robots.txt allowing) and its main
   text, title and date extracted (trafilatura, htmldate); when the page cannot be had (an
   error status, a refusal, a timeout, too little text) the feed's summary is kept instead;
   the result is written to the item's row, then the articles are ingested and the items
   marked done.

Nothing is lost and nothing is done twice: an item's article id is derived from its
canonical URL only, a ``fetched`` item is ingested from its row without a new fetch, and
an item whose article is already stored is marked done without a fetch or an ingest.
A source that fails is polled again after ``every * 2**failures`` (at most ``2**6``
times ``every``) and its error is kept in its status.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import feedparser

from ..errors import FetchError, PolystoryError, StoreError
from ..models import Article
from ..store.watch import QueuedItem, WatchQueue
from .fetch import Fetcher, FetchOptions, Refused, decode_html

__all__ = ["Monitor", "PollReport", "SourceReport", "canonical_url", "item_article_id",
           "MAX_BACKOFF_DOUBLINGS"]

log = logging.getLogger(__name__)

#: A failing source waits ``every * 2**failures``, doubling at most this many times.
MAX_BACKOFF_DOUBLINGS = 6
#: Items fetched before their articles are ingested together (one pipeline batch).
INGEST_BATCH = 16
#: Characters of a feed summary or page text kept per item.
MAX_ITEM_CHARS = 500_000
#: Pages whose main text is shorter than this fall back to the feed summary (a paywall
#: stub, a cookie wall): the pipeline's own minimum is 40 characters.
MIN_PAGE_CHARS = 200

Ingest = Callable[[list[Article]], list[str]]


def canonical_url(url: str) -> str:
    """The form of an item URL that identifies it: courlan's normalisation (host lower
    case, default port and tracking parameters dropped, query sorted), without fragment.

    >>> canonical_url("HTTPS://News.Example:443/a/b?utm_source=rss&id=2&b=1#top")
    'https://news.example/a/b?b=1&id=2'
    """
    from courlan import normalize_url

    try:
        out = normalize_url(url.strip())
    except Exception:  # noqa: BLE001 - courlan on arbitrary feed input
        out = url.strip()
    return out.split("#", 1)[0]


def item_article_id(url: str) -> str:
    """The article id of an item: ``"w"`` + 15 hex digits of the SHA-1 of its canonical URL.

    >>> item_article_id("https://news.example/a")
    'w3f28ceffe1221c8'
    """
    return "w" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:15]


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(s: str | None) -> dt.datetime | None:
    if not s:
        return None
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def _entry_date(entry: Mapping[str, Any]) -> str:
    value = entry.get("published_parsed") or entry.get("updated_parsed")
    if not isinstance(value, time.struct_time):
        return ""
    return f"{value.tm_year:04d}-{value.tm_mon:02d}-{value.tm_mday:02d}"


def _entry_summary(entry: Mapping[str, Any]) -> str:
    for block in entry.get("content") or ():
        if (block.get("value") or "").strip():
            return block["value"]
    return entry.get("summary") or ""


@dataclass
class SourceReport:
    """What one poll did for one source."""

    url: str
    status: str = ""            # "200", "304", "error", "skipped" (not due)
    error: str = ""
    new_items: int = 0
    ingested: int = 0
    from_summary: int = 0
    item_errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PollReport:
    sources: dict[str, SourceReport] = field(default_factory=dict)
    requests: int = 0

    @property
    def ingested(self) -> int:
        return sum(s.ingested for s in self.sources.values())


class Monitor:
    """Watch ``sources`` (feed URLs) into the store of ``ingest``.

    Parameters
    ----------
    store:
        The pipeline's store; the queue and the sources' status live in it.
    sources:
        Feed URLs (``read_sources``).
    ingest:
        Adds articles through the pipeline and returns each one's status
        (``new_event``, ``joined_event``, ``duplicate``, ``rejected``).  The server passes one
        that holds its write lock.
    every_s:
        Seconds between two polls of a source.
    options:
        ``FetchOptions`` (timeouts, limits, politeness, private addresses).
    clock:
        The time now (UTC); the CLI's clock, injectable in tests.
    """

    def __init__(self, store: Any, sources: list[str], ingest: Ingest, *, every_s: float = 600.0,
                 options: FetchOptions = FetchOptions(), fetcher: Fetcher | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.store = store
        self.sources = list(sources)
        self.ingest = ingest
        self.every_s = every_s
        self.options = options
        self.queue = WatchQueue(store)
        self.fetcher = fetcher or Fetcher(options)
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._stopping = threading.Event()
        self.queue.add_sources(self.sources)

    def close(self) -> None:
        self.fetcher.close()

    # --- one poll ---------------------------------------------------------------------------
    def poll(self, *, force: bool = False) -> PollReport:
        """Poll the due sources (all with ``force``), then fetch and ingest what is queued."""
        report = PollReport()
        now = self.clock()
        known = {s.url: s for s in self.queue.sources(self.sources)}
        for url in self.sources:
            rep = report.sources[url] = SourceReport(url)
            status = known.get(url)
            due = _parse_iso(status.next_poll) if status else None
            if not force and due is not None and due > now:
                rep.status = "skipped"
                continue
            self._poll_source(url, status, rep)
        self.drain(report)
        report.requests = self.fetcher.requests
        return report

    def _next(self, failures: int) -> str:
        wait = self.every_s * (2 ** min(failures, MAX_BACKOFF_DOUBLINGS))
        return _iso(self.clock() + dt.timedelta(seconds=wait))

    def _poll_source(self, url: str, status, rep: SourceReport) -> None:
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if status and status.etag:
            headers["If-None-Match"] = status.etag
        if status and status.last_modified:
            headers["If-Modified-Since"] = status.last_modified
        now = _iso(self.clock())
        try:
            r = self.fetcher.get(url, headers)
            if r.status == 304:
                rep.status = "304"
                self.queue.record_poll(url, now=now, next_poll=self._next(0), status="304")
                return
            parsed = feedparser.parse(io.BytesIO(r.body), response_headers={
                "content-type": r.headers.get("content-type", ""), "content-location": r.url})
            if not parsed.entries and not parsed.get("version"):
                raise FetchError(f"not an RSS or Atom feed: {url[:200]}")
        except StoreError:
            raise
        except Exception as e:  # noqa: BLE001 - one source's failure never stops the monitor
            failures = (status.failures if status else 0) + 1
            rep.status = "error"
            rep.error = str(e) if isinstance(e, PolystoryError) else f"{type(e).__name__}: {e}"[:500]
            e = rep.error
            log.warning("source %s: %s (next try %s)", url, e, self._next(failures))
            self.queue.record_poll(url, now=now, next_poll=self._next(failures), status="error",
                                   error=rep.error)
            return
        feed = parsed.get("feed") or {}
        items = []
        for entry in parsed.entries:
            link = (entry.get("link") or "").strip()
            key = canonical_url(link) if link.lower().startswith(("http://", "https://")) else link
            if not key:
                ident = entry.get("id") or (entry.get("title", "") + _entry_summary(entry))
                key = f"urn:polystory:{hashlib.sha1(f'{url} {ident}'.encode()).hexdigest()}"
            items.append({"url": key, "source": url, "link": link,
                          "title": (entry.get("title") or "").strip()[:2000],
                          "summary": _entry_summary(entry)[:MAX_ITEM_CHARS],
                          "published": _entry_date(entry),
                          "language": (feed.get("language") or "").strip()[:20],
                          "feed_title": (feed.get("title") or "").strip()[:500],
                          "article_id": item_article_id(key)})
        rep.status = str(r.status)
        rep.new_items = self.queue.record_poll(
            url, now=now, next_poll=self._next(0), status=str(r.status),
            title=(feed.get("title") or "").strip()[:500], etag=r.headers.get("etag", ""),
            last_modified=r.headers.get("last-modified", ""), items=items)
        log.info("source %s: %d entries, %d new", url, len(items), rep.new_items)

    # --- the queue --------------------------------------------------------------------------
    def drain(self, report: PollReport | None = None) -> PollReport:
        """Fetch and ingest every queued item, ``INGEST_BATCH`` at a time."""
        report = report or PollReport()
        while not self._stopping.is_set():     # a stop leaves the rest queued, nothing lost
            batch = self.queue.pending(INGEST_BATCH)
            if not batch:
                break
            ready: list[QueuedItem] = []
            for item in batch:
                if self._stopping.is_set():   # the rest stay queued for the next start
                    break
                rep = report.sources.setdefault(item.source, SourceReport(item.source))
                if self.store.find_article(item.article_id) is not None:
                    # ingested before a restart: neither fetched nor ingested again
                    self.queue.mark_done(item.url, outcome="stored", now=_iso(self.clock()))
                    continue
                if item.state == "queued":
                    item = self._fetch_item(item, rep)
                if item is not None:
                    ready.append(item)
            if ready:
                self._ingest(ready, report)
        return report

    def _fetch_item(self, item: QueuedItem, rep: SourceReport) -> QueuedItem | None:
        """Fetch an item's page into its row (or keep the summary); ``None`` when there is
        nothing to ingest (the item is marked failed)."""
        title = text = date = error = ""
        target = item.link or item.url   # the link as published (the key is its canonical form)
        try:
            if not self.fetcher.allowed(target):
                raise Refused(f"robots.txt forbids {target[:200]}")
            r = self.fetcher.get(target, {"Accept": "text/html, application/xhtml+xml, */*;q=0.5"})
            html = decode_html(r.body, r.headers.get("content-type", ""))
            title, text, date = _extract(html, r.url)
            if len(text.strip()) < MIN_PAGE_CHARS:
                raise FetchError(f"no main text on {target[:200]}")
            via = "page"
        except StoreError:
            raise
        except Exception as e:  # noqa: BLE001 - one item's failure never stops the monitor
            error = str(e) if isinstance(e, PolystoryError) else f"{type(e).__name__}: {e}"[:500]
            rep.item_errors.append((item.url, error))
            log.info("item %s: %s; keeping the feed's summary", item.url, error)
            via = "summary"
            text = ""
        if via == "summary" and not _has_text(item.summary):
            self.queue.mark_failed(item.url, error=error or "no text", now=_iso(self.clock()))
            return None
        text = text[:MAX_ITEM_CHARS]
        self.queue.mark_fetched(item.url, title=title[:2000], text=text, date=date, via=via,
                                error=error)
        return dataclasses.replace(item, state="fetched", page_title=title, page_text=text,
                                   page_date=date, via=via, error=error)

    def _ingest(self, items: list[QueuedItem], report: PollReport) -> None:
        articles = [self._article(i) for i in items]
        statuses = self.ingest(articles)
        if len(statuses) != len(items):
            raise PolystoryError(f"ingest returned {len(statuses)} results for {len(items)} articles")
        now = _iso(self.clock())
        for item, status in zip(items, statuses):
            self.queue.mark_done(item.url, outcome=status, now=now)
            rep = report.sources.setdefault(item.source, SourceReport(item.source))
            rep.ingested += 1
            rep.from_summary += item.via == "summary"

    @staticmethod
    def _article(item: QueuedItem) -> Article:
        page = item.via == "page"
        link = item.link if item.link.lower().startswith(("http://", "https://")) else ""
        return Article(id=item.article_id, text=item.page_text if page else item.summary,
                       title=(item.page_title if page and item.page_title else item.title),
                       url=item.url if link else "",
                       published=item.page_date if page and item.page_date else item.published,
                       language=item.language, source=item.feed_title,
                       html=not page and "<" in item.summary,   # a summary may be HTML
                       origin=item.source)

    # --- running ------------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None, *, once: bool = False,
            on_poll: Callable[[PollReport], None] | None = None) -> None:
        """Poll until ``stop`` is set (``once``: every source once, then return)."""
        stop = self._stopping = stop or threading.Event()
        report = self.poll(force=once)
        if on_poll:
            on_poll(report)
        while not once and not stop.is_set():
            stop.wait(self.seconds_to_next())
            if stop.is_set():
                return
            report = self.poll()
            if on_poll:
                on_poll(report)

    def seconds_to_next(self) -> float:
        """Seconds until the next source is due (0 if one is)."""
        dues = [_parse_iso(s.next_poll) for s in self.queue.sources(self.sources)]
        dues = [d for d in dues if d is not None]
        if len(dues) < len(self.sources):
            return 0.0
        return max(0.0, (min(dues) - self.clock()).total_seconds())

    def status(self) -> list[dict]:
        """Per source: last poll, items seen, errors, next poll, and its items by state."""
        return source_status(self.queue, self.sources)


def source_status(queue: WatchQueue, sources: list[str] | None = None) -> list[dict]:
    """What ``watch --status`` and ``/health`` show, per source."""
    counts = queue.counts_by_source()
    out = []
    for s in queue.sources(sources):
        by_state = counts.get(s.url, {})
        out.append({**s.as_dict(), "queued": by_state.get("queued", 0) + by_state.get("fetched", 0),
                    "done": by_state.get("done", 0), "failed": by_state.get("failed", 0)})
    return out


def _has_text(html: str) -> bool:
    return len(" ".join(html.split())) > 0


def _extract(html: str, url: str) -> tuple[str, str, str]:
    """(title, main text, date) of a page: trafilatura (``clean.html``), htmldate for the date."""
    from ..clean.html import extract_html

    parts = extract_html(html, url)
    date = parts.date
    if not date:
        try:
            from htmldate import find_date

            date = find_date(html, url=url, original_date=True, extensive_search=False) or ""
        except Exception:  # noqa: BLE001 - a third-party parser on untrusted pages
            date = ""
    return parts.title, parts.text, date
