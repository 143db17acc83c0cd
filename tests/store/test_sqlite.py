"""The SQLite store: continuity across runs, no duplicates, schema versions."""
from __future__ import annotations

import sqlite3

import pytest

from polystory import Article, Pipeline
from polystory.errors import StoreError
from polystory.store import SCHEMA_VERSION, SQLiteStore

from conftest import seed_articles


def test_second_run_continues_the_stream(tmp_path):
    db = str(tmp_path / "s.db")
    arts = seed_articles()
    with Pipeline(db=db) as p:
        first = p.add_many(arts[:3])
    with Pipeline(db=db) as p:  # a new process would do the same: replay from the store
        assert len(p.clusterer.assignments_) == 3
        again = p.add_many(arts)  # the first three are no-ops now
        assert [o.status for o in again[:3]] == ["duplicate"] * 3
        assert [o.event_id for o in again[:3]] == [o.event_id for o in first]
        # the G20 articles were one event in the first run; later ones open new events
        assert len({o.event_id for o in again}) == 3
        assert len(p.store.list_articles()) == 5


def test_same_content_under_another_id_is_a_duplicate(tmp_path):
    arts = seed_articles()
    with Pipeline(db=str(tmp_path / "d.db")) as p:
        p.add(arts[0])
        o = p.add(Article(id="copy", text=arts[0].text))
        assert o.status == "duplicate" and o.reason == "same content as '000'"
        changed = p.add(Article(id="000", text=arts[1].text))
        assert changed.status == "rejected" and "different content" in changed.reason
        assert p.store.article("000").article.text == arts[0].text  # nothing overwritten


def test_rejected_articles_are_kept(tmp_path):
    with Pipeline(db=str(tmp_path / "r.db")) as p:
        o = p.add(Article(id="tiny", text="Breaking."))
        assert o.status == "rejected"
        s = p.store.article("tiny")
        assert s.status == "rejected" and s.article.text == "Breaking." and s.event_id is None


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "new.db"
    SQLiteStore(db).close()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer than this polystory supports"):
        SQLiteStore(db)


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        SQLiteStore(bad)
