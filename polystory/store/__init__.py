"""Store stage: where articles, documents, embeddings, events and stories live.

Two backends behind one interface: ``SQLiteStore`` (a file, or ``':memory:'``) and
``PostgresStore`` (a ``postgresql://`` URL; needs ``pip install 'polystory[postgres]'``).
``open_store`` picks one from the ``db`` string.
"""
from __future__ import annotations

from .base import Replayed, SQLStore, Store, StoredArticle
from .check import Problem, check_store
from .sqlite import SCHEMA_VERSION, SQLiteStore
from ..errors import StoreError

__all__ = ["Store", "StoredArticle", "SQLStore", "Replayed", "SQLiteStore", "SCHEMA_VERSION", "open_store",
           "is_postgres_url", "Problem", "check_store"]  # and PostgresStore, imported on use


def is_postgres_url(db: str) -> bool:
    """Whether ``db`` names a PostgreSQL database (``postgresql://`` or ``postgres://``).

    >>> is_postgres_url("postgresql://news@db.example/news"), is_postgres_url("news.db")
    (True, False)
    """
    return str(db).startswith(("postgresql://", "postgres://"))


def open_store(db: str, *, migrate: bool = True) -> SQLStore:
    """Open the store named by ``db``: a ``postgresql://`` URL, else an SQLite path (or
    ``':memory:'``).  ``migrate=False`` opens it as it is (see ``check_store``)."""
    if not is_postgres_url(db):
        return SQLiteStore(db, migrate=migrate)
    try:
        from .postgres import PostgresStore
    except ImportError as e:
        raise StoreError(f"a PostgreSQL store needs psycopg ({e}): "
                         "pip install 'polystory[postgres]'") from None
    return PostgresStore(db, migrate=migrate)


def __getattr__(name: str):
    """``PostgresStore`` on first use: psycopg is imported only for PostgreSQL stores."""
    if name == "PostgresStore":
        from .postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
