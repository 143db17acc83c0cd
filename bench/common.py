"""Shared helpers of the bench scripts: documents and cached vectors of a data set."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from polystory.clean import clean
from polystory.cluster import Item
from polystory.config import Settings
from polystory.embed import embed_input, get_encoder
from polystory.enrich import enrich
from polystory.models import Article, Document

CACHE = Path(__file__).resolve().parent / ".cache"


def bench_settings() -> Settings:
    """Defaults, with ``POLYSTORY_*`` from the environment (``POLYSTORY_ENCODER=static``)."""
    import os

    from polystory.config import load_settings

    return load_settings(env=os.environ)


def items_for(name: str, arts: list[Article], settings: Settings | None = None) -> list[Item]:
    """Cleaned, enriched documents with their vectors (cached in bench/.cache/NAME.npz)."""
    settings = settings or bench_settings()
    docs = []
    for a in arts:
        d = clean(a, settings)
        if d is None:  # too short to clean: keep what there is (as polystory pairs does)
            d = Document(id=a.id, title=a.title, text=a.text, language=a.language)
        docs.append(enrich(d, settings))
    path = CACHE / (f"{name}.npz" if settings.encoder == Settings().encoder
                    else f"{name}.{settings.encoder}.npz")
    if path.exists():
        data = np.load(path)
        by_id = dict(zip(data["ids"].tolist(), data["vecs"]))
        if all(a.id in by_id for a in arts):
            return [Item(d, by_id[d.id]) for d in docs]
    enc = get_encoder(settings.encoder)
    texts = [embed_input(d, settings.embed_chars) for d in docs]
    vecs = np.concatenate([enc.encode(texts[i:i + 32]) for i in range(0, len(texts), 32)])
    CACHE.mkdir(exist_ok=True)
    np.savez(path, ids=np.array([d.id for d in docs]), vecs=vecs)
    return [Item(d, v) for d, v in zip(docs, vecs)]
