"""The body of ``POST /articles``: read it within the size limit and turn it into articles.

The body is one JSON object or a list of them, with the fields of the JSONL input
(``text`` required; ``id``, ``title``, ``url``, ``published``, ``language``, ``source``
optional).  Records are checked with the same code as the JSONL reader; one bad record
rejects the whole request, naming it (``articles[3]: missing or empty 'text'``).
"""
from __future__ import annotations

import json

from fastapi import Request

from ..errors import ParseError
from ..ingest.records import article_from_record
from ..models import Article
from .errors import BadRequest, PayloadTooLarge, Unprocessable

__all__ = ["read_body", "parse_articles"]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or ``PayloadTooLarge`` as soon as it is over ``limit`` bytes
    (by its Content-Length, or while streaming a chunked body)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {int(declared)} bytes is over the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> object:
    if not body.strip():
        raise BadRequest("empty body: send a JSON article object or a list of them")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None
    except RecursionError:
        raise BadRequest("malformed JSON: nested too deeply") from None
    except json.JSONDecodeError as e:
        raise BadRequest(f"malformed JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None


def parse_articles(body: bytes, max_text_chars: int) -> list[Article]:
    """Articles from a JSON body (``BadRequest`` / ``Unprocessable`` with the reason)."""
    value = _json(body)
    records = value if isinstance(value, list) else [value]
    if not records:
        raise Unprocessable("an empty list: send at least one article")
    articles = []
    for i, rec in enumerate(records):
        where = f"articles[{i}]" if isinstance(value, list) else "article"
        if not isinstance(rec, dict):
            raise Unprocessable(f"{where}: not a JSON object but a {type(rec).__name__}")
        try:
            articles.append(article_from_record(rec, where, max_text_chars))
        except ParseError as e:
            raise Unprocessable(str(e)) from None
    return articles
