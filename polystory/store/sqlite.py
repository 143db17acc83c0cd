"""SQLite store (WAL mode): articles, documents, embeddings, events and stories.

One article and everything derived from it (document, embedding, membership, story
links) is written in a single transaction, so a crash leaves either all of it or none.
The schema carries a version (``PRAGMA user_version``); older files are upgraded in place by
the named migrations below, and a file from a newer polystory is refused.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import NotFound, StoreError
from ..enrich.recall import Recall
from ..models import Article, Document, PartialDate
from .base import StoredArticle

__all__ = ["SQLiteStore", "SCHEMA_VERSION"]

log = logging.getLogger(__name__)


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run several statements inside the caller's transaction (executescript would commit)."""
    for stmt in sql.split(";"):
        if stmt.strip():
            db.execute(stmt)


def _m1_initial(db: sqlite3.Connection) -> None:
    _script(db, """
    CREATE TABLE articles (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        published TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX articles_hash ON articles(content_hash);
    CREATE TABLE documents (
        id TEXT PRIMARY KEY REFERENCES articles(id),
        title TEXT NOT NULL, text TEXT NOT NULL, language TEXT NOT NULL,
        url TEXT NOT NULL, source TEXT NOT NULL,
        published TEXT, event_date TEXT,
        entities TEXT NOT NULL, entity_names TEXT NOT NULL, numbers TEXT NOT NULL,
        weekday INTEGER, recalls TEXT NOT NULL DEFAULT '[]',
        content_hash TEXT NOT NULL, dropped_lines INTEGER NOT NULL
    );
    CREATE TABLE embeddings (
        key TEXT PRIMARY KEY, model TEXT NOT NULL, vector BLOB NOT NULL
    );
    CREATE TABLE doc_embeddings (
        id TEXT NOT NULL REFERENCES articles(id), model TEXT NOT NULL,
        key TEXT NOT NULL REFERENCES embeddings(key), PRIMARY KEY (id, model)
    );
    CREATE TABLE memberships (
        article_id TEXT PRIMARY KEY REFERENCES articles(id),
        event_id TEXT NOT NULL, score REAL, evidence TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX memberships_event ON memberships(event_id);
    CREATE TABLE event_stories (
        event_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, seq INTEGER NOT NULL
    );
    CREATE INDEX event_stories_story ON event_stories(story_id);
    """)


#: Named migrations, in order; ``user_version`` counts how many have run.
MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("initial schema", _m1_initial),
]
SCHEMA_VERSION = len(MIGRATIONS)


def _date(value: str | None) -> PartialDate | None:
    return PartialDate.parse(value) if value else None


class SQLiteStore:
    """A polystory store in one SQLite file (or ``':memory:'``).

    >>> s = SQLiteStore(":memory:")
    >>> s.list_events()
    []
    """

    def __init__(self, path: str | Path, *, migrate: bool = True) -> None:
        """Open (or create) the store at ``path``.

        ``migrate=False`` opens a file as it is, without upgrading or refusing its schema
        (for ``polystory.store.check``, which reports the version instead).
        """
        self.path = str(path)
        self._lock = threading.RLock()
        self._db = None
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            if migrate:
                self._migrate()
        except (sqlite3.DatabaseError, OSError, StoreError) as e:
            if self._db is not None:
                self._db.close()
            if isinstance(e, StoreError):
                raise
            reason = e if isinstance(e, sqlite3.DatabaseError) else e.strerror or e
            raise StoreError(f"cannot open database {self.path}: {reason}") from None

    # --- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"database {self.path} has schema version {version}, newer than this "
                             f"polystory supports ({SCHEMA_VERSION}); upgrade polystory")
        for n, (name, step) in enumerate(MIGRATIONS[version:], start=version + 1):
            log.info("migrating %s to schema %d (%s)", self.path, n, name)
            with self._tx():
                step(self._db)
                self._db.execute(f"PRAGMA user_version={n}")

    def _tx(self):
        store = self

        class _Tx:
            def __enter__(self):
                store._lock.acquire()
                try:
                    store._db.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as e:  # read-only file, locked past the timeout, ...
                    store._lock.release()
                    raise StoreError(f"cannot write to {store.path}: {e}") from None

            def __exit__(self, exc_type, exc, tb):
                try:
                    if exc_type is None:
                        try:
                            store._db.execute("COMMIT")
                        except sqlite3.Error as e:  # the transaction must not stay open
                            exc = e
                    if store._db.in_transaction:
                        store._db.execute("ROLLBACK")
                finally:
                    store._lock.release()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"cannot write to {store.path}: {exc}") from exc
                return False

        return _Tx()

    def _q(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read {self.path}: {e}") from None

    # --- writes ---------------------------------------------------------------
    def add_article(self, article: Article, doc: Document | None, *, status: str, reason: str = "",
                    content_hash: str, embedding: tuple[str, str, np.ndarray] | None = None,
                    extra_embeddings: list[tuple[str, str, np.ndarray]] = (),
                    event_id: str | None = None, score: float | None = None,
                    evidence: dict | None = None, story_links: dict[str, str] | None = None) -> None:
        with self._tx():
            db = self._db
            db.execute(
                "INSERT INTO articles (id, content_hash, status, reason, origin, url, title, text,"
                " published, language, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (article.id, content_hash, status, reason, article.origin, article.url,
                 article.title, article.text, article.published, article.language, article.source))
            if doc is not None:
                db.execute(
                    "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.id, doc.title, doc.text, doc.language, doc.url, doc.source,
                     str(doc.published) if doc.published else None,
                     str(doc.event_date) if doc.event_date else None,
                     json.dumps(doc.entities), json.dumps(doc.entity_names, ensure_ascii=False),
                     json.dumps(doc.numbers), doc.weekday,
                     json.dumps([dataclasses.astuple(r) for r in doc.recalls], ensure_ascii=False),
                     doc.content_hash, doc.dropped_lines))
            if embedding is not None:
                key, model, vec = embedding
                db.execute("INSERT OR IGNORE INTO embeddings VALUES (?,?,?)",
                           (key, model, np.asarray(vec, dtype=np.float32).tobytes()))
                db.execute("INSERT INTO doc_embeddings VALUES (?,?,?)", (article.id, model, key))
            for key, model, vec in extra_embeddings:
                db.execute("INSERT OR IGNORE INTO embeddings VALUES (?,?,?)",
                           (key, model, np.asarray(vec, dtype=np.float32).tobytes()))
            if event_id is not None:
                db.execute("INSERT INTO memberships VALUES (?,?,?,?)",
                           (article.id, event_id, score, json.dumps(evidence or {}, ensure_ascii=False)))
            self._link(story_links or {})

    def update_events(self, moved: dict[str, str], story_links: dict[str, str],
                      gone: list[str], dates: dict[str, PartialDate] | None = None) -> None:
        """Repairs in one transaction: articles moved to other events, events moved to
        other stories, events that no longer exist, and event dates inferred later."""
        with self._tx():
            for aid, d in (dates or {}).items():
                self._db.execute("UPDATE documents SET event_date=? WHERE id=?", (str(d), aid))
            for aid, eid in moved.items():
                self._db.execute("UPDATE memberships SET event_id=?, evidence=? WHERE article_id=?",
                                 (eid, json.dumps({"repaired": True}), aid))
            for eid in gone:
                self._db.execute("DELETE FROM event_stories WHERE event_id=?", (eid,))
            self._link(story_links)

    def _link(self, links: dict[str, str]) -> None:
        for eid, sid in links.items():
            self._db.execute("INSERT INTO event_stories (event_id, story_id, seq) VALUES (?, ?, "
                             "(SELECT COALESCE(MAX(seq), 0) + 1 FROM event_stories)) "
                             "ON CONFLICT(event_id) DO UPDATE SET story_id=excluded.story_id",
                             (eid, sid))

    # --- reads ----------------------------------------------------------------
    def find_article(self, article_id: str) -> tuple[str, str] | None:
        rows = self._q("SELECT content_hash, status FROM articles WHERE id=?", (article_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def find_hash(self, content_hash: str) -> str | None:
        rows = self._q("SELECT id FROM articles WHERE content_hash=? ORDER BY seq LIMIT 1",
                       (content_hash,))
        return rows[0][0] if rows else None

    def get_embedding(self, key: str) -> np.ndarray | None:
        rows = self._q("SELECT vector FROM embeddings WHERE key=?", (key,))
        return np.frombuffer(rows[0][0], dtype=np.float32).copy() if rows else None

    def replay(self, encoder_name: str) -> Iterator[tuple[Document, np.ndarray, str]]:
        rows = self._q(
            "SELECT d.*, e.vector, m.event_id FROM articles a JOIN documents d ON d.id=a.id "
            "JOIN memberships m ON m.article_id=a.id "
            "JOIN doc_embeddings de ON de.id=a.id AND de.model=? "
            "JOIN embeddings e ON e.key=de.key ORDER BY a.seq", (encoder_name,))
        for r in rows:
            yield self._doc(r[:15]), np.frombuffer(r[15], dtype=np.float32).copy(), r[16]

    def story_links(self) -> dict[str, str]:
        return dict(self._q("SELECT event_id, story_id FROM event_stories ORDER BY seq"))

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

    def close(self) -> None:
        with self._lock:
            self._db.close()
