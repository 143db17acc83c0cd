"""Watch sources: poll feeds, fetch each new item's page, ingest it once (``polystory watch``).

``read_sources`` reads a text file of feed URLs or an OPML file; ``Monitor`` polls them into a
store through the pipeline; ``Fetcher`` is the polite, bounded HTTP client it uses (robots.txt,
per-host delay, timeouts, size limit, bounded redirects, retries, no private addresses).
The queue and each source's status live in the store (``polystory.store.watch``).
See docs/watch.md.
"""
from .fetch import Fetcher, FetchOptions, Refused, check_address
from .monitor import Monitor, PollReport, SourceReport, canonical_url, item_article_id, source_status
from .sources import parse_sources, read_sources

__all__ = ["Monitor", "PollReport", "SourceReport", "Fetcher", "FetchOptions", "Refused",
           "check_address", "canonical_url", "item_article_id", "source_status", "read_sources",
           "parse_sources"]
