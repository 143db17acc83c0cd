"""Ingest: read raw articles from feeds, folders and JSONL/CSV/feed/WARC/HTML/text files.

``read(source)`` yields ``Article`` values; ``stable_id(text, url)`` is the
content-derived id given to articles that come without one.
"""
from __future__ import annotations

from .common import stable_id
from .reader import read

__all__ = ["read", "stable_id"]
