"""A cheap encoder without a model: hashed character n-grams (for tests and smoke runs).

Like scikit-learn's ``HashingVectorizer``: each character 3-, 4- and 5-gram of the
lower-cased, transliterated text is hashed to one of ``dim`` signed buckets.  It is fast
(thousands of texts per second) and deterministic across processes, but it knows no
meaning: it matches texts that share words, so it cannot link an event across languages.
Use it to exercise the pipeline, the store and the server without the cost of a neural
encoder; use ``e5-small`` for real clustering.

>>> enc = HashingEncoder()
>>> v = enc.encode(["Blinken met Lavrov", "Blinken met Lavrov in Geneva", "Rain in Oslo"])
>>> v.shape
(3, 384)
>>> bool(v[0] @ v[1] > v[0] @ v[2])
True
"""
from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
from anyascii import anyascii

__all__ = ["HashingEncoder"]


class HashingEncoder:
    """Signed hashing of character n-grams into ``dim`` dimensions, L2-normalised."""

    name = "hashing-char3-5/1"
    #: No shipped means: hashed n-grams have no language bias to correct beyond what the
    #: stream's own means remove (e5's means, of another vector space, must never apply).
    language_means: dict = {}

    def __init__(self, dim: int = 384, ngrams: tuple[int, ...] = (3, 4, 5)) -> None:
        self.dim = dim
        self.ngrams = ngrams
        if (dim, ngrams) != (384, (3, 4, 5)):
            self.name = f"hashing-char{min(ngrams)}-{max(ngrams)}-d{dim}/1"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        t = " " + " ".join(anyascii(text).lower().split()) + " "
        for n in self.ngrams:
            for i in range(len(t) - n + 1):
                h = zlib.crc32(t[i:i + n].encode("utf-8"))
                v[h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)
