"""Quality figures: events-dev clustering (blind), seeds, event dates, ablations, baselines.

Usage: python bench/quality.py [--logo] [--ablation]

* events-dev: the 84 labelled articles go through the real pipeline blind (id, url, title,
  text, published: no language, no labels).  With ``--logo`` the combiner is refitted
  leaving one group (story) out and only that group's articles are scored, so no article is
  scored by weights fitted on it.
* Baseline: raw encoder cosine with average-linkage agglomerative clustering at its best
  threshold (an upper bound for that method).
* Vectors are cached in bench/.cache (see bench/common.py); delete it to re-embed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import items_for  # noqa: E402
from datasets import events_dev, seeds  # noqa: E402
from fit_combiner import TrainingSet, fit_sets, training_sets  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.cluster import EVENT_FEATURES, PairScorer  # noqa: E402
from polystory.embed import embed_input  # noqa: E402
from polystory.eval import bcubed, evaluate  # noqa: E402


class CachedEncoder:
    """An encoder that answers from precomputed vectors (same texts, same model)."""

    def __init__(self, items, settings) -> None:
        from polystory.embed import get_encoder

        inner = get_encoder(settings.encoder)
        self.name, self.dim = inner.name, inner.dim
        self.combiner = getattr(inner, "combiner", None)
        self.language_means = getattr(inner, "language_means", None)
        self._inner = inner
        self._by_text = {embed_input(it.doc, settings.embed_chars): it.vec for it in items}

    def encode(self, texts):
        missing = [t for t in texts if t not in self._by_text]
        if missing:
            for t, v in zip(missing, self._inner.encode(missing)):
                self._by_text[t] = v
        return np.stack([self._by_text[t] for t in texts])


def run_pipeline(arts, encoder, scorer=None) -> list[dict]:
    with Pipeline(db=":memory:", encoder=encoder, scorer=scorer) as p:
        outcomes = p.add_many(arts)
        rows = []
        for o in outcomes:
            event_id, _ = p.placement(o)
            e = p.event(event_id)[0] if event_id else None
            rows.append({"id": o.article_id, "event": event_id, "story": e.story_id if e else None,
                         "event_date": str(e.event_date) if e and e.event_date else None})
    return rows


def raw_baseline(items, rows) -> dict:
    """Average-linkage on raw cosine, best threshold over a grid (optimistic)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    X = np.stack([it.vec for it in items])
    D = np.clip(1 - X @ X.T, 0, None)
    np.fill_diagonal(D, 0)
    Z = linkage(squareform(D, checks=False), method="average")
    key = {r["id"]: r["event"] for r in rows}
    best = (0.0, None)
    for t in np.arange(0.02, 0.3, 0.005):
        labels = fcluster(Z, t, criterion="distance")
        f = bcubed(key, {it.doc.id: int(l) for it, l in zip(items, labels)}).f1
        best = max(best, (f, round(float(t), 3)))
    return {"event_bcubed_f1": round(best[0], 4), "best_distance_threshold": best[1]}


def _held_out(name, arts, rows, fold_of, fit_fold, encoder) -> dict:
    """Score each article with the clustering of the fold that held it out: for each fold,
    ``fit_fold(fold)`` gives a combiner, the whole stream goes through the pipeline with it,
    and only that fold's articles are kept; cluster ids are made distinct per fold."""
    pred: dict[str, dict] = {}
    for fold in sorted(set(fold_of.values())):
        out = run_pipeline(arts, encoder, PairScorer(combiner=fit_fold(fold)))
        for o in out:
            if fold_of[o["id"]] == fold:
                pred[o["id"]] = {"id": o["id"], "event": f"{fold}:{o['event']}",
                                 "story": f"{fold}:{o['story']}", "event_date": o["event_date"]}
        print(f"{name} fold {fold}", file=sys.stderr)
    return evaluate(rows, list(pred.values()))


def logo(arts, rows, items, encoder, features=None, others=()) -> dict:
    """events-dev leave-one-group-out: refit without group g (on the rest and ``others``),
    cluster everything, score g's articles."""
    fold_of = {r["id"]: r["group"] for r in rows}

    def fit_fold(g):
        keep = [i for i, r in enumerate(rows) if r["group"] != g]
        ts = TrainingSet("events-dev", [items[i] for i in keep], [rows[i] for i in keep])
        return fit_sets([ts, *others], features=features)
    return _held_out("events-dev", arts, rows, fold_of, fit_fold, encoder)


#: ecbplus-dev is cross-validated in this many folds of whole topics.
ECB_FOLDS = 5


def leave_topics_out(ecb: TrainingSet, arts, others, encoder, features=None) -> dict:
    """ecbplus-dev in ``ECB_FOLDS`` folds of topics: fit on the other topics (and
    ``others``), score the held-out topics."""
    topics = sorted({r["group"] for r in ecb.rows}, key=lambda t: int(t.removeprefix("topic")))
    fold_of_topic = {t: i % ECB_FOLDS for i, t in enumerate(topics)}
    fold_of = {r["id"]: fold_of_topic[r["group"]] for r in ecb.rows}

    def fit_fold(k):
        keep = [i for i, r in enumerate(ecb.rows) if fold_of[r["id"]] != k]
        ts = TrainingSet(ecb.name, [ecb.items[i] for i in keep], [ecb.rows[i] for i in keep],
                         augment=False)
        return fit_sets([*others, ts], features=features)
    return _held_out("ecbplus-dev", arts, ecb.rows, fold_of, fit_fold, encoder)


def cross_data_set(ecb_arts, ecb_rows, others, encoder, features=None) -> dict:
    """Fitted without any ECB+ document, scored on ecbplus-dev: news nobody tuned for."""
    out = run_pipeline(ecb_arts, encoder, PairScorer(combiner=fit_sets(list(others), features=features)))
    return evaluate(ecb_rows, out)


def generalisation(features=None) -> dict:
    """The held-out and cross-data-set figures (issue 13's table), for one feature set."""
    from datasets import ecbplus_dev

    from common import bench_settings

    settings = bench_settings()   # POLYSTORY_ENCODER=static measures the static encoder
    ev, ecb = training_sets()
    ev_arts, _ = events_dev()
    ecb_arts, _ = ecbplus_dev()
    encoder = CachedEncoder(ev.items + ecb.items, settings)
    return {
        "events_dev_logo": logo(ev_arts, ev.rows, ev.items, encoder, features, others=[ecb]),
        "ecbplus_dev_leave_topics_out": leave_topics_out(ecb, ecb_arts, [ev], encoder, features),
        "ecbplus_dev_cross_data_set": cross_data_set(ecb_arts, ecb.rows, [ev], encoder, features),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--logo", action="store_true", help="leave-one-group-out refits")
    ap.add_argument("--ablation", action="store_true", help="held-out figures with feature subsets")
    ap.add_argument("--generalise", action="store_true",
                    help="events-dev leave-one-group-out, ecbplus-dev leave-topics-out and the "
                         "cross-data-set figure (fitted without ECB+, scored on ecbplus-dev)")
    ap.add_argument("--json", default="", help="write the figures to this file")
    args = ap.parse_args()
    from common import bench_settings

    settings = bench_settings()
    arts, rows = events_dev()
    items = items_for("events-dev", arts)
    seed_arts = seeds()
    seed_items = items_for("seeds", seed_arts)
    encoder = CachedEncoder(items + seed_items, settings)
    report: dict = {}
    report["events_dev_shipped_combiner"] = evaluate(rows, run_pipeline(arts, encoder))
    report["events_dev_raw_cosine_baseline"] = raw_baseline(items, rows)
    pub_ok = 0
    from polystory.enrich import parse_published
    from polystory.models import PartialDate

    for r in rows:
        p = parse_published(r["published"])
        pub_ok += bool(p and p.precision == "day" and p.distance_days(PartialDate.parse(r["event_date"])) <= 1)
    report["event_date_publication_only"] = round(pub_ok / len(rows), 4)
    seed_out = run_pipeline(seed_arts, encoder)
    report["seeds"] = {"events": len({o["event"] for o in seed_out}),
                       "stories": len({o["story"] for o in seed_out}),
                       "assignment": {o["id"][:3]: o["event"] for o in seed_out}}
    if args.generalise:
        report.update(generalisation())
    elif args.logo:
        report["events_dev_logo"] = logo(arts, rows, items, encoder, others=training_sets()[1:])
    if args.ablation:
        ablations = {
            "embedding only (cos_raw)": ["cos_raw"],
            "+ language-bias correction": ["cos_raw", "cos_centered", "cross_cos", "same_lang"],
            "+ names": ["cos_raw", "cos_centered", "cross_cos", "same_lang", "entities"],
            "+ numbers": ["cos_raw", "cos_centered", "cross_cos", "same_lang", "entities", "numbers"],
            "+ date features": [f for f in EVENT_FEATURES if f != "names_disjoint" and not f.startswith("tfidf")],
            "+ names_disjoint": [f for f in EVENT_FEATURES if not f.startswith("tfidf")],
            "+ tfidf, tfidf_title: all": list(EVENT_FEATURES),
            "all but language-bias correction": [f for f in EVENT_FEATURES
                                                 if f not in ("cos_centered", "cross_cos")],
            "all but dates": ["cos_raw", "cos_centered", "cross_cos", "same_lang", "entities", "numbers",
                              "names_disjoint"],
            "all but names_disjoint": [f for f in EVENT_FEATURES if f != "names_disjoint"],
            "all but the lexical signal": [f for f in EVENT_FEATURES if not f.startswith("tfidf")],
        }
        report["ablation"] = {}
        for name, feats in ablations.items():
            r = generalisation(feats)
            report["ablation"][name] = {k: r[k]["events"]["bcubed"]["f1"] for k in r}
            print(name, report["ablation"][name], file=sys.stderr)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
