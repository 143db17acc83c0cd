"""Fit the story linker's weights and measure them leave-one-topic-out.

Usage: python bench/fit_stories.py [--out polystory/data/stories.json] [--json FILE] [--reuse]
       python bench/fit_stories.py --drop centroid_cos,nearest_cos --out polystory/data/stories_names.json

* Streams: ``timeline17-dev`` (4 long-running topics; a topic is a story),
  ``events-dev`` (4 groups of look-alike events; a group is a story) and ``ecbplus-dev``
  (66 events of 35 topics, each event its own story: a topic's two look-alike events are
  different happenings of different actors), blind, each through the real pipeline once
  (vectors cached by text in bench/.cache).  The events it finds are then fixed, and
  ``StoryLinker`` is replayed over them article by article as the pipeline drives it
  (``learn_event`` per article, ``relink`` per batch of 16), so weightings are tried in
  seconds.  Timeline17-dev also goes in a second time with its topics moved to start on one
  day, so that they arrive side by side, as a newsroom's stories do.
* Training pairs: each event, in the order of its first report, against the stories of the
  earlier events it is linked to (by names), the stories taken from the key (teacher
  forcing); positive when the event's story is that story.  Logistic regression, balanced.
* Held out: each Timeline17 topic (in both its streams), each events-dev group and each
  of 5 folds of ECB+ topics in turn: fit on the rest, choose the threshold on the training
  topics' replayed story F1, score the held-out articles (BCubed; the clusters include
  every article of the stream).  ``--reuse`` skips the pipeline runs (pickled).
* The shipped weights are fitted on everything, the threshold chosen the same way; they
  record the encoder whose vectors they fit.  Without the vector features (``--drop``) the
  fit holds for any encoder: the linker uses it for encoders without their own fit.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit  # noqa: E402
from datasets import ecbplus_dev, events_dev  # noqa: E402
from text_cache import TextCacheEncoder  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.config import Settings  # noqa: E402
from polystory.eval import bcubed  # noqa: E402
from polystory.stories.linker import LINK_FEATURES, VECTOR_FEATURES, StoryLinker  # noqa: E402

THRESHOLDS = (0.6, 0.7, 0.8, 0.9)
#: ECB+ topics are held out in this many folds (topics 1, 6, 11, ... in fold 0).
ECB_FOLDS = 5
BATCH = 16


def timeline17_stream():
    from timeline import blind_articles, load_key

    rows, _ = load_key()
    arts, _ = blind_articles(rows)
    return "timeline17-dev", arts, {r["id"]: r["topic"] for r in rows}


def events_dev_stream():
    arts, rows = events_dev()
    return "events-dev", arts, {r["id"]: r["group"] for r in rows}


def ecbplus_stream():
    """ECB+ topics 1-35: each real event is its own story (a topic's two look-alike events
    are different happenings of different actors), undated."""
    arts, rows = ecbplus_dev()
    return "ecbplus-dev", arts, {r["id"]: r["event"] for r in rows}


def _encoder(name, arts, settings):
    if name == "ecbplus-dev":   # its vectors are cached by bench/common.py's items_for
        from common import items_for
        from quality import CachedEncoder

        return CachedEncoder(items_for(name, arts, settings), settings)
    return TextCacheEncoder(name, settings.encoder)


def capture(name, arts, key) -> dict:
    """One real pipeline run: the articles in arrival order with their final event and
    Item, and the scorer (its shipped language means centre the vectors)."""
    settings = Settings()
    encoder = _encoder(name, arts, settings)
    with Pipeline(settings, db=":memory:", encoder=encoder) as p:
        try:
            outcomes = p.add_many(arts)
        finally:
            getattr(encoder, "save", lambda: None)()
        item_of = {it.doc.id: (eid, it) for eid, its in p.clusterer.events_.items() for it in its}
        stream = [(o.article_id, *item_of[o.article_id]) for o in outcomes if o.article_id in item_of]
    return {"name": name, "stream": stream, "scorer": p.scorer, "key": {a: key[a] for a, _, _ in stream}}


def aligned(data: dict) -> dict:
    """The stream with every topic moved in time to start on one day, the articles in the
    order of their moved dates: the topics now arrive side by side, as a newsroom's stories
    do (the linker reads no dates, so only the order changes)."""
    day = {aid: (it.doc.published or it.doc.event_date) for aid, _, it in data["stream"]}
    day = {a: (d.midpoint_ordinal() if d is not None else None) for a, d in day.items()}
    start: dict[str, float] = {}
    for a, t in data["key"].items():
        if day[a] is not None:
            start[t] = min(start.get(t, day[a]), day[a])
    pos = {a: i for i, (a, _, _) in enumerate(data["stream"])}

    def moved(r):
        a = r[0]
        return (day[a] - start.get(data["key"][a], 0.0)) if day[a] is not None else float("inf"), pos[a]
    return {**data, "name": data["name"] + " aligned", "stream": sorted(data["stream"], key=moved)}


def replay(data: dict, model: dict, threshold: float) -> dict[str, str]:
    """Article -> story, the linker driven over the fixed events as the pipeline drives it."""
    linker = StoryLinker(model=model, threshold=threshold, scorer=data["scorer"])
    members: dict[str, list] = defaultdict(list)
    for k, (_, eid, it) in enumerate(data["stream"]):
        members[eid].append(it)
        linker.learn_event(eid, members[eid])
        if (k + 1) % BATCH == 0:
            linker.relink()
    linker.relink()
    return {aid: linker.story_of_[eid] for aid, eid, _ in data["stream"]}


def training_pairs(data: dict) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features, label, topic of the event) of each event against its candidate stories."""
    linker = StoryLinker(scorer=data["scorer"])
    members: dict[str, list] = defaultdict(list)
    order: list[str] = []
    for aid, eid, it in data["stream"]:
        if eid not in members:
            order.append(eid)
        members[eid].append(it)
    topic = {eid: Counter(data["key"][it.doc.id] for it in its).most_common(1)[0][0]
             for eid, its in members.items()}
    X, y, g = [], [], []
    for eid in order:
        linker._refresh(eid, members[eid])
        for sid in linker._candidate_stories([eid]):
            X.append(linker.features([eid], linker.stories_[sid]))
            y.append(int(sid == topic[eid]))
            g.append(topic[eid])
        linker._attach(eid, topic[eid])
    return np.array(X), np.array(y), g


#: Features left out of the fit (their weight is 0): ``--drop``.
DROP: set[str] = set()


def _encoder_name() -> str:
    from polystory.embed import get_encoder

    return get_encoder(Settings().encoder).name


def fit(X: np.ndarray, y: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression

    X = X.copy()
    X[:, [i for i, f in enumerate(LINK_FEATURES) if f in DROP]] = 0.0
    m = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(X, y)
    return {"weights": {f: round(float(w), 4) for f, w in zip(LINK_FEATURES, m.coef_[0])},
            "bias": round(float(m.intercept_[0]), 4)}


def f1_on(data: dict, pred: dict, topics) -> float:
    only = [a for a, t in data["key"].items() if t in topics]
    return bcubed(data["key"], pred, only=only).f1 if only else float("nan")


def choose_threshold(model: dict, sets: list[dict], train_topics: dict[str, set]) -> float:
    best, best_score = THRESHOLDS[0], -1.0
    for thr in THRESHOLDS:
        score = np.mean([f1_on(d, replay(d, model, thr), train_topics[d["name"]]) for d in sets])
        print(f"  threshold {thr}: training story F1 {score:.4f}", file=sys.stderr)
        if score > best_score:
            best, best_score = thr, score
    return best


def captured(stream, reuse: bool) -> dict:
    """``capture`` of a stream; with ``reuse``, the one pickled by an earlier run (the
    events depend only on the clusterer, so a study of the linker alone can skip it)."""
    import pickle

    name, arts, key = stream()
    path = Path(__file__).resolve().parent / ".cache" / f"{name}.capture.pkl"
    if reuse and path.exists():
        return pickle.loads(path.read_bytes())
    data = capture(name, arts, key)
    path.write_bytes(pickle.dumps(data))
    return data


def _fold(name: str, label: str, key_rows: dict) -> str:
    """The held-out unit of a label: a Timeline17 topic (in both its streams), an
    events-dev group, or one of ``ECB_FOLDS`` folds of ECB+ topics."""
    if name == "ecbplus-dev":
        return f"ecb{(key_rows[label] - 1) % ECB_FOLDS}"
    return label


def run(args) -> dict:
    t17 = captured(timeline17_stream, args.reuse)
    sets = [t17, aligned(t17), captured(events_dev_stream, args.reuse),
            captured(ecbplus_stream, args.reuse)]
    ecb_topic = {r["event"]: int(r["group"].removeprefix("topic")) for r in ecbplus_dev()[1]}
    fold_of = {d["name"]: {t: _fold(d["name"], t, ecb_topic) for t in set(d["key"].values())} for d in sets}
    pairs = {d["name"]: training_pairs(d) for d in sets}
    report: dict = {"features": list(LINK_FEATURES), "pairs": {n: [int(len(p[1])), int(p[1].sum())]
                                                                 for n, p in pairs.items()}}
    held: dict[str, dict] = {}
    fitted: dict[str, tuple[dict, float]] = {}   # a Timeline17 topic's fold serves both its streams
    for d in sets:
        if args.held_out is not None and d["name"] not in args.held_out:
            continue
        rows = []
        for fold in sorted(set(fold_of[d["name"]].values())):
            train = {n: {t for t, f in fold_of[n].items() if f != fold} for n in fold_of}
            if fold not in fitted:
                X = np.vstack([p[0][[gi in train[n] for gi in p[2]]] for n, p in pairs.items()])
                y = np.concatenate([p[1][[gi in train[n] for gi in p[2]]] for n, p in pairs.items()])
                model = fit(X, y)
                fitted[fold] = model, choose_threshold(model, sets, train)
            model, thr = fitted[fold]
            pred = replay(d, model, thr)
            only = [a for a, t in d["key"].items() if fold_of[d["name"]][t] == fold]
            s = bcubed(d["key"], pred, only=only)
            rows.append({"held_out": fold, "articles": len(only), "threshold": thr, **s.as_dict(), **model})
            print(d["name"], rows[-1], file=sys.stderr)
        # one figure per data set: every article scored by the weights fitted without its
        # topic (BCubed P and R are means over articles, so the folds' combine by size)
        n = sum(r["articles"] for r in rows)
        p_ = sum(r["precision"] * r["articles"] for r in rows) / n
        r_ = sum(r["recall"] * r["articles"] for r in rows) / n
        held[d["name"]] = {"folds": rows, "precision": round(p_, 4), "recall": round(r_, 4),
                           "f1": round(2 * p_ * r_ / (p_ + r_), 4) if p_ + r_ else 0.0}
    report["held_out"] = held
    if args.no_shipped:
        return report
    X = np.vstack([p[0] for p in pairs.values()])
    y = np.concatenate([p[1] for p in pairs.values()])
    model = fit(X, y)
    model["threshold"] = choose_threshold(model, sets, {n: set(f) for n, f in fold_of.items()})
    model["fitted_on"] = ("timeline17-dev (4 topics, in order of publication and side by side), "
                          "events-dev (4 groups), ecbplus-dev (66 events, each its own story): each "
                          "event against the stories of earlier linked events; bench/fit_stories.py")
    if not DROP >= set(VECTOR_FEATURES):
        # vector features: the weights fit this encoder's vectors only (the linker falls back
        # on the names-only fit, stories_names.json, for any other encoder)
        model["encoder"] = _encoder_name()
    report["shipped"] = model
    report["shipped_in_sample"] = {d["name"]: bcubed(d["key"], replay(d, model, model["threshold"])).as_dict()
                                   for d in sets}
    if args.out:
        Path(args.out).write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="", help="write the shipped weights here "
                    "(polystory/data/stories.json)")
    ap.add_argument("--json", default="", help="write the figures to this file")
    ap.add_argument("--held-out", default=None, type=lambda v: [x for x in v.split(",") if x],
                    help="comma-separated streams to score held out (default: all; empty: none), "
                    "e.g. 'timeline17-dev,events-dev'")
    ap.add_argument("--no-shipped", action="store_true", help="skip the fit on everything")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the pipeline runs pickled by an earlier run (linker studies)")
    ap.add_argument("--drop", default="", help="comma-separated features to leave out")
    args = ap.parse_args()
    DROP.update(f for f in args.drop.split(",") if f)
    emit(run(args), args.json)


if __name__ == "__main__":
    main()
