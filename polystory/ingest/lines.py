"""Stream the numbered text lines of a file, whatever its BOM, one line in memory at a time."""
from __future__ import annotations

import io
import logging
from typing import BinaryIO, Iterator

from .common import detect_bom

__all__ = ["numbered_lines"]

log = logging.getLogger(__name__)


def _utf16_lines(fh: BinaryIO, encoding: str) -> Iterator[tuple[int, str]]:
    """Number and decode the lines of a UTF-16 stream (BOM already skipped)."""
    text = io.TextIOWrapper(fh, encoding=encoding, errors="replace")
    for number, line in enumerate(text, 1):
        yield number, line


def _utf8_lines(fh: BinaryIO, where: str) -> Iterator[tuple[int, str]]:
    """Number and decode the lines of a UTF-8 stream, replacing undecodable bytes."""
    for number, raw in enumerate(fh, 1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("%s:%d: not valid UTF-8; undecodable bytes replaced", where, number)
            yield number, raw.decode("utf-8", errors="replace")


def numbered_lines(fh: BinaryIO, where: str) -> Iterator[tuple[int, str]]:
    """Numbered text lines (1-based, line ends kept) of a binary stream, BOM-aware."""
    encoding, skip = detect_bom(fh.read(3))
    fh.seek(skip)
    if encoding and encoding.startswith("utf-16"):
        return _utf16_lines(fh, encoding)
    return _utf8_lines(fh, where)
