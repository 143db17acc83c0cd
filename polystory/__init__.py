"""polystory: a multilingual stream of news articles -> events and stories."""
from .config import Settings, load_settings
from .errors import PolystoryError
from .models import Article, Document, Event, PartialDate, Story

__all__ = ["Pipeline", "Outcome", "Settings", "load_settings", "Article", "Document", "Event",
           "Story", "PartialDate", "PolystoryError"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``Pipeline`` and ``Outcome`` on first use: a process that only reads a store (``polystory
    events``) never imports the encoder, the clusterer or their libraries."""
    if name in ("Pipeline", "Outcome"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
