"""The ``Store`` protocol: what the pipeline needs from a store, nothing more."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np

from ..models import Article, Document

__all__ = ["Store", "StoredArticle"]


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored: raw input, its document (if accepted), status and event."""

    article: Article
    document: Document | None
    status: str            # "clustered" | "rejected"
    reason: str
    event_id: str | None
    story_id: str | None
    score: float | None
    evidence: dict


class Store(Protocol):
    def find_article(self, article_id: str) -> tuple[str, str] | None:
        """(content hash, status) of a stored article id, or ``None``."""

    def find_hash(self, content_hash: str) -> str | None:
        """Id of a stored article with this content hash."""

    def get_embedding(self, key: str) -> np.ndarray | None: ...

    def add_article(self, article: Article, doc: Document | None, *, status: str, reason: str = "",
                    content_hash: str, embedding: tuple[str, str, np.ndarray] | None = None,
                    extra_embeddings: list[tuple[str, str, np.ndarray]] = (),
                    event_id: str | None = None, score: float | None = None,
                    evidence: dict | None = None, story_links: dict[str, str] | None = None) -> None:
        """Store one article with everything derived from it, in one transaction."""

    def update_events(self, moved: dict[str, str], story_links: dict[str, str],
                      gone: list[str], dates: dict | None = None) -> None:
        """Repairs in one transaction: article -> event moves, event -> story moves,
        events that no longer exist, and event dates inferred later."""

    def replay(self, encoder_name: str) -> Iterator[tuple[Document, np.ndarray, str]]:
        """(document, vector, event id) of every clustered article in arrival order."""

    def story_links(self) -> dict[str, str]: ...

    def article(self, article_id: str) -> StoredArticle: ...

    def event_members(self, event_id: str) -> list[StoredArticle]: ...

    def list_events(self, *, story_id: str | None = None) -> list[str]: ...

    def list_stories(self) -> list[str]: ...

    def close(self) -> None: ...
