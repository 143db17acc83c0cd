"""Embed the shared data sets once and keep the vectors in a cache folder.

Usage: python bench/embed_cache.py CACHE_DIR [events-dev|semeval-dev|semeval-test|seeds ...]

Each text is cleaned and cut exactly as the pipeline does (``clean`` + ``embed_input``),
so cached vectors equal the ones ``polystory cluster`` computes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import load  # noqa: E402

from polystory.clean import clean  # noqa: E402
from polystory.config import Settings  # noqa: E402
from polystory.embed import embed_input, get_encoder  # noqa: E402


def main() -> None:
    cache = Path(sys.argv[1])
    cache.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    enc = get_encoder(settings.encoder)
    for name in sys.argv[2:]:
        out = cache / f"{name}.npz"
        if out.exists():
            continue
        arts = load(name)
        texts, ids = [], []
        for a in arts:
            doc = clean(a, settings)
            texts.append(embed_input(doc, settings.embed_chars) if doc else a.text[: settings.embed_chars])
            ids.append(a.id)
        vecs = np.concatenate([enc.encode(texts[i:i + 32]) for i in range(0, len(texts), 32)])
        np.savez(out, ids=np.array(ids), vecs=vecs)
        print(name, len(ids), file=sys.stderr)


if __name__ == "__main__":
    main()
