"""The active window: the events held in memory, with one way in.

``ActiveWindow`` owns what the online clusterer knows of the events in memory: their
members (from the event that grew least recently to the one that grew last), the event of
each article, the ANN index over their vectors with its keys (which also give the order
of arrival), each article's local neighbourhood and each event's date.  It changes only
by

* ``add``: an article joins an event (a new one or not);
* ``move``: repair puts an article into another event (an emptied event is gone);
* ``update``: a member's document changes (back-reference dating gave it a date);
* ``evict``: an event leaves memory (the store keeps it).

Whoever keeps state derived from the window subscribes and is told of each change after
it is made (``Change``): back-reference dating keeps its undated vectors and recall rows
so.  Readers get read-only views (``events_``, ``assignments_``); nobody keeps a copy.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import numpy as np

from ..models import PartialDate
from ..summary import event_date_of
from .neighbourhood import Neighbourhoods
from .similarity import Item

__all__ = ["ActiveWindow", "Change"]


@dataclass(frozen=True)
class Change:
    """One change of the window, as its subscribers are told of it.

    ``kind`` is ``"add"``, ``"move"``, ``"update"`` or ``"evict"``; ``events`` are the
    events whose members changed (for a move: the one left, then the one joined; the left
    one may be gone); ``items`` the articles concerned (for an eviction: all members)."""

    kind: str
    events: tuple[str, ...]
    items: tuple[Item, ...]


class ActiveWindow:
    """The events in memory and their articles; changed only by add / move / update / evict.

    Examples
    --------
    >>> from polystory.models import Document
    >>> def item(i, vec):
    ...     return Item(Document(id=i, title="", text="", language="en"), np.array(vec, np.float32))
    >>> w = ActiveWindow()
    >>> seen = []
    >>> w.subscribe(lambda ch: seen.append((ch.kind, ch.events)))
    >>> w.add(item("a", [1, 0]), "E1"); w.add(item("b", [0, 1]), "E2"); w.move("b", "E1")
    >>> dict(w.assignments_), list(w.events_), w.nearest_events(np.array([0, 1], np.float32), 2)
    ({'a': 'E1', 'b': 'E1'}, ['E1'], ['E1'])
    >>> [m.doc.id for m in w.evict("E1")], w.n_articles, seen[-2:]
    (['a', 'b'], 0, [('move', ('E2', 'E1')), ('evict', ('E1',))])
    """

    def __init__(self) -> None:
        self._events: OrderedDict[str, list[Item]] = OrderedDict()
        self._event_of: dict[str, str] = {}
        self._index = None                  # usearch, built on the first add
        self._keys: dict[int, str] = {}     # ANN key -> article id
        self._key_of: dict[str, int] = {}   # article id -> ANN key (arrival rank)
        self._next_key = 0
        self._dates: dict[str, PartialDate | None] = {}   # cache of event_date
        self._local = Neighbourhoods()
        self._subscribers: list[Callable[[Change], None]] = []

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_index"] = None  # native: rebuilt from the members' vectors
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for members in self._events.values():
            for m in members:
                self._ann(m.vec.shape[0]).add(self._key_of[m.doc.id], m.vec.astype(np.float32))

    def subscribe(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener(change)`` after each change."""
        self._subscribers.append(listener)

    def _tell(self, change: Change) -> None:
        for ev in change.events:
            self._dates.pop(ev, None)
        for listener in self._subscribers:
            listener(change)

    # --- reads --------------------------------------------------------------------
    @property
    def events_(self) -> Mapping[str, list[Item]]:
        """Event id -> members (read-only), least recently grown first."""
        return MappingProxyType(self._events)

    @property
    def assignments_(self) -> Mapping[str, str]:
        """Article id -> event id (read-only), for the articles in memory."""
        return MappingProxyType(self._event_of)

    @property
    def n_articles(self) -> int:
        return len(self._event_of)

    def item(self, article_id: str) -> Item:
        return next(m for m in self._events[self._event_of[article_id]] if m.doc.id == article_id)

    def oldest(self) -> str:
        """The event that grew least recently."""
        return next(iter(self._events))

    def event_date(self, event_id: str) -> PartialDate | None:
        """The event's date from its members' (``summary.event_date_of``), cached until it changes."""
        if event_id not in self._dates:
            self._dates[event_id] = event_date_of([m.doc.event_date for m in self._events[event_id]])
        return self._dates[event_id]

    def arrival(self, event_id: str) -> int:
        """The arrival rank of the event's first report among the articles in memory."""
        return min(self._key_of[m.doc.id] for m in self._events[event_id])

    def opened_by(self, event_id: str) -> str:
        """The article that opened the event: the member that arrived first."""
        return min(self._events[event_id], key=lambda m: self._key_of[m.doc.id]).doc.id

    def nearest_events(self, vec: np.ndarray, k: int) -> list[str]:
        """The events of the ``k`` nearest articles to ``vec`` (cosine), nearest first."""
        if not self._keys:
            return []
        k = min(len(self._keys), k)
        matches = self._ann(vec.shape[0]).search(vec.astype(np.float32), k,
                                                 exact=len(self._keys) <= 2048)
        seen: dict[str, None] = {}
        for key in matches.keys:
            seen.setdefault(self._event_of[self._keys[int(key)]], None)
        return list(seen)

    def local_means(self, article_ids: Sequence[str],
                    vecs: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """The local background of each article (``Neighbourhoods.means``)."""
        return self._local.means(article_ids, vecs)

    # --- the four changes -----------------------------------------------------------
    def add(self, item: Item, event_id: str) -> None:
        aid = item.doc.id
        if aid in self._event_of:
            raise ValueError(f"article {aid} is already in event {self._event_of[aid]}")
        self._events.setdefault(event_id, []).append(item)
        self._events.move_to_end(event_id)
        self._event_of[aid] = event_id
        self._ann(item.vec.shape[0]).add(self._next_key, item.vec.astype(np.float32))
        self._keys[self._next_key] = aid
        self._key_of[aid] = self._next_key
        self._next_key += 1
        self._local.add(aid, item.vec)
        self._tell(Change("add", (event_id,), (item,)))

    def move(self, article_id: str, event_id: str) -> None:
        old = self._event_of[article_id]
        if old == event_id:
            return
        item = self.item(article_id)
        self._events[old] = [m for m in self._events[old] if m.doc.id != article_id]
        if not self._events[old]:
            del self._events[old]
        self._events.setdefault(event_id, []).append(item)
        self._events.move_to_end(event_id)
        self._event_of[article_id] = event_id
        self._tell(Change("move", (old, event_id), (item,)))

    def update(self, item: Item) -> None:
        """Replace a member by ``item`` (same article id, new document)."""
        eid = self._event_of[item.doc.id]
        self._events[eid] = [item if m.doc.id == item.doc.id else m for m in self._events[eid]]
        self._tell(Change("update", (eid,), (item,)))

    def evict(self, event_id: str) -> list[Item]:
        """Forget the event and its members; returns them."""
        members = self._events.pop(event_id)
        for m in members:
            aid = m.doc.id
            key = self._key_of.pop(aid)
            self._index.remove(key)
            del self._keys[key]
            del self._event_of[aid]
            self._local.discard(aid)
        self._tell(Change("evict", (event_id,), tuple(members)))
        return members

    def _ann(self, dim: int):
        if self._index is None:
            from usearch.index import Index

            self._index = Index(ndim=dim, metric="cos", dtype="f32")
        return self._index
