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
from typing import Mapping

import numpy as np

from ..errors import ConfigError
from ..models import PartialDate
from .backref import RecallDating
from .base import Assignment, Clusterer, Repair
from .linkage import group_average_linkage
from .similarity import DATE_CONFLICT_FACTOR, Item, PairScorer, date_conflict, day_bounds
from .window import ActiveWindow

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
    window_ : the ``ActiveWindow`` of the events in memory; the clusterer is its only
        writer, back-reference dating (``RecallDating``) subscribes to its changes
    events_ : read-only view of event id -> list of member ``Item``, from the event that
        grew least recently to the one that grew last (``window_.events_``)
    assignments_ : read-only view of article id -> event id (of the articles in memory)
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
        self._scorer = scorer or PairScorer()
        self.window_ = ActiveWindow()
        self._dating = RecallDating(self.window_, self._scorer)
        self._validated = False
        self._dirty: set[str] = set()   # events changed since the last repair
        # the neighbour relation between events (symmetric), and the links the current
        # repair made (the store keeps every link, so a restart has the same relation)
        self._near: dict[str, set[str]] = {}
        self._links_made: set[tuple[str, str]] = set()

    @property
    def events_(self) -> Mapping[str, list[Item]]:
        return self.window_.events_

    @property
    def assignments_(self) -> Mapping[str, str]:
        return self.window_.assignments_

    @property
    def inferred_dates_(self) -> dict[str, tuple[PartialDate, str, float]]:
        return self._dating.inferred_dates_

    def _validate(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ConfigError(f"threshold must be in (0, 1]; got {self.threshold}")
        if self.candidates < 1 or self.max_members < 1:
            raise ConfigError("candidates and max_members must be >= 1")
        if self.max_active is not None and self.max_active < 1:
            raise ConfigError(f"max_active must be >= 1 or None; got {self.max_active}")
        self._validated = True

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
            event_date = self.window_.event_date(eid)
            spans.append((len(members), len(members) + len(ms)))
            members += ms
            dates += [self._stated_date(m) or event_date for m in ms]
        sc = self._scorer
        local = self.window_.local_means([item.doc.id] + [m.doc.id for m in members], [item.vec])
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
        eids = self.window_.nearest_events(item.vec, self.candidates)
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
        order = sorted(e for e in self._dirty if e in self.events_)
        self._dirty.clear()
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
        """Date undated articles from other events' recall sentences (``RecallDating``);
        each event that gains a date is changed, so repair looks at it again."""
        found = self._dating.find()
        for aid, (date, source, _) in found.items():
            item = self.window_.item(aid)
            self.window_.update(Item(dataclasses.replace(item.doc, event_date=date, dated_by=source),
                                     item.vec, item.recall_vecs))
            self._dirty.add(self.assignments_[aid])
        return {aid: (date, source) for aid, (date, source, _) in found.items()}

    def _average_linkage(self, items: list[Item]) -> np.ndarray:
        """Cluster labels of ``items`` by average linkage at the threshold, an undated report
        taking its group's date for the date conflict (``linkage``)."""
        sc = self._scorer
        centered = [sc.centered(it) for it in items]
        local = self.window_.local_means([it.doc.id for it in items])
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
        for aid, eid in moved.items():
            old = self.assignments_[aid]
            self.window_.move(aid, eid)
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
        self.window_.add(item, event_id)

    def opened_by(self, event_id: str) -> str:
        """The article that opened ``event_id``: the member that arrived first."""
        return self.window_.opened_by(event_id)

    def arrival(self, event_id: str) -> int:
        """The arrival rank of the event's first report among the articles in memory (a
        restart replays them in arrival order, so their ranks keep their order)."""
        return self.window_.arrival(event_id)

    # --- bounded memory -------------------------------------------------------------
    def retire(self) -> list[str]:
        """Forget the events that grew least recently while more than ``max_active``
        articles are in memory; returns their ids (the store keeps them)."""
        gone: list[str] = []
        if self.max_active is None:
            return gone
        while self.window_.n_articles > self.max_active and len(self.events_) > 1:
            eid = self.window_.oldest()
            self.window_.evict(eid)
            for nb in self._near.pop(eid, ()):
                self._near.get(nb, set()).discard(eid)
            self._dirty.discard(eid)
            gone.append(eid)
        return gone
