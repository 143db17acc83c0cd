"""The encoder interface: any object with a ``name``, a ``dim`` and ``encode(texts)``."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = ["Encoder", "load_language_means"]


def load_language_means(name: str) -> dict[str, np.ndarray]:
    """Shipped mean vectors per language (``_global``: over all), of one encoder's vectors
    (``polystory/data/NAME``, made by ``bench/fit_language_means.py``); ``{}`` where none ships."""
    from importlib import resources

    try:
        with resources.files("polystory").joinpath("data", name).open("rb") as fh:
            data = np.load(fh)
            return {k: data[k].astype(np.float32) for k in data.files}
    except FileNotFoundError:
        return {}


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dim`` dimensions.

    ``name`` identifies the model and its version: stored vectors are only compared with
    vectors of the same name, so swapping the encoder never mixes two vector spaces.

    Optional, fitted on *this* encoder's vectors (the pipeline reads them with ``getattr``):
    ``combiner`` (the pair combiner's weights, else the shipped e5 fit is used) and
    ``language_means`` (the shipped mean vector per language that language-bias correction
    starts from; an encoder without them is centred by the stream's own means only).
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # (len(texts), dim) float32
        ...
