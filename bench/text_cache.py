"""An encoder that remembers every text it has embedded, on disk (bench/.cache).

The pipeline embeds texts that depend on the stream (cleaning learns boilerplate lines
across documents, recall sentences are embedded too), so vectors are cached by the text
itself: a run through the real pipeline embeds only what an earlier run did not.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from polystory.embed import get_encoder

CACHE = Path(__file__).resolve().parent / ".cache"


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class TextCacheEncoder:
    """Wraps the configured encoder; ``save()`` writes new vectors to ``CACHE/NAME.npz``."""

    def __init__(self, name: str, encoder_name: str) -> None:
        self._inner = get_encoder(encoder_name)
        self.name, self.dim = self._inner.name, self._inner.dim
        self.path = CACHE / f"{name}.{self.name.replace('/', '_')}.npz"
        self._vecs: dict[str, np.ndarray] = {}
        self._new = 0
        if self.path.exists():
            data = np.load(self.path)
            self._vecs = dict(zip(data["keys"].tolist(), data["vecs"]))

    def encode(self, texts):
        keys = [_key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts) if k not in self._vecs}
        if todo:
            for k, v in zip(todo, self._inner.encode(list(todo.values()))):
                self._vecs[k] = v
            self._new += len(todo)
            if self._new >= 256:
                self.save()
        return np.stack([self._vecs[k] for k in keys])

    def save(self) -> None:
        if not self._new:
            return
        CACHE.mkdir(exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(self._vecs)), vecs=np.stack(list(self._vecs.values())))
        tmp.replace(self.path)
        self._new = 0
