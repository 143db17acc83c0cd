"""Turn one JSON object or CSV row into an ``Article``."""
from __future__ import annotations

import re
from typing import Mapping

from ..errors import ParseError
from ..models import Article
from .common import is_true, looks_like_html, stable_id, truncate

__all__ = ["OPTIONAL_FIELDS", "article_from_record"]

OPTIONAL_FIELDS = ("title", "url", "published", "language", "source")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: str) -> str:
    """Replace lone surrogates (JSON ``"\\ud800"`` escapes) with U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def _as_str(value: object, key: str, origin: str) -> str:
    """A field value as a string: ``None`` is empty, numbers are coerced."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _without_surrogates(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise ParseError(f"field '{key}' is a {type(value).__name__}, not a string", where=origin)


def article_from_record(record: Mapping[str, object], origin: str, max_chars: int) -> Article:
    """Build an ``Article`` from a mapping with a required ``text`` key.

    Unknown keys are ignored; a missing ``id`` becomes ``stable_id(text, url)``.
    Raises ``ParseError`` (where = ``origin``) for a missing/empty text or a bad field.
    """
    text = _as_str(record.get("text"), "text", origin)
    if not text.strip():
        raise ParseError("missing or empty 'text'", where=origin)
    text = truncate(text, max_chars, origin)
    fields = {key: _as_str(record.get(key), key, origin).strip() for key in OPTIONAL_FIELDS}
    article_id = _as_str(record.get("id"), "id", origin).strip()
    return Article(
        id=article_id or stable_id(text, fields["url"]),
        text=text,
        html=is_true(record.get("html")) or looks_like_html(text),
        origin=origin,
        **fields,
    )
