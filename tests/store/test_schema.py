"""Schema versions and migrations in place; write failures are ``StoreError``s that leave the
store usable.  On both stores (``store_url``) where the behaviour is the same; the empty
file and the lock are each store's own."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from polystory import Article
from polystory.errors import StoreError
from polystory.store import SCHEMA_VERSION, SQLiteStore, check_store, is_postgres_url, open_store
from polystory.store import schema, sqlite as sqlite_store

from rawdb import RawDB


def _migrations_module(db: str):
    """The module whose ``MIGRATIONS`` and ``SCHEMA_VERSION`` the store at ``db`` runs: one
    list for both stores."""
    return schema


def _store_with_data(path) -> None:
    store = open_store(str(path))
    store.add_article(Article(id="r1", text="Too short."), None, status="rejected",
                      reason="too short", content_hash="h1")
    store.close()


def test_schema_version_counts_the_migrations():
    assert SCHEMA_VERSION == len(schema.MIGRATIONS) >= 2
    assert sqlite_store.MIGRATIONS is schema.MIGRATIONS
    postgres = pytest.importorskip("polystory.store.postgres")
    # one list of migrations, so one schema version means the same tables in both stores
    assert postgres.SCHEMA_VERSION == SCHEMA_VERSION and postgres.MIGRATIONS is schema.MIGRATIONS


def test_empty_file_is_upgraded_to_the_current_version(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")  # a zero-byte file is an SQLite database at user_version 0
    assert RawDB(path).version() == 0
    store = SQLiteStore(path)
    assert store.list_events() == [] and check_store(store) == []
    store.close()
    assert RawDB(path).version() == SCHEMA_VERSION


def test_empty_postgres_database_is_given_the_schema(postgres_url):
    assert RawDB(postgres_url).version() == 0
    store = open_store(postgres_url)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.list_events() == [] and check_store(store) == []
    store.close()
    raw = RawDB(postgres_url)
    assert raw.version() == SCHEMA_VERSION
    assert raw.query("SELECT extname FROM pg_extension WHERE extname = 'vector'") == [("vector",)]
    assert raw.query("SELECT data_type, udt_name FROM information_schema.columns "
                     "WHERE table_name = 'embeddings' AND column_name = 'vector'") == [
        ("USER-DEFINED", "vector")]


def test_current_version_opens_unchanged_with_its_data(store_url):
    _store_with_data(store_url)
    before = RawDB(store_url).dump()
    store = open_store(store_url)
    assert store.find_article("r1") == ("h1", "rejected")
    store.close()
    assert RawDB(store_url).dump() == before and RawDB(store_url).version() == SCHEMA_VERSION


def test_a_new_migration_upgrades_an_old_file_in_place(store_url, monkeypatch):
    """With one more migration, a store at today's version is upgraded, its data kept."""
    _store_with_data(store_url)

    def add_column(db):  # an sqlite3 connection or a psycopg cursor: both have execute
        db.execute("ALTER TABLE articles ADD COLUMN fetched TEXT NOT NULL DEFAULT ''")

    module = _migrations_module(store_url)
    monkeypatch.setattr(module, "MIGRATIONS", module.MIGRATIONS + [("articles.fetched", add_column)])
    monkeypatch.setattr(module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = open_store(store_url)
    assert store.find_article("r1") == ("h1", "rejected")
    store.close()
    raw = RawDB(store_url)
    assert raw.version() == SCHEMA_VERSION + 1
    assert raw.query("SELECT id, fetched FROM articles") == [("r1", "")]


def test_a_failing_migration_leaves_the_file_as_it_was(store_url, monkeypatch):
    _store_with_data(store_url)
    before = RawDB(store_url).dump()

    def broken(db):
        db.execute("CREATE TABLE extra (x INTEGER)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    module = _migrations_module(store_url)
    monkeypatch.setattr(module, "MIGRATIONS", module.MIGRATIONS + [("broken", broken)])
    monkeypatch.setattr(module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match='no such table: no_such_table|relation "no_such_table" '
                                         'does not exist'):
        open_store(store_url)
    assert RawDB(store_url).dump() == before and RawDB(store_url).version() == SCHEMA_VERSION


def _store_stays_usable(store) -> None:
    """The store's lock was released (another thread can use it) and writes work again."""
    done = threading.Event()
    threading.Thread(target=lambda: (store.find_article("a"), done.set()), daemon=True).start()
    assert done.wait(5), "the store's lock was left held"
    store.add_article(Article(id="a", text="x"), None, status="rejected", content_hash="h")
    assert store.find_article("a") == ("h", "rejected")


def test_a_locked_database_is_a_store_error_and_releases_the_store(tmp_path):
    path = tmp_path / "locked.db"
    store = SQLiteStore(path)
    store._db.execute("PRAGMA busy_timeout = 0")  # fail at once instead of after 30 s
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database
    with pytest.raises(StoreError, match="cannot write to .*: database is locked"):
        store.add_article(Article(id="a", text="x"), None, status="rejected", content_hash="h")
    other.execute("ROLLBACK")
    other.close()
    _store_stays_usable(store)
    assert not store._db.in_transaction
    store.close()


def test_another_postgres_writer_is_waited_for_then_a_store_error(postgres_url):
    """Writers take the store's advisory lock; past ``lock_timeout`` the write fails whole."""
    import psycopg

    from polystory.store.postgres import WRITE_LOCK

    store = open_store(postgres_url)
    store._conn.execute("SET lock_timeout = '100ms'")  # fail soon instead of after 30 s
    with psycopg.connect(postgres_url) as other:  # another writer, inside its transaction
        other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        with pytest.raises(StoreError, match="cannot write to .*: canceling statement due to "
                                             "lock timeout"):
            store.add_article(Article(id="a", text="x"), None, status="rejected",
                              content_hash="h")
        other.rollback()
    _store_stays_usable(store)
    assert store._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    store.close()
