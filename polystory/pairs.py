"""Pairwise similarity of two articles, from the clusterer's features.

``score_pairs`` runs both texts of each pair through clean, enrich and embed, lets the
``PairScorer`` learn the batch's statistics (language means, name and number IDF), then
returns ``PairScorer.similarity`` for each pair: the mean of the clusterer's "same event"
probability and a head fitted on people's graded ratings, over the same features
(``same_event=True``: the clusterer's probability alone, ``PairScorer.event_proba``).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

import numpy as np

from .clean import clean
from .cluster import Item, PairScorer
from .cluster.neighbourhood import local_means
from .config import Settings
from .embed import Encoder, embed_input, get_encoder
from .enrich import enrich
from .models import Article, Document

__all__ = ["Pair", "score_pairs"]


@dataclasses.dataclass(frozen=True)
class Pair:
    id: str
    text1: str
    text2: str
    title1: str = ""
    title2: str = ""
    published1: str = ""
    published2: str = ""


def _document(art: Article, settings: Settings) -> Document:
    doc = clean(art, settings)
    if doc is None:  # too short to clean: score what there is
        doc = Document(id=art.id, title=art.title, text=art.text, language="")
    return enrich(doc, settings)


def score_pairs(pairs: Sequence[Pair], settings: Settings | None = None,
                encoder: Encoder | None = None, batch: int = 32,
                same_event: bool = False) -> list[float]:
    """Similarity in [0, 1] of each pair (higher = more likely the same event);
    ``same_event``: the clusterer's "same event" probability alone.

    >>> score_pairs([])
    []
    """
    if not pairs:
        return []
    settings = settings or Settings()
    encoder = encoder or get_encoder(settings.encoder)
    arts: list[Article] = []
    for p in pairs:
        arts.append(Article(id=f"{p.id}#1", text=p.text1, title=p.title1, published=p.published1))
        arts.append(Article(id=f"{p.id}#2", text=p.text2, title=p.title2, published=p.published2))
    docs = [_document(a, settings) for a in arts]
    texts = [embed_input(d, settings.embed_chars) for d in docs]
    vecs = np.concatenate([encoder.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)])
    items = [Item(d, v) for d, v in zip(docs, vecs)]
    scorer = PairScorer(language_prior=settings.language_prior,
                        combiner=getattr(encoder, "combiner", None),
                        language_means=getattr(encoder, "language_means", None))
    for it in items:
        scorer.learn_one(it)
    # the pairs' texts are the stream: each text's local background is its nearest others
    local = local_means(vecs, [it.doc.id for it in items])
    score = scorer.event_proba if same_event else scorer.similarity
    return [score(scorer.features(items[2 * i], items[2 * i + 1], local=(local[2 * i], local[2 * i + 1])))
            for i in range(len(pairs))]


def read_pairs(rows: Iterable[dict]) -> list[Pair]:
    fields = {f.name for f in dataclasses.fields(Pair)}
    return [Pair(**{k: str(v) for k, v in r.items() if k in fields and v is not None}) for r in rows]
