"""Cross-lingual event search: the query's meaning and the names it mentions.

Two signals, combined so that a name finds the same events in any script:

* **names**: each query word becomes a name key with ``entity_key`` (transliterated, cut
  to a prefix), so "Lavrov", "Лавров" and "Lavrovin" give the same key and match the
  events whose articles name that actor;
* **meaning**: the query is embedded with the pipeline's encoder and each event scores
  the best cosine between the query and its articles' vectors.

A query made only of names that some event mentions (``Lavrov``, ``Лавров G20``) returns
the events that mention them: ranked by how many of the names they share, then by
meaning.  Any other query ("rocket explodes") returns the events close in meaning (near
the best match, or sharing one of its words as a name), those sharing more names first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .queries import query_keys

__all__ = ["Hit", "search_events", "MIN_COSINE", "MARGIN"]

#: Lowest query-article cosine that counts as "close in meaning".  e5 cosines are
#: compressed: on events-dev, queries about a covered event score 0.81-0.88 with its
#: articles, queries about nothing covered peak at 0.79.
MIN_COSINE = 0.80
#: Meaning-only hits must also be within this of the best cosine (drops the long tail).
MARGIN = 0.05


@dataclass(frozen=True)
class Hit:
    """One event found: its rank score, best cosine, and the query names it shares."""

    event_id: str
    score: float
    cosine: float
    names: tuple[str, ...]


def _event_keys(items: Sequence) -> set[str]:
    return {k for it in items for k in it.doc.entities}


def _event_cosine(items: Sequence, query_vec: np.ndarray) -> float:
    return float(np.max(np.stack([it.vec for it in items]) @ query_vec))


def search_events(events: Mapping[str, Sequence], query: str, query_vec: np.ndarray,
                  limit: int = 20) -> list[Hit]:
    """Rank events (``event id -> clusterer Items``) for ``query`` embedded as ``query_vec``.

    >>> from polystory.cluster import Item
    >>> from polystory.models import Document
    >>> def item(i, names, vec):
    ...     doc = Document(id=i, title="", text="", language="en", entities=names)
    ...     return Item(doc, np.array(vec, dtype=np.float32))
    >>> events = {"E1": [item("a", ("lavro", "blink"), [1, 0])],
    ...           "E2": [item("b", ("biden",), [0.98, 0.199])],
    ...           "E3": [item("c", ("starl",), [0, 1])]}
    >>> [h.event_id for h in search_events(events, "Лавров", np.array([0.6, 0.8], dtype=np.float32))]
    ['E1']
    >>> [h.event_id for h in search_events(events, "talks", np.array([1, 0], dtype=np.float32))]
    ['E1', 'E2']
    """
    keys = query_keys(query)
    scored = []
    for eid, items in events.items():
        if not items:
            continue
        names = _event_keys(items)
        shared = tuple(k for k in keys if k in names)
        scored.append((eid, len(shared) / len(keys) if keys else 0.0,
                       _event_cosine(items, query_vec), shared))
    named = [s for s in scored if s[1] > 0]
    known = {k for s in named for k in s[3]}
    if keys and known == set(keys):  # a query of names only
        hits = named
    else:
        best = max((s[2] for s in scored), default=0.0)
        hits = [s for s in scored
                if s[2] >= MIN_COSINE and (s[1] > 0 or s[2] >= best - MARGIN)]
    hits.sort(key=lambda s: (-(s[1] + s[2]), s[0]))
    return [Hit(eid, round(overlap + cos, 4), round(cos, 4), shared)
            for eid, overlap, cos, shared in hits[:limit]]
