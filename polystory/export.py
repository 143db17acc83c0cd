"""Export events and stories as JSON lines or CSV (``polystory export``).

One row per event (``EVENT_FIELDS``) or per story (``STORY_FIELDS``), read in one store
snapshot.  In CSV, list fields are joined with ``"; "``; in JSON lines they stay lists.

>>> from polystory import Pipeline, Article
>>> import io
>>> with Pipeline(db=":memory:") as p:
...     rows = list(event_rows(p))
>>> rows
[]
"""
from __future__ import annotations

import csv
import json
from typing import IO, Iterator

from .models import Event
from .pipeline import Pipeline

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


def event_rows(p: Pipeline) -> Iterator[dict]:
    """Every event, in order of its first article."""
    with p.store.snapshot():
        rows = [_event_row(e) for e in p.events()]
    yield from rows


def story_rows(p: Pipeline) -> Iterator[dict]:
    """Every story, largest first, with its events in time order (undated last)."""
    with p.store.snapshot():
        rows = []
        for s in p.stories():
            events = {e.id: e for e in p.events(story_id=s.id)}
            ordered = [events[i] for i in s.event_ids if i in events]
            dated = [e.event_date for e in ordered if e.event_date is not None]
            rows.append({"id": s.id, "title": s.title, "actors": list(s.actors),
                         "event_count": len(ordered),
                         "article_count": sum(len(e.article_ids) for e in ordered),
                         "languages": sorted({lang for e in ordered for lang in e.languages}),
                         "first_date": _date(dated[0]) if dated else None,
                         "last_date": _date(dated[-1]) if dated else None,
                         "events": [e.id for e in ordered]})
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
