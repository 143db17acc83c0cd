"""What the app shares between requests: the pipeline, its write lock, a change counter."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import Request

from ..pipeline import Pipeline

__all__ = ["ServeState", "state_of", "DEFAULT_MAX_BODY"]

#: Largest request body accepted (bytes): a few thousand articles per POST.
DEFAULT_MAX_BODY = 5 * 1024 * 1024


@dataclass
class ServeState:
    """Shared by all requests of one app.

    ``lock`` serialises everything that touches the pipeline's in-memory models (adding
    articles, searching the clusterer's vectors); plain reads go through the store, which
    has its own lock.  ``revision`` counts POSTs that stored something, so pages can tell
    that the data changed.
    """

    pipeline: Pipeline
    max_body: int = DEFAULT_MAX_BODY
    lock: threading.Lock = field(default_factory=threading.Lock)
    revision: int = 0


def state_of(request: Request) -> ServeState:
    """The ``ServeState`` of the app serving ``request``."""
    return request.app.state.polystory
