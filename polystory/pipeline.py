"""The pipeline: ingest -> clean -> enrich -> embed -> cluster -> stories -> store.

``Pipeline`` wires the stages together over one store.  Opening a pipeline on an existing
store replays what is stored (documents, vectors, events, stories) into the online
models, so a second run continues the same stream.

>>> from polystory import Pipeline, Article
>>> p = Pipeline(db=":memory:")
>>> p.add(Article(id="a1", text="Short.")).status
'rejected'
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numpy as np

from .clean import LineStats, clean, content_hash
from .cluster import Item, OnlineEventClusterer, PairScorer
from .config import Settings, default_db_path
from .embed import Encoder, embed_input, embedding_key, get_encoder
from .enrich import enrich, with_terms
from .errors import ConfigError
from .models import Article, Document, Event, Story
from .stories import StoryLinker, load_link_model
from .store import StoredArticle, open_store

if TYPE_CHECKING:
    from .stories.timeline import TimelineEntry

__all__ = ["Pipeline", "Outcome", "prepare", "embed_texts", "future_limit"]

log = logging.getLogger(__name__)

#: Articles embedded together (the encoder is faster on batches).
BATCH = 16
#: Publication dates later than this many days after ``now()`` are ignored (time zones and
#: embargoed releases put honest dates a little ahead; further ahead they are wrong).
FUTURE_DAYS = 2


def future_limit(now: Callable[[], dt.date] | None) -> dt.date | None:
    """The latest publication date believed when the clock says ``now()``; None without a clock."""
    if now is None:
        return None
    today = now()
    today = today.date() if isinstance(today, dt.datetime) else today
    return today + dt.timedelta(days=FUTURE_DAYS)


def _in_memory(doc: Document) -> Document:
    """The document as the clusterer holds it: all but the text, which only the store keeps
    (scoring reads the names, numbers, dates and vectors; the text is most of the memory)."""
    return dataclasses.replace(doc, text="")


def prepare(article: Article, settings: Settings, line_stats: LineStats | None = None, *,
            latest: dt.date | None = None) -> Document | None:
    """Clean and enrich one article: the ``Document`` the pipeline embeds and clusters, or
    None when too little text is left.  ``line_stats`` (boilerplate lines seen in earlier
    articles) learns this article; a publication date after ``latest`` is dropped."""
    doc = clean(article, settings, line_stats)
    if doc is None:
        return None
    if latest is not None and doc.published is not None and doc.published.first_day() > latest:
        log.warning("%s: published date %s is more than %d days in the future; ignored",
                    article.origin or article.id, doc.published, FUTURE_DAYS)
        doc = dataclasses.replace(doc, published=None)
    return enrich(doc, settings)


def embed_texts(doc: Document, settings: Settings) -> list[str]:
    """The texts of ``doc`` that get vectors: the encoder input, then each recall sentence."""
    return [embed_input(doc, settings.embed_chars)] + [r.sentence for r in doc.recalls]


@dataclass(frozen=True)
class Outcome:
    """What became of one article: ``new_event`` (it is the first report of its event, after
    the repairs of its batch), ``joined_event``, ``duplicate`` or ``rejected``."""

    article_id: str
    status: str
    event_id: str | None = None
    story_id: str | None = None
    reason: str = ""
    duplicate_of: str | None = None


class Pipeline:
    """The whole polystory pipeline over one store.

    Parameters
    ----------
    settings
        A ``Settings``; defaults if omitted.
    db
        Store path (overrides ``settings.db``); ``':memory:'`` for a throw-away store.
    encoder
        Any ``Encoder``; by default the one named in ``settings.encoder``.
    scorer
        The pair similarity (e.g. with another fitted combiner); by default the shipped one.
    now
        A clock (``datetime.date.today``, say), called once per batch: publication dates
        more than ``FUTURE_DAYS`` after it are ignored with a warning.  The library never
        reads the clock itself; without ``now`` no date is in the future.
    restore
        Replay the store's window (the events that grew most recently) into memory now, so
        the stream continues as if there had been no restart; ``False``: at the first write
        instead (``restore()``), so a process that may only read starts at once and never
        replays (``polystory serve``).  The reads never need it: they read the store.
    """

    def __init__(self, settings: Settings | None = None, *, db: str | None = None,
                 encoder: Encoder | None = None, scorer: PairScorer | None = None,
                 now: Callable[[], dt.date] | None = None, restore: bool = True) -> None:
        self.settings = settings or Settings()
        self.now = now
        path = db or self.settings.db or str(default_db_path())
        self.store = open_store(path)
        self.encoder = encoder or get_encoder(self.settings.encoder)
        self.line_stats = LineStats()
        self.scorer = scorer or PairScorer(language_prior=self.settings.language_prior,
                                           combiner=getattr(self.encoder, "combiner", None),
                                           language_means=getattr(self.encoder, "language_means", None))
        self.clusterer = OnlineEventClusterer(threshold=self.settings.event_threshold
                                              or self.scorer.threshold("event"),
                                              candidates=self.settings.candidates,
                                              max_active=self.settings.max_active,
                                              scorer=self.scorer)
        self.linker = StoryLinker(threshold=self.settings.story_threshold or None, scorer=self.scorer,
                                  model=load_link_model(self.encoder.name),
                                  neighbours=self.clusterer.neighbour_events,
                                  arrival=self.clusterer.arrival)
        self._check_encoder()
        self._restore_lock = threading.Lock()
        #: Whether the store's window has been replayed into memory (``restore``).
        self.restored_ = False
        if restore:
            self.restore()

    def restore(self) -> None:
        """Replay the store's window into the clusterer, the linker and the scorer's
        statistics, once (later calls return at once); every write calls it first."""
        with self._restore_lock:
            if not self.restored_:
                self._restore()
                self.restored_ = True

    def _restore(self) -> None:
        self.line_stats.learn_counts(self.store.line_counts())
        n = 0
        # a bounded pipeline holds whole events, the ones that grew most recently (as the
        # live run's window does); evicting while replaying could bring an evicted event
        # back with only its later members, a part of it that repair would then empty
        bound = self.settings.max_active
        keep = set(self.store.recent_events(bound)) if bound is not None else None
        for doc, vec, event_id in self.store.replay(self.encoder.name):
            n += 1
            if keep is not None and event_id not in keep:
                # out of memory, but part of the stream's statistics (IDF, language means)
                self.scorer.learn_one(Item(with_terms(doc), vec))
                continue
            recalls = [self.store.get_embedding(embedding_key(self.encoder.name, r.sentence))
                       for r in doc.recalls]
            rv = np.stack(recalls) if recalls and all(v is not None for v in recalls) else None
            self.clusterer.restore_one(Item(_in_memory(with_terms(doc)), vec, rv), event_id)
        self.clusterer.restore_links(self.store.event_links())
        self.clusterer.retire()
        for event_id, story_id in self.store.story_links().items():
            if event_id in self.clusterer.events_:
                self.linker.restore_event(event_id, story_id, self.clusterer.events_[event_id])
        if n:
            log.info("continuing a stream of %d articles from %s", n, self.store.path)

    def _check_encoder(self) -> None:
        """Refuse a store whose articles were placed with another encoder's vectors (two
        vector spaces cannot be compared; replaying only this encoder's would drop the rest)."""
        encoders = getattr(self.store, "encoders", None)
        other = [m for m in (encoders() if encoders else []) if m != self.encoder.name]
        if other:
            self.store.close()
            raise ConfigError(
                f"the store {self.store.path} holds vectors of encoder {', '.join(other)}; this "
                f"pipeline's encoder is {self.encoder.name}: use the same encoder setting, or a "
                "new store for the new encoder")

    # --- adding articles ----------------------------------------------------------
    def add(self, article: Article) -> Outcome:
        """Add one article; see ``add_many``."""
        return self.add_many([article])[0]

    def add_many(self, articles: Iterable[Article],
                 progress: Callable[[int], None] | None = None) -> list[Outcome]:
        """Add articles in order; returns one ``Outcome`` per article.

        ``progress`` is called with the number of articles done after each batch.
        """
        return list(self.iter_add(articles, progress))

    def iter_add(self, articles: Iterable[Article],
                 progress: Callable[[int], None] | None = None) -> Iterator[Outcome]:
        batch: list[Article] = []
        for art in articles:
            batch.append(art)
            if len(batch) >= BATCH:
                yield from self._add_batch(batch)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            yield from self._add_batch(batch)
            if progress:
                progress(len(batch))

    def _add_batch(self, batch: list[Article]) -> list[Outcome]:
        self.restore()
        prepared: list[tuple[Article, str, Document | None, str, tuple[str, ...]]] = []
        outcomes: dict[int, Outcome] = {}
        hashes: dict[str, str] = {}
        latest = future_limit(self.now)
        for i, art in enumerate(batch):
            h = content_hash(art.text)
            dup = self._duplicate(art, h, hashes)
            if dup is not None:
                outcomes[i] = dup
                continue
            hashes[h] = art.id
            self.line_stats.last_keys_ = ()
            doc = prepare(art, self.settings, self.line_stats, latest=latest)
            reason = "" if doc else f"less than {self.settings.min_text_chars} characters of text after cleaning"
            # the short lines it counted are stored with it (a restart reads the counts back)
            prepared.append((art, h, doc, reason, self.line_stats.last_keys_))
        vectors = self._embed([p[2] for p in prepared if p[2] is not None])
        placed = iter([self._place(*p, vectors) for p in prepared])
        results = [outcomes[i] if i in outcomes else next(placed) for i in range(len(batch))]
        return self._repair(results)

    def _repair(self, results: list[Outcome]) -> list[Outcome]:
        """Repair events, then stories, around what this batch changed; persist the moves."""
        events = self.clusterer.events_
        repair = self.clusterer.repair()
        moved = repair.moved
        self.linker.forget(repair.emptied)
        relinked: dict[str, str] = {}
        # the events that grew or shrank are summarised again (a new event joins a story)
        for eid in sorted(set(moved.values()) | set(repair.shrunk)):
            relinked.update(self.linker.learn_event(eid, events[eid]))
        relinked.update(self.linker.relink())
        if moved or relinked or repair.emptied or repair.dated or repair.links:
            self.store.update_events(moved, relinked, list(repair.emptied), repair.dated,
                                     repair.links)
        # bounded memory: the events that grew least recently leave memory (not the store)
        self.linker.forget(self.clusterer.retire())
        if moved or relinked:
            story = self.linker.story_of_
            # an article "opened" its event if it is that event's first report now: a moved
            # one, and one that stayed while the event's earlier reports moved away
            results = [self._reopened(dataclasses.replace(o, event_id=moved.get(o.article_id, o.event_id)))
                       if o.status in ("new_event", "joined_event") else o for o in results]
            results = [dataclasses.replace(o, story_id=story.get(o.event_id, o.story_id))
                       if o.event_id else o for o in results]
        return results

    def _reopened(self, o: Outcome) -> Outcome:
        """``o`` with the status its event's membership gives it now."""
        if o.event_id not in self.clusterer.events_:   # retired: as it was
            return o
        first = self.clusterer.opened_by(o.event_id) == o.article_id
        return dataclasses.replace(o, status="new_event" if first else "joined_event")

    def _duplicate(self, art: Article, h: str, in_batch: dict[str, str]) -> Outcome | None:
        stored = self.store.find_article(art.id)
        if stored is not None:
            if stored[0] == h:
                return self._outcome_of(art.id, "duplicate", "already stored")
            return Outcome(art.id, "rejected",
                           reason=f"id {art.id!r} is already stored with different content")
        if h in in_batch:
            return Outcome(art.id, "duplicate", reason=f"same content as {in_batch[h]!r}",
                           duplicate_of=in_batch[h])
        original = self.store.find_hash(h)
        if original is not None:
            o = self._outcome_of(original, "duplicate", f"same content as {original!r}")
            return Outcome(art.id, o.status, o.event_id, o.story_id, o.reason, original)
        return None

    def _outcome_of(self, article_id: str, status: str, reason: str) -> Outcome:
        s = self.store.article(article_id)
        return Outcome(article_id, status, s.event_id, s.story_id, reason)

    def _embed(self, docs: list[Document]) -> dict[str, list[tuple[str, np.ndarray]]]:
        """Per document id: (cache key, vector) of its encoder input, then of each recall
        sentence; from the store's cache where it has them, else from the encoder."""
        keys: dict[str, list[tuple[str, str]]] = {}  # doc id -> [(cache key, text)]
        for d in docs:
            ts = embed_texts(d, self.settings)
            keys[d.id] = [(embedding_key(self.encoder.name, t), t) for t in ts]
        found: dict[str, np.ndarray] = {}
        todo: dict[str, str] = {}
        for pairs in keys.values():
            for key, t in pairs:
                if key in found or key in todo:
                    continue
                vec = self.store.get_embedding(key)
                if vec is not None:
                    found[key] = vec
                else:
                    todo[key] = t
        if todo:
            for key, vec in zip(todo, self.encoder.encode(list(todo.values()))):
                found[key] = vec
        return {doc_id: [(k, found[k]) for k, _ in pairs] for doc_id, pairs in keys.items()}

    def _place(self, art: Article, h: str, doc: Document | None, reason: str,
               line_keys: tuple[str, ...], vectors: dict[str, list[tuple[str, np.ndarray]]]) -> Outcome:
        if doc is None:
            self.store.add_article(art, None, status="rejected", reason=reason, content_hash=h,
                                   line_keys=line_keys)
            return Outcome(art.id, "rejected", reason=reason)
        (key, vec), *recalls = vectors[doc.id]
        item = Item(_in_memory(doc), vec, np.stack([v for _, v in recalls]) if recalls else None)
        a = self.clusterer.learn_one(item)
        members = self.clusterer.events_[a.event_id]
        links = self.linker.learn_event(a.event_id, members)
        self.store.add_article(art, doc, status="clustered", content_hash=h,
                               embedding=(key, self.encoder.name, vec),
                               extra_embeddings=[(k, self.encoder.name, v) for k, v in recalls],
                               event_id=a.event_id, score=a.score, evidence=a.evidence,
                               story_links=links,
                               event_links=[(a.event_id, e) for e in a.candidates if e != a.event_id],
                               line_keys=line_keys)
        return Outcome(art.id, "new_event" if a.new else "joined_event", a.event_id,
                       self.linker.story_of_.get(a.event_id))

    # --- reading --------------------------------------------------------------------
    def placement(self, outcome: Outcome) -> tuple[str | None, str | None]:
        """The current (event id, story id) of an added article; repairs may have moved it
        since its ``Outcome`` was made."""
        aid = outcome.duplicate_of or outcome.article_id
        if self.store.find_article(aid) is None:
            return None, None
        s = self.store.article(aid)
        return s.event_id, s.story_id

    def event(self, event_id: str) -> tuple[Event, list[StoredArticle]]:
        """An event (its stored summary) and its stored articles (raises ``NotFound``)."""
        return self.store.event(event_id)

    # Listings read the summaries the store keeps (``store/readmodel.py``), never the
    # clusterer; each runs in one store snapshot, so an ingest running meanwhile (a server,
    # another process) never shows them half an update.
    def events(self, *, story_id: str | None = None) -> list[Event]:
        """All events (or one story's), in order of their first article (or in the story)."""
        with self.store.snapshot():
            return list(self.store.iter_events(story_id=story_id))

    def story(self, story_id: str) -> Story:
        """A story with its events in date order (raises ``NotFound``)."""
        return self.store.story_summary(story_id)["story"]

    def stories(self) -> list[Story]:
        """All stories, largest first."""
        with self.store.snapshot():
            return [s["story"] for s in self.store.iter_stories()]

    def timeline(self, story_id: str, *, dates: int | None = None,
                 language: str | None = None) -> list["TimelineEntry"]:
        """The story's timeline: its most salient dates, each with a short summary and its
        articles and events (``polystory.stories.timeline``).  Raises ``NotFound``."""
        from .stories.timeline import story_timeline

        return story_timeline(self.store, story_id, dates=dates, language=language)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
