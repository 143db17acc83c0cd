"""Online event clustering: each arriving article joins its best event or opens a new one.

For an arriving article the clusterer retrieves its nearest articles from an approximate
nearest-neighbour index (usearch, cosine), collects their events as candidates, and
scores each candidate by average linkage: the mean "same event" probability between the
article and the event's members (the most recent ``max_members`` of them).  The article
joins the best event if that mean reaches ``threshold``; otherwise it opens a new event.
The same input order always gives the same events.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from ..errors import ConfigError
from ..models import PartialDate
from ..summary import event_date_of
from .base import Assignment, Clusterer
from .similarity import Item, PairScorer

__all__ = ["OnlineEventClusterer"]


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
    scorer
        The pair similarity; a fresh ``PairScorer`` by default.

    Attributes
    ----------
    events_ : dict of event id -> list of member ``Item``
    assignments_ : dict of article id -> event id

    Examples
    --------
    >>> import numpy as np
    >>> from polystory.models import Document, PartialDate
    >>> def item(i, day, vec):
    ...     doc = Document(id=str(i), title="", text="", language="en",
    ...                    event_date=PartialDate(2023, 3, day), entities=("lavro", "blink"))
    ...     v = np.array(vec, dtype=np.float32)
    ...     return Item(doc, np.pad(v / np.linalg.norm(v), (0, 381)))
    >>> c = OnlineEventClusterer()
    >>> [c.learn_one(x).new for x in [item(1, 2, [1, 0, 0]), item(2, 2, [1, .1, 0]),
    ...                               item(3, 20, [0, 0, 1])]]
    [True, False, True]
    """

    def __init__(self, *, threshold: float = 0.5, candidates: int = 20, max_members: int = 12,
                 scorer: PairScorer | None = None) -> None:
        self.threshold = threshold
        self.candidates = candidates
        self.max_members = max_members
        self.scorer = scorer
        self.events_: OrderedDict[str, list[Item]] = OrderedDict()
        self.assignments_: dict[str, str] = {}
        self._scorer = scorer or PairScorer()
        self._index = None
        self._keys: list[str] = []     # ANN key -> article id
        self._validated = False
        self._dates: dict[str, PartialDate | None] = {}

    def _validate(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ConfigError(f"threshold must be in (0, 1]; got {self.threshold}")
        if self.candidates < 1 or self.max_members < 1:
            raise ConfigError("candidates and max_members must be >= 1")
        self._validated = True

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
        members = self.events_[event_id][-self.max_members:]
        ci = self._scorer.centered(item)
        # an undated member stands in the event's date: the other reports date it
        event_date = self._event_date(event_id)
        probs, best, best_p = [], None, -1.0
        for m in members:
            f = self._scorer.features(item, m, (ci, self._scorer.centered(m)),
                                      (item.doc.event_date, m.doc.event_date or event_date))
            p = self._scorer.event_proba(f)
            probs.append(p)
            if p > best_p:
                best, best_p = (m, f), p
        m, f = best
        shared = sorted(set(item.doc.entities) & set(m.doc.entities))
        evidence = {"closest": m.doc.id, "similarity": round(f["cos_centered"], 4),
                    "probability": round(best_p, 4), "shared_names": shared[:10],
                    "date_agreement": None if not f["date_known"] else round(f["date_close"], 4)}
        return float(np.mean(probs)), evidence

    def _event_date(self, event_id: str) -> PartialDate | None:
        if event_id not in self._dates:
            self._dates[event_id] = event_date_of([m.doc.event_date for m in self.events_[event_id]])
        return self._dates[event_id]

    def predict_one(self, item: Item) -> Assignment:
        if not self._validated:
            self._validate()
        best_id, best_score, best_ev = None, 0.0, {}
        candidates = self._candidate_events(item)
        for eid in candidates:
            score, ev = self.score_event(item, eid)
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
        self.restore_one(item, a.event_id)
        return a

    def restore_one(self, item: Item, event_id: str) -> None:
        """Put ``item`` into ``event_id`` without scoring (replaying a stored stream)."""
        self._scorer.learn_one(item)
        self.events_.setdefault(event_id, []).append(item)
        self._dates.pop(event_id, None)
        self.assignments_[item.doc.id] = event_id
        self._ann(item.vec.shape[0]).add(len(self._keys), item.vec.astype(np.float32))
        self._keys.append(item.doc.id)
