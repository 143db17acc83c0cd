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
from fit_combiner import fit_all  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.cluster import EVENT_FEATURES, STORY_FEATURES, PairScorer  # noqa: E402
from polystory.embed import embed_input  # noqa: E402
from polystory.eval import bcubed, evaluate  # noqa: E402


class CachedEncoder:
    """An encoder that answers from precomputed vectors (same texts, same model)."""

    def __init__(self, items, settings) -> None:
        from polystory.embed import get_encoder

        inner = get_encoder(settings.encoder)
        self.name, self.dim = inner.name, inner.dim
        self.combiner = getattr(inner, "combiner", None)
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


def logo(arts, rows, items, encoder, features=None) -> dict:
    """Leave-one-group-out: refit without group g, cluster everything, score g's articles."""
    groups = sorted({r["group"] for r in rows})
    pred_event, pred_story, dates = {}, {}, {}
    for g in groups:
        keep = [i for i, r in enumerate(rows) if r["group"] != g]
        combiner = fit_all([items[i] for i in keep], [rows[i] for i in keep], features=features)
        out = run_pipeline(arts, encoder, PairScorer(combiner=combiner))
        for r, o in zip(rows, out):
            if r["group"] == g:
                pred_event[r["id"]], pred_story[r["id"]] = o["event"], o["story"]
                dates[r["id"]] = o["event_date"]
    # score every article with the clustering of the fold that held its group out;
    # ids of different folds are made distinct so clusters never span folds
    fold = {r["id"]: r["group"] for r in rows}
    ev = {i: f"{fold[i]}:{e}" for i, e in pred_event.items()}
    st = {i: f"{fold[i]}:{s}" for i, s in pred_story.items()}
    out_rows = [{"id": i, "event": ev[i], "story": st[i], "event_date": dates[i]} for i in ev]
    return evaluate(rows, out_rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--logo", action="store_true", help="leave-one-group-out refits")
    ap.add_argument("--ablation", action="store_true", help="LOGO with feature subsets")
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
    if args.logo or args.ablation:
        report["events_dev_logo"] = logo(arts, rows, items, encoder)
    if args.ablation:
        ablations = {
            "embedding only (cos_raw)": ["cos_raw"],
            "+ language-bias correction": ["cos_raw", "cos_centered", "cross_cos", "same_lang"],
            "+ names": ["cos_raw", "cos_centered", "cross_cos", "same_lang", "entities"],
            "+ numbers": ["cos_raw", "cos_centered", "cross_cos", "same_lang", "entities", "numbers"],
            "+ date features": [f for f in EVENT_FEATURES if f != "names_disjoint"],
            "+ names_disjoint: all": list(EVENT_FEATURES),
            "all but language-bias correction": [f for f in EVENT_FEATURES
                                                 if f not in ("cos_centered", "cross_cos")],
            "all but dates": list(STORY_FEATURES) + ["names_disjoint"],
            "all but names_disjoint": [f for f in EVENT_FEATURES if f != "names_disjoint"],
        }
        report["ablation_logo"] = {}
        for name, feats in ablations.items():
            r = logo(arts, rows, items, encoder, features=feats)
            report["ablation_logo"][name] = {"event_f1": r["events"]["bcubed"]["f1"],
                                             "story_f1": r["stories"]["bcubed"]["f1"]}
            print(name, report["ablation_logo"][name], file=sys.stderr)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
