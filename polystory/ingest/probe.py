"""Look at a file before reading it: its format, and whether it is empty or binary."""
from __future__ import annotations

import io
from pathlib import Path

from ..errors import FetchError, ParseError
from .common import detect_bom

__all__ = [
    "HEAD_BYTES", "BINARY_MESSAGE", "read_head", "sniff", "kind_of", "is_warc_bytes",
    "is_binary", "is_blank", "check_file", "require",
]

HEAD_BYTES = 8192
BINARY_MESSAGE = "binary file, not text/JSONL/CSV/HTML/feed/WARC"

_SUFFIX_KINDS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv",
    ".xml": "feed", ".rss": "feed", ".atom": "feed",
    ".warc": "warc",
    ".html": "html", ".htm": "html",
    ".txt": "text",
}
_GZIP_MAGIC = b"\x1f\x8b"
_FEED_TAGS = ("<rss", "<feed", "<rdf:rdf")


def read_head(path: Path) -> bytes:
    """The first ``HEAD_BYTES`` bytes of ``path`` (``FetchError`` when unreadable)."""
    try:
        with path.open("rb") as fh:
            return fh.read(HEAD_BYTES)
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from exc


def is_warc_bytes(head: bytes) -> bool:
    """True for an uncompressed WARC or any gzip stream."""
    return head.startswith(b"WARC/") or head.startswith(_GZIP_MAGIC)


def _head_text(head: bytes) -> str:
    encoding, skip = detect_bom(head)
    return head[skip:].decode(encoding or "utf-8", errors="replace")


def sniff(head: bytes) -> str:
    """Guess the format of a file from its first bytes."""
    if is_warc_bytes(head):
        return "warc"
    start = _head_text(head).lstrip().lower()
    if start.startswith("{"):
        return "jsonl"
    if start.startswith(("<rss", "<feed")):
        return "feed"
    if start.startswith("<?xml"):
        is_html = "<html" in start and not any(tag in start for tag in _FEED_TAGS)
        return "html" if is_html else "feed"
    if start.startswith(("<html", "<!doctype")):
        return "html"
    return "text"


def kind_of(path: Path, head: bytes) -> str:
    """The format of ``path``: by suffix, else sniffed from ``head``."""
    name = path.name.lower()
    if name.endswith(".warc.gz"):
        return "warc"
    return _SUFFIX_KINDS.get(path.suffix.lower()) or sniff(head)


def is_binary(head: bytes) -> bool:
    """True when the first bytes (after BOM handling) hold a NUL."""
    encoding, skip = detect_bom(head)
    if encoding and encoding.startswith("utf-16"):
        return "\x00" in head[skip:].decode(encoding, errors="replace")
    return b"\x00" in head[skip:]


def is_blank(path: Path, head: bytes) -> bool:
    """True for a file that holds nothing but whitespace (read in bounded chunks)."""
    encoding, _ = detect_bom(head)
    encoding = {"utf-8": "utf-8-sig", None: "utf-8"}.get(encoding, encoding)
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace") as fh:
        while chunk := fh.read(1 << 16):
            if chunk.strip():
                return False
    return True


def check_file(path: Path, kind: str, head: bytes) -> None:
    """Raise ``ParseError`` for an empty file, or a binary one that is not read as WARC."""
    where = str(path)
    if not head or is_blank(path, head):
        raise ParseError("empty file", where=where)
    if kind != "warc" and is_binary(head):
        raise ParseError(BINARY_MESSAGE, where=where)


def require(path: Path) -> None:
    """Raise ``FetchError`` when ``path`` does not exist."""
    if not path.exists():
        raise FetchError(f"no such file or directory: {path}")
