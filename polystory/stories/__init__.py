"""Stories stage: link events that continue one another into timelines."""
from .linker import StoryLinker, load_link_model
from .timeline import Report, TimelineEntry

__all__ = ["StoryLinker", "load_link_model", "Report", "TimelineEntry"]
