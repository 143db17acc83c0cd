"""The store's schema: one list of named migrations for both SQL stores.

Each migration is ``(name, step)``; ``step(w)`` runs inside the migration's transaction with
``w`` a ``Writer``: ``w(sql, args)`` runs one statement with ``?`` placeholders and returns
its rows, ``w.dialect`` is ``"sqlite"`` or ``"postgres"`` (for the few types and indexes
the two spell differently), and ``w.execute`` is ``w`` (so a step may be written like one
for an ``sqlite3`` connection).  A store's schema version counts the migrations run on it
(SQLite: ``PRAGMA user_version``; PostgreSQL: ``polystory_meta.schema_version``).
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["Writer", "MIGRATIONS", "SCHEMA_VERSION"]


class Writer:
    """Runs statements with ``?`` placeholders inside one write transaction."""

    def __init__(self, dialect: str, run: Callable[[str, tuple], tuple[list[Any], int]]) -> None:
        self.dialect = dialect
        self._run = run
        #: Rows changed by the last statement (the DB-API ``rowcount``).
        self.rowcount = -1

    def __call__(self, sql: str, args: tuple = ()) -> list[Any]:
        rows, self.rowcount = self._run(sql, tuple(args))
        return rows

    execute = __call__

    def script(self, sql: str) -> None:
        """Several statements, ``;``-separated (no ``;`` inside them)."""
        for stmt in sql.split(";"):
            if stmt.strip():
                self(stmt)


def _types(w: Writer, sql: str) -> str:
    """``sql`` with the dialect's types for the placeholders ``{SEQ}``, ``{BIGINT}``,
    ``{REAL}`` and ``{VECTOR}``."""
    pg = w.dialect == "postgres"
    return sql.format(SEQ="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" if pg
                      else "INTEGER PRIMARY KEY AUTOINCREMENT",
                      BIGINT="BIGINT" if pg else "INTEGER",
                      REAL="DOUBLE PRECISION" if pg else "REAL",
                      VECTOR="vector" if pg else "BLOB")


def _m1_initial(w: Writer) -> None:
    if w.dialect == "postgres":
        from .postgres import create_vector_extension

        create_vector_extension(w)
    w.script(_types(w, """
    CREATE TABLE articles (
        seq {SEQ},
        id TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        published TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX articles_hash ON articles(content_hash);
    CREATE TABLE documents (
        id TEXT PRIMARY KEY REFERENCES articles(id),
        title TEXT NOT NULL, text TEXT NOT NULL, language TEXT NOT NULL,
        url TEXT NOT NULL, source TEXT NOT NULL,
        published TEXT, event_date TEXT,
        entities TEXT NOT NULL, entity_names TEXT NOT NULL, numbers TEXT NOT NULL,
        weekday INTEGER, recalls TEXT NOT NULL DEFAULT '[]',
        content_hash TEXT NOT NULL, dropped_lines INTEGER NOT NULL
    );
    CREATE TABLE embeddings (
        key TEXT PRIMARY KEY, model TEXT NOT NULL, vector {VECTOR} NOT NULL
    );
    CREATE TABLE doc_embeddings (
        id TEXT NOT NULL REFERENCES articles(id), model TEXT NOT NULL,
        key TEXT NOT NULL REFERENCES embeddings(key), PRIMARY KEY (id, model)
    );
    CREATE TABLE memberships (
        article_id TEXT PRIMARY KEY REFERENCES articles(id),
        event_id TEXT NOT NULL, score {REAL}, evidence TEXT NOT NULL DEFAULT '{{}}'
    );
    CREATE INDEX memberships_event ON memberships(event_id);
    CREATE TABLE event_stories (
        event_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, seq {BIGINT} NOT NULL
    );
    CREATE INDEX event_stories_story ON event_stories(story_id)
    """))


def _m2_watch(w: Writer) -> None:
    """``polystory watch``'s sources and item queue (``store/watch.py``)."""
    from .watch import watch_tables_sql

    w.script(watch_tables_sql(_types(w, "seq {SEQ}")))


def _m3_read_models(w: Writer) -> None:
    """Event and story summaries, and the articles' search text and name keys, kept by the
    writer (``store/readmodel.py``)."""
    w.script(_types(w, """
    CREATE TABLE event_summaries (
        event_id TEXT PRIMARY KEY, first_seq {BIGINT} NOT NULL, story_id TEXT,
        event_date TEXT, date_first TEXT, date_last TEXT,
        languages TEXT NOT NULL, article_count INTEGER NOT NULL, article_ids TEXT NOT NULL,
        headline TEXT NOT NULL, headlines TEXT NOT NULL, actors TEXT NOT NULL
    );
    CREATE INDEX event_summaries_order ON event_summaries(first_seq);
    CREATE INDEX event_summaries_story ON event_summaries(story_id);
    CREATE INDEX event_summaries_dates ON event_summaries(date_first, date_last);
    CREATE TABLE story_summaries (
        story_id TEXT PRIMARY KEY, first_seq {BIGINT} NOT NULL, event_count INTEGER NOT NULL,
        article_count INTEGER NOT NULL, title TEXT NOT NULL, actors TEXT NOT NULL,
        event_ids TEXT NOT NULL, languages TEXT NOT NULL, first_date TEXT, last_date TEXT
    );
    CREATE INDEX story_summaries_order ON story_summaries(event_count DESC, first_seq);
    CREATE TABLE article_names (
        key TEXT NOT NULL, article_id TEXT NOT NULL REFERENCES articles(id),
        PRIMARY KEY (key, article_id)
    );
    CREATE INDEX article_names_article ON article_names(article_id);
    CREATE TABLE article_search (
        seq {BIGINT} PRIMARY KEY, article_id TEXT NOT NULL UNIQUE REFERENCES articles(id),
        haystack TEXT NOT NULL
    )
    """))
    if w.dialect == "sqlite":
        w("CREATE VIRTUAL TABLE article_fts USING fts5(haystack, content='article_search', "
          "content_rowid='seq', tokenize='trigram')")
    # filled by migration 7, once the tables have all their columns


def _m4_clustering_state(w: Writer) -> None:
    """What a restart needs to continue the stream as if there had been none:
    ``documents.dated_by``, the report whose recall dated an undated report (its event
    date is inferred, not its own), and ``event_links``, the clusterer's neighbour
    relation between events (each link once, as a sorted pair).  In an older store,
    inferred dates read as the reports' own and events have no links until new articles
    make them."""
    w("ALTER TABLE documents ADD COLUMN dated_by TEXT NOT NULL DEFAULT ''")
    w("CREATE TABLE event_links (event_id TEXT NOT NULL, other_id TEXT NOT NULL, "
      "PRIMARY KEY (event_id, other_id))")


def _m5_story_terms(w: Writer) -> None:
    """A story's summary from indexed queries, not from all its events: each event's place
    in its story's date order (``event_summaries.date_order``) and ``story_terms``, how
    many of a story's events name each actor and are in each language.  Migration 6 fills
    them (actors tied in count now go by name), or migration 7 with the summaries."""
    from . import readmodel

    w(_types(w, f"ALTER TABLE event_summaries ADD COLUMN date_order {{REAL}} NOT NULL "
                f"DEFAULT {readmodel.UNDATED_ORDER:.0f}"))
    w.script("""
    CREATE INDEX event_summaries_story_order ON event_summaries(story_id, date_order, event_id, event_date);
    CREATE INDEX event_summaries_story_size ON event_summaries(story_id, article_count, event_id);
    CREATE TABLE story_terms (
        story_id TEXT NOT NULL, kind TEXT NOT NULL, term TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (story_id, kind, term)
    );
    CREATE INDEX story_terms_rank ON story_terms(story_id, kind, n)
    """)
    # filled by migration 6 (or 7, with the summaries), whose summaries this code writes


def _m6_story_events_by_index(w: Writer) -> None:
    """A story summary no longer stores its events in story order (``event_ids``, as long
    as the story: rewritten whenever one of its events changed): readers take them from
    the index on ``event_summaries(story_id, date_order, event_id)``.  An index on
    ``event_stories(story_id, seq)`` (in place of the one on ``story_id``) gives a story's
    first event without reading all its links.  Fills the columns of migration 5 and
    recomputes every story summary, where the store has summaries (migration 7 fills those
    of migration 3, where it has just added them)."""
    from . import readmodel

    w("ALTER TABLE story_summaries DROP COLUMN event_ids")
    w("CREATE INDEX event_stories_story_seq ON event_stories(story_id, seq)")
    w("DROP INDEX event_stories_story")   # the new index serves its lookups
    if not _needs_rebuild(w):
        readmodel.recount_stories(w)


def _needs_rebuild(w: Writer) -> bool:
    """Whether the store has clustered articles but no summaries (it was made before
    migration 3 added them)."""
    return bool(w("SELECT 1 FROM memberships LIMIT 1")) and not w("SELECT 1 FROM event_summaries LIMIT 1")


def _m7_totals_and_name_recency(w: Writer) -> None:
    """``read_totals``: the number of events, of their articles and of stories, kept by the
    writer, so an unfiltered listing does not count its table; ``article_names.seq`` and an
    index on ``(key, seq)``: the articles that most recently named an actor, without
    reading all that ever did; ``line_counts``: in how many articles each short line
    occurred (``LineStats``, boilerplate detection), so a restart cleans the next articles
    as the running pipeline would have (an older store's counts start empty: its raw pages
    are not cleaned again).  Fills the summaries of migration 3 where it has just added
    them (from the stored rows), then the totals."""
    from . import readmodel

    w(_types(w, "ALTER TABLE article_names ADD COLUMN seq {BIGINT} NOT NULL DEFAULT 0"))
    w("UPDATE article_names SET seq = (SELECT a.seq FROM articles a WHERE a.id = article_names.article_id)")
    w("CREATE INDEX article_names_recent ON article_names(key, seq)")
    w(_types(w, "CREATE TABLE read_totals (name TEXT PRIMARY KEY, n {BIGINT} NOT NULL)"))
    w(_types(w, "CREATE TABLE line_counts (key TEXT PRIMARY KEY, n {BIGINT} NOT NULL)"))
    if _needs_rebuild(w):
        readmodel.rebuild(w)
    readmodel.recount_totals(w)


#: Named migrations, in order; a store's schema version counts how many have run on it.
MIGRATIONS: list[tuple[str, Callable[[Writer], None]]] = [
    ("initial schema", _m1_initial),
    ("watch queue", _m2_watch),
    ("read models: event and story summaries, search text, name keys", _m3_read_models),
    ("clustering state: documents.dated_by, event_links", _m4_clustering_state),
    ("story summaries by indexed queries: event_summaries.date_order, story_terms", _m5_story_terms),
    ("a story's events by index: story_summaries.event_ids dropped, event_stories(story_id, seq)",
     _m6_story_events_by_index),
    ("listing totals, the most recent articles naming an actor, boilerplate line counts: "
     "read_totals, article_names.seq, line_counts", _m7_totals_and_name_recency),
]
SCHEMA_VERSION = len(MIGRATIONS)
