"""Read HTML and plain-text HTTP responses out of a WARC (plain or gzipped) with warcio."""
from __future__ import annotations

import codecs
import gzip
import logging
from pathlib import Path
from typing import Any, BinaryIO, Iterator
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from ..errors import FetchError, ParseError
from ..models import Article
from .common import OnError, one_line, report, stable_id, truncate

__all__ = ["read_warc"]

log = logging.getLogger(__name__)

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text/plain"})
_CHUNK = 1 << 16


class _Damaged(Exception):
    """A record or the gzip stream is truncated or corrupt.

    Deliberately not an ``EOFError``: warcio takes those for a clean end of file.
    """


class _Stream:
    """A read-only byte stream that counts what it hands out and reports gzip damage."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        """At most ``size`` bytes, from a single read: data before damage comes out first."""
        try:
            data = self._raw.read1(size)
        except (EOFError, OSError, ValueError) as exc:  # gzip.BadGzipFile, zlib.error
            raise _Damaged(one_line(exc)) from exc
        self._pos += len(data)
        return data

    def tell(self) -> int:
        """Bytes handed out so far."""
        return self._pos


class _Iterator(ArchiveIterator):
    """warcio's iterator, minus its direct stderr warnings (damage is detected here)."""

    INC_RECORD = ""


def _open(fh: BinaryIO) -> _Stream:
    """Wrap ``fh``; a gzip file is decompressed by ``gzip`` so truncation is noticed."""
    magic = fh.read(2)
    fh.seek(0)
    return _Stream(gzip.GzipFile(fileobj=fh, mode="rb") if magic == b"\x1f\x8b" else fh)


def _content_type(record: Any) -> tuple[str, str]:
    """``(mime type, charset)`` of a record's HTTP response."""
    value = record.http_headers.get_header("Content-Type") or ""
    mime, _, params = value.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'")
    return mime.strip().lower(), charset


def _decode(payload: bytes, charset: str) -> str:
    """Decode with the HTTP charset when Python knows it as a text codec, else UTF-8."""
    try:
        if charset and codecs.lookup(charset):
            return payload.decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):
        pass
    return payload.decode("utf-8", errors="replace")


def _is_wanted(record: Any) -> bool:
    """True for a 200 response whose content type is HTML or plain text."""
    if record.rec_type != "response" or record.http_headers is None:
        return False
    if record.http_headers.get_statuscode() != "200":
        return False
    return _content_type(record)[0] in _HTML_TYPES | _TEXT_TYPES


def _read_record(record: Any, max_bytes: int) -> bytes | None:
    """The payload of a wanted record (at most ``max_bytes``); ``None`` when unwanted.

    Always drains the record, and raises ``_Damaged`` when it is shorter than its
    WARC ``Content-Length`` says.
    """
    if record.format != "warc":
        raise _Damaged(f"not a WARC record ({record.format} format)")
    length = record.rec_headers.get_header("Content-Length") or ""
    if not (record.rec_type and length.strip().isdigit()):
        raise _Damaged("record header incomplete (no WARC-Type or Content-Length)")
    payload = record.content_stream().read(max_bytes) if _is_wanted(record) else None
    while record.raw_stream.read(_CHUNK):
        pass
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise _Damaged("record shorter than its Content-Length")
    return payload


def _article(record: Any, payload: bytes, origin: str, max_chars: int) -> Article | None:
    """An ``Article`` from a wanted record's payload, ``None`` when it is blank."""
    mime, charset = _content_type(record)
    text = _decode(payload, charset)
    if not text.strip():
        log.warning("%s: empty response body skipped", origin)
        return None
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip()
    text = truncate(text, max_chars, origin)
    return Article(
        id=stable_id(text, url),
        text=text,
        url=url,
        source=urlsplit(url).hostname or "",
        html=mime in _HTML_TYPES,
        origin=origin,
    )


def _reason(exc: Exception) -> str:
    """The reason to give for a failure: our own message, or the exception's."""
    return str(exc) if isinstance(exc, _Damaged) else one_line(exc)


def _records(path: Path, fh: BinaryIO,
             max_bytes: int) -> Iterator[tuple[int, Any, bytes | None]]:
    """Yield ``(number, record, payload)``; damage raises ``ParseError`` naming the record."""
    stream = _open(fh)
    number = 0
    try:
        records = _Iterator(stream)
        for record in records:
            payload = _read_record(record, max_bytes)
            number += 1
            yield number, record, payload
        if stream.tell() > records.offset:  # warcio stops quietly at a partial header
            raise _Damaged("incomplete record at end of file")
    except Exception as exc:  # noqa: BLE001 - warcio raises all sorts on bad bytes
        if number == 0:
            raise ParseError(f"not a readable WARC file: {_reason(exc)}", where=str(path)) from exc
        raise ParseError(f"WARC truncated or corrupt at record {number + 1}: {_reason(exc)}",
                         where=f"{path}#{number + 1}") from exc


def read_warc(path: Path, on_error: OnError | None, max_chars: int) -> Iterator[Article]:
    """Yield the 200 HTML/text responses of a WARC as articles.

    Damage after good records is reported once through ``on_error`` (the records
    before it are yielded first); damage before any record raises ``ParseError``.
    """
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with fh:
        scanned = _records(path, fh, max_chars * 4 + 4)
        while True:
            try:
                number, record, payload = next(scanned)
            except StopIteration:
                return
            except ParseError as err:
                if err.where == str(path):  # no record could be read: whole-input error
                    raise
                report(on_error, err)
                return
            if payload is not None:
                article = _article(record, payload, f"{path}#{number}", max_chars)
                if article is not None:
                    yield article
