"""Fit the logistic "same event" combiner on labelled pairs (stories: bench/fit_stories.py).

Usage: python bench/fit_combiner.py [--out polystory/data/combiner.json]

Every pair of the 84 events-dev articles is a training example: label "same event"
from the key's ``event``.  Input is blind (no language,
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

from polystory.cluster import EVENT_FEATURES, Item, PairScorer  # noqa: E402
from polystory.cluster.neighbourhood import local_means  # noqa: E402
from polystory.enrich import event_date  # noqa: E402

#: Regularisation strength (inverse): the combiner must stay small and smooth.
C = 1.0
#: Thresholds whose F1 is this close to the best count as equally good.
PLATEAU = 0.01
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
    local = local_of(items)
    X = []
    for its in variants:
        f = scorer.feature_matrix(its, its, local=(local, local))
        X.append(np.column_stack([f[n][pairs] for n in names]))
    return np.vstack(X), np.tile(same("event"), len(variants)), np.tile(same("group"), len(variants))


def local_of(items) -> np.ndarray:
    """Each item's local background among the set's items (the set is the stream)."""
    return local_means(np.array([it.vec for it in items]), [it.doc.id for it in items])


def fit(X, y):
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    m.fit(X, y)
    return m


@functools.lru_cache(maxsize=None)
def semeval_features(names: tuple[str, ...]):
    """Features of every SemEval dev.csv pair, and its people's "Overall" rating (1 = very
    similar, 4 = very dissimilar)."""
    from datasets import semeval, semeval_articles

    arts = semeval_articles("dev")
    items = {it.doc.id: it for it in items_for("semeval-dev", arts)}
    scorer = PairScorer(combiner={"event": {}})
    for it in items.values():
        scorer.learn_one(it)
    local = dict(zip(items, local_of(list(items.values()))))
    X, overall = [], []
    for r in semeval("dev"):
        a, b = r["pair_id"].split("_")
        f = scorer.features(items[a], items[b], local=(local[a], local[b]))
        X.append([f[n] for n in names])
        overall.append(float(r["Overall"]))
    return np.array(X), np.array(overall)


def semeval_pairs(names: tuple[str, ...]):
    """Features and labels of SemEval dev.csv pairs rated clearly similar (Overall <= 1.5:
    positive) or clearly not (>= 3: negative); the middle of the scale is left out."""
    X, overall = semeval_features(names)
    clear = (overall <= 1.5) | (overall >= 3.0)
    return X[clear], overall[clear] <= 1.5


@dataclasses.dataclass
class TrainingSet:
    """Labelled articles of one data set: ``rows`` carry ``event`` and ``group`` (the
    groups whose pairs are sampled apart); ``augment`` adds publication-blind copies of
    its pairs."""

    name: str
    items: list
    rows: list
    augment: bool = AUGMENT


#: Easy negatives (pairs of different groups) kept per pair of the same group.
CROSS_GROUP_NEGATIVES = 1.0


def _set_pairs(ts: TrainingSet, names, seed: int = 0):
    """Features and labels of one set's pairs: all pairs within a group, and a sample of
    pairs across groups (easy negatives; sampled so they do not swamp the hard ones)."""
    scorer = PairScorer(combiner={"event": {}})
    for it in ts.items:
        scorer.learn_one(it)
    X, ye, ys = pair_matrix(ts.items, ts.rows, scorer, names, augment=ts.augment)
    n = len(ts.items)
    iu = np.triu_indices(n, 1)
    groups = np.array([r.get("group", "") for r in ts.rows], dtype=object)
    within = (groups[:, None] == groups[None, :])[iu]
    keep = within.copy()
    n_cross = int((~within).sum())
    want = int(CROSS_GROUP_NEGATIVES * within.sum())
    if n_cross > want:
        rng = np.random.default_rng(seed)
        cross_idx = np.flatnonzero(~within)
        keep[rng.choice(cross_idx, size=want, replace=False)] = True
    else:
        keep |= ~within
    reps = len(X) // len(within)
    keep = np.tile(keep, reps)
    return X[keep], ye[keep], ys[keep]


def fit_sets(sets: list[TrainingSet], features=None, with_semeval: bool | None = None) -> dict:
    """Fit the combiner on several labelled sets (and the clear SemEval dev pairs), and
    calibrate its threshold for the best mean BCubed F1 over the sets."""
    names = tuple(features) if features else EVENT_FEATURES
    Xs, ys = [], []
    for ts in sets:
        X, ye, _ = _set_pairs(ts, names)
        Xs.append(X)
        ys.append(ye)
    if WITH_SEMEVAL if with_semeval is None else with_semeval:
        Xsem, ysem = semeval_pairs(tuple(names))
        Xs.append(Xsem)
        ys.append(ysem)
    m = fit(np.vstack(Xs), np.concatenate(ys))
    spec = {"weights": {n: round(float(w), 4) for n, w in zip(names, m.coef_[0])},
            "bias": round(float(m.intercept_[0]), 4)}
    spec["threshold"] = calibrate_sets(sets, "event", spec, "event")
    return {"event": spec}


def calibrate_sets(sets: list[TrainingSet], model: str, spec: dict, col: str) -> float:
    """The linkage cut with the best mean BCubed F1 over the sets' real (not
    publication-blind) articles: the middle of the thresholds within ``PLATEAU`` of it.
    The linkage is the clusterer's (``cluster.linkage``: an undated report takes its
    group's date for the date conflict)."""
    from polystory.cluster.linkage import cut_path, linkage_path
    from polystory.cluster.similarity import DATE_CONFLICT_FACTOR, date_conflict
    from polystory.eval import bcubed

    grid = np.arange(0.30, 0.951, 0.025)
    f1 = np.zeros(len(grid))
    for ts in sets:
        scorer = PairScorer(combiner={"event": spec})
        for it in ts.items:
            scorer.learn_one(it)
        local = local_of(ts.items)
        f = scorer.feature_matrix(ts.items, ts.items, local=(local, local))
        path = linkage_path(scorer.event_proba(f, conflict=False), [it.doc.event_date for it in ts.items],
                            date_conflict, DATE_CONFLICT_FACTOR, floor=float(grid[0]))
        key = {r["id"]: r[col] for r in ts.rows}
        ids = [it.doc.id for it in ts.items]
        f1 += [bcubed(key, dict(zip(ids, cut_path(path, len(ids), t).tolist()))).f1 for t in grid]
    f1 /= len(sets)
    good = [t for t, f in zip(grid, f1) if f >= f1.max() - PLATEAU]
    return round(float(np.median(good)), 3)


#: Regularisation of the graded head (``fit_graded``).
GRADED_C = 1.0
#: The graded head's features: the event features less those of dates (its pairs carry
#: none: ``undated_cos`` would equal ``cos_centered`` there, and the fit would split one
#: weight between two features that part as soon as a pair is dated).
GRADED_FEATURES = tuple(n for n in EVENT_FEATURES if not n.startswith(("date_", "undated_")))


def fit_graded(names=GRADED_FEATURES) -> dict:
    """The ``graded`` head of ``PairScorer.similarity``: a logistic regression on every
    SemEval dev.csv pair, people's Overall rating as a soft label ((4 - Overall) / 3: 1 for
    "very similar", 0 for "very dissimilar"; each pair counts once as positive and once as
    negative, weighted by it)."""
    from sklearn.linear_model import LogisticRegression

    X, overall = semeval_features(tuple(names))
    soft = (4.0 - overall) / 3.0
    m = LogisticRegression(C=GRADED_C, max_iter=5000)
    m.fit(np.vstack([X, X]), np.r_[np.ones(len(X)), np.zeros(len(X))], sample_weight=np.r_[soft, 1.0 - soft])
    return {"weights": {n: round(float(w), 4) for n, w in zip(names, m.coef_[0])},
            "bias": round(float(m.intercept_[0]), 4)}


def fit_all(items, rows, features=None) -> dict:
    """Fit the combiner on one labelled set (events-dev-like rows); see ``fit_sets``."""
    return fit_sets([TrainingSet("train", items, rows)], features=features)


def training_sets(ecbplus: bool = True) -> list[TrainingSet]:
    """The shipped combiner's training data: events-dev, and ECB+ topics 1-35."""
    from datasets import ecbplus_dev

    arts, rows = events_dev()
    sets = [TrainingSet("events-dev", items_for("events-dev", arts), rows)]
    if ecbplus:
        arts, rows = ecbplus_dev()
        sets.append(TrainingSet("ecbplus-dev", items_for("ecbplus-dev", arts), rows,
                                augment=False))
    return sets


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
    sets = training_sets()
    combiner = fit_sets(sets)
    combiner["graded"] = fit_graded()
    combiner["fitted_on"] = ("event: events-dev (84 articles, all pairs), ecbplus-dev (ECB+ topics 1-35: "
                             "pairs within a topic and as many across), SemEval dev.csv clear pairs; "
                             "graded: all SemEval dev.csv pairs, Overall as a soft label; "
                             "bench/fit_combiner.py")
    if encoder == "static":  # a combiner is only valid for the vectors it was fitted on
        combiner["encoder"] = get_encoder(encoder).name
    Path(args.out).write_text(json.dumps(combiner, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(combiner, indent=2))


if __name__ == "__main__":
    main()
