"""Read single ``.txt``/``.html`` files, and folders of them."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

from ..errors import FetchError, ParseError
from ..models import Article
from .common import OnError, decode_bytes, looks_like_html, report, truncate
from .probe import BINARY_MESSAGE, is_binary

__all__ = ["FOLDER_SUFFIXES", "read_text_file", "folder_files", "read_folder"]

log = logging.getLogger(__name__)

FOLDER_SUFFIXES = frozenset({".txt", ".html", ".htm"})


def read_text_file(path: Path, max_chars: int, *, html: bool) -> Article:
    """One ``Article`` from a whole file: id = file stem, source = parent folder name.

    Raises ``ParseError`` for an empty or binary file, ``FetchError`` when unreadable.
    """
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if is_binary(data[:8192]):
        raise ParseError(BINARY_MESSAGE, where=where)
    text = decode_bytes(data, where)
    if not text.strip():
        raise ParseError("empty file", where=where)
    return Article(
        id=path.stem,
        text=truncate(text, max_chars, where),
        source=path.resolve().parent.name,
        html=html or looks_like_html(text),
        origin=where,
    )


def _visible(path: Path, root: Path) -> bool:
    """False for files under a hidden (dot) folder or hidden themselves."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def folder_files(root: Path) -> list[Path]:
    """The ``.txt``/``.html``/``.htm`` files below ``root``, in sorted path order."""
    found = (
        p for p in root.rglob("*")
        if p.suffix.lower() in FOLDER_SUFFIXES and p.is_file() and _visible(p, root)
    )
    return sorted(found)


def read_folder(root: Path, on_error: OnError | None, max_chars: int) -> Iterator[Article]:
    """Yield one ``Article`` per text/HTML file below ``root``; bad files go to ``on_error``."""
    paths = folder_files(root)
    if not paths:
        log.warning("%s: no .txt, .html or .htm files found", root)
    for path in paths:
        try:
            article = read_text_file(path, max_chars, html=path.suffix.lower() != ".txt")
        except ParseError as err:
            report(on_error, err)
            continue
        except FetchError as err:
            report(on_error, ParseError(str(err), where=str(path)))
            continue
        yield article
