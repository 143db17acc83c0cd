"""Cluster stage: articles -> events, online, with a combined multilingual similarity."""
from .base import Assignment, Clusterer
from .online import OnlineEventClusterer
from .similarity import EVENT_FEATURES, Item, PairScorer

__all__ = ["Assignment", "Clusterer", "OnlineEventClusterer", "PairScorer", "Item",
           "EVENT_FEATURES"]
