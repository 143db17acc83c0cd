"""The store's invariants, checked: what every committed state of a store satisfies.

The pipeline writes one article and everything derived from it in one transaction
(``add_article``) and repairs in another (``update_events``), so a crash at any point leaves
a store for which ``check_store`` finds nothing.  ``polystory check`` runs it.  The checks
are SQL that SQLite and PostgreSQL both understand, except for the engine's own integrity
check and the vectors' storage (a blob in SQLite, a pgvector ``vector`` in PostgreSQL).

>>> from polystory.store import SQLiteStore
>>> check_store(SQLiteStore(":memory:"))
[]
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

from ..errors import StoreError
from ..models import PartialDate
from .base import SQLStore
from .sqlite import SCHEMA_VERSION

__all__ = ["Problem", "check_store", "store_counts"]

#: Offending ids named in one problem's message (the count is always given).
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One broken invariant: ``check`` names it, ``message`` (one line) says what and where."""

    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


# (check, what is wrong, SQL returning one offending id per row)
_ROW_CHECKS: tuple[tuple[str, str, str], ...] = (
    ("status", "article(s) with a status other than clustered or rejected",
     "SELECT id || ' (''' || REPLACE(status, '''', '''''') || ''')' FROM articles "
     "WHERE status NOT IN ('clustered', 'rejected') ORDER BY seq"),
    ("document", "clustered article(s) without a document",
     "SELECT a.id FROM articles a WHERE a.status = 'clustered' "
     "AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = a.id) ORDER BY a.seq"),
    ("document", "document(s) of no stored article",
     "SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = d.id)"),
    ("embedding", "clustered article(s) without an embedding link",
     "SELECT a.id FROM articles a WHERE a.status = 'clustered' "
     "AND NOT EXISTS (SELECT 1 FROM doc_embeddings de WHERE de.id = a.id) ORDER BY a.seq"),
    ("embedding", "embedding link(s) to a missing vector",
     "SELECT de.id || ' -> ' || de.key FROM doc_embeddings de "
     "WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.key = de.key)"),
    ("embedding", "embedding link(s) of no stored article",
     "SELECT de.id FROM doc_embeddings de "
     "WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = de.id)"),
    ("membership", "clustered article(s) without a membership",
     "SELECT a.id FROM articles a WHERE a.status = 'clustered' "
     "AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.article_id = a.id) ORDER BY a.seq"),
    ("membership", "article(s) with more than one membership",
     "SELECT article_id FROM memberships GROUP BY article_id HAVING COUNT(*) > 1"),
    ("membership", "membership(s) of no stored article",
     "SELECT m.article_id FROM memberships m "
     "WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = m.article_id)"),
    ("membership", "rejected article(s) with a membership",
     "SELECT a.id FROM articles a JOIN memberships m ON m.article_id = a.id "
     "WHERE a.status = 'rejected' ORDER BY a.seq"),
    ("story", "event(s) with members but no story",
     "SELECT DISTINCT m.event_id FROM memberships m "
     "WHERE NOT EXISTS (SELECT 1 FROM event_stories s WHERE s.event_id = m.event_id)"),
    ("story", "event(s) with more than one story row",
     "SELECT event_id FROM event_stories GROUP BY event_id HAVING COUNT(*) > 1"),
    ("story", "story row(s) of event(s) without members",
     "SELECT s.event_id FROM event_stories s "
     "WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.event_id = s.event_id)"),
    # the read models (store/readmodel.py): what the listings read
    ("summary", "event(s) with members but no summary",
     "SELECT DISTINCT m.event_id FROM memberships m "
     "WHERE NOT EXISTS (SELECT 1 FROM event_summaries e WHERE e.event_id = m.event_id)"),
    ("summary", "event summary(ies) whose article count or first article is not the members'",
     "SELECT e.event_id FROM event_summaries e LEFT JOIN (SELECT m.event_id, COUNT(*) AS n, "
     "MIN(a.seq) AS first FROM memberships m JOIN articles a ON a.id = m.article_id "
     "GROUP BY m.event_id) g ON g.event_id = e.event_id "
     "WHERE g.n IS NULL OR g.n <> e.article_count OR g.first <> e.first_seq ORDER BY e.event_id"),
    ("summary", "event summary(ies) whose story is not the event's",
     "SELECT e.event_id FROM event_summaries e LEFT JOIN event_stories s ON s.event_id = e.event_id "
     "WHERE COALESCE(s.story_id, '') <> COALESCE(e.story_id, '') ORDER BY e.event_id"),
    ("summary", "story(ies) with summarized events but no summary",
     "SELECT DISTINCT s.story_id FROM event_stories s JOIN event_summaries e "
     "ON e.event_id = s.event_id WHERE NOT EXISTS "
     "(SELECT 1 FROM story_summaries t WHERE t.story_id = s.story_id)"),
    ("summary", "story summary(ies) whose event count is not the story's",
     "SELECT t.story_id FROM story_summaries t LEFT JOIN (SELECT s.story_id, COUNT(*) AS n "
     "FROM event_stories s JOIN event_summaries e ON e.event_id = s.event_id "
     "GROUP BY s.story_id) g ON g.story_id = t.story_id "
     "WHERE g.n IS NULL OR g.n <> t.event_count ORDER BY t.story_id"),
    ("summary", "story term count(s) of a story without a summary",
     "SELECT DISTINCT t.story_id FROM story_terms t "
     "WHERE NOT EXISTS (SELECT 1 FROM story_summaries s WHERE s.story_id = t.story_id)"),
    ("summary", "listing total(s) that differ from the summaries",
     "SELECT t.name FROM read_totals t WHERE t.n <> CASE t.name "
     "WHEN 'events' THEN (SELECT COUNT(*) FROM event_summaries) "
     "WHEN 'articles' THEN (SELECT COALESCE(SUM(article_count), 0) FROM event_summaries) "
     "WHEN 'stories' THEN (SELECT COUNT(*) FROM story_summaries) ELSE t.n END "
     "UNION ALL SELECT x.name FROM (SELECT 'events' AS name UNION ALL SELECT 'articles' "
     "UNION ALL SELECT 'stories') x WHERE NOT EXISTS "
     "(SELECT 1 FROM read_totals t WHERE t.name = x.name)"),
    ("search", "document(s) without search text",
     "SELECT d.id FROM documents d "
     "WHERE NOT EXISTS (SELECT 1 FROM article_search s WHERE s.article_id = d.id)"),
    ("search", "search text(s) of no document",
     "SELECT s.article_id FROM article_search s "
     "WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = s.article_id)"),
    ("search", "name key(s) of no document",
     "SELECT n.article_id || ' (' || n.key || ')' FROM article_names n "
     "WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = n.article_id)"),
)


def _known_dims() -> dict[str, int]:
    """Model name -> dimension of the registered encoders whose class fixes its dimension
    (one whose dimension is a constructor argument is checked like an unknown model)."""
    from ..embed import ENCODERS

    return {cls.name: cls.dim for cls in ENCODERS.values()
            if isinstance(getattr(cls, "dim", None), int)}


def _listing(ids: list[str]) -> str:
    shown = ", ".join(" ".join(str(i).split()) for i in ids[:MAX_EXAMPLES])
    return shown + (", ..." if len(ids) > MAX_EXAMPLES else "")


def _problem(check: str, what: str, ids: list[str]) -> Problem:
    return Problem(check, f"{len(ids)} {what}: {_listing(ids)}")


def check_store(store: SQLStore, *, dims: Mapping[str, int] | None = None) -> list[Problem]:
    """Every broken invariant of ``store``; an empty list when it is consistent.

    Checked: the engine's own check (SQLite's ``PRAGMA integrity_check``); the schema
    version is current; every article is clustered or rejected; every clustered article
    has a document, a link to a stored vector and exactly one event membership; rejected
    articles have none; no document, link or membership without its article; every event
    with members has exactly one story row and no story row names an event without
    members; the read models agree with the rows they summarize (every event with members
    has a summary with its article count, first article and story, every story with
    summarized events a summary with their count, every document its search text and no
    search text or name key is left of a missing document); the documents' dates parse and their JSON fields load; each vector has its
    model's dimension (as float32 bytes in SQLite; ``dims``: model name -> dimension, the
    registered encoders by default; vectors of other models must at least agree in
    length among themselves).
    """
    problems: list[Problem] = []
    try:
        messages = store.integrity_check()
    except StoreError as e:
        return [Problem("integrity", str(e))]
    if messages:
        problems.append(Problem("integrity", f"integrity_check: {'; '.join(messages[:3])}"
                                + (f" (+{len(messages) - 3} more)" if len(messages) > 3 else "")))
    version = store.schema_version()
    if version != SCHEMA_VERSION:
        hint = ("opening it with polystory upgrades it" if version < SCHEMA_VERSION
                else "written by a newer polystory")
        problems.append(Problem("schema", f"schema version {version}, this polystory expects "
                                          f"{SCHEMA_VERSION} ({hint})"))
        return problems  # the tables are not the ones the checks below know
    try:
        with store.snapshot():   # one state, even while an ingest writes
            for check, what, sql in _ROW_CHECKS:
                ids = [r[0] for r in store._q(sql)]
                if ids:
                    problems.append(_problem(check, what, ids))
            problems.extend(_check_documents(store))
            problems.extend(_check_vectors(store, _known_dims() if dims is None else dims))
    except StoreError as e:
        problems.append(Problem("schema", f"a check could not run: {e}"))
    return problems


def _check_documents(store: SQLStore) -> list[Problem]:
    bad_dates: list[str] = []
    bad_fields: list[str] = []
    for doc_id, published, event_date, *fields in store._q(
            "SELECT d.id, d.published, d.event_date, d.entities, d.entity_names, d.numbers, "
            "d.recalls FROM documents d LEFT JOIN articles a ON a.id = d.id "
            "ORDER BY COALESCE(a.seq, 0), d.id"):
        for name, value in (("published", published), ("event_date", event_date)):
            if value is None:
                continue
            try:
                PartialDate.parse(value)
            except (ValueError, TypeError, AttributeError):
                bad_dates.append(f"{doc_id} ({name} {value!r})")
        try:
            if not all(isinstance(json.loads(f), list) for f in fields):
                raise ValueError("not a list")
        except (ValueError, TypeError):
            bad_fields.append(doc_id)
    problems = []
    if bad_dates:
        problems.append(_problem("date", "document date(s) that do not parse", bad_dates))
    if bad_fields:
        problems.append(_problem("document", "document(s) whose names, numbers or recalls "
                                             "are not JSON lists", bad_fields))
    return problems


def _check_vectors(store: SQLStore, dims: Mapping[str, int]) -> list[Problem]:
    if store.dialect == "postgres":
        return _check_pgvectors(store, dims)
    rows = store._q("SELECT model, length(vector), typeof(vector), COUNT(*), MIN(key) "
                    "FROM embeddings GROUP BY model, length(vector), typeof(vector) "
                    "ORDER BY model, COUNT(*) DESC")
    problems = []
    usual: dict[str, int] = {}
    for model, length, kind, count, key in rows:
        if model in dims:
            expected = dims[model] * 4
        else:  # unknown model: its most common length, if that is whole float32s
            expected = usual.setdefault(model, length if kind == "blob" and length
                                        and length % 4 == 0 else -1)
        if kind != "blob" or length != expected:
            want = (f"{expected} ({expected // 4} float32)" if expected > 0
                    else "a whole number of float32")
            problems.append(Problem("embedding", f"{count} vector(s) of model {model!r} are "
                                                 f"{length} bytes of {kind}, not {want}: e.g. {key}"))
    return problems


def _check_pgvectors(store: SQLStore, dims: Mapping[str, int]) -> list[Problem]:
    """The vectors of a PostgreSQL store: a ``vector`` column, so only the dimension can be
    wrong (against ``dims``, or for other models against the model's most common one)."""
    rows = store._q("SELECT model, vector_dims(vector), COUNT(*), MIN(key) FROM embeddings "
                    "GROUP BY model, vector_dims(vector) ORDER BY model, COUNT(*) DESC")
    problems = []
    usual: dict[str, int] = {}
    for model, n, count, key in rows:
        expected = dims[model] if model in dims else usual.setdefault(model, n)
        if n != expected:
            problems.append(Problem("embedding", f"{count} vector(s) of model {model!r} have "
                                                 f"{n} dimensions, not {expected}: e.g. {key}"))
    return problems


def store_counts(store: SQLStore) -> dict[str, int]:
    """How many articles (clustered, rejected), events, stories and vectors ``store`` holds."""
    (articles, clustered, rejected), = store._q(
        "SELECT COUNT(*), COUNT(CASE WHEN status = 'clustered' THEN 1 END), "
        "COUNT(CASE WHEN status = 'rejected' THEN 1 END) FROM articles")
    return {
        "articles": articles, "clustered": clustered, "rejected": rejected,
        "events": store._q("SELECT COUNT(DISTINCT event_id) FROM memberships")[0][0],
        "stories": store._q("SELECT COUNT(DISTINCT story_id) FROM event_stories")[0][0],
        "vectors": store._q("SELECT COUNT(*) FROM embeddings")[0][0],
    }
