"""Stories stage: link events that continue one another into timelines."""
from .linker import StoryLinker
from .timeline import Report, TimelineEntry

__all__ = ["StoryLinker", "Report", "TimelineEntry"]
