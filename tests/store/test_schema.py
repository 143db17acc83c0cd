"""Schema versions and migrations in place; write failures are ``StoreError``s that leave the
store usable."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from polystory import Article
from polystory.errors import StoreError
from polystory.store import SCHEMA_VERSION, SQLiteStore, check_store
from polystory.store import sqlite as sqlite_store


def _version(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


def _dump(path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def _store_with_data(path) -> None:
    store = SQLiteStore(path)
    store.add_article(Article(id="r1", text="Too short."), None, status="rejected",
                      reason="too short", content_hash="h1")
    store.close()


def test_schema_version_counts_the_migrations():
    assert SCHEMA_VERSION == len(sqlite_store.MIGRATIONS) >= 1


def test_empty_file_is_upgraded_to_the_current_version(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")  # a zero-byte file is an SQLite database at user_version 0
    assert _version(path) == 0
    store = SQLiteStore(path)
    assert store.list_events() == [] and check_store(store) == []
    store.close()
    assert _version(path) == SCHEMA_VERSION


def test_current_version_opens_unchanged_with_its_data(tmp_path):
    path = tmp_path / "v1.db"
    _store_with_data(path)
    before = _dump(path)
    store = SQLiteStore(path)
    assert store.find_article("r1") == ("h1", "rejected")
    store.close()
    assert _dump(path) == before and _version(path) == SCHEMA_VERSION


def test_a_new_migration_upgrades_an_old_file_in_place(tmp_path, monkeypatch):
    """With one more migration, a file at today's version is upgraded, its data kept."""
    path = tmp_path / "old.db"
    _store_with_data(path)

    def add_column(db):
        db.execute("ALTER TABLE articles ADD COLUMN fetched TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(sqlite_store, "MIGRATIONS",
                        sqlite_store.MIGRATIONS + [("articles.fetched", add_column)])
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = SQLiteStore(path)
    assert store.find_article("r1") == ("h1", "rejected")
    store.close()
    assert _version(path) == SCHEMA_VERSION + 1
    con = sqlite3.connect(path)
    assert con.execute("SELECT id, fetched FROM articles").fetchall() == [("r1", "")]
    con.close()


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    _store_with_data(path)
    before = _dump(path)

    def broken(db):
        db.execute("CREATE TABLE extra (x INTEGER)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS + [("broken", broken)])
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="no such table: no_such_table"):
        SQLiteStore(path)
    assert _dump(path) == before and _version(path) == SCHEMA_VERSION


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
    # the store's lock was released: another thread can use it, and writes work again
    done = threading.Event()
    threading.Thread(target=lambda: (store.find_article("a"), done.set()), daemon=True).start()
    assert done.wait(5), "the store's lock was left held"
    store.add_article(Article(id="a", text="x"), None, status="rejected", content_hash="h")
    assert store.find_article("a") == ("h", "rejected") and not store._db.in_transaction
    store.close()
