"""Read a CSV file with a header row; each row becomes one ``Article``."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

from ..errors import ParseError
from ..models import Article
from .common import OnError, one_line, report
from .lines import numbered_lines
from .records import article_from_record

__all__ = ["read_csv"]

# Article texts can be far larger than csv's default 128 KiB field limit; this
# raises the (process-wide) limit once, never lowers it.
_FIELD_LIMIT = 2**31 - 1


def _line_feed(lines: Iterator[tuple[int, str]]) -> Iterator[str]:
    """The bare lines for ``csv.reader`` (it counts them itself)."""
    for _, line in lines:
        yield line


def _rows(reader: Any, where: str,
          on_error: OnError | None) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(starting line, fields)`` per non-blank row of a ``csv.reader``.

    CSV syntax errors are reported through ``on_error``.
    """
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            err = ParseError(f"malformed CSV: {one_line(exc)}", where=f"{where}:{start}")
            report(on_error, err)
            if reader.line_num < start:  # nothing consumed: stop rather than loop
                return
            continue
        if any(field.strip() for field in row):
            yield start, row


def _header(rows: Iterator[tuple[int, list[str]]], where: str) -> list[str]:
    """The lower-cased column names; ``ParseError`` when there is no ``text`` column."""
    try:
        line, names = next(rows)
    except StopIteration:
        raise ParseError("no CSV header row", where=where) from None
    header = [name.strip().lstrip("\ufeff").lower() for name in names]
    if "text" not in header:
        raise ParseError(f"CSV header has no 'text' column (columns: {', '.join(header)[:200]})",
                         where=f"{where}:{line}")
    return header


def read_csv(path: Path, on_error: OnError | None, max_chars: int) -> Iterator[Article]:
    """Yield one ``Article`` per data row; rows without text go to ``on_error``."""
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    where = str(path)
    with path.open("rb") as fh:
        reader = csv.reader(_line_feed(numbered_lines(fh, where)))
        rows = _rows(reader, where, on_error)
        header = _header(rows, where)
        for start, row in rows:
            origin = f"{where}:{start}"
            try:
                article = article_from_record(dict(zip(header, row)), origin, max_chars)
            except ParseError as err:
                report(on_error, err)
                continue
            yield article
