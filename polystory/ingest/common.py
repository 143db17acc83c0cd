"""Helpers shared by the ingest readers: ids, decoding, truncation, error reporting."""
from __future__ import annotations

import hashlib
import logging
import unicodedata
from typing import Callable

from ..errors import ParseError

__all__ = [
    "OnError", "stable_id", "report", "truncate", "decode_bytes", "detect_bom",
    "one_line", "looks_like_html", "is_true",
]

log = logging.getLogger(__name__)

OnError = Callable[[ParseError], None]

# Longest first: a UTF-8 BOM cannot be confused with the UTF-16 ones.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_HTML_STARTS = ("<!doctype html", "<html")
_TRUE_WORDS = frozenset({"true", "1", "yes", "y"})


def stable_id(text: str, url: str = "") -> str:
    """Content-derived article id: ``"a"`` + 15 hex digits of a SHA-1.

    The text is NFC-normalised and its whitespace collapsed first, so re-reading
    the same content (re-wrapped or re-indented) gives the same id.  A non-empty
    ``url`` takes part in the hash.

    >>> stable_id("Hello  world\\n") == stable_id(" Hello world")
    True
    >>> len(stable_id("x")), stable_id("x")[0]
    (16, 'a')
    """
    norm = " ".join(unicodedata.normalize("NFC", text).split())
    url = url.strip()
    key = f"{norm}\x00{url}" if url else norm
    return "a" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:15]


def report(on_error: OnError | None, err: ParseError) -> None:
    """Hand a per-record error to ``on_error``, or raise it when there is none."""
    if on_error is None:
        raise err
    on_error(err)


def truncate(text: str, max_chars: int, origin: str) -> str:
    """Cut ``text`` to ``max_chars`` characters, logging a warning when it was longer."""
    if len(text) <= max_chars:
        return text
    log.warning("%s: text of %d characters truncated to %d", origin, len(text), max_chars)
    return text[:max_chars]


def detect_bom(data: bytes) -> tuple[str | None, int]:
    """Return ``(encoding, bom_length)`` for a leading UTF-8/UTF-16 BOM, else ``(None, 0)``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None, 0


def decode_bytes(data: bytes, where: str) -> str:
    """Decode file bytes: BOM-aware, else strict UTF-8, else UTF-8 with replacement."""
    encoding, skip = detect_bom(data)
    encoding = encoding or "utf-8"
    body = data[skip:]
    try:
        return body.decode(encoding)
    except UnicodeDecodeError:
        log.warning("%s: not valid %s; undecodable bytes replaced", where, encoding)
        return body.decode(encoding, errors="replace")


def one_line(exc: BaseException) -> str:
    """An exception as a single line: ``Type: message`` with whitespace collapsed."""
    msg = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def looks_like_html(text: str) -> bool:
    """True when ``text`` clearly starts with an HTML document."""
    return text[:200].lstrip().lower().startswith(_HTML_STARTS)


def is_true(value: object) -> bool:
    """Interpret a JSON/CSV flag: ``true``, ``1``, ``"yes"``... (case-insensitive)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS
