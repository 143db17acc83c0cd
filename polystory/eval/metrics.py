"""Clustering and similarity metrics: BCubed, pairwise P/R/F1, Pearson."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Mapping, Sequence

__all__ = ["Scores", "bcubed", "pairwise", "pearson", "evaluate"]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4)}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def bcubed(key: Mapping[str, str], pred: Mapping[str, str], only: Sequence[str] | None = None) -> Scores:
    """BCubed precision/recall/F1 of ``pred`` against ``key`` (both: item -> cluster label).

    Items missing from ``pred`` count as singletons.  ``only`` restricts the averaged items
    (the clusters still include every item).

    >>> bcubed({"a": 1, "b": 1, "c": 2}, {"a": "x", "b": "x", "c": "x"}).as_dict()
    {'precision': 0.5556, 'recall': 1.0, 'f1': 0.7143}
    """
    pred = {i: pred.get(i, ("__single__", i)) for i in key}
    by_pred, by_key = defaultdict(set), defaultdict(set)
    for i in key:
        by_pred[pred[i]].add(i)
        by_key[key[i]].add(i)
    items = list(only) if only is not None else list(key)
    p = r = 0.0
    for i in items:
        same_pred, same_key = by_pred[pred[i]], by_key[key[i]]
        both = len(same_pred & same_key)
        p += both / len(same_pred)
        r += both / len(same_key)
    n = len(items) or 1
    return Scores(p / n, r / n, _f1(p / n, r / n))


def pairwise(key: Mapping[str, str], pred: Mapping[str, str]) -> Scores:
    """Precision/recall/F1 over pairs of items put together.

    >>> pairwise({"a": 1, "b": 1, "c": 2}, {"a": "x", "b": "x", "c": "y"}).as_dict()
    {'precision': 1.0, 'recall': 1.0, 'f1': 1.0}
    """
    pred = {i: pred.get(i, ("__single__", i)) for i in key}

    def pairs(labels: Mapping[str, object]) -> int:
        return sum(n * (n - 1) // 2 for n in Counter(labels.values()).values())

    joint = Counter((key[i], pred[i]) for i in key)
    tp = sum(n * (n - 1) // 2 for n in joint.values())
    pp, kp = pairs(pred), pairs(key)
    p = tp / pp if pp else 1.0
    r = tp / kp if kp else 1.0
    return Scores(p, r, _f1(p, r))


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation.

    >>> round(pearson([1, 2, 3], [2, 4, 7]), 4)
    0.9934
    """
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sx = math.sqrt(sum((a - mx) ** 2 for a in x))
    sy = math.sqrt(sum((b - my) ** 2 for b in y))
    return sxy / (sx * sy) if sx and sy else 0.0


def evaluate(key_rows: Sequence[Mapping], out_rows: Sequence[Mapping]) -> dict:
    """Event and story scores of ``polystory cluster`` output against a key.

    Key rows carry ``id``, ``event`` and ``group`` (and optionally ``event_date``); output
    rows carry ``id``, ``event``, ``story`` (and ``event_date``).
    """
    out = {r["id"]: r for r in out_rows}
    result: dict = {"articles": len(key_rows), "missing": sum(r["id"] not in out for r in key_rows)}
    for name, kcol, ocol in (("events", "event", "event"), ("stories", "group", "story")):
        key = {r["id"]: r[kcol] for r in key_rows if r.get(kcol) is not None}
        pred = {i: out[i][ocol] for i in key if i in out and out[i].get(ocol) is not None}
        result[name] = {"bcubed": bcubed(key, pred).as_dict(), "pairwise": pairwise(key, pred).as_dict(),
                        "clusters": len(set(pred.values())), "key_clusters": len(set(key.values()))}
    dated = [r for r in key_rows if r.get("event_date")]
    if dated:
        from ..models import PartialDate

        ok = 0
        for r in dated:
            got = out.get(r["id"], {}).get("event_date")
            if got:
                d, k = PartialDate.parse(got), PartialDate.parse(r["event_date"])
                ok += d.precision == "day" and d.distance_days(k) <= 1
        result["event_date_within_1_day"] = round(ok / len(dated), 4)
    return result
