"""Stories stage: link events that continue one another into timelines."""
from .linker import StoryLinker

__all__ = ["StoryLinker"]
