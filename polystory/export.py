"""Export events and stories as JSON lines or CSV (``polystory export``).

One row per event (``EVENT_FIELDS``) or per story (``STORY_FIELDS``), read in one store
snapshot from the summaries the store keeps (``store/readmodel.py``).  In CSV, list fields
are joined with ``"; "``; in JSON lines they stay lists.

>>> from polystory.store import open_store
>>> store = open_store(":memory:")
>>> rows = list(event_rows(store))
>>> rows
[]
>>> store.close()
"""
from __future__ import annotations

import csv
import json
from typing import IO, Iterator

from .models import Event

__all__ = ["EVENT_FIELDS", "STORY_FIELDS", "event_rows", "story_rows", "write_rows"]

EVENT_FIELDS = ("id", "story", "event_date", "languages", "article_count", "articles",
                "headline", "actors")
STORY_FIELDS = ("id", "title", "actors", "event_count", "article_count", "languages",
                "first_date", "last_date", "events")
#: How list fields are written in a CSV cell.
CSV_LIST_SEPARATOR = "; "


def _date(d) -> str | None:
    return str(d) if d is not None else None


def _event_row(e: Event) -> dict:
    return {"id": e.id, "story": e.story_id, "event_date": _date(e.event_date),
            "languages": list(e.languages), "article_count": len(e.article_ids),
            "articles": list(e.article_ids), "headline": e.headline, "actors": list(e.actors)}


def _store(source):
    """The store of a ``Pipeline``, or the store itself."""
    return getattr(source, "store", source)


def event_rows(source) -> Iterator[dict]:
    """Every event, in order of its first article (``source``: a store or a ``Pipeline``;
    the summaries the store keeps are read, so no encoder is needed)."""
    store = _store(source)
    with store.snapshot():
        rows = [_event_row(e) for e in store.iter_events()]
    yield from rows


def story_rows(source) -> Iterator[dict]:
    """Every story, largest first, with its events in time order (undated last)."""
    store = _store(source)
    with store.snapshot():
        rows = [{"id": s["story"].id, "title": s["story"].title, "actors": list(s["story"].actors),
                 "event_count": s["event_count"], "article_count": s["article_count"],
                 "languages": list(s["languages"]), "first_date": s["first_date"],
                 "last_date": s["last_date"], "events": list(s["story"].event_ids)}
                for s in store.iter_stories()]
    yield from rows


def write_rows(rows: Iterator[dict], fields: tuple[str, ...], fmt: str, out: IO[str]) -> int:
    """Write ``rows`` as ``jsonl`` or ``csv`` (with a header line); the number written."""
    n = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise ValueError(f"format must be 'csv' or 'jsonl'; got {fmt!r}")
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: CSV_LIST_SEPARATOR.join(v) if isinstance(v, list) else
                         ("" if v is None else v) for k, v in row.items()})
        n += 1
    return n
