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
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import items_for  # noqa: E402
from datasets import events_dev  # noqa: E402

from polystory.cluster import EVENT_FEATURES, STORY_FEATURES, PairScorer  # noqa: E402

#: Regularisation strength (inverse): the combiner must stay small and smooth.
C = 1.0


def pair_matrix(items, rows, scorer: PairScorer, names):
    X, y_event, y_story, groups = [], [], [], []
    for i, j in itertools.combinations(range(len(items)), 2):
        f = scorer.features(items[i], items[j])
        X.append([f[n] for n in names])
        y_event.append(rows[i]["event"] == rows[j]["event"])
        y_story.append(rows[i]["group"] == rows[j]["group"])
        groups.append((rows[i]["group"], rows[j]["group"]))
    return np.array(X), np.array(y_event), np.array(y_story), groups


def fit(X, y):
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    m.fit(X, y)
    return m


def fit_all(items, rows, features=None) -> dict:
    """Fit both combiners; ``features`` restricts the event model (ablations)."""
    scorer = PairScorer(combiner={"event": {}, "story": {}})
    for it in items:
        scorer.learn_one(it)
    out = {}
    event_names = tuple(features) if features else EVENT_FEATURES
    for model, names, col in (("event", event_names, 1), ("story", STORY_FEATURES, 2)):
        X, ye, ys, _ = pair_matrix(items, rows, scorer, names)
        m = fit(X, ye if col == 1 else ys)
        out[model] = {"weights": {n: round(float(w), 4) for n, w in zip(names, m.coef_[0])},
                      "bias": round(float(m.intercept_[0]), 4)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "polystory/data/combiner.json"))
    args = ap.parse_args()
    arts, rows = events_dev()
    items = items_for("events-dev", arts)
    combiner = fit_all(items, rows)
    combiner["fitted_on"] = "events-dev (84 articles, all pairs), bench/fit_combiner.py"
    Path(args.out).write_text(json.dumps(combiner, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(combiner, indent=2))


if __name__ == "__main__":
    main()
