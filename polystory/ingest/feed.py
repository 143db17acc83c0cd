"""Read RSS/Atom feeds (files or ``http(s)://`` URLs) with feedparser."""
from __future__ import annotations

import http.client
import io
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Mapping

import feedparser

from ..errors import FetchError, ParseError
from ..models import Article
from .common import OnError, one_line, report, stable_id, truncate

__all__ = ["read_feed_file", "read_feed_url", "fetch"]

USER_AGENT = "polystory/0.1 (+feed reader)"
TIMEOUT_S = 30.0
MAX_FEED_BYTES = 64 * 1024 * 1024


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    """GET ``url``: its body and the headers feedparser needs (``FetchError`` on failure)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = response.read(MAX_FEED_BYTES + 1)
            headers = {
                "content-type": response.headers.get("Content-Type", ""),
                "content-location": response.geturl(),
            }
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason} fetching {url}") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise FetchError(f"cannot fetch {url}: {one_line(exc)}") from exc
    if len(body) > MAX_FEED_BYTES:
        raise FetchError(f"feed larger than {MAX_FEED_BYTES} bytes: {url}")
    return body, headers


def _parse(data: bytes, where: str, headers: Mapping[str, str] | None = None) -> Any:
    """Parse feed bytes; ``ParseError`` for a malformed feed or a document that is none."""
    try:
        # A BytesIO, never bare bytes: feedparser would try bytes as a file name.
        parsed = feedparser.parse(io.BytesIO(data), response_headers=dict(headers or {}))
    except Exception as exc:  # noqa: BLE001 - a third-party parser on untrusted bytes
        raise ParseError(f"feed could not be parsed: {one_line(exc)}", where=where) from exc
    if parsed.entries:
        return parsed
    if parsed.get("bozo"):
        reason = one_line(parsed.get("bozo_exception") or ValueError("malformed"))
        raise ParseError(f"malformed feed: {reason}", where=where)
    if not parsed.get("version"):
        raise ParseError("not an RSS or Atom feed", where=where)
    return parsed


def _iso_date(entry: Mapping[str, Any]) -> str:
    """``YYYY-MM-DD`` from an entry's published/updated date, or ``""``."""
    value = entry.get("published_parsed") or entry.get("updated_parsed")
    if not isinstance(value, time.struct_time):
        return ""
    return f"{value.tm_year:04d}-{value.tm_mon:02d}-{value.tm_mday:02d}"


def _entry_text(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The entry's ``(text, language)``: first content block, else the summary."""
    for block in entry.get("content") or ():
        if (block.get("value") or "").strip():
            return block["value"], block.get("language") or ""
    summary = entry.get("summary_detail") or {}
    return entry.get("summary") or "", summary.get("language") or ""


def _entry_article(entry: Mapping[str, Any], feed: Mapping[str, Any], origin: str,
                   max_chars: int) -> Article:
    """One ``Article`` (html=True) from one feed entry; ``ParseError`` when it has no text."""
    text, language = _entry_text(entry)
    if not text.strip():
        raise ParseError("feed entry has no text", where=origin)
    text = truncate(text, max_chars, origin)
    url = (entry.get("link") or "").strip()
    return Article(
        id=stable_id(text, url),
        text=text,
        title=(entry.get("title") or "").strip(),
        url=url,
        published=_iso_date(entry),
        language=(language or feed.get("language") or "").strip(),
        source=(feed.get("title") or "").strip(),
        html=True,
        origin=origin,
    )


def _articles(parsed: Any, where: str, on_error: OnError | None,
              max_chars: int) -> Iterator[Article]:
    """Yield the entries of a parsed feed; entries without text go to ``on_error``."""
    feed = parsed.get("feed") or {}
    for number, entry in enumerate(parsed.entries, 1):
        try:
            article = _entry_article(entry, feed, f"{where}#{number}", max_chars)
        except ParseError as err:
            report(on_error, err)
            continue
        yield article


def read_feed_file(path: Path, on_error: OnError | None, max_chars: int) -> Iterator[Article]:
    """Yield the entries of an RSS/Atom file as articles."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from exc
    yield from _articles(_parse(data, str(path)), str(path), on_error, max_chars)


def read_feed_url(url: str, on_error: OnError | None, max_chars: int) -> Iterator[Article]:
    """Fetch an RSS/Atom feed over HTTP(S) and yield its entries as articles."""
    data, headers = fetch(url)
    yield from _articles(_parse(data, url, headers), url, on_error, max_chars)
