"""Throughput and scale of the whole pipeline: articles/s, per-article latency, memory.

One command writes every figure of the throughput section of docs/benchmarks.md:

    python bench/throughput.py                     # encoder table + 1k/10k curve (~25 min)
    python bench/throughput.py --sizes 1000,10000,100000 --json throughput.json

Three measurements, kept apart because their costs differ by orders of magnitude:

1. **encoder**: texts/s of each encoder at several input lengths and batch sizes, on real
   articles (the input the pipeline builds: title + lead, cut at ``embed_chars``);
2. **end to end**: ``Pipeline.iter_add`` over real articles with the shipped e5 encoder
   (clean, enrich, embed, cluster, link stories, store in SQLite): articles/s and the
   per-article latency (an article's batch time; articles are processed in batches);
3. **scale curve**: the same pipeline over 1k / 10k / 100k-article streams with the
   ``hashing`` encoder (no model), i.e. everything but the neural encoder, to show whether
   the per-article cost stays flat and memory stays bounded as the store grows.  The
   streams resample the real articles with shifted dates (``polystory.eval.streams``).

End-to-end articles/s with e5 at a given size = 1 / (encoder s/article + pipeline
s/article at that size); the script prints both terms.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import events_dev, semeval_articles  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.clean import LineStats  # noqa: E402
from polystory.config import Settings  # noqa: E402
from polystory.embed import embed_input, get_encoder  # noqa: E402
from polystory.eval.streams import resample  # noqa: E402
from polystory.models import Article  # noqa: E402
from polystory.pipeline import prepare  # noqa: E402


def rss_mib() -> float:
    """Current resident memory of this process (MiB)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_articles() -> list[Article]:
    """events-dev (blind) then the SemEval sample texts: ~5,000 real articles, 12+ languages."""
    arts = [Article(id=a.id, text=a.text, title=a.title, url=a.url, published=a.published)
            for a in events_dev()[0]]
    seen = {a.id for a in arts}
    for split in ("dev", "test"):
        for a in semeval_articles(split):
            if a.id not in seen:    # blind: no language
                seen.add(a.id)
                arts.append(Article(id=a.id, text=a.text))
    return arts


def encoder_table(arts: list[Article], encoders: list[str], chars: list[int], n: int) -> list[dict]:
    rows = []
    settings = Settings()
    stats = LineStats()
    docs = [d for d in (prepare(a, settings, stats) for a in arts[:n * 2]) if d is not None][:n]
    for name in encoders:
        enc = get_encoder(name)
        enc.encode(["warm up"])
        for c in chars:
            texts = [embed_input(d, c) for d in docs]
            enc.encode(texts[:4])   # warm caches at this length
            for batch in (1, 16):
                t0 = time.perf_counter()
                for i in range(0, len(texts), batch):
                    enc.encode(texts[i:i + batch])
                dt = time.perf_counter() - t0
                rows.append({"encoder": name, "embed_chars": c, "batch": batch, "texts": len(texts),
                             "texts_per_s": round(len(texts) / dt, 2),
                             "ms_per_text": round(1000 * dt / len(texts), 1)})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def stream_figures(arts: list[Article], encoder: str, n: int, checkpoints: list[int],
                   settings: Settings, batch: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        p = Pipeline(settings, db=str(Path(tmp) / "bench.db"), encoder=get_encoder(encoder))
        p.encoder.encode(["warm up"])
        stream = resample(arts, n, shift_days=7)     # lazily: RSS is the pipeline's, not the input's
        lat, points = [], []
        done, t0, cpu0 = 0, time.perf_counter(), time.process_time()
        t_mark, done_mark = t0, 0
        while chunk := list(itertools.islice(stream, batch)):
            tb = time.perf_counter()
            p.add_many(chunk)
            dt = time.perf_counter() - tb
            lat.extend([dt] * len(chunk))
            done += len(chunk)
            if any(done_mark < c <= done for c in checkpoints) or done == n:
                now = time.perf_counter()
                points.append({"articles": done, "rss_mib": round(rss_mib()),
                               "window_articles_per_s": round((done - done_mark) / (now - t_mark), 1),
                               "window_ms_per_article": round(1000 * (now - t_mark) / (done - done_mark), 1)})
                print(json.dumps({"encoder": encoder, "n": n, **points[-1]}), flush=True)
                t_mark, done_mark = now, done
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0   # all threads of this process (a shared machine: wall > cpu / 2)
        events = len(p.clusterer.events_)
        p.close()
    lat_ms = np.array(lat) * 1000
    return {"encoder": encoder, "articles": n, "batch": batch, "seconds": round(wall, 1),
            "articles_per_s": round(n / wall, 2), "cpu_s": round(cpu, 1),
            "cpu_ms_per_article": round(1000 * cpu / n, 1), "events": events,
            "latency_ms_p50": round(float(np.percentile(lat_ms, 50)), 1),
            "latency_ms_p95": round(float(np.percentile(lat_ms, 95)), 1),
            "rss_mib_end": round(rss_mib()), "curve": points}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="scale-curve stream sizes (hashing encoder)")
    ap.add_argument("--e2e", type=int, default=500, help="articles for the end-to-end e5 run")
    ap.add_argument("--encoder-texts", type=int, default=200, help="texts per encoder-table cell")
    ap.add_argument("--chars", default="300,600,1200", help="encoder input lengths to measure")
    ap.add_argument("--batch", type=int, default=16, help="articles per add_many call")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: encoder,e2e,scale")
    ap.add_argument("--json", help="write all figures to this JSON file")
    ap.add_argument("--encoders", default="e5-small,static,hashing", help="encoder-table encoders")
    ap.add_argument("--e2e-encoders", default="e5-small", help="comma list: end-to-end runs")
    ap.add_argument("--scale-encoder", default="hashing", help="the scale curve's encoder")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    arts = real_articles()
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "date": time.strftime("%Y-%m-%d")}, "base_articles": len(arts)}
    print(f"{len(arts)} real base articles", flush=True)
    if "encoder" not in skip:
        out["encoder"] = encoder_table(arts, args.encoders.split(","),
                                       [int(c) for c in args.chars.split(",")], args.encoder_texts)
    if "e2e" not in skip:
        out["e2e"] = []
        for name in args.e2e_encoders.split(","):
            out["e2e"].append(stream_figures(arts, name, args.e2e, [], Settings(encoder=name), args.batch))
            print(json.dumps({k: v for k, v in out["e2e"][-1].items() if k != "curve"}), flush=True)
    if "scale" not in skip:
        out["scale"] = []
        for n in (int(s) for s in args.sizes.split(",")):
            checkpoints = sorted({c for c in (1000, 2000, 5000, 10000, 20000, 50000, 100000) if c < n})
            out["scale"].append(stream_figures(arts, args.scale_encoder, n, checkpoints,
                                               Settings(encoder=args.scale_encoder), args.batch))
            print(json.dumps({k: v for k, v in out["scale"][-1].items() if k != "curve"}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
