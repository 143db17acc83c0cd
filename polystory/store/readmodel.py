"""Read models: what listings read, kept by the writer in the transaction that changes it.

* ``event_summaries``: one row per event with members (date and its interval, languages,
  article count and ids in arrival order, headline and headline per language, actors,
  story, the ``seq`` of its first article), exactly ``summary.summarize_event`` of its
  stored members;
* ``story_summaries``: one row per story with events (title, actors, counts, languages,
  first and last date, the ``seq`` of its first event link), exactly
  ``summary.summarize_story`` of its events' summaries, computed in SQL from the events'
  rows (``date_order``, counts, headlines) and ``story_terms``: how many of a story's events
  name each actor and are in each language, counted up and down as event summaries change,
  so a write costs no more than a few indexed queries however long the story.  Its events
  in date order are not stored: ``story_event_ids`` reads them from the index;
* ``article_search``: per document, the case-folded text that ``q=`` searches (title, names,
  text), with an FTS5 trigram index on SQLite (``article_fts``);
* ``article_names``: per document, its name keys (``entity_key``: any script), with its
  ``seq``, so the articles that most recently named an actor are an index range;
* ``read_totals``: how many events, articles in events and stories there are, counted up
  and down by ``refresh``, so an unfiltered listing's totals cost one row, not a count.

``refresh`` is called by every write of ``SQLStore`` with the events whose members, dates or
story changed; it recomputes those events and their old and new stories from the stored
rows, so a summary is always what summarizing the stored members would give.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Callable, Iterable, Sequence

from ..models import Document, Event, PartialDate
from ..summary import summarize_event
from .schema import Writer

__all__ = ["EVENT_COLUMNS", "TOTALS", "haystack", "index_document", "refresh", "rebuild", "event_of",
           "chunks", "date_order", "recount_stories", "recount_totals"]

#: Columns of ``event_summaries`` an ``Event`` is made from (``event_of``).
EVENT_COLUMNS = ("event_id", "story_id", "event_date", "languages", "article_ids", "headline",
                 "actors")
#: Most ``?`` placeholders in one ``IN (...)`` list.
CHUNK = 500
#: ``date_order`` of an undated event: after every date (``summary.summarize_story``).
UNDATED_ORDER = 1e12
#: The rows of ``read_totals``: events, the articles of events, stories.
TOTALS = ("events", "articles", "stories")
#: The order of the events of stories (``event_summaries e``): story, then story order.
STORY_ORDER = "e.story_id, e.date_order, e.event_id"


def date_order(d: PartialDate | None) -> float:
    """Where an event of date ``d`` stands in its story: the midpoint of its interval, in
    days (``summarize_story``'s order; ties by event id)."""
    return UNDATED_ORDER if d is None else d.midpoint_ordinal()


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
        w("INSERT INTO article_names (key, article_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
          (key, doc.id, seq))


def event_of(row) -> Event:
    """An ``Event`` from an ``event_summaries`` row (``EVENT_COLUMNS``, by name)."""
    # the three JSON lists decoded in one call (a listing decodes thousands of rows)
    languages, article_ids, actors = json.loads(
        f'[{row["languages"]},{row["article_ids"]},{row["actors"]}]')
    return Event(id=row["event_id"], article_ids=tuple(article_ids), story_id=row["story_id"],
                 event_date=PartialDate.parse(row["event_date"]) if row["event_date"] else None,
                 languages=tuple(languages), headline=row["headline"], actors=tuple(actors))


def _named(rows, names: tuple[str, ...]) -> list[dict]:
    return [dict(zip(names, r)) for r in rows]


def _count_terms(w: Writer, before, after) -> None:
    """Apply to ``story_terms`` the change of one event summary: ``before`` and ``after``
    are ``(story id, actors, languages)`` or ``None``."""
    delta: Counter = Counter()
    for sign, row in ((-1, before), (1, after)):
        if row is None or row[0] is None:
            continue
        story, actors, languages = row
        for kind, terms in (("actor", actors), ("language", languages)):
            for t in terms:
                delta[(story, kind, t)] += sign
    for (story, kind, term), n in sorted(delta.items()):
        if n:
            w("INSERT INTO story_terms (story_id, kind, term, n) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (story_id, kind, term) DO UPDATE SET n = story_terms.n + excluded.n",
              (story, kind, term, n))
            if n < 0:
                w("DELETE FROM story_terms WHERE story_id = ? AND kind = ? AND term = ? AND n <= 0",
                  (story, kind, term))


def _refresh_event(w: Writer, event_id: str) -> Counter:
    """Recompute one event's summary; returns the change of the totals (``TOTALS``)."""
    old = w("SELECT story_id, actors, languages, article_count FROM event_summaries WHERE event_id = ?",
            (event_id,))
    before = (old[0][0], json.loads(old[0][1]), json.loads(old[0][2])) if old else None
    delta = Counter({"events": -1, "articles": -old[0][3]}) if old else Counter()
    cols = ("seq", "id", "title", "language", "event_date", "entity_names")
    rows = _named(w("SELECT a.seq, d.id, d.title, d.language, d.event_date, d.entity_names "
                    "FROM memberships m JOIN articles a ON a.id = m.article_id "
                    "JOIN documents d ON d.id = m.article_id WHERE m.event_id = ? ORDER BY a.seq",
                    (event_id,)), cols)
    if not rows:
        w("DELETE FROM event_summaries WHERE event_id = ?", (event_id,))
        _count_terms(w, before, None)
        return delta
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
              "date_last": d.last_day().isoformat() if d else None, "date_order": date_order(d),
              "languages": json.dumps(list(event.languages)), "article_count": len(rows),
              "article_ids": json.dumps(list(event.article_ids), ensure_ascii=False),
              "headline": event.headline, "headlines": json.dumps(headlines, ensure_ascii=False),
              "actors": json.dumps(list(event.actors), ensure_ascii=False)}
    _upsert(w, "event_summaries", "event_id", values)
    _count_terms(w, before, (story_id, event.actors, event.languages))
    delta.update({"events": 1, "articles": len(rows)})
    return delta


def _refresh_story(w: Writer, story_id: str) -> Counter:
    """The story's summary from indexed queries on its events' rows and ``story_terms``
    (what ``summarize_story`` of its event summaries gives); none of them reads all of a
    story's events but the count (a covering index range).  The events in story order are
    not stored: readers take them from the same index (``story_event_ids``).  Returns the
    change of the totals."""
    count, articles = w("SELECT COUNT(*), SUM(article_count) FROM event_summaries WHERE story_id = ?",
                        (story_id,))[0]
    existed = bool(w("SELECT 1 FROM story_summaries WHERE story_id = ?", (story_id,)))
    if not count:
        w("DELETE FROM story_summaries WHERE story_id = ?", (story_id,))
        return Counter({"stories": -1 if existed else 0})
    first_seq = w("SELECT MIN(seq) FROM event_stories WHERE story_id = ?", (story_id,))[0][0]
    title = w("SELECT headline FROM event_summaries WHERE story_id = ? "
              "ORDER BY article_count DESC, event_id DESC LIMIT 1", (story_id,))[0][0]
    dated = "FROM event_summaries WHERE story_id = ? AND date_order < ? AND event_date IS NOT NULL"
    first = w(f"SELECT event_date {dated} ORDER BY date_order, event_id LIMIT 1", (story_id, UNDATED_ORDER))
    last = w(f"SELECT event_date {dated} ORDER BY date_order DESC, event_id DESC LIMIT 1",
             (story_id, UNDATED_ORDER))
    # the six actors most of its events name (ties by name): those counted at least as
    # often as the sixth
    top = w("SELECT term, n FROM story_terms WHERE story_id = ? AND kind = 'actor' AND n >= "
            "COALESCE((SELECT n FROM story_terms WHERE story_id = ? AND kind = 'actor' "
            "ORDER BY n DESC LIMIT 1 OFFSET 5), 0)", (story_id, story_id))
    actors = [t for _, t in sorted((-n, t) for t, n in top)][:6]
    languages = w("SELECT term FROM story_terms WHERE story_id = ? AND kind = 'language'", (story_id,))
    values = {"story_id": story_id, "first_seq": first_seq, "event_count": count,
              "article_count": articles, "title": title,
              "actors": json.dumps(actors, ensure_ascii=False),
              "languages": json.dumps(sorted(t for (t,) in languages)),
              "first_date": first[0][0] if first else None,
              "last_date": last[0][0] if last else None}
    _upsert(w, "story_summaries", "story_id", values)
    return Counter({"stories": 0 if existed else 1})


def story_event_ids(q: Callable[[str, tuple], list], story_ids: Sequence[str]) -> dict[str, list[str]]:
    """The events of each story in story order: by date (the midpoint of its interval),
    undated last, ties by event id (``summarize_story``'s order), from the index on
    ``event_summaries(story_id, date_order, event_id)``.  ``q(sql, args)`` runs a query."""
    out: dict[str, list[str]] = {sid: [] for sid in story_ids}
    for part in chunks(list(dict.fromkeys(story_ids))):
        for sid, eid in q(f"SELECT story_id, event_id FROM event_summaries e WHERE story_id IN "
                          f"({_marks(len(part))}) ORDER BY {STORY_ORDER}", tuple(part)):
            out[sid].append(eid)
    return out


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
    delta: Counter = Counter()
    for eid in events:
        delta.update(_refresh_event(w, eid))
    for sid in sorted(set(old_stories) | stories_of(w, events)):
        delta.update(_refresh_story(w, sid))
    for name in TOTALS:
        if delta[name]:
            w("UPDATE read_totals SET n = n + ? WHERE name = ?", (delta[name], name))


def rebuild(w: Writer) -> None:
    """Fill the read models from the stored rows (the migration that adds them; the totals
    are ``recount_totals``'s)."""
    for table in ("article_search", "article_names", "event_summaries", "story_summaries",
                  "story_terms"):
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


def recount_stories(w: Writer) -> None:
    """Fill ``event_summaries.date_order`` and ``story_terms`` from the event summaries, and
    recompute every story summary (the migration that adds them)."""
    w("DELETE FROM story_terms")
    for eid, event_date in w("SELECT event_id, event_date FROM event_summaries"):
        w("UPDATE event_summaries SET date_order = ? WHERE event_id = ?",
          (date_order(PartialDate.parse(event_date) if event_date else None), eid))
    counts: Counter = Counter()
    for story, actors, languages in w("SELECT story_id, actors, languages FROM event_summaries "
                                      "WHERE story_id IS NOT NULL"):
        counts.update((story, "actor", t) for t in json.loads(actors))
        counts.update((story, "language", t) for t in json.loads(languages))
    for (story, kind, term), n in sorted(counts.items()):
        w("INSERT INTO story_terms (story_id, kind, term, n) VALUES (?, ?, ?, ?)", (story, kind, term, n))
    for (sid,) in w("SELECT DISTINCT story_id FROM event_stories ORDER BY story_id"):
        _refresh_story(w, sid)


def recount_totals(w: Writer) -> None:
    """Fill ``read_totals`` from the summaries (the migration that adds it)."""
    (events, articles), = w("SELECT COUNT(*), COALESCE(SUM(article_count), 0) FROM event_summaries")
    stories = w("SELECT COUNT(*) FROM story_summaries")[0][0]
    w("DELETE FROM read_totals")
    for name, n in zip(TOTALS, (events, articles, stories)):
        w("INSERT INTO read_totals (name, n) VALUES (?, ?)", (name, int(n)))
