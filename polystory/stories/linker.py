"""Story linking: events that continue one another share a story.

A story is what a reader follows over weeks or years (a war, a pandemic, the contacts of
two ministers).  Its hundredth event shares little with its first, so an event is not
compared with every earlier event but with the story's **profile**: the subject that
persists (the mean of its events' centred vectors, and how many of its events carry each
name) and its nearest event.  An event alone is a story of one event, so one scoring
function, ``affinity(A, B)`` of two profiles, decides both whether a new event joins a
story and whether two stories are one:

* ``centroid_cos``: cosine of the two profiles' mean vectors (the persistent subject);
* ``nearest_cos``: the best cosine between an event of A and an event of B (continuity);
* ``names``: the share of A's names, by IDF and salience, that B carries at all (a name's
  salience in an article is 1 / (1 + its rank), an article's names coming most frequent
  first; in an event, the mean over its reports; in a story, over its events);
* ``persistent``: the same, each shared name counted by its salience across B's events
  (a story's protagonists weigh more than a name one of its events mentioned);
* ``size``: log of B's number of events (a long story has shown it continues).

A logistic combination of these, fitted leave-one-topic-out by ``bench/fit_stories.py``
(``polystory/data/stories.json``), is the probability that A continues B.

Online, a new event joins the story it scores best with, from ``threshold`` up.  Early
events are thin, so ``relink`` repairs the stories around the events that changed: an
event moves to a story that fits it clearly better than its own (``margin``), leaves a
story it no longer fits (below ``threshold - margin``), and two stories whose profiles
score from ``threshold`` up merge (the larger keeps its id).  Dates play no part: a story is
a subject, not a period (the seeds' three contacts span fourteen months, and stories that run
side by side must be told apart by what they are about).  With the days between an event and
the story's nearest event as a feature, stories held together within Timeline17's topics'
own periods but a sparse story came apart (``docs/benchmarks.md``).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable, Iterable

import numpy as np

from ..cluster.similarity import Item, PairScorer

__all__ = ["StoryLinker", "LINK_FEATURES", "load_link_model"]

#: Events a name proposes: its most recent ones (a common name, "Russia", proposes only
#: its latest events, so the cost of linking does not grow with the stream).
MAX_EVENTS_PER_NAME = 50
#: The most frequent names of an event make its name set.
NAMES_PER_EVENT = 12
#: Stories an event is compared with: those of the events sharing the most names (then the
#: most recent), besides the clusterer's nearest events.
MAX_CANDIDATES = 40
#: Members of an event that make its centroid and names (the most recent ones).
MAX_MEMBERS = 50
#: Events of a story that ``nearest_cos`` compares (the most recent ones).
MAX_NEAREST = 200
LINK_FEATURES = ("centroid_cos", "nearest_cos", "names", "persistent", "size")
#: The features that read the encoder's vectors: their weights fit one encoder only.
VECTOR_FEATURES = ("centroid_cos", "nearest_cos")


def load_link_model(encoder_name: str | None = None) -> dict:
    """The fitted story-link weights shipped with the package (``bench/fit_stories.py``):
    those fitted on ``encoder_name``'s vectors (``stories.json``, e5's); for another encoder,
    whose cosines mean something else, the fit on names alone (``stories_names.json``)."""
    data = resources.files("polystory").joinpath("data")
    model = json.loads(data.joinpath("stories.json").read_text(encoding="utf-8"))
    if encoder_name is None or model.get("encoder") in (None, encoder_name):
        return model
    return json.loads(data.joinpath("stories_names.json").read_text(encoding="utf-8"))


@dataclass
class _EventSummary:
    """What the linker keeps of one event: its centred centroid and names, and its age (the
    arrival rank of its first report: the order of events, oldest first)."""

    centroid: np.ndarray
    names: dict[str, float]    # name -> salience (1 for an article's first name, 1/2 its second, ...)
    age: tuple = ()


@dataclass
class _Profile:
    """A story's subject: its events (oldest first), the sum of their centroids, and the
    sum of their names' salience.  Changed only by ``StoryLinker._attach/_detach``."""

    events: list[str] = field(default_factory=list)
    total: np.ndarray | None = None
    names: Counter = field(default_factory=Counter)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v



def _story_id(seed: str) -> str:
    return "S" + hashlib.sha1(seed.encode("utf-8")).hexdigest()[:12]

class StoryLinker:
    """Groups events into stories as they grow.

    Parameters
    ----------
    threshold
        Probability that an event continues a story from which it joins it (and two
        stories merge); ``None`` uses the fitted model's threshold.
    margin
        How much better another story must fit a linked event for it to move, and how far
        below ``threshold`` an event must fall to leave its story.
    max_relink
        Most stories one ``relink`` call compares for merges (bounds its cost).
    scorer
        The shared ``PairScorer``: its shipped language means centre the vectors.
    model
        ``{"weights": {feature: w}, "bias": b, "threshold": t}``; default: the shipped one
        (``load_link_model``: the pipeline asks for its encoder's).
    neighbours
        ``neighbours(event_id)``: further events to consider besides those sharing names,
        the clusterer's neighbour events (``OnlineEventClusterer.neighbour_events``), which
        matters for scripts without capitalised names; none by default.
    arrival
        ``arrival(event_id)``: the arrival rank of the event's first report
        (``OnlineEventClusterer.arrival``); by default, the order in which the linker
        first saw the event.  Events, stories ("oldest first") and each name's recent
        events are ordered by it, so a restart, which replays the stream in arrival order,
        orders them as the uninterrupted run did.

    Attributes
    ----------
    story_of_ : dict of event id -> story id
    stories_ : dict of story id -> list of event ids
    """

    def __init__(self, *, threshold: float | None = None, margin: float = 0.1, max_relink: int = 64,
                 scorer: PairScorer | None = None, model: dict | None = None,
                 neighbours: Callable[[str], Iterable[str]] | None = None,
                 arrival: Callable[[str], int] | None = None) -> None:
        self.threshold = threshold
        self.margin = margin
        self.max_relink = max_relink
        self.scorer = scorer
        self.model = model
        self.neighbours = neighbours
        self.arrival = arrival
        self._model = model or load_link_model()
        self._w = np.array([self._model["weights"][f] for f in LINK_FEATURES])
        self._b = float(self._model["bias"])
        self.threshold_ = float(threshold if threshold else self._model["threshold"])
        self.story_of_: dict[str, str] = {}
        self.stories_: dict[str, list[str]] = {}
        self._scorer = scorer or PairScorer()
        self._profiles: dict[str, _Profile] = {}
        self._events: dict[str, _EventSummary] = {}
        self._df: Counter = Counter()   # events in memory per name
        self._by_name: dict[str, list[tuple]] = defaultdict(list)  # (age, event) of recent events, oldest first
        self._first_seen: dict[str, int] = {}   # without ``arrival``: the order events were first seen
        self._dirty: set[str] = set()
        self._was: dict[str, str] = {}   # event -> its story before the current change

    # --- what the linker knows of an event -------------------------------------------
    def _age(self, event_id: str) -> tuple:
        if self.arrival is not None:
            return (self.arrival(event_id), event_id)
        return (self._first_seen.setdefault(event_id, len(self._first_seen)), event_id)

    def _story_age(self, sid: str) -> tuple:
        return self._events[self.stories_[sid][0]].age

    def _summarise(self, members: list[Item]) -> _EventSummary:
        recent = members[-MAX_MEMBERS:]
        centroid = _unit(self._centred(recent).mean(axis=0))
        # a name's salience in an article is 1 / (1 + its rank) (an article's names come
        # most frequent first), in the event the mean over its members
        weight: Counter = Counter()
        for it in recent:
            for i, n in enumerate(dict.fromkeys(it.doc.entities[:2 * NAMES_PER_EVENT])):
                weight[n] += 1.0 / (1 + i) / len(recent)
        top = sorted(weight, key=lambda n: (-weight[n], n))[:NAMES_PER_EVENT]
        names = {n: round(weight[n], 6) for n in top}
        return _EventSummary(centroid.astype(np.float32), names)

    def _centred(self, items: list[Item]) -> np.ndarray:
        """The items' vectors minus their language's shipped mean, unit length.  Not the
        stream's running mean (as the event scorer uses): a summary made today and one made
        a month ago must be comparable, and a restart must make the same summaries."""
        v = np.stack([it.vec for it in items]).astype(np.float64)
        means: dict[str, np.ndarray | None] = {}
        for i, it in enumerate(items):
            lang = it.doc.language
            if lang not in means:
                prior = self._scorer.prior_mean(lang)
                means[lang] = prior if prior is not None and len(prior) == len(it.vec) else None
            if means[lang] is not None:
                v[i] -= means[lang]
        n = np.linalg.norm(v, axis=1, keepdims=True)
        return v / np.where(n > 0, n, 1.0)

    def _refresh(self, event_id: str, members: list[Item]) -> None:
        """Re-summarise a changed event, keeping its story's profile and the name index in step."""
        sid = self.story_of_.get(event_id)
        if sid is not None:
            self._detach(event_id)
        old = self._events.get(event_id)
        if old is not None:
            self._uncount(old.names)
            self._unindex(old.age, old.names)
        new = self._events[event_id] = self._summarise(members)
        new.age = self._age(event_id)
        self._df.update(new.names.keys())
        for name in new.names:
            recent = self._by_name[name]
            bisect.insort(recent, new.age)
            if len(recent) > MAX_EVENTS_PER_NAME:
                del recent[0]
        if sid is not None:
            self._attach(event_id, sid)

    # --- the one way stories change -----------------------------------------------------
    def _attach(self, event_id: str, sid: str) -> None:
        e = self._events[event_id]
        prof = self._profiles.get(sid)
        if prof is None:
            prof = self._profiles[sid] = _Profile()
            self.stories_[sid] = prof.events   # one list: the story's events are its profile's
        bisect.insort(prof.events, event_id, key=lambda x: self._events[x].age)
        prof.total = e.centroid.astype(np.float64) if prof.total is None else prof.total + e.centroid
        prof.names.update(e.names)
        self.story_of_[event_id] = sid

    def _detach(self, event_id: str) -> str:
        sid = self.story_of_.pop(event_id)
        self._was.setdefault(event_id, sid)
        e = self._events[event_id]
        prof = self._profiles[sid]
        prof.events.remove(event_id)
        if not prof.events:
            del self._profiles[sid], self.stories_[sid]
        else:
            prof.total = prof.total - e.centroid
            for n, w in e.names.items():
                left = prof.names[n] - w
                if left > 1e-9:
                    prof.names[n] = left
                else:
                    del prof.names[n]
        return sid

    def _new_story(self, event_id: str) -> str:
        """The id of a new story opened by ``event_id``: derived from it, and re-derived
        while taken (the event may be leaving the story it opened), so it depends only on
        the stories that exist, not on how many came and went (a restart knows only the
        ones that exist)."""
        sid, n = _story_id(event_id), 0
        while sid in self.stories_:
            n += 1
            sid = _story_id(f"{event_id}/{n}")
        return sid

    # --- scoring -----------------------------------------------------------------------
    def _idf(self, name: str) -> float:
        # smoothed so that a name every event in memory carries (a small stream's
        # protagonists) still counts, less than a rare one
        return math.log1p((len(self._events) + 1) / (self._df.get(name, 0) + 1))

    def _view(self, events: list[str], without: str | None = None) -> tuple[np.ndarray, np.ndarray, Counter]:
        """A group of events as a profile: mean vector, recent centroids, name salience.
        A story's own list (``stories_[sid]``, less ``without``) is read from its profile,
        so the cost does not grow with the story."""
        prof = self._profiles.get(self.story_of_.get(events[0], "")) if events else None
        if prof is not None and prof.events is events:
            total, names = prof.total, prof.names
            if without is not None:
                e = self._events[without]
                total = total - e.centroid
                names = Counter({n: left for n, w in names.items()
                                 if (left := w - e.names.get(n, 0.0)) > 1e-9})
                events = [x for x in events if x != without]
        else:
            total = np.sum([self._events[e].centroid for e in events], axis=0)
            names = Counter()
            for e in events:
                names.update(self._events[e].names)
        cents = np.stack([self._events[e].centroid for e in events[-MAX_NEAREST:]])
        return _unit(total), cents, names

    def features(self, a: list[str], b: list[str], without: str | None = None) -> np.ndarray:
        """``LINK_FEATURES`` of "the events ``a`` continue the events ``b``" (``b`` less
        the event ``without``)."""
        ma, ca, na = self._view(a)
        mb, cb, nb = self._view(b, without)
        nb_events = len(b) - (without is not None)
        wa = {n: c / len(a) * self._idf(n) for n, c in na.items()}
        mass = sum(wa.values()) or 1.0
        names = sum(w for n, w in wa.items() if n in nb) / mass
        persistent = sum(w * nb[n] / nb_events for n, w in wa.items() if n in nb) / mass
        return np.array([float(ma @ mb), float(np.max(ca @ cb.T)), names, persistent, math.log1p(nb_events)])

    def affinity(self, a: list[str], b: list[str], without: str | None = None) -> float:
        """Probability that the events ``a`` continue the events ``b`` (less ``without``)."""
        z = float(self.features(a, b, without) @ self._w) + self._b
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    # --- online ------------------------------------------------------------------------
    def learn_event(self, event_id: str, members: list[Item]) -> dict[str, str]:
        """Note that ``event_id`` changed; a new event joins its best story at once.
        Returns the events whose story changed, with their new story ids."""
        self._refresh(event_id, members)
        self._was.pop(event_id, None)
        self._dirty.add(event_id)
        if event_id in self.story_of_:
            return {}
        best, best_p = None, self.threshold_
        for sid in self._candidate_stories([event_id]):
            p = self.affinity([event_id], self.stories_[sid])
            if p >= best_p:
                best, best_p = sid, p
        self._attach(event_id, best or self._new_story(event_id))
        return {event_id: self.story_of_[event_id]}

    def _candidate_events(self, event_id: str) -> list[str]:
        """The ANN neighbours, and the ``MAX_CANDIDATES`` events sharing the most names with
        ``event_id`` (an inverted index of each name's recent events, not a scan)."""
        shared: Counter = Counter()
        recency: dict[str, int] = {}
        for name in self._events[event_id].names:
            recent = self._by_name.get(name, [])
            shared.update(e for _, e in recent)
            for rank, (_, e) in enumerate(reversed(recent)):
                recency[e] = min(recency.get(e, rank), rank)
        shared.pop(event_id, None)
        best = sorted(shared, key=lambda e: (-shared[e], recency[e], e))[:MAX_CANDIDATES]
        found = set(self.neighbours(event_id) if self.neighbours else ()) | set(best)
        return sorted(e for e in found if e != event_id and e in self.story_of_)

    def _candidate_stories(self, event_ids: list[str]) -> list[str]:
        """Stories (other than the events' own) linked to ``event_ids``, oldest first."""
        own = {self.story_of_.get(e) for e in event_ids}
        found = {self.story_of_[o] for e in event_ids for o in self._candidate_events(e)}
        return sorted(found - own, key=self._story_age)

    # --- repair ------------------------------------------------------------------------
    def relink(self) -> dict[str, str]:
        """Repair the stories around the events that changed; returns changed links."""
        if not self._dirty:
            return {}
        dirty = sorted(e for e in self._dirty if e in self.story_of_)
        self._dirty.clear()
        self._was.clear()
        for eid in dirty:
            self._replace(eid)
        self._merge(list(dict.fromkeys(self.story_of_[e] for e in dirty))[: self.max_relink])
        return self._changes()

    def _changes(self) -> dict[str, str]:
        """The events whose story differs from before the change began, and their stories."""
        out = {e: self.story_of_[e] for e, was in sorted(self._was.items())
               if e in self.story_of_ and self.story_of_[e] != was}
        self._was.clear()
        return out

    def _replace(self, eid: str) -> None:
        """Move a changed event to the story it now fits clearly better, or out of its own."""
        own = self.stories_[self.story_of_[eid]]
        p_own = self.affinity([eid], own, without=eid) if len(own) > 1 else None
        best, best_p = None, self.threshold_
        for sid in self._candidate_stories([eid]):
            p = self.affinity([eid], self.stories_[sid])
            if p >= best_p:
                best, best_p = sid, p
        if best is not None and (p_own is None or best_p > p_own + self.margin):
            self._detach(eid)
            self._attach(eid, best)
        elif p_own is not None and p_own < self.threshold_ - self.margin:
            self._detach(eid)
            self._attach(eid, self._new_story(eid))

    def _merge(self, stories: list[str]) -> None:
        """Merge each of ``stories`` with the linked stories its profile fits (the
        smaller into the larger)."""
        queue = list(stories)
        while queue:
            sid = queue.pop(0)
            if sid not in self.stories_:
                continue
            mine = self.stories_[sid]
            for other in self._candidate_stories(mine[-MAX_CANDIDATES:]):
                if other not in self.stories_:
                    continue
                small, large = sorted((sid, other), key=lambda s: (-len(self.stories_[s]), self._story_age(s)))[::-1]
                if self.affinity(self.stories_[small], self.stories_[large]) < self.threshold_:
                    continue
                for e in list(self.stories_[small]):
                    self._detach(e)
                    self._attach(e, large)
                queue.append(large)
                break

    def forget(self, event_ids) -> None:
        """Forget events: emptied by event repair, or retired from memory by the clusterer.
        (Other events' neighbour sets may still name them: candidates are filtered.)"""
        for e in event_ids:
            if e in self.story_of_:
                self._detach(e)
            summary = self._events.pop(e, None)
            if summary is not None:
                self._uncount(summary.names)
                self._unindex(summary.age, summary.names)
            self._dirty.discard(e)

    def _unindex(self, age: tuple, names) -> None:
        """The event of ``age`` leaves the name index of ``names`` (names it no longer
        carries, or all of its names when it leaves memory)."""
        for name in names:
            recent = self._by_name.get(name, [])
            i = bisect.bisect_left(recent, age)
            if i < len(recent) and recent[i] == age:
                del recent[i]
            if not recent:
                self._by_name.pop(name, None)

    def _uncount(self, names) -> None:
        """An event's names leave the document frequencies."""
        for n in names:
            self._df[n] -= 1
            if self._df[n] <= 0:
                del self._df[n]

    def restore_event(self, event_id: str, story_id: str, members: list[Item]) -> None:
        """Put a stored event back into its stored story (no scoring)."""
        self._refresh(event_id, members)
        self._attach(event_id, story_id)
        self._was.pop(event_id, None)
