"""Read cost by store size: the CLI listings and the HTTP reads, while a writer ingests.

    python bench/reads.py                          # 1k and 10k stores (~5 min)
    python bench/reads.py --sizes 1000,10000,100000 --json reads.json

For each size, a store of that many articles is built once with the ``hashing`` encoder
(real articles resampled with shifted dates, ``polystory.eval.streams``; kept in
``--dir`` and reused), then measured on a copy:

* opening the store once (a store built by an older polystory is migrated then: the
  figure is the migration's cost);
* the CLI, as separate processes: ``polystory events --format json`` to its first line,
  to its first 50 lines (then the pipe is closed; the figure includes the process ending)
  and to its end; ``polystory stories --format json``; ``polystory show`` of the largest
  event;
* the HTTP API, with ``polystory serve`` in its own process while a writer POSTs new
  articles to it (16 per request, back to back): p50/p95 of ``GET /events?limit=20``,
  ``/events?q=WORD&limit=20``, ``/stories?limit=20`` and ``/search?q=WORD``.  From 20,000
  stored vectors on, the server's first search starts building its search graph in the
  background (``store/vectors.py``); the requests are measured once it is saved, and the
  seconds that took are reported (``search_graph_s``).

Wall-clock seconds on this machine; every figure is the median of ``--repeat`` runs for
the CLI, and over ``--requests`` requests per endpoint for HTTP.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import article_row, served  # noqa: E402
from throughput import real_articles  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.config import Settings  # noqa: E402
from polystory.eval.streams import resample  # noqa: E402

ENV = {**os.environ, "POLYSTORY_ENCODER": "hashing"}
CLI = [sys.executable, "-m", "polystory.cli"]
#: Query words of the /events?q= and /search requests (cycled): names and plain words.
QUERIES = ["Lavrov", "Biden", "earthquake", "Putin", "election", "Messi"]


def build(arts, n: int, path: Path, max_active: int | None = None) -> float:
    """A store of ``n`` resampled articles at ``path`` (unless there); seconds to build.

    It continues a copy of the largest smaller store built beside it: the resampled stream
    of ``n`` starts with the smaller one's, and a pipeline reopened on a store continues
    its stream as if there had been no restart (tests/test_restart.py).  ``max_active``
    bounds the writer's window (``Settings.max_active``; the default when ``None``)."""
    if path.exists():
        return 0.0
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    smaller = sorted((int(q.stem.split("-")[1]), q) for q in path.parent.glob("reads-*.db")
                     if q.stem.split("-")[1].isdigit() and int(q.stem.split("-")[1]) < n)
    done = 0
    if smaller:
        done, base = smaller[-1]
        shutil.copyfile(base, tmp)
    t0 = time.perf_counter()
    settings = Settings(encoder="hashing", **({"max_active": max_active} if max_active else {}))
    with Pipeline(settings, db=str(tmp)) as p:
        stream = itertools.islice(resample(arts, n, shift_days=7), done, None)
        while chunk := list(itertools.islice(stream, 256)):
            p.add_many(chunk)
            done += len(chunk)
            if done % 5000 < len(chunk):
                print(f"  building: {done} articles, {time.perf_counter() - t0:.0f} s", flush=True)
    import sqlite3
    db = sqlite3.connect(tmp)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    os.replace(tmp, path)
    return time.perf_counter() - t0


def _open(db: str) -> float:
    """Seconds to open the store once: a store built by an older polystory is migrated here,
    not inside the first measured command."""
    from polystory.store import open_store

    t0 = time.perf_counter()
    open_store(db).close()
    return time.perf_counter() - t0


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _first_lines(cmd: list[str], lines: int) -> float:
    """Seconds until ``lines`` lines came out, the pipe was closed and the process ended."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for _ in range(lines):
        if not proc.stdout.readline():
            break
    proc.stdout.close()
    proc.wait()
    return time.perf_counter() - t0


def cli_figures(db: str, repeat: int) -> dict:
    largest = subprocess.run(
        [sys.executable, "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
         "'SELECT event_id FROM memberships GROUP BY event_id ORDER BY COUNT(*) DESC, event_id "
         "LIMIT 1').fetchone()[0])", db], capture_output=True, text=True, check=True).stdout.strip()
    events = CLI + ["events", "--db", db, "--format", "json"]
    runs = {
        "events_first_line_s": lambda: _first_lines(events, 1),
        "events_first_50_s": lambda: _first_lines(events, 50),
        "events_all_s": lambda: _timed(events),
        "stories_s": lambda: _timed(CLI + ["stories", "--db", db, "--format", "json"]),
        "show_s": lambda: _timed(CLI + ["show", largest, "--db", db, "--format", "json"]),
    }
    out = {}
    for name, run in runs.items():
        out[name] = round(statistics.median(run() for _ in range(repeat)), 3)
        print(f"  {name}: {out[name]}", flush=True)
    return out


def _get(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        r.read()
    return time.perf_counter() - t0


def _count(db: str, where: str = "") -> int:
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(f"SELECT COUNT(*) FROM articles {where}").fetchone()[0]
    finally:
        con.close()


@contextlib.contextmanager
def _posting(base: str, extra) -> Iterator[Callable[[], int]]:
    """A thread POSTing batches of 16 of ``extra`` to the server at ``base`` until the block
    ends; yields how many it has written.  The first batch is posted before the block
    starts: the server replays its window at its first write (``Pipeline.restore``), and
    the reads are measured beside a writer that writes, not one that replays."""
    stop = threading.Event()
    written = [0]

    def post() -> bool:
        chunk = list(itertools.islice(extra, 16))
        if not chunk:
            return False
        body = json.dumps([article_row(a) for a in chunk]).encode()
        req = urllib.request.Request(base + "/articles", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=900) as r:
            r.read()
        written[0] += len(chunk)
        return True

    def writer():
        while not stop.is_set() and post():
            pass

    t0 = time.perf_counter()
    post()
    first_write_s = round(time.perf_counter() - t0, 1)
    print(f"  first write (the server replays its window) in {first_write_s} s", flush=True)
    w = threading.Thread(target=writer, daemon=True)
    w.start()
    try:
        count = lambda: written[0]  # noqa: E731
        count.first_write_s = first_write_s
        yield count
    finally:
        stop.set()
        w.join()


@contextlib.contextmanager
def _ingesting(db: str, extra) -> Iterator[Callable[[], int]]:
    """A separate ``polystory ingest`` process writing up to 5,000 of ``extra`` into ``db``
    (the server only reads, as a second API worker or a CLI beside an ingest would); the
    block starts once it writes (past restoring its window); yields how many it has
    written."""
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "extra.jsonl"
        with open(feed, "w", encoding="utf-8") as fh:
            for a in itertools.islice(extra, 5000):
                fh.write(json.dumps(article_row(a), ensure_ascii=False) + "\n")
        before = _count(db)
        ingest = subprocess.Popen(CLI + ["ingest", str(feed), "--db", db], env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 900
            while _count(db) == before:
                if ingest.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("polystory ingest wrote nothing")
                time.sleep(1)
            yield lambda: _count(db) - before
        finally:
            ingest.terminate()
            ingest.wait()


def _search_graph(base: str, db: str, timeout: float = 900.0) -> float | None:
    """One search, then the seconds until the server has saved its search graph beside the
    store (``store/vectors.py``: built in the background from ``GRAPH_FROM`` vectors on;
    searches are exact meanwhile); ``None`` for a store below that size."""
    from polystory.store.vectors import GRAPH_FROM

    saved = lambda: list(Path(db).parent.glob(Path(db).name + ".vectors-*.usearch.json"))  # noqa: E731
    t0 = time.perf_counter()
    _get(base + "/search?q=" + urllib.parse.quote(QUERIES[0]))
    if _count(db, "WHERE status = 'clustered'") < GRAPH_FROM:
        return None
    while not saved():
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"no search graph after {timeout:.0f} s")
        time.sleep(0.5)
    took = round(time.perf_counter() - t0, 1)
    print(f"  search graph built and saved in {took} s", flush=True)
    return took


def http_figures(db: str, extra, requests: int, writer_kind: str = "post") -> dict:
    """p50/p95 of the GET endpoints while a writer ingests: ``post`` sends articles to the
    same server (its reads share the process with the writes), ``ingest`` runs
    ``polystory ingest`` on the store beside it (the server only reads)."""
    with served(db, ENV) as (base, startup):
        print(f"  server up in {startup:.1f} s", flush=True)
        graph_s = _search_graph(base, db)
        writing = _posting(base, extra) if writer_kind == "post" else _ingesting(db, extra)
        with writing as written:
            q = lambda i: urllib.parse.quote(QUERIES[i % len(QUERIES)])  # noqa: E731
            endpoints = {
                "events": lambda i: f"/events?limit=20&offset={20 * (i % 3)}",
                "events_q": lambda i: f"/events?limit=20&q={q(i)}",
                "stories": lambda i: f"/stories?limit=20&offset={20 * (i % 3)}",
                "search": lambda i: f"/search?q={q(i)}",
            }
            out = {"server_start_s": round(startup, 1), "search_graph_s": graph_s}
            for name, path in endpoints.items():
                times = np.array([_get(base + path(i)) for i in range(requests)]) * 1000
                out[f"{name}_ms_p50"] = round(float(np.percentile(times, 50)), 1)
                out[f"{name}_ms_p95"] = round(float(np.percentile(times, 95)), 1)
                print(f"  GET {name}: p50 {out[f'{name}_ms_p50']} ms, p95 {out[f'{name}_ms_p95']} ms",
                      flush=True)
        out["writer"] = writer_kind
        out["first_write_s"] = getattr(written, "first_write_s", None)
        out["articles_written_meanwhile"] = written()
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="store sizes (articles)")
    ap.add_argument("--dir", default=str(Path(__file__).resolve().parent / ".cache" / "reads"),
                    help="where the built stores are kept (and reused)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per CLI figure (median)")
    ap.add_argument("--requests", type=int, default=20, help="requests per endpoint")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: cli,http")
    ap.add_argument("--json", help="write all figures to this JSON file")
    ap.add_argument("--writer", default="post", choices=("post", "ingest"),
                    help="who writes during the HTTP reads: POSTs to the same server, or a "
                    "separate `polystory ingest` process on the store")
    ap.add_argument("--max-active", type=int, help="the writer's window while building a store "
                    "(Settings.max_active; default: the default)")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    arts = real_articles()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "date": time.strftime("%Y-%m-%d")}, "sizes": []}
    for n in (int(s) for s in args.sizes.split(",")):
        store = folder / f"reads-{n}.db"
        built = build(arts, n, store, args.max_active)
        print(f"{n} articles: {store}" + (f" (built in {built:.0f} s)" if built else ""), flush=True)
        work = folder / f"work-{n}.db"
        for old in [Path(str(work) + "-wal"), Path(str(work) + "-shm"),
                    *folder.glob(work.name + ".vectors-*.usearch*")]:
            old.unlink(missing_ok=True)
        shutil.copyfile(store, work)
        row = {"articles": n, "build_s": round(built, 1) or None, "open_s": round(_open(str(work)), 2),
               "max_active": args.max_active}
        print(f"  opened (and migrated if older) in {row['open_s']} s", flush=True)
        if "cli" not in skip:
            row["cli"] = cli_figures(str(work), args.repeat)
        if "http" not in skip:
            extra = resample(arts, n + 100_000, shift_days=7)
            extra = itertools.islice(extra, n, None)      # articles the store does not hold yet
            row["http"] = http_figures(str(work), extra, args.requests, args.writer)
        out["sizes"].append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
