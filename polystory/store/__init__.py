"""Store stage: where articles, documents, embeddings, events and stories live."""
from .base import Store, StoredArticle
from .check import Problem, check_store
from .sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = ["Store", "StoredArticle", "SQLiteStore", "SCHEMA_VERSION", "open_store",
           "Problem", "check_store"]


def open_store(db: str) -> SQLiteStore:
    """Open the store at ``db`` (a path, or ``':memory:'``)."""
    return SQLiteStore(db)
