"""polystory: a multilingual stream of news articles -> events and stories."""
from .config import Settings, load_settings
from .errors import PolystoryError
from .models import Article, Document, Event, PartialDate, Story
from .pipeline import Outcome, Pipeline

__all__ = ["Pipeline", "Outcome", "Settings", "load_settings", "Article", "Document", "Event",
           "Story", "PartialDate", "PolystoryError"]
__version__ = "0.1.0"
