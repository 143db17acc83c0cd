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
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import StoreError
from ..models import Article, Document, PartialDate
from .base import SQLStore

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


def _m2_watch(db: sqlite3.Connection) -> None:
    from .watch import watch_tables_sql

    _script(db, watch_tables_sql("seq INTEGER PRIMARY KEY AUTOINCREMENT"))


#: Named migrations, in order; ``user_version`` counts how many have run.
MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("initial schema", _m1_initial),
    ("watch queue", _m2_watch),
]
SCHEMA_VERSION = len(MIGRATIONS)


class SQLiteStore(SQLStore):
    """A polystory store in one SQLite file (or ``':memory:'``).

    >>> s = SQLiteStore(":memory:")
    >>> s.list_events()
    []
    """

    #: Which SQL ``check_store`` speaks to it.
    dialect = "sqlite"

    def __init__(self, path: str | Path, *, migrate: bool = True) -> None:
        """Open (or create) the store at ``path``.

        ``migrate=False`` opens a file as it is, without upgrading or refusing its schema
        (for ``polystory.store.check``, which reports the version instead).
        """
        self.path = str(path)
        self._lock = threading.RLock()
        self._db = None
        self._local = threading.local()        # each thread's read connection
        self._readers: list[sqlite3.Connection] = []
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

    def _reader(self) -> tuple[sqlite3.Connection, threading.RLock | nullcontext]:
        """The connection reads go through, and the lock to hold while using it.

        A file store gives each thread its own read-only connection: in WAL mode readers
        see committed data and neither wait for the writer nor make it wait.  An in-memory
        store has only the one connection, shared under the store's lock.
        """
        if self.path == ":memory:":
            return self._db, self._lock
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=30)
                conn.execute("PRAGMA query_only=ON")
            except sqlite3.Error as e:
                raise StoreError(f"cannot read {self.path}: {e}") from None
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn, nullcontext()

    def _q(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        conn, lock = self._reader()
        with lock:
            try:
                return conn.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read {self.path}: {e}") from None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside the block see one state of the store (one read transaction), however
        many queries they make and whatever a writer commits meanwhile."""
        conn, lock = self._reader()
        with lock:
            if conn.in_transaction:     # already inside a snapshot (or a write): nest
                yield
                return
            try:
                conn.execute("BEGIN")
            except sqlite3.Error as e:
                raise StoreError(f"cannot read {self.path}: {e}") from None
            try:
                yield
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")   # nothing was written: this ends the read

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

    # --- reads (the queries are ``SQLStore``'s) ----------------------------------------------
    @staticmethod
    def _vector(value: bytes) -> np.ndarray:
        return np.frombuffer(value, dtype=np.float32).copy()

    def schema_version(self) -> int:
        """The file's schema version (``PRAGMA user_version``; 0 for a new file)."""
        return self._q("PRAGMA user_version")[0][0]

    def integrity_check(self) -> list[str]:
        """``PRAGMA integrity_check``'s findings, one line each; empty if the file is sound."""
        messages = [" ".join(str(r[0]).split()) for r in self._q("PRAGMA integrity_check")]
        return [] if messages == ["ok"] else messages

    def close(self) -> None:
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._db.close()
