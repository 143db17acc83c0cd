"""Read models: what listings read, kept by the writer in the transaction that changes it.

* ``event_summaries``: one row per event with members (date and its interval, languages,
  article count and ids in arrival order, headline and headline per language, actors,
  story, the ``seq`` of its first article), exactly ``summary.summarize_event`` of its
  stored members;
* ``story_summaries``: one row per story with events (title, actors, event ids in date
  order, counts, languages, first and last date, the ``seq`` of its first event link), exactly
  ``summary.summarize_story`` of its events' summaries;
* ``article_search``: per document, the case-folded text that ``q=`` searches (title, names,
  text), with an FTS5 trigram index on SQLite (``article_fts``);
* ``article_names``: per document, its name keys (``entity_key``: any script).

``refresh`` is called by every write of ``SQLStore`` with the events whose members, dates or
story changed; it recomputes those events and their old and new stories from the stored
rows, so a summary is always what summarizing the stored members would give.
"""
from __future__ import annotations

import json
from typing import Iterable

from ..models import Document, Event, PartialDate
from ..summary import summarize_event, summarize_story
from .schema import Writer

__all__ = ["EVENT_COLUMNS", "haystack", "index_document", "refresh", "rebuild", "event_of",
           "chunks"]

#: Columns of ``event_summaries`` an ``Event`` is made from (``event_of``).
EVENT_COLUMNS = ("event_id", "story_id", "event_date", "languages", "article_ids", "headline",
                 "actors")
#: Most ``?`` placeholders in one ``IN (...)`` list.
CHUNK = 500


def chunks(items: Iterable, n: int = CHUNK) -> Iterable[list]:
    items = list(items)
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def haystack(doc: Document) -> str:
    """What a ``q=`` word is looked for in (case-folded): the title, the names, the text."""
    return f"{doc.title} {' '.join(doc.entity_names)} {doc.text}".casefold()


def index_document(w: Writer, seq: int, doc: Document) -> None:
    """The search text and name keys of a newly stored document."""
    text = haystack(doc)
    w("INSERT INTO article_search (seq, article_id, haystack) VALUES (?, ?, ?)", (seq, doc.id, text))
    if w.dialect == "sqlite":
        w("INSERT INTO article_fts (rowid, haystack) VALUES (?, ?)", (seq, text))
    for key in dict.fromkeys(doc.entities):
        w("INSERT INTO article_names (key, article_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
          (key, doc.id))


def event_of(row) -> Event:
    """An ``Event`` from an ``event_summaries`` row (``EVENT_COLUMNS``, by name)."""
    return Event(id=row["event_id"], article_ids=tuple(json.loads(row["article_ids"])),
                 story_id=row["story_id"],
                 event_date=PartialDate.parse(row["event_date"]) if row["event_date"] else None,
                 languages=tuple(json.loads(row["languages"])), headline=row["headline"],
                 actors=tuple(json.loads(row["actors"])))


def _named(rows, names: tuple[str, ...]) -> list[dict]:
    return [dict(zip(names, r)) for r in rows]


def _refresh_event(w: Writer, event_id: str) -> None:
    cols = ("seq", "id", "title", "language", "event_date", "entity_names")
    rows = _named(w("SELECT a.seq, d.id, d.title, d.language, d.event_date, d.entity_names "
                    "FROM memberships m JOIN articles a ON a.id = m.article_id "
                    "JOIN documents d ON d.id = m.article_id WHERE m.event_id = ? ORDER BY a.seq",
                    (event_id,)), cols)
    if not rows:
        w("DELETE FROM event_summaries WHERE event_id = ?", (event_id,))
        return
    story = w("SELECT story_id FROM event_stories WHERE event_id = ?", (event_id,))
    story_id = story[0][0] if story else None
    by_language: dict[str, list[dict]] = {}
    for r in rows:
        by_language.setdefault(r["language"], []).append(r)
    # a headline falls back to the first sentence of the text only where nothing is titled
    need_text = [rs[0]["id"] for rs in by_language.values() if not any(r["title"] for r in rs)]
    texts = dict(w(f"SELECT id, text FROM documents WHERE id IN ({_marks(len(need_text))})",
                   tuple(need_text))) if need_text else {}
    docs = {r["id"]: Document(id=r["id"], title=r["title"], text=texts.get(r["id"], ""),
                              language=r["language"],
                              event_date=PartialDate.parse(r["event_date"]) if r["event_date"] else None,
                              entity_names=tuple(json.loads(r["entity_names"]))) for r in rows}
    ordered = [docs[r["id"]] for r in rows]
    event = summarize_event(event_id, ordered, story_id)
    headlines = {lang: summarize_event(event_id, [docs[r["id"]] for r in rs], None).headline
                 for lang, rs in sorted(by_language.items())}
    d = event.event_date
    values = {"event_id": event_id, "first_seq": rows[0]["seq"], "story_id": story_id,
              "event_date": str(d) if d else None,
              "date_first": d.first_day().isoformat() if d else None,
              "date_last": d.last_day().isoformat() if d else None,
              "languages": json.dumps(list(event.languages)), "article_count": len(rows),
              "article_ids": json.dumps(list(event.article_ids), ensure_ascii=False),
              "headline": event.headline, "headlines": json.dumps(headlines, ensure_ascii=False),
              "actors": json.dumps(list(event.actors), ensure_ascii=False)}
    _upsert(w, "event_summaries", "event_id", values)


def _refresh_story(w: Writer, story_id: str) -> None:
    rows = _named(w(f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)} FROM event_stories s "
                    "JOIN event_summaries e ON e.event_id = s.event_id WHERE s.story_id = ? "
                    "ORDER BY s.seq", (story_id,)), EVENT_COLUMNS)
    if not rows:
        w("DELETE FROM story_summaries WHERE story_id = ?", (story_id,))
        return
    first_seq = w("SELECT MIN(seq) FROM event_stories WHERE story_id = ?", (story_id,))[0][0]
    events = [event_of(r) for r in rows]
    story = summarize_story(story_id, events)
    by_id = {e.id: e for e in events}
    ordered = [by_id[eid] for eid in story.event_ids]
    dated = [e.event_date for e in ordered if e.event_date is not None]
    values = {"story_id": story_id, "first_seq": first_seq, "event_count": len(ordered),
              "article_count": sum(len(e.article_ids) for e in ordered),
              "title": story.title, "actors": json.dumps(list(story.actors), ensure_ascii=False),
              "event_ids": json.dumps(list(story.event_ids), ensure_ascii=False),
              "languages": json.dumps(sorted({lang for e in ordered for lang in e.languages})),
              "first_date": str(dated[0]) if dated else None,
              "last_date": str(dated[-1]) if dated else None}
    _upsert(w, "story_summaries", "story_id", values)


def _upsert(w: Writer, table: str, key: str, values: dict) -> None:
    cols = list(values)
    w(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_marks(len(cols))}) "
      f"ON CONFLICT ({key}) DO UPDATE SET "
      + ", ".join(f"{c} = excluded.{c}" for c in cols if c != key), tuple(values.values()))


def stories_of(w: Writer, event_ids: Iterable[str]) -> set[str]:
    """The stories the given events are linked to now."""
    out: set[str] = set()
    for part in chunks(event_ids):
        out.update(r[0] for r in w(f"SELECT story_id FROM event_stories WHERE event_id IN "
                                   f"({_marks(len(part))})", tuple(part)))
    return out


def refresh(w: Writer, events: Iterable[str], old_stories: Iterable[str]) -> None:
    """Recompute the summaries of ``events`` and of their stories, old and new (call it
    after the write, in its transaction; ``old_stories``: the events' stories before it)."""
    events = sorted(set(events))
    for eid in events:
        _refresh_event(w, eid)
    for sid in sorted(set(old_stories) | stories_of(w, events)):
        _refresh_story(w, sid)


def rebuild(w: Writer) -> None:
    """Fill the read models from the stored rows (the migration that adds them)."""
    for table in ("article_search", "article_names", "event_summaries", "story_summaries"):
        w(f"DELETE FROM {table}")
    if w.dialect == "sqlite":
        w("INSERT INTO article_fts (article_fts) VALUES ('delete-all')")
    last = -1
    while True:
        rows = w("SELECT a.seq, d.id, d.title, d.text, d.entities, d.entity_names FROM documents d "
                 "JOIN articles a ON a.id = d.id WHERE a.seq > ? ORDER BY a.seq LIMIT 1000", (last,))
        for seq, did, title, text, entities, names in rows:
            index_document(w, seq, Document(id=did, title=title, text=text, language="",
                                            entities=tuple(json.loads(entities)),
                                            entity_names=tuple(json.loads(names))))
        if len(rows) < 1000:
            break
        last = rows[-1][0]
    for (eid,) in w("SELECT DISTINCT event_id FROM memberships ORDER BY event_id"):
        _refresh_event(w, eid)
    for (sid,) in w("SELECT DISTINCT story_id FROM event_stories ORDER BY story_id"):
        _refresh_story(w, sid)
