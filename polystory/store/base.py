"""The ``Store`` protocol: what the pipeline needs from a store, nothing more.

``SQLStore`` holds what the SQL stores (SQLite, PostgreSQL) share: the read queries, written
once in SQL both understand, and the conversion of their rows into records.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ContextManager, Iterator, Protocol

import numpy as np

from ..enrich.recall import Recall
from ..errors import NotFound
from ..models import Article, Document, PartialDate

__all__ = ["Store", "StoredArticle", "SQLStore"]


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored: raw input, its document (if accepted), status and event."""

    article: Article
    document: Document | None
    status: str            # "clustered" | "rejected"
    reason: str
    event_id: str | None
    story_id: str | None
    score: float | None
    evidence: dict


class Store(Protocol):
    def find_article(self, article_id: str) -> tuple[str, str] | None:
        """(content hash, status) of a stored article id, or ``None``."""

    def find_hash(self, content_hash: str) -> str | None:
        """Id of a stored article with this content hash."""

    def get_embedding(self, key: str) -> np.ndarray | None: ...

    def add_article(self, article: Article, doc: Document | None, *, status: str, reason: str = "",
                    content_hash: str, embedding: tuple[str, str, np.ndarray] | None = None,
                    extra_embeddings: list[tuple[str, str, np.ndarray]] = (),
                    event_id: str | None = None, score: float | None = None,
                    evidence: dict | None = None, story_links: dict[str, str] | None = None) -> None:
        """Store one article with everything derived from it, in one transaction."""

    def update_events(self, moved: dict[str, str], story_links: dict[str, str],
                      gone: list[str], dates: dict | None = None) -> None:
        """Repairs in one transaction: article -> event moves, event -> story moves,
        events that no longer exist, and event dates inferred later."""

    def replay(self, encoder_name: str) -> Iterator[tuple[Document, np.ndarray, str]]:
        """(document, vector, event id) of every clustered article in arrival order."""

    def recent_events(self, max_articles: int) -> list[str]:
        """The events that grew most recently, whole, holding at most ``max_articles``."""

    def story_links(self) -> dict[str, str]: ...

    def snapshot(self) -> ContextManager[None]:
        """A block whose reads all see one state of the store (writers may go on)."""

    def article(self, article_id: str) -> StoredArticle: ...

    def event_members(self, event_id: str) -> list[StoredArticle]: ...

    def list_events(self, *, story_id: str | None = None) -> list[str]: ...

    def list_stories(self) -> list[str]: ...

    def close(self) -> None: ...


def _date(value: str | None) -> PartialDate | None:
    return PartialDate.parse(value) if value else None


class SQLStore:
    """The reads of a store whose tables follow the polystory schema (``store/sqlite.py``).

    A subclass provides ``_q(sql, args)`` (run one query with ``?`` placeholders, return all
    rows, raise ``StoreError`` on failure) and ``_vector(value)`` (a stored vector as a
    float32 array).  The SQL here is portable: standard joins and aggregates, ``?``
    placeholders, no ``%`` and no literal ``?``.
    """

    path: str

    def _q(self, sql: str, args: tuple = ()) -> list[Any]:
        raise NotImplementedError

    @staticmethod
    def _vector(value: Any) -> np.ndarray:
        raise NotImplementedError

    # --- by id and hash ---------------------------------------------------------------
    def find_article(self, article_id: str) -> tuple[str, str] | None:
        rows = self._q("SELECT content_hash, status FROM articles WHERE id=?", (article_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def find_hash(self, content_hash: str) -> str | None:
        rows = self._q("SELECT id FROM articles WHERE content_hash=? ORDER BY seq LIMIT 1",
                       (content_hash,))
        return rows[0][0] if rows else None

    def get_embedding(self, key: str) -> np.ndarray | None:
        rows = self._q("SELECT vector FROM embeddings WHERE key=?", (key,))
        return self._vector(rows[0][0]) if rows else None

    # --- the stream ---------------------------------------------------------------------
    #: Rows read per query on replay (a long stream is never held in memory whole).
    REPLAY_PAGE = 1000

    def replay(self, encoder_name: str) -> Iterator[tuple[Document, np.ndarray, str]]:
        last = -1
        while True:
            rows = self._q(
                "SELECT d.*, e.vector, m.event_id, a.seq FROM articles a JOIN documents d ON d.id=a.id "
                "JOIN memberships m ON m.article_id=a.id "
                "JOIN doc_embeddings de ON de.id=a.id AND de.model=? "
                "JOIN embeddings e ON e.key=de.key WHERE a.seq > ? ORDER BY a.seq LIMIT ?",
                (encoder_name, last, self.REPLAY_PAGE))
            for r in rows:
                yield self._doc(r[:15]), self._vector(r[15]), r[16]
            if len(rows) < self.REPLAY_PAGE:
                return
            last = rows[-1][17]

    def recent_events(self, max_articles: int) -> list[str]:
        """The events that grew most recently, whole, while they hold at most
        ``max_articles`` articles together (at least one event): what a pipeline bounded
        to ``max_articles`` holds in memory."""
        rows = self._q("SELECT m.event_id, MAX(a.seq) AS last, COUNT(*) FROM memberships m "
                       "JOIN articles a ON a.id=m.article_id GROUP BY m.event_id "
                       "ORDER BY last DESC, m.event_id LIMIT ?", (max_articles + 1,))
        out, total = [], 0
        for event_id, _, n in rows:
            if out and total + n > max_articles:
                break
            out.append(event_id)
            total += n
        return out

    def encoders(self) -> list[str]:
        """The names of the encoders whose vectors place the stored articles."""
        return [r[0] for r in self._q("SELECT DISTINCT model FROM doc_embeddings ORDER BY model")]

    def story_links(self) -> dict[str, str]:
        return dict(self._q("SELECT event_id, story_id FROM event_stories ORDER BY seq"))

    # --- rows -> records ------------------------------------------------------------------
    @staticmethod
    def _doc(r) -> Document:
        return Document(id=r[0], title=r[1], text=r[2], language=r[3], url=r[4], source=r[5],
                        published=_date(r[6]), event_date=_date(r[7]),
                        entities=tuple(json.loads(r[8])), entity_names=tuple(json.loads(r[9])),
                        numbers=tuple(json.loads(r[10])), weekday=r[11],
                        recalls=tuple(Recall(*x) for x in json.loads(r[12])), content_hash=r[13],
                        dropped_lines=r[14])

    _ARTICLE_SQL = (
        "SELECT a.id, a.text, a.title, a.url, a.published, a.language, a.source, a.origin, "
        "a.status, a.reason, m.event_id, s.story_id, m.score, m.evidence, d.* "
        "FROM articles a LEFT JOIN documents d ON d.id=a.id "
        "LEFT JOIN memberships m ON m.article_id=a.id "
        "LEFT JOIN event_stories s ON s.event_id=m.event_id ")

    def _stored(self, r) -> StoredArticle:
        art = Article(id=r[0], text=r[1], title=r[2], url=r[3], published=r[4], language=r[5],
                      source=r[6], origin=r[7])
        doc = self._doc(r[14:29]) if r[14] is not None else None
        return StoredArticle(art, doc, r[8], r[9], r[10], r[11], r[12], json.loads(r[13] or "{}"))

    # --- articles, events, stories -------------------------------------------------------------
    def article(self, article_id: str) -> StoredArticle:
        rows = self._q(self._ARTICLE_SQL + "WHERE a.id=?", (article_id,))
        if not rows:
            raise NotFound(f"no article with id {article_id!r}")
        return self._stored(rows[0])

    def event_members(self, event_id: str) -> list[StoredArticle]:
        rows = self._q(self._ARTICLE_SQL + "WHERE m.event_id=? ORDER BY a.seq", (event_id,))
        return [self._stored(r) for r in rows]

    def list_events(self, *, story_id: str | None = None) -> list[str]:
        if story_id is None:
            rows = self._q("SELECT event_id FROM memberships m JOIN articles a ON a.id=m.article_id "
                           "GROUP BY event_id ORDER BY MIN(a.seq)")
        else:
            rows = self._q("SELECT event_id FROM event_stories WHERE story_id=? ORDER BY seq",
                           (story_id,))
        return [r[0] for r in rows]

    def list_stories(self) -> list[str]:
        return [r[0] for r in self._q("SELECT story_id FROM event_stories GROUP BY story_id "
                                      "ORDER BY MIN(seq)")]

    def list_articles(self) -> list[StoredArticle]:
        return [self._stored(r) for r in self._q(self._ARTICLE_SQL + "ORDER BY a.seq")]

    # --- what ``check_store`` asks of a store ----------------------------------------------
    def schema_version(self) -> int:
        """The schema version the stored tables are at (0: none created yet)."""
        raise NotImplementedError

    def integrity_check(self) -> list[str]:
        """The database engine's own consistency findings, one line each; empty if sound."""
        raise NotImplementedError
