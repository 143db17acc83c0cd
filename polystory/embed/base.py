"""The encoder interface: any object with a ``name``, a ``dim`` and ``encode(texts)``."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = ["Encoder"]


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dim`` dimensions.

    ``name`` identifies the model and its version: stored vectors are only compared with
    vectors of the same name, so swapping the encoder never mixes two vector spaces.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # (len(texts), dim) float32
        ...
