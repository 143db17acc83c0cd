"""What watching costs: seconds (and requests, bytes, store growth) per 1,000 items, with the
monitor polling a local news site on 127.0.0.1 (feeds + article pages made from events-dev
articles, resampled into distinct near-copies so that every item is a new article).

    python bench/watch.py                          # 1,000 items, hashing encoder
    python bench/watch.py --items 200 --encoder e5-small

The monitor does the whole job for each item: feed poll, queue row, page fetch (robots.txt
once per host), main-text extraction (trafilatura, htmldate), the queue's state changes, and
ingest through the pipeline (clean, enrich, embed, cluster, stories, store in SQLite).  The
ingest share is timed apart (the callable the monitor calls), so

    fetch + extract + queue = total - ingest.

Wall times depend on what else the machine runs; CPU seconds are also given: ``cpu_s`` for
the whole process (the local site's threads too), ``monitor_cpu_s`` for the monitor's
thread alone, split into ingest and the rest.

The per-host politeness delay is 0 here (one local host); with the default of 1 s a real
run fetching N pages from one host takes at least N seconds, whatever the machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import events_dev  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.config import Settings  # noqa: E402
from polystory.eval.streams import resample  # noqa: E402
from polystory.watch import FetchOptions, Monitor  # noqa: E402


def _site_module():
    spec = importlib.util.spec_from_file_location("watch_site", ROOT / "tests" / "watch" / "site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["watch_site"] = module     # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _cpu() -> float:
    """CPU seconds of this process so far (all threads: the monitor and the local site)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--per-feed", type=int, default=100, help="Items per feed.")
    ap.add_argument("--encoder", default="hashing")
    ap.add_argument("--json", default=None, help="Also write the figures here.")
    args = ap.parse_args()

    site_mod = _site_module()
    arts, rows = events_dev()
    lang = {r["id"]: r["language"] for r in rows}
    stream = list(resample(arts, args.items))
    with site_mod.Site() as site, tempfile.TemporaryDirectory() as tmp:
        feeds = []
        for start in range(0, len(stream), args.per_feed):
            items = []
            for a in stream[start:start + args.per_feed]:
                row = {"id": a.id, "text": a.text, "title": a.title, "published": a.published,
                       "language": lang[a.id.split("~")[0]]}
                path = f"/a/{a.id.replace('~', '-')}"
                site.add(path, body=site_mod.page_html(row).encode())
                items.append((site.url(path), row))
            feed = f"/feeds/{start // args.per_feed}.xml"
            site.add(feed, body=site_mod.rss(f"feed {feed}", "", items),
                     content_type="application/rss+xml")
            feeds.append(site.url(feed))
        site.add("/robots.txt", body=b"User-agent: *\nAllow: /\n", content_type="text/plain")
        served = sum(len(r.body) for r in site.routes.values())
        db = os.path.join(tmp, "bench.db")
        settings = Settings(encoder=args.encoder)
        with Pipeline(settings, db=db) as p:
            ingest_s = ingest_cpu_s = 0.0

            def ingest(batch):
                nonlocal ingest_s, ingest_cpu_s
                t, c = time.perf_counter(), time.thread_time()
                out = [o.status for o in p.add_many(batch)]
                ingest_s += time.perf_counter() - t
                ingest_cpu_s += time.thread_time() - c
                return out

            options = FetchOptions(host_delay_s=0.0, timeout_s=30.0, allow_networks=("127.0.0.1/32",))
            monitor = Monitor(p.store, feeds, ingest, options=options)
            cpu0, thread0 = _cpu(), time.thread_time()
            t0 = time.perf_counter()
            report = monitor.poll(force=True)
            total_s = time.perf_counter() - t0
            cpu_s, monitor_cpu_s = _cpu() - cpu0, time.thread_time() - thread0
            monitor.close()
            counts = monitor.queue.counts()
            via, why = {}, {}
            for item in monitor.queue.items():
                via[item.via] = via.get(item.via, 0) + 1
                if item.error:
                    key = item.error.split(" on ")[0].split(" fetching ")[0]
                    why[key] = why.get(key, 0) + 1
            requests = report.requests
        db_bytes = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
    n = counts["done"]
    per_k = 1000.0 / max(n, 1)
    out = {
        "date": dt.date.today().isoformat(), "encoder": args.encoder, "items": args.items,
        "feeds": len(feeds), "done": n, "via": via, "summary_because": why, "requests": requests,
        "total_s": round(total_s, 2), "cpu_s": round(cpu_s, 2), "ingest_s": round(ingest_s, 2),
        "fetch_extract_queue_s": round(total_s - ingest_s, 2),
        "monitor_cpu_s": round(monitor_cpu_s, 2), "ingest_cpu_s": round(ingest_cpu_s, 2),
        "per_1000_items": {"total_s": round(total_s * per_k, 1),
                           "cpu_s": round(cpu_s * per_k, 1),
                           "monitor_cpu_s": round(monitor_cpu_s * per_k, 1),
                           "ingest_cpu_s": round(ingest_cpu_s * per_k, 1),
                           "fetch_extract_queue_cpu_s": round((monitor_cpu_s - ingest_cpu_s) * per_k, 1),
                           "ingest_s": round(ingest_s * per_k, 1),
                           "fetch_extract_queue_s": round((total_s - ingest_s) * per_k, 1),
                           "requests": round(requests * per_k),
                           "bytes_fetched_mib": round(served * per_k / 2 ** 20, 1),
                           "store_mib": round(db_bytes * per_k / 2 ** 20, 1)},
        "items_per_s": round(n / total_s, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
