"""Cross-lingual event search over the store: the query's meaning and the names it mentions.

Two signals, combined so that a name finds the same events in any script:

* **names**: each query word becomes a name key with ``entity_key`` (transliterated, cut
  to a prefix), so "Lavrov", "Лавров" and "Lavrovin" give the same key and match the
  events whose articles name that actor (the store's ``article_names``);
* **meaning**: the query is embedded with the encoder of the store's vectors, and each
  event scores the best cosine between the query and its articles' vectors (the store's
  ``vector_index``: its nearest articles, and the articles of the events a name found).

A query made only of names that some event mentions (``Lavrov``, ``Лавров G20``) returns
the events that mention them: ranked by how many of the names they share, then by
meaning.  Any other query ("rocket explodes") returns the events close in meaning (near
the best match, or sharing one of its words as a name), those sharing more names first.

It reads the store only, never a clusterer: every stored event is searched, and what
another process stored is found on the next search.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .queries import query_keys

__all__ = ["Hit", "rank_events", "search_store", "MIN_COSINE", "MARGIN"]

#: Lowest query-article cosine that counts as "close in meaning".  e5 cosines are
#: compressed: on events-dev, queries about a covered event score 0.81-0.88 with its
#: articles, queries about nothing covered peak at 0.79.
MIN_COSINE = 0.80
#: Meaning-only hits must also be within this of the best cosine (drops the long tail).
MARGIN = 0.05
#: The nearest stored articles whose events are candidates by meaning.
NEAREST_ARTICLES = 200
#: Events found by a name: the ones whose articles named it most recently.
NAMED_EVENTS = 200


@dataclass(frozen=True)
class Hit:
    """One event found: its rank score, best cosine, and the query names it shares."""

    event_id: str
    score: float
    cosine: float
    names: tuple[str, ...]


def rank_events(events: Mapping[str, tuple[set[str], float]], keys: list[str], limit: int = 20) -> list[Hit]:
    """Rank candidate events (``event id -> (the query's name keys it carries, its best
    cosine with the query)``) for a query of name ``keys``.

    >>> events = {"E1": ({"lavro"}, 0.70), "E2": (set(), 0.83), "E3": (set(), 0.60)}
    >>> [h.event_id for h in rank_events(events, ["lavro"])]
    ['E1']
    >>> [h.event_id for h in rank_events(events, ["talks"])]
    ['E2']
    """
    scored = [(eid, len([k for k in keys if k in names]) / len(keys) if keys else 0.0, cos,
               tuple(k for k in keys if k in names)) for eid, (names, cos) in events.items()]
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


def search_store(store, query: str, query_vec: np.ndarray, model: str, limit: int = 20) -> list[Hit]:
    """Events of ``store`` for ``query`` embedded as ``query_vec`` by encoder ``model``."""
    keys = query_keys(query)
    index = store.vector_index(model)
    near = index.nearest(query_vec, NEAREST_ARTICLES)
    event_of = store.events_of([aid for aid, _ in near])
    best: dict[str, float] = {}
    for aid, cos in near:
        eid = event_of.get(aid)
        if eid is not None and cos > best.get(eid, -1.0):
            best[eid] = cos
    names = store.event_name_keys(keys, list(best)) if keys else {}
    named = store.event_name_keys(keys, limit=NAMED_EVENTS) if keys else {}
    fresh = store.event_articles([eid for eid in named if eid not in best])
    if fresh:   # events a name found that no near article belongs to: their best cosine
        cos = index.cosines([a for arts in fresh.values() for a in arts], query_vec)
        for eid, arts in fresh.items():
            best[eid] = max((cos[a] for a in arts if a in cos), default=0.0)
    names.update(named)
    return rank_events({eid: (names.get(eid, set()), c) for eid, c in best.items()}, keys, limit)
