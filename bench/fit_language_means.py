"""Fit the prior language mean vectors used for language-bias correction.

Usage: python bench/fit_language_means.py   (POLYSTORY_ENCODER=static: the static
encoder's, polystory/data/language_means_static.npz; needs bench/.cache/semeval-dev.npz, made by
bench/embed_cache.py, or embeds the texts itself)

The SemEval sample's dev.csv holds ~2,400 news texts in 10 languages with their language
given.  The mean vector of each language (and of all, ``_global``) is the prior that
``PairScorer`` starts from; it then updates the means online from the stream.  Only dev.csv
is used, so test.csv figures stay clean.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import items_for  # noqa: E402
from datasets import semeval_articles  # noqa: E402

#: A language needs this many texts for its own prior mean.
MIN_TEXTS = 50


def main() -> None:
    arts = semeval_articles("dev")
    items = items_for("semeval-dev", arts)
    by_lang: dict[str, list[np.ndarray]] = defaultdict(list)
    for art, it in zip(arts, items):
        by_lang[art.language].append(it.vec)
    means = {"_global": np.mean([it.vec for it in items], axis=0)}
    for lang, vecs in sorted(by_lang.items()):
        if len(vecs) >= MIN_TEXTS:
            means[lang] = np.mean(vecs, axis=0)
        print(lang, len(vecs), file=sys.stderr)
    from common import bench_settings

    static = bench_settings().encoder == "static"  # POLYSTORY_ENCODER=static: its own means
    out = Path(__file__).resolve().parents[1] / "polystory/data" / (
        "language_means_static.npz" if static else "language_means.npz")
    np.savez_compressed(out, **{k: v.astype(np.float32) for k, v in means.items()})
    print(f"wrote {out} ({', '.join(means)})", file=sys.stderr)


if __name__ == "__main__":
    main()
