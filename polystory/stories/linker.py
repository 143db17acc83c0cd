"""Story linking: events that continue one another share a story.

Two events belong to one story when their articles are about the same actors and
subject, whatever their dates: the "same story" probability (``PairScorer.story_proba``,
which ignores dates) averaged over pairs of their members.

Online, a new event joins the story it links to best.  Because early events are thin
(one article), such links can be wrong; ``relink`` repairs them: it re-clusters the
neighbourhood of the events that changed (their stories and the stories they touch) by
average linkage over events, which can merge *and split* stories.  Story ids stay stable:
a re-formed story keeps the id that most of its events had.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import numpy as np

from ..cluster.similarity import Item, PairScorer

__all__ = ["StoryLinker"]

#: Events a name proposes: its most recent ones (a common name, "Russia", proposes only
#: its latest events, so the cost of linking does not grow with the stream).
MAX_EVENTS_PER_NAME = 50
#: The most frequent names of an article index its event.
NAMES_PER_ARTICLE = 12
#: Events an event is compared with: those sharing the most names (then the most recent),
#: besides the clusterer's nearest events.
MAX_CANDIDATES = 40


class StoryLinker:
    """Groups events into stories as they grow.

    Parameters
    ----------
    threshold
        Mean "same story" probability needed to link events (average linkage).
    max_members
        Members per event used in the comparison (the most recent ones).
    max_relink
        Most events re-clustered by one ``relink`` call (bounds its cost).
    scorer
        The shared ``PairScorer`` (its stream statistics are the clusterer's).

    Attributes
    ----------
    story_of_ : dict of event id -> story id
    stories_ : dict of story id -> list of event ids
    """

    def __init__(self, *, threshold: float = 0.5, max_members: int = 4, max_relink: int = 64,
                 scorer: PairScorer | None = None) -> None:
        self.threshold = threshold
        self.max_members = max_members
        self.max_relink = max_relink
        self.scorer = scorer
        self.story_of_: dict[str, str] = {}
        self.stories_: dict[str, list[str]] = {}
        self._scorer = scorer or PairScorer()
        self._by_name: dict[str, dict[str, None]] = defaultdict(dict)  # recent events last
        self._names_of: dict[str, set[str]] = defaultdict(set)
        self._near: dict[str, set[str]] = defaultdict(set)
        self._dirty: set[str] = set()
        self._order: dict[str, int] = {}

    def _event_scores(self, rows: list[list[Item]], cols: list[list[Item]]) -> np.ndarray:
        """Mean "same story" probability over member pairs of each (row event, column
        event), the most recent ``max_members`` of each; all pairs scored in one matrix."""
        def flat(events: list[list[Item]]) -> tuple[list[Item], np.ndarray]:
            items = [m for ms in events for m in ms[-self.max_members:]]
            owner = np.repeat(np.arange(len(events)), [min(len(ms), self.max_members) for ms in events])
            return items, owner

        ra, oa = flat(rows)
        ca, ob = flat(cols)
        p = self._scorer.story_proba(self._scorer.feature_matrix(ra, ca))
        # block means: sum each event's rows and columns, divide by the block sizes
        sums = np.zeros((len(rows), len(cols)))
        np.add.at(sums, (oa[:, None], ob[None, :]), p)
        return sums / np.outer(np.bincount(oa, minlength=len(rows)), np.bincount(ob, minlength=len(cols)))

    # --- online ------------------------------------------------------------------------
    def learn_event(self, event_id: str, members: list[Item], events: dict[str, list[Item]],
                    extra_candidates: tuple[str, ...] = ()) -> dict[str, str]:
        """Note that ``event_id`` changed; a new event joins its best story at once.

        ``extra_candidates`` are further events to consider (the clusterer's nearest
        events, which matters for scripts without capitalised names).  Returns the events
        whose story changed, with their new story ids.
        """
        self._index_names(event_id, members[-1:])
        self._near[event_id].update(e for e in extra_candidates if e != event_id)
        self._dirty.add(event_id)
        if event_id in self.story_of_:
            return {}
        scores: dict[str, list[float]] = defaultdict(list)
        others = self._candidates(event_id)
        if others:
            row = self._event_scores([members], [events[e] for e in others])[0]
            for other, score in zip(others, row):
                scores[self.story_of_[other]].append(float(score))
        best, best_mean = None, self.threshold
        for sid in sorted(scores, key=lambda k: self._order[k]):
            mean = sum(scores[sid]) / len(self.stories_[sid])
            if mean >= best_mean:
                best, best_mean = sid, mean
        if best is None:
            best = self._new_story(event_id)
        self.story_of_[event_id] = best
        self.stories_.setdefault(best, []).append(event_id)
        return {event_id: best}

    def _index_names(self, event_id: str, items: list[Item]) -> None:
        for it in items:
            for name in it.doc.entities[:NAMES_PER_ARTICLE]:
                recent = self._by_name[name]
                recent.pop(event_id, None)
                recent[event_id] = None
                if len(recent) > MAX_EVENTS_PER_NAME:
                    del recent[next(iter(recent))]
                self._names_of[event_id].add(name)

    def _new_story(self, event_id: str) -> str:
        sid = "S" + hashlib.sha1(event_id.encode("utf-8")).hexdigest()[:12]
        self._order.setdefault(sid, len(self._order))
        return sid

    def _candidates(self, event_id: str) -> list[str]:
        """Linked events: the ANN neighbours, and the ``MAX_CANDIDATES`` events sharing the
        most names with it (an inverted index of each name's recent events, not a scan)."""
        shared: Counter = Counter()
        recency: dict[str, int] = {}
        for name in self._names_of.get(event_id, ()):
            recent = self._by_name.get(name, {})
            shared.update(recent.keys())
            for rank, e in enumerate(reversed(recent)):
                recency[e] = min(recency.get(e, rank), rank)
        shared.pop(event_id, None)
        best = sorted(shared, key=lambda e: (-shared[e], recency[e], e))[:MAX_CANDIDATES]
        found = set(self._near.get(event_id, ())) | set(best)
        return sorted(e for e in found if e != event_id and e in self.story_of_)

    # --- repair ------------------------------------------------------------------------
    def relink(self, events: dict[str, list[Item]]) -> dict[str, str]:
        """Re-cluster the stories around the events that changed; returns changed links."""
        if not self._dirty:
            return {}
        dirty = sorted(self._dirty)
        self._dirty.clear()
        # the changed events, their stories, then the stories they link to, up to max_relink;
        # within a story the most recent events first (a long story is re-clustered where
        # it grows, so the cost stays bounded however long it gets)
        hood: dict[str, None] = dict.fromkeys(dirty)
        for eid in dirty:
            hood.update(dict.fromkeys(reversed(self.stories_.get(self.story_of_.get(eid), ()))))
        for eid in dirty:
            for other in self._candidates(eid):
                if len(hood) >= self.max_relink:
                    break
                hood.update(dict.fromkeys(reversed(self.stories_[self.story_of_[other]])))
        ids = [e for e in hood if e in events][: self.max_relink]
        clusters = self._average_linkage(ids, events)
        return self._assign(clusters)

    def _average_linkage(self, ids: list[str], events: dict[str, list[Item]]) -> list[list[str]]:
        """Average-linkage clusters of events; pairs that share no name and are not
        neighbours score 0 (they are never compared)."""
        if len(ids) < 2:
            return [ids]
        from scipy.cluster.hierarchy import fcluster, linkage

        pos = {e: i for i, e in enumerate(ids)}
        n = len(ids)
        scores = self._event_scores([events[e] for e in ids], [events[e] for e in ids])
        dist = np.ones(n * (n - 1) // 2)
        for e in ids:
            i = pos[e]
            for other in self._candidates(e):
                j = pos.get(other)
                if j is not None and i < j:
                    # index of (i, j) in scipy's condensed matrix
                    dist[n * i - i * (i + 1) // 2 + (j - i - 1)] = 1.0 - scores[i, j]
        labels = fcluster(linkage(dist, method="average"), 1.0 - self.threshold, criterion="distance")
        clusters: dict[int, list[str]] = defaultdict(list)
        for e, lab in zip(ids, labels):
            clusters[int(lab)].append(e)
        return list(clusters.values())

    def _assign(self, clusters: list[list[str]]) -> dict[str, str]:
        changed: dict[str, str] = {}
        taken: set[str] = set()
        # biggest clusters choose first: a story keeps the id most of its events had
        for cl in sorted(clusters, key=lambda c: (-len(c), min(c))):
            votes = Counter(self.story_of_[e] for e in cl if e in self.story_of_)
            choices = [s for s, _ in sorted(votes.items(), key=lambda kv: (-kv[1], self._order.get(kv[0], 0)))
                       if s not in taken]
            sid = choices[0] if choices else self._new_story(min(cl))
            taken.add(sid)
            for e in cl:
                if self.story_of_.get(e) != sid:
                    changed[e] = sid
        for e, sid in changed.items():
            old = self.story_of_.get(e)
            if old is not None:
                self.stories_[old].remove(e)
                if not self.stories_[old]:
                    del self.stories_[old]
            self.story_of_[e] = sid
            self.stories_.setdefault(sid, []).append(e)
            self._order.setdefault(sid, len(self._order))
        return changed

    def forget(self, event_ids) -> None:
        """Forget events: emptied by event repair, or retired from memory by the clusterer.
        (Other events' neighbour sets may still name them: candidates are filtered.)"""
        for e in event_ids:
            sid = self.story_of_.pop(e, None)
            if sid is not None:
                self.stories_[sid].remove(e)
                if not self.stories_[sid]:
                    del self.stories_[sid]
            for name in self._names_of.pop(e, ()):
                recent = self._by_name[name]
                recent.pop(e, None)
                if not recent:
                    del self._by_name[name]
            self._near.pop(e, None)
            self._dirty.discard(e)

    def restore_event(self, event_id: str, story_id: str, members: list[Item]) -> None:
        """Put a stored event back into its stored story (no scoring)."""
        self._index_names(event_id, members)
        self._order.setdefault(story_id, len(self._order))
        self.story_of_[event_id] = story_id
        self.stories_.setdefault(story_id, []).append(event_id)
