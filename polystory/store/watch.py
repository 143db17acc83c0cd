"""The monitor's tables (``polystory watch``): its sources and the queue of item URLs.

Schema (migration 2, "watch queue", in both stores; ``store/schema.py``):

- ``watch_sources``: one row per feed: conditional-GET validators (``etag``,
  ``last_modified``), ``last_poll`` / ``next_poll`` (ISO 8601, UTC), ``items_seen`` (item URLs
  queued from it, in all), ``polls``,
  ``errors`` (in all), ``failures`` (in a row: the backoff), ``last_status``, ``last_error``.
- ``watch_items``: one row per item URL (canonical, unique), queued *before* its page is
  fetched.  ``state`` goes ``queued`` -> ``fetched`` (the extracted page, or the feed's
  summary, is kept in the row) -> ``done`` (ingested: ``article_id``, ``outcome``), or
  ``failed`` (nothing to ingest: no page and no summary).  Each step is one transaction, so a
  kill at any moment leaves every item in one state, and a restart goes on from it: a
  ``fetched`` item is ingested from its row (not fetched again), a ``queued`` item whose
  article is already stored is marked ``done`` (not fetched or ingested again).

All SQL is portable (``?`` placeholders, ``ON CONFLICT``), run through ``WatchQueue``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Iterable

__all__ = ["WatchQueue", "SourceStatus", "QueuedItem", "watch_tables_sql", "ITEM_STATES"]

ITEM_STATES = ("queued", "fetched", "done", "failed")


def watch_tables_sql(seq_column: str) -> str:
    """The DDL of migration 2; ``seq_column`` is the backend's auto-increment key column."""
    return f"""
    CREATE TABLE watch_sources (
        url TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '',
        last_poll TEXT,
        next_poll TEXT,
        last_status TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        items_seen INTEGER NOT NULL DEFAULT 0,
        polls INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE watch_items (
        {seq_column},
        url TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        link TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        published TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT '',
        feed_title TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        article_id TEXT NOT NULL,
        page_title TEXT NOT NULL DEFAULT '',
        page_text TEXT NOT NULL DEFAULT '',
        page_date TEXT NOT NULL DEFAULT '',
        via TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        discovered TEXT NOT NULL,
        finished TEXT
    );
    CREATE INDEX watch_items_state ON watch_items(state, seq);
    """


@dataclass(frozen=True)
class SourceStatus:
    """One source's row of ``watch_sources``."""

    url: str
    title: str
    etag: str
    last_modified: str
    last_poll: str | None
    next_poll: str | None
    last_status: str
    last_error: str
    items_seen: int
    polls: int
    errors: int
    failures: int

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("etag", "last_modified")}


@dataclass(frozen=True)
class QueuedItem:
    """One row of ``watch_items``."""

    url: str
    source: str
    link: str
    title: str
    summary: str
    published: str
    language: str
    feed_title: str
    state: str
    attempts: int
    article_id: str
    page_title: str
    page_text: str
    page_date: str
    via: str
    outcome: str
    error: str


_SOURCE_COLS = ", ".join(f.name for f in fields(SourceStatus))
_ITEM_COLS = ", ".join(f.name for f in fields(QueuedItem))


class WatchQueue:
    """The monitor's reads and writes of a store's watch tables (each write one transaction).

    >>> from polystory.store import SQLiteStore
    >>> q = WatchQueue(SQLiteStore(":memory:"))
    >>> q.add_sources(["https://news.example/feed"])
    >>> q.enqueue([dict(url="https://news.example/a", source="https://news.example/feed",
    ...                 article_id="w1")], now="2026-01-01T00:00:00Z")
    1
    >>> [i.state for i in q.pending()]
    ['queued']
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    # --- writes -------------------------------------------------------
    def _write(self, statements: Iterable[tuple[str, tuple]]) -> list[int]:
        """Run ``(sql, args)`` statements in one transaction; each one's row count."""
        counts = []
        with self.store._tx() as w:          # a ``schema.Writer`` in both stores
            for sql, args in statements:
                w(sql, args)
                counts.append(w.rowcount)
        return counts

    # --- sources ------------------------------------------------------------------------
    def add_sources(self, urls: Iterable[str]) -> None:
        """Known sources stay as they are; new ones are due at once."""
        self._write([("INSERT INTO watch_sources (url) VALUES (?) ON CONFLICT (url) DO NOTHING",
                      (u,)) for u in urls])

    def sources(self, urls: Iterable[str] | None = None) -> list[SourceStatus]:
        rows = self.store._q(f"SELECT {_SOURCE_COLS} FROM watch_sources ORDER BY url")
        out = [SourceStatus(*r) for r in rows]
        if urls is not None:
            wanted = set(urls)
            out = [s for s in out if s.url in wanted]
        return out

    def source(self, url: str) -> SourceStatus | None:
        rows = self.store._q(f"SELECT {_SOURCE_COLS} FROM watch_sources WHERE url=?", (url,))
        return SourceStatus(*rows[0]) if rows else None

    def record_poll(self, url: str, *, now: str, next_poll: str, status: str, error: str = "",
                    title: str | None = None, etag: str | None = None,
                    last_modified: str | None = None, items: list[dict] = ()) -> int:
        """A poll's result and its new items (queued), in one transaction; how many were new."""
        failed = bool(error)
        sets = ["last_poll=?", "next_poll=?", "last_status=?", "last_error=?", "polls=polls+1",
                "errors=errors+?", "failures=" + ("failures+1" if failed else "0")]
        args: list[Any] = [now, next_poll, status, error, int(failed)]
        for col, value in (("title", title), ("etag", etag), ("last_modified", last_modified)):
            if value is not None:
                sets.append(f"{col}=?")
                args.append(value)
        sets.append("items_seen=(SELECT COUNT(*) FROM watch_items WHERE source=?)")
        stmts = [self._insert_item(item, now) for item in items]
        counts = self._write(stmts + [(f"UPDATE watch_sources SET {', '.join(sets)} WHERE url=?",
                                       (*args, url, url))])
        return sum(1 for c in counts[:len(stmts)] if c > 0)

    # --- items ----------------------------------------------------------------------------
    @staticmethod
    def _insert_item(item: dict, now: str) -> tuple[str, tuple]:
        cols = ["url", "source", "link", "title", "summary", "published", "language", "feed_title",
                "article_id"]
        values = tuple(item.get(c, "") or "" for c in cols)
        return (f"INSERT INTO watch_items ({', '.join(cols)}, discovered) VALUES "
                f"({', '.join('?' * len(cols))}, ?) ON CONFLICT (url) DO NOTHING", (*values, now))

    def enqueue(self, items: list[dict], now: str) -> int:
        """Queue item URLs not seen before; how many were new."""
        return sum(1 for c in self._write([self._insert_item(i, now) for i in items]) if c > 0)

    def pending(self, limit: int | None = None) -> list[QueuedItem]:
        """Items still to fetch or ingest, in discovery order."""
        sql = (f"SELECT {_ITEM_COLS} FROM watch_items WHERE state IN ('queued', 'fetched') "
               "ORDER BY seq")
        rows = self.store._q(sql + (f" LIMIT {int(limit)}" if limit else ""))
        return [QueuedItem(*r) for r in rows]

    def items(self, source: str | None = None) -> list[QueuedItem]:
        where, args = ("WHERE source=? ", (source,)) if source else ("", ())
        return [QueuedItem(*r) for r in self.store._q(
            f"SELECT {_ITEM_COLS} FROM watch_items {where}ORDER BY seq", args)]

    def mark_fetched(self, url: str, *, title: str, text: str, date: str, via: str,
                     error: str = "") -> None:
        self._write([("UPDATE watch_items SET state='fetched', attempts=attempts+1, page_title=?, "
                      "page_text=?, page_date=?, via=?, error=? WHERE url=?",
                      (title, text, date, via, error, url))])

    def mark_done(self, url: str, *, outcome: str, now: str) -> None:
        self._write([("UPDATE watch_items SET state='done', outcome=?, finished=? WHERE url=?",
                      (outcome, now, url))])

    def mark_failed(self, url: str, *, error: str, now: str) -> None:
        self._write([("UPDATE watch_items SET state='failed', attempts=attempts+1, error=?, "
                      "finished=? WHERE url=?", (error, now, url))])

    def counts(self) -> dict[str, int]:
        """Items per state."""
        got = dict(self.store._q("SELECT state, COUNT(*) FROM watch_items GROUP BY state"))
        return {s: int(got.get(s, 0)) for s in ITEM_STATES}

    def counts_by_source(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for source, state, n in self.store._q(
                "SELECT source, state, COUNT(*) FROM watch_items GROUP BY source, state"):
            out.setdefault(source, {s: 0 for s in ITEM_STATES})[state] = int(n)
        return out
