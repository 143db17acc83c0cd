"""The stores, SQLite and PostgreSQL alike: continuity across runs, no duplicates, schema
versions.  Each test runs on both (``store_url``: a new SQLite file, a new PostgreSQL
database)."""
from __future__ import annotations

import pytest

from polystory import Article, Pipeline
from polystory.embed import get_encoder
from polystory.errors import StoreError
from polystory.store import SCHEMA_VERSION, SQLiteStore, open_store

from conftest import seed_articles
from rawdb import RawDB


def test_seeds_make_three_events_in_one_story(store_url):
    with Pipeline(db=store_url) as p:
        outcomes = p.add_many(seed_articles())
        assert len({o.event_id for o in outcomes}) == 3
        assert len({o.story_id for o in outcomes}) == 1
        assert len(p.store.list_events()) == 3 and len(p.store.list_stories()) == 1
        assert p.store.list_events(story_id=outcomes[0].story_id) == p.store.list_events()


def test_second_run_continues_the_stream(store_url):
    db = store_url
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


def test_replay_reads_the_stream_in_pages(store_url, monkeypatch):
    """Replay never loads a long stream whole: pages of REPLAY_PAGE rows, in arrival order,
    each article once, whatever the page size."""
    with Pipeline(db=store_url, encoder=get_encoder("hashing")) as p:
        p.add_many(seed_articles())
        whole = [(r.document.id, r.event_id) for r in p.store.replay(p.encoder.name)]
        assert [i for i, _ in whole] == ["000", "001", "002", "003", "004"]
        for page in (1, 2, 5):
            monkeypatch.setattr(type(p.store), "REPLAY_PAGE", page)
            assert [(r.document.id, r.event_id) for r in p.store.replay(p.encoder.name)] == whole


def test_stored_records_read_back_the_same(store_url):
    """What one store returns, the other returns too: documents, vectors, scores, evidence."""
    with Pipeline(db=store_url) as p:
        p.add_many(seed_articles()[:2])
        stored = p.store.article("000")
        assert stored.status == "clustered" and stored.document.id == "000"
        assert stored.document.language == "sq" and stored.document.published is not None
        assert isinstance(stored.score, float) and isinstance(stored.evidence, dict)
        docs = list(p.store.replay(p.encoder.name))
        assert [r.document.id for r in docs] == ["000", "001"]
        vec = docs[0].vector
        assert vec.dtype == "float32" and vec.shape == (p.encoder.dim,)
        key = p.store._q("SELECT key FROM doc_embeddings WHERE id=?", ("000",))[0][0]
        assert (p.store.get_embedding(key) == vec).all()
        assert p.store.get_embedding("no such key") is None


def test_same_content_under_another_id_is_a_duplicate(store_url):
    arts = seed_articles()
    with Pipeline(db=store_url) as p:
        p.add(arts[0])
        o = p.add(Article(id="copy", text=arts[0].text))
        assert o.status == "duplicate" and o.reason == "same content as '000'"
        changed = p.add(Article(id="000", text=arts[1].text))
        assert changed.status == "rejected" and "different content" in changed.reason
        assert p.store.article("000").article.text == arts[0].text  # nothing overwritten


def test_rejected_articles_are_kept(store_url):
    with Pipeline(db=store_url) as p:
        o = p.add(Article(id="tiny", text="Breaking."))
        assert o.status == "rejected"
        s = p.store.article("tiny")
        assert s.status == "rejected" and s.article.text == "Breaking." and s.event_id is None


def test_newer_schema_is_refused(store_url):
    open_store(store_url).close()
    RawDB(store_url).set_version(SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="newer than this polystory supports"):
        open_store(store_url)


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        SQLiteStore(bad)


def test_no_postgres_server_is_a_clear_error(postgres_server):
    """Nothing listens there: one line naming the URL, without its password."""
    url = "postgresql://news:secret@127.0.0.1:1/news?connect_timeout=5"
    with pytest.raises(StoreError, match=r"^cannot connect to postgresql://news:\*\*\*@127.0.0.1:1/"
                                         r"news\?connect_timeout=5: .*refused") as e:
        open_store(url)
    assert "secret" not in str(e.value) and "\n" not in str(e.value)


def test_missing_postgres_database_is_a_clear_error(postgres_server):
    url = postgres_server.url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(StoreError, match='cannot connect to .*database "no_such_database" '
                                         'does not exist'):
        open_store(url)


def test_a_role_that_cannot_create_pgvector_is_told_what_to_do(postgres_server):
    """pgvector is not a trusted extension: a plain role's first open needs a superuser's
    ``CREATE EXTENSION vector`` first, and says so; after it, the plain role works."""
    import uuid

    admin_db = postgres_server.create_database()
    role = f"plain_{uuid.uuid4().hex[:8]}"
    try:
        RawDB(admin_db).execute(f"CREATE ROLE {role} LOGIN; GRANT CREATE ON SCHEMA public TO {role}")
        url = admin_db.replace("://postgres@", f"://{role}@")
        with pytest.raises(StoreError, match=r"cannot open database .*: cannot create the pgvector "
                                             r"extension: permission denied .*; a superuser must "
                                             r"run CREATE EXTENSION vector in this database once"):
            open_store(url)
        RawDB(admin_db).execute("CREATE EXTENSION vector")
        store = open_store(url)
        assert store.schema_version() == SCHEMA_VERSION and store.list_events() == []
        store.close()
    finally:
        postgres_server.drop_database(admin_db)
        RawDB(postgres_server.url).execute(f"DROP ROLE IF EXISTS {role}")
