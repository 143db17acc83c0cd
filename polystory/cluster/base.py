"""The online clusterer contract (river-style): ``learn_one`` and ``predict_one``."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from .similarity import Item

__all__ = ["Clusterer", "Assignment", "Repair"]


@dataclass(frozen=True)
class Assignment:
    """Where an article went: its event, whether that event is new, and why; and the
    events close enough to matter for repair (its event's neighbours from now on)."""

    event_id: str
    new: bool
    score: float
    evidence: dict = field(default_factory=dict)
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Repair:
    """What one ``repair`` call changed: the articles that moved (to their new event), the
    events it emptied, the events that lost articles and still have some, the articles it
    dated from other reports' back-references (with the recalling report), and the links
    of the neighbour relation it made (an event that received an article is linked to the
    neighbours of the event it left)."""

    moved: dict[str, str] = field(default_factory=dict)
    emptied: tuple[str, ...] = ()
    shrunk: tuple[str, ...] = ()
    dated: dict = field(default_factory=dict)   # article id -> (PartialDate, recalling article id)
    links: tuple[tuple[str, str], ...] = ()   # sorted pairs of event ids


class Clusterer(ABC):
    @abstractmethod
    def predict_one(self, item: Item) -> Assignment:
        """The event ``item`` would join (or a new one), without changing state."""

    @abstractmethod
    def learn_one(self, item: Item) -> Assignment:
        """Assign ``item`` and update the state."""
