"""SQLite store (WAL mode): articles, documents, embeddings, events and stories.

One article and everything derived from it (document, embedding, membership, story
links) is written in a single transaction, so a crash leaves either all of it or none.
The schema carries a version (``PRAGMA user_version``); older files are upgraded in place by
the named migrations of ``store/schema.py``, and a file from a newer polystory is refused.
"""
from __future__ import annotations

import logging
import re
import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import StoreError
from . import schema
from .base import SQLStore
from .schema import MIGRATIONS, SCHEMA_VERSION, Writer

__all__ = ["SQLiteStore", "SCHEMA_VERSION"]

log = logging.getLogger(__name__)


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

    def vector_graph_path(self, model: str) -> str | None:
        """``<store>.vectors-<model>.usearch`` beside the file (none for ``':memory:'``)."""
        if self.path == ":memory:":
            return None
        return f"{self.path}.vectors-{re.sub(r'[^A-Za-z0-9_.-]', '_', model)}.usearch"

    # --- schema -------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > schema.SCHEMA_VERSION:
            raise StoreError(f"database {self.path} has schema version {version}, newer than this "
                             f"polystory supports ({schema.SCHEMA_VERSION}); upgrade polystory")
        for n, (name, step) in enumerate(schema.MIGRATIONS[version:], start=version + 1):
            log.info("migrating %s to schema %d (%s)", self.path, n, name)
            with self._tx() as w:
                step(w)
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

                def run(sql: str, args: tuple) -> tuple[list, int]:
                    cur = store._db.execute(sql, args)
                    return cur.fetchall(), cur.rowcount

                return Writer("sqlite", run)

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

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn, lock = self._reader()
        with lock:
            try:
                return conn.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read {self.path}: {e}") from None

    def _named(self, sql: str, args: tuple = ()) -> list[dict]:
        conn, lock = self._reader()
        with lock:
            try:
                cur = conn.execute(sql, args)
                names = [d[0] for d in cur.description]
                return [dict(zip(names, r)) for r in cur.fetchall()]
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

    # --- reads (the queries are ``SQLStore``'s) ----------------------------------------------
    @staticmethod
    def _vector(value: bytes) -> np.ndarray:
        return np.frombuffer(value, dtype=np.float32).copy()

    @staticmethod
    def _vector_param(vec: np.ndarray) -> bytes:
        return vec.tobytes()

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
