"""SemEval-2022 Task 8 sample: Pearson correlation of ``polystory pairs`` with people.

Usage: python bench/semeval.py

Scores test.csv (minus the pair ids that also occur in dev.csv) with the similarity of
``polystory pairs``, with the clusterer's "same event" probability alone (``--same-event``)
and with the raw encoder cosine as a baseline; reports Pearson against the human "Overall"
score (1 = very similar, so the sign is flipped), overall, same-language and
cross-language, and per language pair.
Nothing here is fitted on test.csv (the language means come from dev.csv).
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import items_for  # noqa: E402
from datasets import semeval, semeval_articles  # noqa: E402
from quality import CachedEncoder  # noqa: E402

from polystory.eval import pearson  # noqa: E402
from polystory.pairs import Pair, score_pairs  # noqa: E402


def main() -> None:
    from common import bench_settings

    settings = bench_settings()
    dev_ids = {r["pair_id"] for r in semeval("dev")}
    rows = [r for r in semeval("test") if r["pair_id"] not in dev_ids]
    items = items_for("semeval-test", semeval_articles("test"))
    encoder = CachedEncoder(items, settings)
    pairs = [Pair(id=r["pair_id"], text1=r["text1"], text2=r["text2"]) for r in rows]
    ours = score_pairs(pairs, settings, encoder)
    event = score_pairs(pairs, settings, encoder, same_event=True)
    vec = {it.doc.id: it.vec for it in items}
    raw = [float(vec[r["pair_id"].split("_")[0]] @ vec[r["pair_id"].split("_")[1]]) for r in rows]
    human = [-float(r["Overall"]) for r in rows]
    report = {"pairs": len(rows), "polystory": round(pearson(ours, human), 4),
              "same_event_only": round(pearson(event, human), 4),
              "raw_cosine": round(pearson(raw, human), 4)}
    groups = defaultdict(list)
    for i, r in enumerate(rows):
        groups["same-language" if r["lang1"] == r["lang2"] else "cross-language"].append(i)
        groups[f"{r['lang1']}-{r['lang2']}"].append(i)
    report["by_group"] = {
        g: {"pairs": len(ix), "polystory": round(pearson([ours[i] for i in ix], [human[i] for i in ix]), 4),
            "same_event_only": round(pearson([event[i] for i in ix], [human[i] for i in ix]), 4),
            "raw_cosine": round(pearson([raw[i] for i in ix], [human[i] for i in ix]), 4)}
        for g, ix in sorted(groups.items(), key=lambda kv: -len(kv[1]))}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
