"""What the app shares between requests: the pipeline, its write lock, a change counter."""
from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from ..pipeline import Pipeline
from .errors import Unauthorized

__all__ = ["ServeState", "state_of", "check_write", "DEFAULT_MAX_BODY"]

#: Largest request body accepted (bytes): a few thousand articles per POST.
DEFAULT_MAX_BODY = 5 * 1024 * 1024


@dataclass
class ServeState:
    """Shared by all requests of one app.

    ``lock`` serialises everything that touches the pipeline's in-memory models (adding
    articles); reads, searches included, go through the store, which has its own lock.  ``revision`` counts POSTs that stored something, so pages can tell
    that the data changed.  With a ``token``, writes must carry ``Authorization: Bearer
    <token>``; reads stay open.
    """

    pipeline: Pipeline
    max_body: int = DEFAULT_MAX_BODY
    token: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    revision: int = 0
    monitor: Any = None     # a polystory.watch.Monitor when the server watches sources
    query_lock: threading.Lock = field(default_factory=threading.Lock)
    _query_encoder: Any = None

    def encode_query(self, text: str):
        """The vector of a search query, from an encoder of its own (so a search does not
        wait for a write's batch, which holds ``lock`` while it embeds and clusters); the
        pipeline's, under ``lock``, where the settings' encoder is not the one whose
        vectors the store holds (a pipeline given another encoder)."""
        from ..embed import get_encoder

        p = self.pipeline
        with self.query_lock:
            if self._query_encoder is None:
                own = get_encoder(p.settings.encoder)
                self._query_encoder = own if own.name == p.encoder.name else False
            if self._query_encoder is False:
                with self.lock:
                    return p.encoder.encode([text])[0]
            return self._query_encoder.encode([text])[0]


def check_write(request: Request, state: ServeState) -> None:
    """``Unauthorized`` unless the request carries the server's write token (if it has one)."""
    if not state.token:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken does not tell how much of a guess was right
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                            state.token.encode()):
        raise Unauthorized("writing needs the server's token: send 'Authorization: Bearer <token>'")


def state_of(request: Request) -> ServeState:
    """The ``ServeState`` of the app serving ``request``."""
    return request.app.state.polystory
