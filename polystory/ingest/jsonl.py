"""Read JSON lines: one object per line, streamed so memory stays bounded by one line."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from ..errors import ParseError
from ..models import Article
from .common import OnError, report
from .lines import numbered_lines
from .records import article_from_record

__all__ = ["read_jsonl"]


def _parse_line(line: str, origin: str) -> dict:
    """One JSON object from one line (``ParseError`` when it is not one)."""
    try:
        value = json.loads(line)
    except RecursionError:
        raise ParseError("malformed JSON: nested too deeply", where=origin) from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        column = f" (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ParseError(f"malformed JSON: {reason}{column}", where=origin) from None
    if not isinstance(value, dict):
        raise ParseError(f"not a JSON object but a {type(value).__name__}", where=origin)
    return value


def read_jsonl(path: Path, on_error: OnError | None, max_chars: int) -> Iterator[Article]:
    """Yield one ``Article`` per non-blank line; bad lines go to ``on_error``."""
    where = str(path)
    with path.open("rb") as fh:
        for number, line in numbered_lines(fh, where):
            if not line.strip():
                continue
            origin = f"{where}:{number}"
            try:
                article = article_from_record(_parse_line(line, origin), origin, max_chars)
            except ParseError as err:
                report(on_error, err)
                continue
            yield article
