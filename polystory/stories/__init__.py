"""Stories stage: link events that continue one another into timelines."""
from .linker import StoryLinker
from .timeline import Report, TimelineEntry, timeline

__all__ = ["StoryLinker", "Report", "TimelineEntry", "timeline"]
