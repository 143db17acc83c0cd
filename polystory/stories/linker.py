"""Online story linking: events that continue one another share a story.

Two events belong to one story when their articles are about the same actors and
subject, whatever their dates: the "same story" probability (``PairScorer.story_proba``,
which ignores dates) averaged over pairs of their members.  An event joins the story of
its best-linked event when that average reaches ``threshold``; if it links to events of
two stories, those stories merge (the older id stays).  Links are re-examined when an
event doubles in size, so an event that starts with one thin article can still find its
story later.
"""
from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict

import numpy as np

from ..cluster.similarity import Item, PairScorer

__all__ = ["StoryLinker"]


class StoryLinker:
    """Groups events into stories as they grow.

    Parameters
    ----------
    threshold
        Mean "same story" probability needed to link two events.
    max_members
        Members per event used in the comparison.
    scorer
        The shared ``PairScorer`` (its stream statistics are the clusterer's).

    Attributes
    ----------
    story_of_ : dict of event id -> story id
    stories_ : dict of story id -> list of event ids (in order of creation)
    """

    def __init__(self, *, threshold: float = 0.5, max_members: int = 6,
                 scorer: PairScorer | None = None) -> None:
        self.threshold = threshold
        self.max_members = max_members
        self.scorer = scorer
        self.story_of_: dict[str, str] = {}
        self.stories_: dict[str, list[str]] = {}
        self._scorer = scorer or PairScorer()
        self._by_name: dict[str, set[str]] = defaultdict(set)
        self._checked_size: dict[str, int] = {}
        self._order: dict[str, int] = {}

    def story_score(self, a: list[Item], b: list[Item]) -> float:
        """Mean "same story" probability over member pairs of two events."""
        sc = self._scorer
        probs = [sc.story_proba(sc.features(x, y))
                 for x, y in itertools.product(a[-self.max_members:], b[-self.max_members:])]
        return float(np.mean(probs)) if probs else 0.0

    def learn_event(self, event_id: str, members: list[Item], events: dict[str, list[Item]],
                    extra_candidates: tuple[str, ...] = ()) -> dict[str, str]:
        """(Re)link ``event_id`` after it changed.

        ``extra_candidates`` are further events to consider (e.g. the clusterer's nearest
        events, for scripts without capitalised names).  Returns the events whose story
        changed, with their new story ids.
        """
        changed: dict[str, str] = {}
        for it in members[-1:]:
            for name in it.doc.entities:
                self._by_name[name].add(event_id)
        size = len(members)
        if event_id in self.story_of_ and size < 2 * self._checked_size.get(event_id, size):
            return changed
        self._checked_size[event_id] = size
        if event_id not in self.story_of_:
            sid = "S" + hashlib.sha1(event_id.encode("utf-8")).hexdigest()[:12]
            self._order[sid] = len(self._order)
            self.story_of_[event_id] = sid
            self.stories_[sid] = [event_id]
            changed[event_id] = sid
        candidates = sorted(set(self._candidates(event_id, members)) | set(extra_candidates) - {event_id})
        linked = [other for other in candidates
                  if other in self.story_of_ and self.story_of_[other] != self.story_of_[event_id]
                  and self.story_score(members, events[other]) >= self.threshold]
        for other in linked:
            changed.update(self._merge(self.story_of_[event_id], self.story_of_[other]))
        return changed

    def restore_event(self, event_id: str, story_id: str, members: list[Item]) -> None:
        """Put a stored event back into its stored story (no scoring)."""
        for it in members:
            for name in it.doc.entities:
                self._by_name[name].add(event_id)
        self._checked_size[event_id] = len(members)
        self._order.setdefault(story_id, len(self._order))
        self.story_of_[event_id] = story_id
        self.stories_.setdefault(story_id, []).append(event_id)

    def _candidates(self, event_id: str, members: list[Item]) -> list[str]:
        """Events that share a name with this one (an inverted index, not a scan)."""
        names = {n for it in members[-self.max_members:] for n in it.doc.entities}
        found: set[str] = set()
        for n in names:
            found |= self._by_name.get(n, set())
        found.discard(event_id)
        return sorted(found)

    def _merge(self, a: str, b: str) -> dict[str, str]:
        if a == b:
            return {}
        keep, gone = sorted((a, b), key=lambda s: self._order[s])
        moved = self.stories_.pop(gone)
        for eid in moved:
            self.story_of_[eid] = keep
            self.stories_[keep].append(eid)
        return {eid: keep for eid in moved}
