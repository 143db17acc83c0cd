"""The ``Store`` protocol: what the pipeline needs from a store, nothing more.

``SQLStore`` holds what the SQL stores (SQLite, PostgreSQL) share: the writes, the read
queries and the read models (``readmodel``), written once in SQL both understand, and the
conversion of their rows, by column name, into records.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ContextManager, Iterator, Mapping, NamedTuple, Protocol, Sequence

import numpy as np

from ..enrich.recall import Recall
from ..errors import NotFound
from ..models import Article, Document, Event, PartialDate, Story
from . import readmodel
from .schema import Writer
from .vectors import VectorIndex

__all__ = ["Store", "StoredArticle", "SQLStore", "Replayed"]


class Replayed(NamedTuple):
    """A clustered article as a restart replays it: its document, vector and event."""

    document: Document
    vector: np.ndarray
    event_id: str


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored: raw input, its document (if accepted), status and event."""

    article: Article
    document: Document | None
    status: str            # "clustered" | "rejected"
    reason: str
    event_id: str | None
    story_id: str | None
    score: float | None
    evidence: dict


class Store(Protocol):
    def find_article(self, article_id: str) -> tuple[str, str] | None:
        """(content hash, status) of a stored article id, or ``None``."""

    def find_hash(self, content_hash: str) -> str | None:
        """Id of a stored article with this content hash."""

    def get_embedding(self, key: str) -> np.ndarray | None: ...

    def add_article(self, article: Article, doc: Document | None, *, status: str, reason: str = "",
                    content_hash: str, embedding: tuple[str, str, np.ndarray] | None = None,
                    extra_embeddings: list[tuple[str, str, np.ndarray]] = (),
                    event_id: str | None = None, score: float | None = None,
                    evidence: dict | None = None, story_links: dict[str, str] | None = None,
                    event_links: Sequence[tuple[str, str]] = (),
                    line_keys: Sequence[str] = ()) -> None:
        """Store one article with everything derived from it, in one transaction."""

    def update_events(self, moved: dict[str, str], story_links: dict[str, str],
                      gone: list[str], dates: dict | None = None,
                      event_links: Sequence[tuple[str, str]] = ()) -> None:
        """Repairs in one transaction: article -> event moves, event -> story moves,
        events that no longer exist, event dates inferred later, and new links of the
        neighbour relation between events."""

    def replay(self, encoder_name: str) -> Iterator["Replayed"]:
        """Every clustered article in arrival order (``Replayed``)."""

    def event_links(self) -> Iterator[tuple[str, str]]:
        """The neighbour relation between events, each link once."""

    def recent_events(self, max_articles: int) -> list[str]:
        """The events that grew most recently, whole, holding at most ``max_articles``."""

    def story_links(self) -> dict[str, str]: ...

    def line_counts(self) -> Iterator[tuple[str, int]]:
        """In how many stored articles each short line occurred (``LineStats``'s keys)."""

    def snapshot(self) -> ContextManager[None]:
        """A block whose reads all see one state of the store (writers may go on)."""

    def article(self, article_id: str) -> StoredArticle: ...

    def event_members(self, event_id: str) -> list[StoredArticle]: ...

    def list_events(self, *, story_id: str | None = None) -> list[str]: ...

    def list_stories(self) -> list[str]: ...

    def close(self) -> None: ...


def _date(value: str | None) -> PartialDate | None:
    return PartialDate.parse(value) if value else None


#: Fields of ``Document`` derived again when a document is read (not stored).
DERIVED_FIELDS = ("terms",)
#: Columns of ``documents``, named as the stored fields of ``Document`` (and in their order).
DOC_COLUMNS = tuple(f.name for f in dataclasses.fields(Document) if f.name not in DERIVED_FIELDS)
#: Columns of ``articles`` that hold an ``Article``'s fields (all but ``html``).
ARTICLE_COLUMNS = ("id", "text", "title", "url", "published", "language", "source", "origin")


def _select(alias: str, columns: Sequence[str]) -> str:
    """``a.id AS a_id, a.text AS a_text, ...``: columns named after their table alias."""
    return ", ".join(f"{alias}.{c} AS {alias}_{c}" for c in columns)


def _document_values(doc: Document) -> tuple:
    """The ``documents`` row of ``doc``, in ``DOC_COLUMNS`` order."""
    conv = {"published": lambda d: str(d) if d else None,
            "event_date": lambda d: str(d) if d else None,
            "entities": json.dumps,
            "entity_names": lambda v: json.dumps(v, ensure_ascii=False),
            "numbers": json.dumps,
            "recalls": lambda rs: json.dumps([dataclasses.astuple(r) for r in rs], ensure_ascii=False)}
    return tuple(conv.get(c, lambda v: v)(getattr(doc, c)) for c in DOC_COLUMNS)


class SQLStore:
    """What the SQL stores share: the writes, the read queries and the read models, written
    once in SQL both SQLite and PostgreSQL understand, and rows read by column name.

    A subclass provides ``_q(sql, args)`` (run one query with ``?`` placeholders, return all
    rows as tuples, raise ``StoreError`` on failure), ``_named(sql, args)`` (the same as
    dicts by column name), ``_tx()`` (a write transaction, yielding a ``schema.Writer``),
    ``_vector(value)`` (a stored vector as a float32 array), ``_vector_param(vec)`` (a
    float32 array as the ``embeddings.vector`` parameter) and ``dialect``.  The SQL here is
    portable: standard joins and aggregates, ``?`` placeholders, ``ON CONFLICT`` upserts,
    no ``%`` and no literal ``?``.
    """

    path: str
    dialect: str

    def _q(self, sql: str, args: tuple = ()) -> list[Any]:
        raise NotImplementedError

    def _named(self, sql: str, args: tuple = ()) -> list[dict]:
        raise NotImplementedError

    def _tx(self) -> ContextManager[Writer]:
        raise NotImplementedError

    @staticmethod
    def _vector(value: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _vector_param(vec: np.ndarray) -> Any:
        raise NotImplementedError

    # --- writes ---------------------------------------------------------------------------
    def add_article(self, article: Article, doc: Document | None, *, status: str, reason: str = "",
                    content_hash: str, embedding: tuple[str, str, np.ndarray] | None = None,
                    extra_embeddings: list[tuple[str, str, np.ndarray]] = (),
                    event_id: str | None = None, score: float | None = None,
                    evidence: dict | None = None, story_links: dict[str, str] | None = None,
                    event_links: Sequence[tuple[str, str]] = (),
                    line_keys: Sequence[str] = ()) -> None:
        """Store one article with everything derived from it (and the links of the
        clusterer's neighbour relation its arrival made, and the keys of the short lines
        its cleaning counted: ``LineStats``), and the summaries it changes, in one
        transaction."""
        links = story_links or {}
        with self._tx() as w:
            w("INSERT INTO articles (id, content_hash, status, reason, origin, url, title, text,"
              " published, language, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
              (article.id, content_hash, status, reason, article.origin, article.url,
               article.title, article.text, article.published, article.language, article.source))
            if doc is not None:
                w(f"INSERT INTO documents ({', '.join(DOC_COLUMNS)}) "
                  f"VALUES ({','.join('?' * len(DOC_COLUMNS))})", _document_values(doc))
                seq = w("SELECT seq FROM articles WHERE id = ?", (article.id,))[0][0]
                readmodel.index_document(w, seq, doc)
            if embedding is not None:
                key, model, vec = embedding
                self._put_vector(w, key, model, vec)
                w("INSERT INTO doc_embeddings (id, model, key) VALUES (?,?,?)", (article.id, model, key))
            for key, model, vec in extra_embeddings:
                self._put_vector(w, key, model, vec)
            touched = set(links)
            old_stories = readmodel.stories_of(w, touched | ({event_id} if event_id else set()))
            if event_id is not None:
                w("INSERT INTO memberships (article_id, event_id, score, evidence) VALUES (?,?,?,?)",
                  (article.id, event_id, score, json.dumps(evidence or {}, ensure_ascii=False)))
                touched.add(event_id)
            self._put_links(w, event_links)
            self._link(w, links)
            for key in line_keys:
                w("INSERT INTO line_counts (key, n) VALUES (?, 1) "
                  "ON CONFLICT (key) DO UPDATE SET n = line_counts.n + 1", (key,))
            readmodel.refresh(w, touched, old_stories)

    def update_events(self, moved: dict[str, str], story_links: dict[str, str],
                      gone: list[str], dates: dict[str, tuple[PartialDate, str]] | None = None,
                      event_links: Sequence[tuple[str, str]] = ()) -> None:
        """Repairs in one transaction: articles moved to other events, events moved to
        other stories, events that no longer exist, event dates inferred later (with the
        report whose recall gave each), and the links of the neighbour relation the
        repair made; with the summaries they change."""
        dates = dates or {}
        with self._tx() as w:
            touched = set(story_links) | set(gone) | set(moved.values())
            for part in readmodel.chunks(list(moved) + list(dates)):
                touched.update(r[0] for r in w(
                    f"SELECT event_id FROM memberships WHERE article_id IN ({','.join('?' * len(part))})",
                    tuple(part)))
            old_stories = readmodel.stories_of(w, touched)
            for aid, (d, source) in dates.items():
                w("UPDATE documents SET event_date = ?, dated_by = ? WHERE id = ?", (str(d), source, aid))
            for aid, eid in moved.items():
                w("UPDATE memberships SET event_id = ?, evidence = ? WHERE article_id = ?",
                  (eid, json.dumps({"repaired": True}), aid))
            self._put_links(w, event_links)
            for eid in gone:
                w("DELETE FROM event_stories WHERE event_id = ?", (eid,))
            self._link(w, story_links)
            readmodel.refresh(w, touched, old_stories)

    def _put_vector(self, w: Writer, key: str, model: str, vec: np.ndarray) -> None:
        """Store a vector under its key unless one is there (keys name their content)."""
        w("INSERT INTO embeddings (key, model, vector) VALUES (?,?,?) ON CONFLICT (key) DO NOTHING",
          (key, model, self._vector_param(np.asarray(vec, dtype=np.float32))))

    @staticmethod
    def _put_links(w: Writer, links: Sequence[tuple[str, str]]) -> None:
        for a, b in links:
            w("INSERT INTO event_links (event_id, other_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
              (min(a, b), max(a, b)))

    def event_links(self) -> Iterator[tuple[str, str]]:
        for a, b in self._q("SELECT event_id, other_id FROM event_links"):
            yield a, b

    @staticmethod
    def _link(w: Writer, links: dict[str, str]) -> None:
        for eid, sid in links.items():
            w("INSERT INTO event_stories (event_id, story_id, seq) VALUES (?, ?, "
              "(SELECT COALESCE(MAX(seq), 0) + 1 FROM event_stories)) "
              "ON CONFLICT (event_id) DO UPDATE SET story_id = excluded.story_id", (eid, sid))

    # --- by id and hash ---------------------------------------------------------------
    def find_article(self, article_id: str) -> tuple[str, str] | None:
        rows = self._q("SELECT content_hash, status FROM articles WHERE id=?", (article_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def find_hash(self, content_hash: str) -> str | None:
        rows = self._q("SELECT id FROM articles WHERE content_hash=? ORDER BY seq LIMIT 1",
                       (content_hash,))
        return rows[0][0] if rows else None

    def get_embedding(self, key: str) -> np.ndarray | None:
        rows = self._q("SELECT vector FROM embeddings WHERE key=?", (key,))
        return self._vector(rows[0][0]) if rows else None

    # --- the stream ---------------------------------------------------------------------
    #: Rows read per query on replay (a long stream is never held in memory whole).
    REPLAY_PAGE = 1000

    def replay(self, encoder_name: str) -> Iterator[Replayed]:
        last = -1
        while True:
            rows = self._named(
                f"SELECT {_select('d', DOC_COLUMNS)}, e.vector AS vector, m.event_id AS event_id, "
                "a.seq AS seq FROM articles a JOIN documents d ON d.id=a.id "
                "JOIN memberships m ON m.article_id=a.id "
                "JOIN doc_embeddings de ON de.id=a.id AND de.model=? "
                "JOIN embeddings e ON e.key=de.key WHERE a.seq > ? ORDER BY a.seq LIMIT ?",
                (encoder_name, last, self.REPLAY_PAGE))
            for r in rows:
                yield Replayed(self._doc(r), self._vector(r["vector"]), r["event_id"])
            if len(rows) < self.REPLAY_PAGE:
                return
            last = rows[-1]["seq"]

    def recent_events(self, max_articles: int) -> list[str]:
        """The events that grew most recently, whole, while they hold at most
        ``max_articles`` articles together (at least one event): what a pipeline bounded
        to ``max_articles`` holds in memory."""
        rows = self._q("SELECT m.event_id, MAX(a.seq) AS last, COUNT(*) FROM memberships m "
                       "JOIN articles a ON a.id=m.article_id GROUP BY m.event_id "
                       "ORDER BY last DESC, m.event_id LIMIT ?", (max_articles + 1,))
        out, total = [], 0
        for event_id, _, n in rows:
            if out and total + n > max_articles:
                break
            out.append(event_id)
            total += n
        return out

    def encoders(self) -> list[str]:
        """The names of the encoders whose vectors place the stored articles."""
        return [r[0] for r in self._q("SELECT DISTINCT model FROM doc_embeddings ORDER BY model")]

    def story_links(self) -> dict[str, str]:
        return dict(self._q("SELECT event_id, story_id FROM event_stories ORDER BY seq"))

    # --- rows -> records ------------------------------------------------------------------
    @staticmethod
    def _doc(r: Mapping) -> Document:
        """The ``Document`` of a row that selected ``_select('d', DOC_COLUMNS)``."""
        v = {c: r[f"d_{c}"] for c in DOC_COLUMNS}
        return Document(**{**v, "published": _date(v["published"]),
                           "event_date": _date(v["event_date"]),
                           "entities": tuple(json.loads(v["entities"])),
                           "entity_names": tuple(json.loads(v["entity_names"])),
                           "numbers": tuple(json.loads(v["numbers"])),
                           "recalls": tuple(Recall(*x) for x in json.loads(v["recalls"]))})

    _ARTICLE_SQL = (
        f"SELECT {_select('a', ARTICLE_COLUMNS)}, a.status AS status, a.reason AS reason, "
        "m.event_id AS event_id, s.story_id AS story_id, m.score AS score, "
        f"m.evidence AS evidence, {_select('d', DOC_COLUMNS)} "
        "FROM articles a LEFT JOIN documents d ON d.id=a.id "
        "LEFT JOIN memberships m ON m.article_id=a.id "
        "LEFT JOIN event_stories s ON s.event_id=m.event_id ")

    def _stored(self, r: Mapping) -> StoredArticle:
        art = Article(**{c: r[f"a_{c}"] for c in ARTICLE_COLUMNS})
        doc = self._doc(r) if r["d_id"] is not None else None
        return StoredArticle(art, doc, r["status"], r["reason"], r["event_id"], r["story_id"],
                             r["score"], json.loads(r["evidence"] or "{}"))

    # --- articles, events, stories -------------------------------------------------------------
    def article(self, article_id: str) -> StoredArticle:
        rows = self._named(self._ARTICLE_SQL + "WHERE a.id=?", (article_id,))
        if not rows:
            raise NotFound(f"no article with id {article_id!r}")
        return self._stored(rows[0])

    def event_members(self, event_id: str) -> list[StoredArticle]:
        rows = self._named(self._ARTICLE_SQL + "WHERE m.event_id=? ORDER BY a.seq", (event_id,))
        return [self._stored(r) for r in rows]

    def list_events(self, *, story_id: str | None = None) -> list[str]:
        if story_id is None:
            rows = self._q("SELECT event_id FROM event_summaries ORDER BY first_seq")
        else:
            rows = self._q("SELECT event_id FROM event_stories WHERE story_id=? ORDER BY seq",
                           (story_id,))
        return [r[0] for r in rows]

    def list_stories(self) -> list[str]:
        return [r[0] for r in self._q("SELECT story_id FROM event_stories GROUP BY story_id "
                                      "ORDER BY MIN(seq)")]

    def list_articles(self) -> list[StoredArticle]:
        return [self._stored(r) for r in self._named(self._ARTICLE_SQL + "ORDER BY a.seq")]

    # --- the read models: summaries, filtered and paged in SQL ------------------------------
    _EVENT_SQL = ", ".join(f"e.{c}" for c in readmodel.EVENT_COLUMNS)
    #: Rows per query when a listing is streamed whole.
    PAGE = 500

    def _contains(self, column: str) -> str:
        """SQL true when the ``?`` parameter occurs in ``column``."""
        return f"{'strpos' if self.dialect == 'postgres' else 'instr'}({column}, ?) > 0"

    def _text_events(self, word: str) -> str:
        """A subquery of the events with an article whose search text contains ``word``
        (case-folded), with one ``?`` parameter (``_text_arg``)."""
        if self.dialect == "sqlite" and len(word) >= 3:   # the trigram index
            return ("SELECT m.event_id FROM article_fts f JOIN article_search s ON s.seq = f.rowid "
                    "JOIN memberships m ON m.article_id = s.article_id WHERE article_fts MATCH ?")
        return ("SELECT m.event_id FROM article_search s JOIN memberships m "
                f"ON m.article_id = s.article_id WHERE {self._contains('s.haystack')}")

    def _text_arg(self, word: str) -> str:
        if self.dialect == "sqlite" and len(word) >= 3:
            return '"' + word.replace('"', '""') + '"'
        return word

    def _event_query(self, story_id: str | None, since: PartialDate | None,
                     until: PartialDate | None, language: str | None,
                     words: Sequence[tuple[str, Sequence[str]]]) -> tuple[str, list[str], list, str]:
        """FROM clause, conditions, their parameters and the order column of a listing."""
        source, where, args = "event_summaries e", [], []
        order = "e.first_seq"
        if story_id is not None:
            source += " JOIN event_stories s ON s.event_id = e.event_id"
            where.append("s.story_id = ?")
            args.append(story_id)
            order = "s.seq"
        if since is not None:
            where.append("e.date_last >= ?")
            args.append(since.first_day().isoformat())
        if until is not None:
            where.append("e.date_first <= ?")
            args.append(until.last_day().isoformat())
        if language:
            where.append(self._contains("e.languages"))
            args.append(json.dumps(language))
        for word, keys in words:
            cond = f"e.event_id IN ({self._text_events(word)})"
            args.append(self._text_arg(word))
            if keys:
                cond += (" OR e.event_id IN (SELECT m.event_id FROM article_names n JOIN memberships m "
                         f"ON m.article_id = n.article_id WHERE n.key IN ({','.join('?' * len(keys))}))")
                args.extend(keys)
            where.append(f"({cond})")
        return source, where, args, order

    def events_page(self, *, story_id: str | None = None, since: PartialDate | None = None,
                    until: PartialDate | None = None, language: str | None = None,
                    words: Sequence[tuple[str, Sequence[str]]] = (), limit: int | None = None,
                    offset: int = 0, newest_first: bool = False) -> tuple[list[Event], int, int]:
        """One page of the events that pass the filters (in order of their first article, or
        of their story; the reverse with ``newest_first``), with the number of such events
        and of their articles.

        ``words``: (case-folded word, its name keys) pairs; an event passes when, for each,
        an article's title, names or text contains the word, or an article names one of
        the keys.  ``since``/``until`` compare date intervals; undated events fail them.
        """
        source, where, args, order = self._event_query(story_id, since, until, language, words)
        cond = f" WHERE {' AND '.join(where)}" if where else ""
        order += " DESC" if newest_first else ""
        filtered = since is not None or until is not None or bool(language) or bool(words)
        with self.snapshot():
            if limit is None:   # the whole listing: its totals are its own
                events = [readmodel.event_of(r) for r in self._named(
                    f"SELECT {self._EVENT_SQL} FROM {source}{cond} ORDER BY {order}", tuple(args))]
                return events, len(events), sum(len(e.article_ids) for e in events)
            page = f" LIMIT {int(limit)} OFFSET {int(offset)}"
            if not filtered:    # the totals the writer keeps: one row, however many events
                if story_id is None:
                    totals = self._totals()
                    total, articles = totals["events"], totals["articles"]
                else:
                    found = self._q("SELECT event_count, article_count FROM story_summaries "
                                    "WHERE story_id = ?", (story_id,))
                    total, articles = found[0] if found else (0, 0)
                rows = self._named(f"SELECT {self._EVENT_SQL} FROM {source}{cond} ORDER BY {order}{page}",
                                   tuple(args))
                return [readmodel.event_of(r) for r in rows], int(total), int(articles)
            # filtered: the matches' ids and sizes once (their count is the total), then the
            # page's rows by id, rather than running the filter a second time
            matches = self._q(f"SELECT e.event_id, e.article_count FROM {source}{cond} ORDER BY {order}",
                              tuple(args))
            ids = [eid for eid, _ in matches[int(offset):int(offset) + int(limit)]]
            found = self.events_by_id(ids)
            return ([found[eid] for eid in ids], len(matches),
                    sum(int(n) for _, n in matches))

    def iter_events(self, *, story_id: str | None = None) -> Iterator[Event]:
        """All events (or one story's) in order, read a page at a time."""
        source, where, args, order = self._event_query(story_id, None, None, None, ())
        last = -1
        while True:
            cond = " AND ".join(where + [f"{order} > ?"])
            rows = self._named(f"SELECT {self._EVENT_SQL}, {order} AS ord FROM {source} "
                               f"WHERE {cond} ORDER BY {order} LIMIT {self.PAGE}",
                               tuple(args) + (last,))
            for r in rows:
                yield readmodel.event_of(r)
            if len(rows) < self.PAGE:
                return
            last = rows[-1]["ord"]

    def event_summary(self, event_id: str) -> Event:
        """An event's summary (raises ``NotFound``)."""
        rows = self._named(f"SELECT {self._EVENT_SQL} FROM event_summaries e WHERE e.event_id = ?",
                           (event_id,))
        if not rows:
            raise NotFound(f"no event with id {event_id!r}")
        return readmodel.event_of(rows[0])

    def event_headlines(self, event_id: str) -> dict[str, str]:
        """An event's headline per language (raises ``NotFound``)."""
        rows = self._q("SELECT headlines FROM event_summaries WHERE event_id = ?", (event_id,))
        if not rows:
            raise NotFound(f"no event with id {event_id!r}")
        return json.loads(rows[0][0])

    def events_by_id(self, event_ids: Sequence[str]) -> dict[str, Event]:
        out: dict[str, Event] = {}
        for part in readmodel.chunks(event_ids):
            for r in self._named(f"SELECT {self._EVENT_SQL} FROM event_summaries e "
                                 f"WHERE e.event_id IN ({','.join('?' * len(part))})", tuple(part)):
                out[r["event_id"]] = readmodel.event_of(r)
        return out

    def story_events(self, story_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The event summaries of each story, in story order (as ``Story.event_ids``): one
        indexed range per story, not a lookup per event."""
        out: dict[str, list[Event]] = {sid: [] for sid in story_ids}
        for part in readmodel.chunks(list(out)):
            for r in self._named(f"SELECT {self._EVENT_SQL} FROM event_summaries e WHERE e.story_id IN "
                                 f"({','.join('?' * len(part))}) ORDER BY {readmodel.STORY_ORDER}",
                                 tuple(part)):
                out[r["story_id"]].append(readmodel.event_of(r))
        return out

    def event(self, event_id: str) -> tuple[Event, list[StoredArticle]]:
        """An event's summary and its stored articles (raises ``NotFound``)."""
        with self.snapshot():
            event = self.event_summary(event_id)
            return event, self.event_members(event_id)

    _STORY_COLUMNS = ("story_id", "event_count", "article_count", "title", "actors",
                      "languages", "first_date", "last_date")

    def _stories_of(self, rows: Sequence[Mapping]) -> list[dict]:
        """Story summary rows as a ``Story`` (``story``) and its figures, with their events
        in story order (``readmodel.story_event_ids``; call inside the rows' snapshot)."""
        events = readmodel.story_event_ids(self._q, [r["story_id"] for r in rows])
        return [{"story": Story(id=r["story_id"], event_ids=tuple(events[r["story_id"]]),
                                title=r["title"], actors=tuple(json.loads(r["actors"]))),
                 "event_count": r["event_count"], "article_count": r["article_count"],
                 "languages": json.loads(r["languages"]), "first_date": r["first_date"],
                 "last_date": r["last_date"]} for r in rows]

    def stories_page(self, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict], int]:
        """Stories, largest first (then in order of their first event), one page, with the
        number of stories; each as ``_stories_of``."""
        page = "" if limit is None else f" LIMIT {int(limit)} OFFSET {int(offset)}"
        with self.snapshot():
            total = self._totals()["stories"]
            rows = self._named(f"SELECT {', '.join(self._STORY_COLUMNS)} FROM story_summaries "
                               f"ORDER BY event_count DESC, first_seq{page}")
            return self._stories_of(rows), int(total)

    def iter_stories(self) -> Iterator[dict]:
        """All stories, largest first, read a page at a time (as ``_stories_of``)."""
        offset = 0
        while True:
            page, _ = self.stories_page(limit=self.PAGE, offset=offset)
            yield from page
            if len(page) < self.PAGE:
                return
            offset += self.PAGE

    def story_summary(self, story_id: str) -> dict:
        """One story (as ``_stories_of``; raises ``NotFound``)."""
        with self.snapshot():
            rows = self._named(f"SELECT {', '.join(self._STORY_COLUMNS)} FROM story_summaries "
                               "WHERE story_id = ?", (story_id,))
            if not rows:
                raise NotFound(f"no story with id {story_id!r}")
            return self._stories_of(rows)[0]

    # --- search by meaning and by name (no clusterer) ---------------------------------------
    def vector_index(self, model: str) -> VectorIndex:
        """The index of the document vectors of encoder ``model`` this store holds (one per
        store object, topped up from the store on each use)."""
        indexes = self.__dict__.setdefault("_vector_indexes", {})
        if model not in indexes:
            indexes.setdefault(model, VectorIndex(lambda after, limit: self._vectors_after(model, after, limit),
                                                  path=self.vector_graph_path(model)))
        return indexes[model]

    def vector_graph_path(self, model: str) -> str | None:
        """Where the search graph of encoder ``model``'s vectors is saved (``None``: this
        store keeps it in memory only)."""
        return None

    def _vectors_after(self, model: str, after: int, limit: int) -> list[tuple[int, str, np.ndarray]]:
        rows = self._named(
            "SELECT a.seq AS seq, a.id AS id, e.vector AS vector FROM articles a "
            "JOIN doc_embeddings de ON de.id = a.id AND de.model = ? JOIN embeddings e ON e.key = de.key "
            "WHERE a.seq > ? AND a.status = 'clustered' ORDER BY a.seq LIMIT ?", (model, after, limit))
        return [(r["seq"], r["id"], self._vector(r["vector"])) for r in rows]

    def events_of(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The event of each of ``article_ids`` that is clustered."""
        out: dict[str, str] = {}
        for part in readmodel.chunks(list(dict.fromkeys(article_ids))):
            out.update(self._q(f"SELECT article_id, event_id FROM memberships WHERE article_id IN "
                               f"({','.join('?' * len(part))})", tuple(part)))
        return out

    def event_articles(self, event_ids: Sequence[str]) -> dict[str, list[str]]:
        """The article ids of each of ``event_ids``."""
        out: dict[str, list[str]] = {}
        for part in readmodel.chunks(list(dict.fromkeys(event_ids))):
            for aid, eid in self._q(f"SELECT article_id, event_id FROM memberships WHERE event_id IN "
                                    f"({','.join('?' * len(part))}) ORDER BY article_id", tuple(part)):
                out.setdefault(eid, []).append(aid)
        return out

    def event_name_keys(self, keys: Sequence[str], event_ids: Sequence[str] | None = None,
                        limit: int | None = None) -> dict[str, set[str]]:
        """Which of the name ``keys`` each event's articles carry: of ``event_ids``, or
        of the events that carry any (the ``limit`` whose articles named one most
        recently: for each key, its most recent articles, an index range on
        ``article_names(key, seq)``, read until ``limit`` events are found)."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        out: dict[str, set[str]] = {}
        if event_ids is not None:
            # memberships first (by event), then each member's keys: not every article that
            # ever named a key (SQLite takes CROSS JOIN's order as written)
            join = "CROSS JOIN" if self.dialect == "sqlite" else "JOIN"
            sql = (f"SELECT m.event_id, n.key FROM memberships m {join} article_names n "
                   f"ON n.article_id = m.article_id AND n.key IN ({marks}) WHERE m.event_id IN ")
            for part in readmodel.chunks(list(dict.fromkeys(event_ids))):
                for eid, key in self._q(sql + f"({','.join('?' * len(part))})", tuple(keys) + tuple(part)):
                    out.setdefault(eid, set()).add(key)
            return out
        latest: dict[str, int] = {}     # event -> the seq of its latest article naming a key
        carried: dict[str, set[str]] = {}   # event -> the keys the walk saw it carry
        for key in dict.fromkeys(keys):
            found: set[str] = set()
            before = None
            while limit is None or len(found) < limit:
                rows = self._q("SELECT n.seq, m.event_id FROM article_names n JOIN memberships m "
                               "ON m.article_id = n.article_id WHERE n.key = ?"
                               + (" AND n.seq < ?" if before is not None else "")
                               + f" ORDER BY n.seq DESC LIMIT {self.PAGE}",
                               (key,) if before is None else (key, before))
                for seq, eid in rows:
                    if limit is not None and len(found) >= limit and eid not in found:
                        break
                    found.add(eid)
                    latest[eid] = max(latest.get(eid, seq), seq)
                    carried.setdefault(eid, set()).add(key)
                if len(rows) < self.PAGE:
                    break
                before = rows[-1][0]
        chosen = sorted(latest, key=lambda e: (-latest[e], e))[:limit]
        # the keys the walk did not see a chosen event carry (it stops at ``limit`` events
        # per key) are looked up; a query of one name needs no lookup
        unsure = [e for e in chosen if len(carried[e]) < len(set(keys))]
        more = self.event_name_keys(keys, unsure) if unsure else {}
        return {e: carried[e] | more.get(e, set()) for e in chosen}

    def event_name_display(self, event_id: str, keys: Sequence[str]) -> dict[str, str]:
        """How the event's most recent article that names each of the ``keys`` writes it
        (``lavro`` -> ``Lavrov``), read from the articles that carry the key (by index),
        newest first, not from all of the event's articles."""
        out: dict[str, str] = {}
        for key in dict.fromkeys(keys):
            rows = self._q("SELECT d.entities, d.entity_names FROM memberships m "
                           "JOIN article_names n ON n.article_id = m.article_id AND n.key = ? "
                           "JOIN articles a ON a.id = m.article_id JOIN documents d ON d.id = m.article_id "
                           "WHERE m.event_id = ? ORDER BY a.seq DESC", (key, event_id))
            for entities, names in rows:   # a document may list more keys than names
                found = [n for k, n in zip(json.loads(entities), json.loads(names)) if k == key]
                if found:
                    out[key] = found[-1]
                    break
        return out

    def line_counts(self) -> Iterator[tuple[str, int]]:
        """In how many stored articles each short line occurred (by ``LineStats``'s key),
        read a page at a time."""
        last = ""
        while True:
            rows = self._q("SELECT key, n FROM line_counts WHERE key > ? ORDER BY key "
                           f"LIMIT {self.PAGE * 20}", (last,))
            yield from ((k, int(n)) for k, n in rows)
            if len(rows) < self.PAGE * 20:
                return
            last = rows[-1][0]

    def counts(self) -> tuple[int, int]:
        """(events, stories) the store holds (the totals the writer keeps)."""
        totals = self._totals()
        return totals["events"], totals["stories"]

    def _totals(self) -> dict[str, int]:
        """The totals the writer keeps (``readmodel.TOTALS``: events, their articles,
        stories), one row each."""
        found = dict(self._q("SELECT name, n FROM read_totals"))
        return {name: int(found.get(name, 0)) for name in readmodel.TOTALS}

    # --- what ``check_store`` asks of a store ----------------------------------------------
    def schema_version(self) -> int:
        """The schema version the stored tables are at (0: none created yet)."""
        raise NotImplementedError

    def integrity_check(self) -> list[str]:
        """The database engine's own consistency findings, one line each; empty if sound."""
        raise NotImplementedError
