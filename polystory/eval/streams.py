"""Synthetic streams for load tests and benchmarks: real articles resampled with shifted dates.

A stream of ``n`` articles cycles through the real ones; every pass after the first makes
each article a near-copy (one paragraph left out, the pass number added at its end,
another id, the publication date moved ``shift_days`` per pass), the way a wire story is re-run by other outlets later.  The
texts stay real (same languages, lengths and boilerplate), every article's content is
distinct, and the same arguments always give the same stream.

>>> from polystory.models import Article
>>> base = [Article(id="a", text="One.\\n\\nTwo.\\n\\nThree.", published="2023-03-02")]
>>> [(a.id, a.text.count("\\n\\n"), a.published) for a in resample(base, 3)]
[('a', 2, '2023-03-02'), ('a~1', 1, '2023-04-01'), ('a~2', 1, '2023-05-01')]
>>> [a.text for a in resample(base, 3)][1:]
['One.\\n\\nThree. [1]', 'One.\\n\\nTwo. [2]']
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterator, Sequence

from ..enrich.dates import parse_published
from ..models import Article

__all__ = ["resample"]


def _shift(published: str, days: int) -> str:
    date = parse_published(published) if published else None
    if date is None:
        return published
    first = date.first_day() + dt.timedelta(days=days)
    return first.isoformat()[: {"year": 4, "month": 7, "day": 10}[date.precision]]


def _variant(text: str, k: int) -> str:
    """The text without one of its paragraphs (cyclically; never the first), marked ``[k]``
    at its end so that no two passes give the same content."""
    paras = text.rstrip().split("\n\n")
    if len(paras) >= 3:
        drop = 1 + (k - 1) % (len(paras) - 1)
        paras = [p for i, p in enumerate(paras) if i != drop]
    paras[-1] += f" [{k}]"
    return "\n\n".join(paras)


def resample(articles: Sequence[Article], n: int, *, shift_days: int = 30) -> Iterator[Article]:
    """``n`` articles: ``articles`` in order, then near-copies of them, pass after pass."""
    if not articles:
        return
    for i in range(n):
        k, a = divmod(i, len(articles))
        base = articles[a]
        if k == 0:
            yield base
        else:
            yield dataclasses.replace(base, id=f"{base.id}~{k}", text=_variant(base.text, k),
                                      published=_shift(base.published, k * shift_days))
