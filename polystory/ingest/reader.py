"""``read``: pick the reader for a source (URL, folder or file) and run it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ConfigError
from ..models import Article
from . import probe
from .common import OnError
from .csvfile import read_csv
from .feed import read_feed_file, read_feed_url
from .jsonl import read_jsonl
from .textfile import read_folder, read_text_file
from .warc import read_warc

__all__ = ["read"]

Reader = Callable[[Path, OnError | None, int], Iterator[Article]]


def _single(html: bool) -> Reader:
    """A reader that yields one article made of the whole file."""
    def reader(path: Path, on_error: OnError | None, max_chars: int) -> Iterator[Article]:
        yield read_text_file(path, max_chars, html=html)
    return reader


_READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "feed": read_feed_file,
    "warc": read_warc,
    "html": _single(html=True),
    "text": _single(html=False),
}


def read(source: str | os.PathLike[str], *, on_error: OnError | None = None,
         max_text_chars: int = 2_000_000) -> Iterator[Article]:
    """Read articles from a feed URL, a folder, or a JSONL/CSV/feed/WARC/HTML/text file.

    Whole-input problems raise: ``FetchError`` for a missing path or an unreachable
    URL, ``ParseError`` for an empty, binary or unparseable file (the path checks
    happen at call time, the rest while iterating).  Per-record problems are passed
    to ``on_error`` as ``ParseError(reason, where="path:line")`` and skipped; with no
    ``on_error`` they raise.
    """
    if isinstance(max_text_chars, bool) or not isinstance(max_text_chars, int) \
            or max_text_chars < 1:
        raise ConfigError(f"max_text_chars must be a positive integer, not {max_text_chars!r}")
    text = os.fspath(source)
    if text.lower().startswith(("http://", "https://")):
        return read_feed_url(text, on_error, max_text_chars)
    path = Path(text)
    probe.require(path)
    if path.is_dir():
        return read_folder(path, on_error, max_text_chars)
    head = probe.read_head(path)
    kind = probe.kind_of(path, head)
    probe.check_file(path, kind, head)
    return _READERS[kind](path, on_error, max_text_chars)
