"""How much of a stream a cascade would send to the transformer (issue 15).

A cascade places every article with the fast static encoder and runs the transformer only
where the decision is close: where the best candidate event's mean "same event"
probability is within a margin of the clusterer's threshold.  This measures, on real
streams placed with ``encoder="static"`` (its own combiner and threshold), the fraction of
articles whose decision falls within each margin, the fraction that open an event and,
where the stream has an answer key, how many of the wrong first decisions fall within each
margin (the ones a cascade could correct).  It builds no cascade: it sizes one.

    python bench/cascade_margin.py [--ecbplus N] [--encoder static] [--streams events-dev,...]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import ecbplus_dev, events_dev, semeval_articles  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.config import Settings  # noqa: E402

MARGINS = (0.02, 0.05, 0.1, 0.2)


def decisions(arts, encoder: str, gold: dict[str, str] | None = None):
    """Each placed article's decision score, whether it opened an event and, with ``gold``
    (article id -> its event in the answer key), whether that first decision was right:
    an article that opened an event is right when no article of its key event was placed
    before it; one that joined, when most of the event's members then were of its key
    event (repairs later are not counted).  And the threshold.  A pipeline over an
    in-memory store, the articles in order."""
    with Pipeline(Settings(encoder=encoder), db=":memory:") as p:
        scores, new, right = [], [], []
        seen: set[str] = set()
        place = p.clusterer.learn_one

        def spy(item):
            g = (gold or {}).get(item.doc.id)
            members = list(p.clusterer.events_.get(p.clusterer.predict_one(item).event_id, []))
            a = place(item)
            scores.append(a.score)
            new.append(a.new)
            if gold is not None:
                if a.new:
                    right.append(g not in seen)
                else:
                    keys = [gold.get(m.doc.id) for m in members]
                    right.append(keys.count(g) * 2 > len(keys))
                seen.add(g)
            return a

        p.clusterer.learn_one = spy
        p.add_many(arts)
        return np.array(scores), np.array(new), np.array(right), float(p.clusterer.threshold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", default="static")
    ap.add_argument("--ecbplus", type=int, default=772, help="ecbplus-dev documents (all: 772)")
    ap.add_argument("--streams", default="events-dev,ecbplus-dev,semeval-test")
    args = ap.parse_args()
    ev_arts, ev_rows = events_dev()
    ecb_arts, ecb_rows = ecbplus_dev()
    streams = {"events-dev": (ev_arts, {r["id"]: r["event"] for r in ev_rows}),
               "ecbplus-dev": (ecb_arts[:args.ecbplus], {r["id"]: r["event"] for r in ecb_rows}),
               "semeval-test": (semeval_articles("test"), None)}
    out = {}
    for name, (arts, gold) in ((n, streams[n]) for n in args.streams.split(",")):
        scores, new, right, threshold = decisions(arts, args.encoder, gold)
        close = {m: np.abs(scores - threshold) < m for m in MARGINS}
        row = {"articles": len(scores), "threshold": round(threshold, 3),
               "opened": round(float(new.mean()), 3),
               **{f"within_{m}": round(float(c.mean()), 3) for m, c in close.items()}}
        if gold is not None:   # how many of the wrong first decisions a margin would catch
            wrong = ~right
            row["wrong"] = int(wrong.sum())
            row.update({f"wrong_within_{m}": int((wrong & c).sum()) for m, c in close.items()})
        out[name] = row
        print(name, json.dumps(row), flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
