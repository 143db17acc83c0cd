"""PostgreSQL store (with pgvector): the same tables and guarantees as the SQLite store.

Open it with a URL, ``postgresql://user[:password]@host[:port]/database`` (libpq's URL
syntax: ``?sslmode=require``, ``?options=-csearch_path%3Dnews`` and the like work too).

As in ``store/sqlite.py``: one article and everything derived from it is written in one
transaction, and so is each repair, so a crash leaves all of an article or none of it; the
schema carries a version (table ``polystory_meta``, key ``schema_version``), older schemas
are upgraded in place by the named migrations of ``store/schema.py``, one transaction each, and a database
from a newer polystory is refused.  Writers take a transaction-scoped advisory lock, so two
processes on one database write one after the other, as SQLite's ``BEGIN IMMEDIATE`` does.

Vectors are stored in a pgvector ``vector`` column without a fixed dimension (each encoder
has its own).  No ANN index is built: the clusterer keeps its own in-memory index (usearch)
and reads vectors from the store only by key and on replay.  The first migration runs
``CREATE EXTENSION vector``, which needs pgvector on the server and a role allowed to
create it (a superuser, or an administrator who ran it once in the database beforehand).

Needs ``psycopg`` 3: ``pip install 'polystory[postgres]'``.
"""
from __future__ import annotations

import logging
import re
import struct
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import Format, TransactionStatus
from psycopg.types import TypeInfo

from ..errors import StoreError
from . import schema
from .base import SQLStore
from .schema import MIGRATIONS, SCHEMA_VERSION, Writer

__all__ = ["PostgresStore", "SCHEMA_VERSION", "redact"]

log = logging.getLogger(__name__)

#: Seconds to wait for the server when the URL does not say (``connect_timeout``).
CONNECT_TIMEOUT_S = 10
#: Seconds a statement waits for a lock (another writer's) before it fails, unless the
#: server or URL sets ``lock_timeout`` (SQLite's store waits as long).
LOCK_TIMEOUT_S = 30
#: Key of the advisory lock a writing transaction holds ("polystor" as a 64-bit integer).
WRITE_LOCK = int.from_bytes(b"polystor", "big")


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages, logs and the API).

    >>> redact("postgresql://news:s3cret@db.example:5432/news?sslmode=require")
    'postgresql://news:***@db.example:5432/news?sslmode=require'
    >>> redact("postgresql://db.example/news?user=news&password=s3cret")
    'postgresql://db.example/news?user=news&password=***'
    """
    url = re.sub(r"^(\w+://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def create_vector_extension(w: Writer) -> None:
    """``CREATE EXTENSION vector`` unless it exists, with a clear error if it cannot be
    (the first migration's first step, ``store/schema.py``)."""
    if w("SELECT 1 FROM pg_extension WHERE extname = 'vector'"):
        return
    if not w("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"):
        raise StoreError("the PostgreSQL server has no pgvector extension (vector); "
                         "install pgvector on the server (see docs/store.md)")
    try:
        w("CREATE EXTENSION vector")
    except psycopg.errors.InsufficientPrivilege as e:
        raise StoreError(f"cannot create the pgvector extension: {_one_line(e)}; a superuser "
                         "must run CREATE EXTENSION vector in this database once") from None


def _writer(cur: psycopg.Cursor) -> Writer:
    def run(sql: str, args: tuple) -> tuple[list[tuple], int]:
        cur.execute(sql.replace("%", "%%").replace("?", "%s"), args)
        return (cur.fetchall() if cur.description else []), cur.rowcount
    return Writer("postgres", run)


# --- vectors: numpy float32 <-> pgvector's binary format (dims, unused, float4 big-endian) ---
class _VectorDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        v = np.asarray(obj, dtype=">f4").ravel()
        return struct.pack(">HH", v.size, 0) + v.tobytes()


class _VectorLoader(Loader):
    format = Format.BINARY

    def load(self, data: Any) -> np.ndarray:
        dims, = struct.unpack_from(">H", data)
        return np.frombuffer(data, dtype=">f4", count=dims, offset=4).astype(np.float32)


def _register_vector(conn: psycopg.Connection) -> None:
    """Send numpy arrays as ``vector``s and read ``vector`` columns as float32 arrays."""
    info = TypeInfo.fetch(conn, "vector")
    if info is None:  # not created yet (a store opened with migrate=False)
        return
    dumper = type("VectorDumper", (_VectorDumper,), {"oid": info.oid})
    conn.adapters.register_dumper(np.ndarray, dumper)
    conn.adapters.register_loader(info.oid, _VectorLoader)


class PostgresStore(SQLStore):
    """A polystory store in a PostgreSQL database (with the pgvector extension).

    Reads are ``SQLStore``'s queries (``?`` placeholders are turned into psycopg's ``%s``).
    """

    #: Which SQL ``check_store`` speaks to it.
    dialect = "postgres"

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        """Connect to the database at ``url`` and bring its schema up to date.

        ``migrate=False`` opens the database as it is, without creating, upgrading or
        refusing its schema (for ``polystory.store.check``, which reports the version).
        """
        self.path = redact(url)  # what messages, logs and the API show (no password)
        self._lock = threading.RLock()
        self._conn = self._connect(url)
        try:
            if migrate:
                self._migrate()
            _register_vector(self._conn)
        except BaseException as e:
            self._conn.close()
            if isinstance(e, psycopg.Error):
                raise StoreError(f"cannot open database {self.path}: {_one_line(e)}") from None
            raise

    def _connect(self, url: str) -> psycopg.Connection:
        """A connection in autocommit mode (transactions are explicit, ``_tx``)."""
        try:
            timeout = {} if "connect_timeout" in conninfo_to_dict(url) else {
                "connect_timeout": CONNECT_TIMEOUT_S}
            conn = psycopg.connect(url, autocommit=True, **timeout)
        except psycopg.Error as e:
            raise StoreError(f"cannot connect to {self.path}: {_one_line(e)}") from None
        try:
            if conn.execute("SHOW lock_timeout").fetchone()[0] == "0":  # 0: wait forever
                conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{LOCK_TIMEOUT_S}s",))
        except psycopg.Error as e:
            conn.close()
            raise StoreError(f"cannot open database {self.path}: {_one_line(e)}") from None
        return conn

    # --- schema -------------------------------------------------------------
    def schema_version(self) -> int:
        """The database's schema version (0 when polystory has not created its tables)."""
        if self._q("SELECT to_regclass('polystory_meta')")[0][0] is None:
            return 0
        rows = self._q("SELECT value FROM polystory_meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    def _migrate(self) -> None:
        """Run the missing migrations, each in its own transaction under the write lock
        (so two processes opening a new database do not both create the tables)."""
        while True:
            with self._tx() as w:
                version = self.schema_version()
                if version > schema.SCHEMA_VERSION:
                    raise StoreError(f"database {self.path} has schema version {version}, newer "
                                     f"than this polystory supports ({schema.SCHEMA_VERSION}); "
                                     "upgrade polystory")
                if version == schema.SCHEMA_VERSION:
                    return
                name, step = schema.MIGRATIONS[version]
                log.info("migrating %s to schema %d (%s)", self.path, version + 1, name)
                try:
                    step(w)
                except StoreError as e:  # no pgvector: say where
                    raise StoreError(f"cannot open database {self.path}: {e}") from None
                w("CREATE TABLE IF NOT EXISTS polystory_meta "
                  "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                w("INSERT INTO polystory_meta VALUES ('schema_version', ?) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(version + 1),))

    def integrity_check(self) -> list[str]:
        """Nothing to report at page level here: PostgreSQL checks its own pages (checksums,
        ``pg_amcheck``); this only proves the database answers."""
        self._q("SELECT 1")
        return []

    # --- transactions and queries ---------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Writer]:
        """One transaction under the write lock; any database error rolls it back whole and
        becomes a ``StoreError``."""
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    yield _writer(cur)
            except psycopg.Error as e:
                raise StoreError(f"cannot write to {self.path}: {_one_line(e)}") from None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside the block see one state of the store (a repeatable-read, read-only
        transaction on the store's connection, which writes wait for)."""
        with self._lock:
            if self._conn.info.transaction_status != TransactionStatus.IDLE:
                yield                   # already inside a snapshot (or a write): nest
                return
            try:
                with self._conn.transaction():
                    self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield
            except psycopg.Error as e:
                raise StoreError(f"cannot read {self.path}: {_one_line(e)}") from None

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Rows of one query written for ``SQLStore`` (``?`` placeholders)."""
        with self._lock:
            try:
                return self._conn.execute(sql.replace("%", "%%").replace("?", "%s"), args,
                                          binary=True).fetchall()
            except psycopg.Error as e:
                raise StoreError(f"cannot read {self.path}: {_one_line(e)}") from None

    def _named(self, sql: str, args: tuple = ()) -> list[dict]:
        """Rows of one query as dicts by column name."""
        with self._lock:
            try:
                cur = self._conn.execute(sql.replace("%", "%%").replace("?", "%s"), args,
                                         binary=True)
                names = [d.name for d in cur.description]
                return [dict(zip(names, r)) for r in cur.fetchall()]
            except psycopg.Error as e:
                raise StoreError(f"cannot read {self.path}: {_one_line(e)}") from None

    @staticmethod
    def _vector(value: np.ndarray) -> np.ndarray:
        return value  # already a float32 array (``_VectorLoader``)

    @staticmethod
    def _vector_param(vec: np.ndarray) -> np.ndarray:
        return vec    # sent as a ``vector`` (``_VectorDumper``)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

