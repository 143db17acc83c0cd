"""Timeline summarisation metrics: Date-F1 and date-aligned ROUGE-1/2.

Date-F1 compares the set of chosen dates with the reference dates.  ROUGE follows
Martschat & Markert (2017, 2018), as ``tilse`` computes it (the reference implementation;
it needs Perl ROUGE-1.5.5 and does not install here, so the counting is redone on
``rouge-score``'s tokenizer and Porter stemmer):

* ``agreement``: only summaries of dates in both timelines are compared;
* ``align_m1`` ("align+ m:1", the alignment-based ROUGE of Ghalandari & Ifrim 2020): each
  predicted date is aligned to the reference date of least cost (date distance times
  content dissimilarity), each reference date likewise to a predicted one, and matched
  n-gram counts are weighted by 1 / (1 + days apart).
"""
from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from typing import Mapping, Sequence

Timeline = Mapping[dt.date, Sequence[str]]  # date -> sentences


def _tokenizer():
    from rouge_score import tokenizers

    return tokenizers.DefaultTokenizer(use_stemmer=True)


@functools.lru_cache(maxsize=1)
def _tok():
    return _tokenizer()


@functools.lru_cache(maxsize=100_000)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_tok().tokenize(text))


def _ngrams(sentences: Sequence[str], n: int) -> Counter:
    toks = _tokens(" ".join(sentences))
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


def date_f1(pred: Sequence[dt.date], gold: Sequence[dt.date]) -> float:
    p, g = set(pred), set(gold)
    tp = len(p & g)
    if not tp:
        return 0.0
    prec, rec = tp / len(p), tp / len(g)
    return 2 * prec * rec / (prec + rec)


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _overlap(a: Counter, b: Counter) -> int:
    return sum((a & b).values())


def _rouge1_f(pred: Sequence[str], ref: Sequence[str]) -> float:
    a, b = _ngrams(pred, 1), _ngrams(ref, 1)
    o = _overlap(a, b)
    return _f(o / sum(a.values()) if a else 0.0, o / sum(b.values()) if b else 0.0)


def agreement(pred: Timeline, ref: Timeline, n: int) -> dict:
    pn = pd = rn = rd = 0.0
    for d in set(pred) | set(ref):
        a, b = _ngrams(pred.get(d, ()), n), _ngrams(ref.get(d, ()), n)
        o = _overlap(a, b)
        if d in pred:
            pn, pd = pn + o, pd + sum(a.values())
        if d in ref:
            rn, rd = rn + o, rd + sum(b.values())
    p, r = (pn / pd if pd else 0.0), (rn / rd if rd else 0.0)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(_f(p, r), 4)}


def align_m1(pred: Timeline, ref: Timeline, n: int) -> dict:
    pdates, rdates = sorted(pred), sorted(ref)

    def cost(dp: dt.date, dr: dt.date) -> float:
        date_factor = 1 - 1 / (abs((dp - dr).days) + 1)
        return date_factor * (1 - _rouge1_f(pred[dp], ref[dr]))

    def weighted(dp: dt.date, dr: dt.date) -> tuple[float, int, int]:
        a, b = _ngrams(pred[dp], n), _ngrams(ref[dr], n)
        w = 1 / (abs((dp - dr).days) + 1)
        return w * _overlap(a, b), sum(a.values()), sum(b.values())

    pn = pd = rn = rd = 0.0
    for dp in pdates:  # precision: each predicted date to its cheapest reference date
        if rdates:
            dr = min(rdates, key=lambda x: (cost(dp, x), abs((dp - x).days), x))
            o, na, _ = weighted(dp, dr)
            pn, pd = pn + o, pd + na
        else:
            pd += sum(_ngrams(pred[dp], n).values())
    for dr in rdates:  # recall: each reference date to its cheapest predicted date
        if pdates:
            dp = min(pdates, key=lambda x: (cost(x, dr), abs((x - dr).days), x))
            o, _, nb = weighted(dp, dr)
            rn, rd = rn + o, rd + nb
        else:
            rd += sum(_ngrams(ref[dr], n).values())
    p, r = (pn / pd if pd else 0.0), (rn / rd if rd else 0.0)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(_f(p, r), 4)}


def tls_scores(pred: Timeline, ref: Timeline) -> dict:
    """Date-F1 and ROUGE-1/2 F1 (agreement and align+ m:1) of one timeline."""
    return {"date_f1": round(date_f1(list(pred), list(ref)), 4),
            "ar1_f1": align_m1(pred, ref, 1)["f1"], "ar2_f1": align_m1(pred, ref, 2)["f1"],
            "agreement_r1_f1": agreement(pred, ref, 1)["f1"],
            "agreement_r2_f1": agreement(pred, ref, 2)["f1"]}
