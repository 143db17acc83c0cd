"""Online event clustering: each arriving article joins its best event or opens a new one.

For an arriving article the clusterer retrieves its nearest articles from an approximate
nearest-neighbour index (usearch, cosine), collects their events as candidates, and
scores each candidate by average linkage: the mean "same event" probability between the
article and the event's members (the most recent ``max_members`` of them).  The article
joins the best event if that mean reaches ``threshold``; otherwise it opens a new event.
The same input order always gives the same events.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict

import numpy as np

from ..errors import ConfigError
from ..models import PartialDate
from ..summary import event_date_of
from .backref import RecallIndex, VectorTable
from .base import Assignment, Clusterer, Repair
from .neighbourhood import Neighbourhoods
from .linkage import group_average_linkage
from .similarity import DATE_CONFLICT_FACTOR, Item, PairScorer, date_conflict, day_bounds

__all__ = ["OnlineEventClusterer"]


#: An event scoring at least this fraction of the threshold is a neighbour: repair
#: re-clusters it together with the article's event.
NEAR_FRACTION = 0.5


def _new_id(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha1(seed.encode("utf-8")).hexdigest()[:12]


class OnlineEventClusterer(Clusterer):
    """Average-linkage online clustering over ANN candidates.

    Parameters
    ----------
    threshold
        Mean "same event" probability needed to join an event.
    candidates
        Nearest articles retrieved per arriving article (their events are scored).
    max_members
        Members of an event compared with an arriving article (the most recent ones).
    max_repair
        Most articles re-clustered by one ``repair`` call (bounds its cost).
    max_active
        Most articles kept in memory (``None``: all).  Beyond it ``retire`` forgets the
        events that grew least recently, so memory and search stay bounded however long
        the stream; an article that arrives later for a retired event opens a new event.
    scorer
        The pair similarity; a fresh ``PairScorer`` by default.

    Attributes
    ----------
    events_ : ordered dict of event id -> list of member ``Item``, from the event that
        grew least recently to the one that grew last
    assignments_ : dict of article id -> event id (of the articles in memory)
    inferred_dates_ : dict of article id -> (date, recalling article id, similarity) for
        articles dated by another report's back-reference

    Examples
    --------
    >>> import numpy as np
    >>> from polystory.models import Document, PartialDate
    >>> def item(i, month, day, vec):
    ...     doc = Document(id=str(i), title="", text="", language="en",
    ...                    event_date=PartialDate(2023, month, day), entities=("lavro", "blink"))
    ...     v = np.array(vec, dtype=np.float32)
    ...     return Item(doc, np.pad(v / np.linalg.norm(v), (0, 381)))
    >>> c = OnlineEventClusterer()
    >>> [c.learn_one(x).new for x in [item(1, 3, 2, [1, 0, 0]), item(2, 3, 2, [1, .1, 0]),
    ...                               item(3, 7, 20, [0, 0, 1])]]
    [True, False, True]
    """

    def __init__(self, *, threshold: float = 0.5, candidates: int = 20, max_members: int = 12,
                 max_repair: int = 300, max_active: int | None = None,
                 scorer: PairScorer | None = None) -> None:
        self.threshold = threshold
        self.max_repair = max_repair
        self.max_active = max_active
        self.candidates = candidates
        self.max_members = max_members
        self.scorer = scorer
        self.events_: OrderedDict[str, list[Item]] = OrderedDict()
        self.assignments_: dict[str, str] = {}
        self._scorer = scorer or PairScorer()
        self._index = None
        self._keys: dict[int, str] = {}     # ANN key -> article id
        self._key_of: dict[str, int] = {}   # article id -> ANN key
        self._next_key = 0
        self._validated = False
        self._dates: dict[str, PartialDate | None] = {}
        self._dirty: set[str] = set()
        self._dirty_now: set[str] = set()
        # the neighbour relation between events (symmetric), and the links the current
        # repair made (the store keeps every link, so a restart has the same relation)
        self._near: dict[str, set[str]] = {}
        self._links_made: set[tuple[str, str]] = set()
        self.inferred_dates_: dict[str, tuple[PartialDate, str, float]] = {}
        # back-reference dating, incremental: the recall sentences by event (refreshed when
        # an event's members or date change) and the undated articles, new ones apart
        self._recalls = RecallIndex()
        self._recall_stale: set[str] = set()
        self._undated = VectorTable()                   # language-centred vectors
        self._undated_weekday: dict[str, int | None] = {}
        self._undated_new: set[str] = set()
        # each article's nearest articles in memory: the local background of local_cos
        self._local = Neighbourhoods()

    def _validate(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ConfigError(f"threshold must be in (0, 1]; got {self.threshold}")
        if self.candidates < 1 or self.max_members < 1:
            raise ConfigError("candidates and max_members must be >= 1")
        if self.max_active is not None and self.max_active < 1:
            raise ConfigError(f"max_active must be >= 1 or None; got {self.max_active}")
        self._validated = True

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_index"] = None  # the ANN index is native; it is rebuilt from the vectors
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self._keys:
            vecs = {it.doc.id: it.vec for members in self.events_.values() for it in members}
            index = self._ann(len(next(iter(vecs.values()))))
            for key, aid in self._keys.items():
                index.add(key, vecs[aid].astype(np.float32))

    # --- candidate retrieval ----------------------------------------------------
    def _ann(self, dim: int):
        if self._index is None:
            from usearch.index import Index

            self._index = Index(ndim=dim, metric="cos", dtype="f32")
        return self._index

    def _candidate_events(self, item: Item) -> list[str]:
        if not self._keys:
            return []
        index = self._ann(item.vec.shape[0])
        k = min(len(self._keys), self.candidates)
        matches = index.search(item.vec.astype(np.float32), k, exact=len(self._keys) <= 2048)
        seen: dict[str, None] = {}
        for key in matches.keys:
            seen.setdefault(self.assignments_[self._keys[int(key)]], None)
        return list(seen)

    # --- scoring ---------------------------------------------------------------
    def score_event(self, item: Item, event_id: str) -> tuple[float, dict]:
        """Mean "same event" probability of ``item`` against the event's members, and why."""
        return self._score_events(item, [event_id])[0]

    def _score_events(self, item: Item, event_ids: list[str]) -> list[tuple[float, dict]]:
        """``score_event`` for several events, their members scored in one matrix."""
        if not event_ids:
            return []
        members, dates, spans = [], [], []
        for eid in event_ids:
            ms = self.events_[eid][-self.max_members:]
            # an undated member stands in its event's date for the date conflict: the
            # other reports date it (its features stay its own, as in repair)
            event_date = self._event_date(eid)
            spans.append((len(members), len(members) + len(ms)))
            members += ms
            dates += [self._stated_date(m) or event_date for m in ms]
        sc = self._scorer
        local = self._local.means([item.doc.id] + [m.doc.id for m in members], [item.vec])
        f = sc.feature_matrix([item], members, ([sc.centered(item)], [sc.centered(m) for m in members]),
                              None, (local[:1], local[1:]))
        probs = sc.event_proba(f, date_conflict(*day_bounds([item.doc.event_date]), *day_bounds(dates)))[0]
        out = []
        for lo, hi in spans:
            k = lo + int(np.argmax(probs[lo:hi]))
            m = members[k]
            shared = sorted(set(item.doc.entities) & set(m.doc.entities))
            evidence = {"closest": m.doc.id, "similarity": round(float(f["cos_centered"][0, k]), 4),
                        "probability": round(float(probs[k]), 4), "shared_names": shared[:10],
                        "date_agreement": None if not f["date_known"][0, k]
                        else round(float(f["date_close"][0, k]), 4)}
            out.append((float(np.mean(probs[lo:hi])), evidence))
        return out

    def _event_date(self, event_id: str) -> PartialDate | None:
        if event_id not in self._dates:
            self._dates[event_id] = event_date_of([m.doc.event_date for m in self.events_[event_id]])
        return self._dates[event_id]

    def _stated_date(self, item: Item) -> PartialDate | None:
        """The date that may keep a report's group apart from another: its own event date,
        not one inferred from another report's recall (that dates an event for the reader
        and feeds the pair features, but is too weak to keep two groups apart: ECB+'s
        undated reports, dated by the look-alike event's recalls, split their event)."""
        return None if item.doc.dated_by else item.doc.event_date

    def predict_one(self, item: Item) -> Assignment:
        if not self._validated:
            self._validate()
        best_id, best_score, best_ev = None, 0.0, {}
        candidates = []  # events close enough to matter for repair and story linking
        eids = self._candidate_events(item)
        for eid, (score, ev) in zip(eids, self._score_events(item, eids)):
            if score >= self.threshold * NEAR_FRACTION:
                candidates.append(eid)
            if score > best_score:
                best_id, best_score, best_ev = eid, score, ev
        if best_id is not None and best_score >= self.threshold:
            return Assignment(best_id, False, best_score, best_ev, tuple(candidates))
        return Assignment(_new_id("E", item.doc.id), True, best_score, best_ev, tuple(candidates))

    def learn_one(self, item: Item) -> Assignment:
        if item.doc.id in self.assignments_:  # already placed: idempotent
            eid = self.assignments_[item.doc.id]
            return Assignment(eid, False, 1.0, {"duplicate": True})
        a = self.predict_one(item)
        self._add(item, a.event_id)
        self._dirty.add(a.event_id)
        self._link(a.event_id, a.candidates)
        return a

    def _link(self, event_id: str, others) -> list[tuple[str, str]]:
        """Record ``others`` as neighbours of ``event_id`` (and it of them: the relation is
        symmetric, so it does not depend on which of two events arrived first); returns
        the links, each as a sorted pair."""
        mine = self._near.setdefault(event_id, set())
        made = []
        for e in others:
            if e != event_id:
                mine.add(e)
                self._near.setdefault(e, set()).add(event_id)
                made.append((min(e, event_id), max(e, event_id)))
        return made

    def neighbour_events(self, event_id: str) -> list[str]:
        """The events in memory linked to ``event_id``: an article of one found the other
        close on arrival (``Assignment.candidates``), or repair moved an article of a
        linked event into it."""
        return sorted(e for e in self._near.get(event_id, ()) if e in self.events_)

    def restore_links(self, links) -> None:
        """Put back the stored neighbour relation (pairs of event ids) after a replay, for
        the events in memory."""
        for a, b in links:
            if a in self.events_ and b in self.events_:
                self._link(a, (b,))

    # --- repair -------------------------------------------------------------------
    def repair(self) -> Repair:
        """Re-cluster the neighbourhood of the events changed since the last repair.

        Online decisions are made on thin evidence (an event of one article, an undated
        report that bridges two happenings).  Repair takes the changed events and the
        events near them, and re-clusters their articles by average linkage of the same
        probabilities at the same threshold, which can merge and split events.  Event
        ids stay stable: a re-formed event keeps the id most of its articles had.
        Returns what moved (``{article id: new event id}``), the events emptied, and the
        articles dated by back-reference.
        """
        self._initial: dict[str, str] = {}   # event of each re-clustered article before repair
        moved = self._recluster()
        # events that are still undated may be dated by other reports' back-references;
        # a new date is new evidence, so their neighbourhood is re-clustered once more
        dated = self._date_undated()
        if dated:
            moved.update(self._recluster())
        moved = {aid: eid for aid, eid in moved.items() if eid != self._initial.get(aid)}
        left = {self._initial[aid] for aid in moved}
        emptied = tuple(sorted(left - set(self.events_)))
        links = tuple(sorted(self._links_made))
        self._links_made.clear()
        return Repair(moved, emptied, tuple(sorted(left & set(self.events_))), dated, links)

    def _recluster(self) -> dict[str, str]:
        """Re-cluster the changed events with everything connected to them.

        The neighbourhood is the closure of the changed events under the (symmetric)
        neighbour relation, taken breadth-first up to ``max_repair`` articles.  A closed
        neighbourhood makes the result independent of how the stream was cut into
        batches: whatever was repaired before, the last repair of a connected group of
        events re-clusters all of it, so one run, chunks and single articles end alike."""
        if not self._dirty:
            return {}
        self._dirty_now = set(self._dirty)
        self._dirty.clear()
        order = sorted(e for e in self._dirty_now if e in self.events_)
        seen, size, k = set(order), 0, 0
        chosen: list[str] = []
        while k < len(order):
            e = order[k]
            k += 1
            n = len(self.events_[e])
            if chosen and size + n > self.max_repair:
                continue
            chosen.append(e)
            size += n
            for nb in self.neighbour_events(e):
                if nb not in seen:
                    seen.add(nb)
                    order.append(nb)
        items = [it for e in chosen for it in self.events_[e]]
        if len(items) < 2:
            return {}
        for it in items:
            self._initial.setdefault(it.doc.id, self.assignments_[it.doc.id])
        labels = self._average_linkage(items)
        return self._reassign(items, labels)

    def _date_undated(self) -> dict[str, tuple[PartialDate, str]]:
        """Date undated articles from other events' recall sentences (``backref``).

        New undated articles are compared with every sentence; the others only with the
        sentences of events that changed since the last call (the rest did not date them).
        """
        rows: list[int] = []
        for eid in sorted(self._recall_stale):
            alive = eid in self.events_
            rows += self._recalls.refresh(eid, self.events_.get(eid),
                                          self._event_date(eid) if alive else None, self._scorer)
        self._recall_stale.clear()
        fresh = sorted(aid for aid in self._undated_new if aid in self._undated)
        older = [aid for aid in self._undated if aid not in self._undated_new] if rows else []
        self._undated_new.clear()
        found = {}
        for ids, only in ((fresh, None), (older, rows)):
            if ids:
                found.update(self._recalls.match(ids, [self._undated_weekday[a] for a in ids],
                                                 self._undated.matrix(ids), only))
        for aid, (date, source, sim) in found.items():
            eid = self.assignments_[aid]
            doc = dataclasses.replace(self._item(aid).doc, event_date=date, dated_by=source)
            self.events_[eid] = [Item(doc, m.vec, m.recall_vecs) if m.doc.id == aid else m
                                 for m in self.events_[eid]]
            self.inferred_dates_[aid] = (date, source, round(sim, 4))
            self._forget_undated(aid)
            self._touch(eid)
            self._dirty.add(eid)
        return {aid: (date, source) for aid, (date, source, _) in found.items()}

    def _forget_undated(self, article_id: str) -> None:
        self._undated.discard(article_id)
        self._undated_weekday.pop(article_id, None)
        self._undated_new.discard(article_id)

    def _touch(self, event_id: str) -> None:
        """The event's members or date changed: forget its cached date and recall sentences."""
        self._dates.pop(event_id, None)
        self._recall_stale.add(event_id)

    def _item(self, article_id: str) -> Item:
        return next(m for m in self.events_[self.assignments_[article_id]] if m.doc.id == article_id)

    def _average_linkage(self, items: list[Item]) -> np.ndarray:
        """Cluster labels of ``items`` by average linkage at the threshold, an undated report
        taking its group's date for the date conflict (``linkage``)."""
        sc = self._scorer
        centered = [sc.centered(it) for it in items]
        local = self._local.means([it.doc.id for it in items])
        proba = sc.event_proba(sc.feature_matrix(items, items, (centered, centered), None, (local, local)),
                               conflict=False)
        return group_average_linkage(proba, [self._stated_date(it) for it in items], self.threshold,
                                     date_conflict, DATE_CONFLICT_FACTOR)

    def _reassign(self, items: list[Item], labels: np.ndarray) -> dict[str, str]:
        groups: dict[int, list[Item]] = {}
        for it, lab in zip(items, labels):
            groups.setdefault(int(lab), []).append(it)
        taken: set[str] = set()
        target: dict[str, str] = {}
        for members in sorted(groups.values(), key=lambda g: (-len(g), g[0].doc.id)):
            votes: dict[str, int] = {}
            for it in members:
                e = self.assignments_[it.doc.id]
                votes[e] = votes.get(e, 0) + 1
            free = sorted((e for e in votes if e not in taken), key=lambda e: (-votes[e], e))
            eid = free[0] if free else self._fresh_id(sorted(it.doc.id for it in members), taken)
            taken.add(eid)
            for it in members:
                target[it.doc.id] = eid
        moved = {aid: eid for aid, eid in target.items() if self.assignments_[aid] != eid}
        if moved:
            by_id = {it.doc.id: it for it in items}
            for aid, eid in moved.items():
                old = self.assignments_[aid]
                self.events_[old] = [m for m in self.events_[old] if m.doc.id != aid]
                if not self.events_[old]:
                    del self.events_[old]
                self.events_.setdefault(eid, []).append(by_id[aid])
                self.events_.move_to_end(eid)
                self.assignments_[aid] = eid
                self._touch(old)
                self._touch(eid)
                self._links_made.update(self._link(eid, self._near.get(old, ())))
        return moved

    def _fresh_id(self, member_ids: list[str], taken: set[str]) -> str:
        """A new event's id from its members: the id an event opened by its one member
        would have, which may be the id of the event it is being split from (still held
        by the larger part), so the id is re-derived until it is unused."""
        seed = "|".join(member_ids)
        eid, n = _new_id("E", seed), 0
        while eid in taken or eid in self.events_:
            n += 1
            eid = _new_id("E", f"{seed}#{n}")
        return eid

    def restore_one(self, item: Item, event_id: str) -> None:
        """Put ``item`` into ``event_id`` without scoring (replaying a stored stream; the
        neighbour relation comes back with ``restore_links``)."""
        self._add(item, event_id)

    def _add(self, item: Item, event_id: str) -> None:
        self._scorer.learn_one(item)
        self.events_.setdefault(event_id, []).append(item)
        self.events_.move_to_end(event_id)
        self._touch(event_id)
        if item.doc.event_date is None:
            self._undated.add(item.doc.id, self._scorer.centered(item))
            self._undated_weekday[item.doc.id] = item.doc.weekday
            self._undated_new.add(item.doc.id)
        self.assignments_[item.doc.id] = event_id
        self._ann(item.vec.shape[0]).add(self._next_key, item.vec.astype(np.float32))
        self._local.add(item.doc.id, item.vec)
        self._keys[self._next_key] = item.doc.id
        self._key_of[item.doc.id] = self._next_key
        self._next_key += 1

    def opened_by(self, event_id: str) -> str:
        """The article that opened ``event_id``: the member that arrived first."""
        return min(self.events_[event_id], key=lambda m: self._key_of[m.doc.id]).doc.id

    def arrival(self, event_id: str) -> int:
        """The arrival rank of the event's first report among the articles in memory (a
        restart replays them in arrival order, so their ranks keep their order)."""
        return min(self._key_of[m.doc.id] for m in self.events_[event_id])

    # --- bounded memory -------------------------------------------------------------
    def retire(self) -> list[str]:
        """Forget the events that grew least recently while more than ``max_active``
        articles are in memory; returns their ids (the store keeps them)."""
        gone: list[str] = []
        if self.max_active is None:
            return gone
        while len(self.assignments_) > self.max_active and len(self.events_) > 1:
            eid, members = self.events_.popitem(last=False)
            for m in members:
                aid = m.doc.id
                key = self._key_of.pop(aid)
                self._index.remove(key)
                del self._keys[key]
                del self.assignments_[aid]
                self._forget_undated(aid)
                self._local.discard(aid)
                self.inferred_dates_.pop(aid, None)
            self._recalls.refresh(eid, None, None, self._scorer)
            for nb in self._near.pop(eid, ()):
                self._near.get(nb, set()).discard(eid)
            self._dates.pop(eid, None)
            for state in (self._dirty, self._recall_stale):
                state.discard(eid)
            gone.append(eid)
        return gone
