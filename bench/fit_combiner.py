"""Fit the logistic combiners (same event, same story) on events-dev pairs.

Usage: python bench/fit_combiner.py [--out polystory/data/combiner.json]

Every pair of the 84 events-dev articles is a training example: label "same event"
from the key's ``event``, "same story" from its ``group``.  Input is blind (no language,
no labels) and goes through the real clean + enrich + embed stages.  The features are
those of ``PairScorer.features``; class weights balance the rare positive pairs.
Leave-one-group-out scores of this fit are in ``bench/quality.py``.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import items_for  # noqa: E402
from datasets import events_dev  # noqa: E402

from polystory.cluster import EVENT_FEATURES, STORY_FEATURES, Item, PairScorer  # noqa: E402
from polystory.enrich import event_date  # noqa: E402

#: Regularisation strength (inverse): the combiner must stay small and smooth.
C = 1.0
#: Thresholds whose F1 is this close to the best count as equally good.
PLATEAU = 0.02
#: Train the event model also on clearly rated SemEval dev.csv pairs (many language pairs).
WITH_SEMEVAL = True  # measured with names_disjoint: SemEval test 0.719 -> 0.730, events-dev LOGO 0.908 -> 0.907
#: Train also on publication-blind copies of the pairs.
AUGMENT = True


def blind(item: Item) -> Item:
    """The item as if it came without a publication date (dates from its text only)."""
    d = item.doc
    text = f"{d.title}\n{d.text}" if d.title else d.text
    return Item(dataclasses.replace(d, published=None, event_date=event_date(text, d.language, None)),
                item.vec)


def pair_matrix(items, rows, scorer: PairScorer, names, augment: bool = False):
    """Features of all pairs; with ``augment`` also of the same pairs with publication dates
    removed (streams often lack them, and the combiner must know what to do then)."""
    pairs = np.triu_indices(len(items), 1)      # scipy's condensed order: (0, 1), (0, 2), ...

    def same(col: str) -> np.ndarray:
        labels = np.array([r[col] for r in rows], dtype=object)
        return (labels[:, None] == labels[None, :])[pairs]

    variants = [items, [blind(it) for it in items]] if augment else [items]
    X = []
    for its in variants:
        f = scorer.feature_matrix(its, its)
        X.append(np.column_stack([f[n][pairs] for n in names]))
    return np.vstack(X), np.tile(same("event"), len(variants)), np.tile(same("group"), len(variants))


def fit(X, y):
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    m.fit(X, y)
    return m


def calibrate(X, model, ids, key, names) -> float:
    """The average-linkage cut for BCubed F1 on the training articles: the middle of the
    thresholds within ``PLATEAU`` of the best F1 (the argmax alone swings with a few pairs).
    Probabilities get the same date-conflict scaling as ``PairScorer.event_proba``."""
    from scipy.cluster.hierarchy import fcluster, linkage

    from polystory.cluster import similarity
    from polystory.eval import bcubed

    p = model.predict_proba(X)[:, 1]
    if "date_far" in names:
        known, far = X[:, names.index("date_known")], X[:, names.index("date_far")]
        p = np.where((known > 0) & (far > similarity._CONFLICT_FAR),
                     p * similarity.DATE_CONFLICT_FACTOR, p)
    dist = 1.0 - p  # pairs in scipy's condensed order
    Z = linkage(dist, method="average")
    grid = np.arange(0.30, 0.951, 0.025)
    f1 = [bcubed(key, dict(zip(ids, fcluster(Z, 1.0 - t, criterion="distance").tolist()))).f1
          for t in grid]
    good = [t for t, f in zip(grid, f1) if f >= max(f1) - PLATEAU]
    return round(float(np.median(good)), 3)


@functools.lru_cache(maxsize=None)
def semeval_pairs(names: tuple[str, ...]):
    """Features and labels of SemEval dev.csv pairs rated clearly similar (Overall <= 1.5:
    positive) or clearly not (>= 3: negative); the middle of the scale is left out."""
    from datasets import semeval, semeval_articles

    arts = semeval_articles("dev")
    items = {it.doc.id: it for it in items_for("semeval-dev", arts)}
    scorer = PairScorer(combiner={"event": {}, "story": {}})
    for it in items.values():
        scorer.learn_one(it)
    X, y = [], []
    for r in semeval("dev"):
        overall = float(r["Overall"])
        if 1.5 < overall < 3.0:
            continue
        a, b = r["pair_id"].split("_")
        f = scorer.features(items[a], items[b])
        X.append([f[n] for n in names])
        y.append(overall <= 1.5)
    return np.array(X), np.array(y)


def fit_all(items, rows, features=None) -> dict:
    """Fit both combiners and calibrate their thresholds; ``features`` restricts the event
    model (ablations)."""
    scorer = PairScorer(combiner={"event": {}, "story": {}})
    for it in items:
        scorer.learn_one(it)
    out = {}
    event_names = tuple(features) if features else EVENT_FEATURES
    ids = [it.doc.id for it in items]
    for model, names, col in (("event", event_names, "event"), ("story", STORY_FEATURES, "group")):
        X, ye, ys = pair_matrix(items, rows, scorer, names, augment=AUGMENT)
        if col == "event" and WITH_SEMEVAL:
            Xs, ysem = semeval_pairs(tuple(names))
            m = fit(np.vstack([X, Xs]), np.concatenate([ye, ysem]))
        else:
            m = fit(X, ye if col == "event" else ys)
        if AUGMENT:  # calibrate on the real pairs only (the first half)
            X = X[: len(X) // 2]
        out[model] = {"weights": {n: round(float(w), 4) for n, w in zip(names, m.coef_[0])},
                      "bias": round(float(m.intercept_[0]), 4),
                      "threshold": calibrate(X, m, ids, {r["id"]: r[col] for r in rows}, list(names))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None, help="default: polystory/data/combiner.json, or "
                    "static_combiner.json with POLYSTORY_ENCODER=static")
    args = ap.parse_args()
    from common import bench_settings

    from polystory.embed import get_encoder

    encoder = bench_settings().encoder
    data = Path(__file__).resolve().parents[1] / "polystory/data"
    args.out = args.out or str(data / ("static_combiner.json" if encoder == "static" else "combiner.json"))
    arts, rows = events_dev()
    items = items_for("events-dev", arts)
    combiner = fit_all(items, rows)
    combiner["fitted_on"] = "events-dev (84 articles, all pairs), bench/fit_combiner.py"
    if encoder == "static":  # a combiner is only valid for the vectors it was fitted on
        combiner["encoder"] = get_encoder(encoder).name
    Path(args.out).write_text(json.dumps(combiner, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(combiner, indent=2))


if __name__ == "__main__":
    main()
