"""The same events however the stream arrives, through the real commands.

Usage: python bench/arrival.py [--json FILE]

events-dev, blind (id, url, title, text, published), three ways, each in fresh processes
on a fresh store with the default encoder:

1. one run: ``polystory cluster``;
2. chunks of 10: a ``polystory ingest`` process per chunk on one store (each restarts the
   pipeline on the store, as a crawler's periodic ingests would);
3. one article at a time: POSTed to ``polystory serve``, one request per article.

Reports event and story BCubed F1 of each against the key (``polystory eval``'s figures),
and the largest difference from the one run.  ``tests/test_arrival.py`` guards the same
property in-process.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import article_row, served  # noqa: E402
from datasets import events_dev  # noqa: E402

from polystory.eval import evaluate  # noqa: E402
from polystory.store import open_store  # noqa: E402

CLI = [sys.executable, "-m", "polystory.cli"]


def _write(path: Path, arts) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for a in arts:
            fh.write(json.dumps(article_row(a), ensure_ascii=False) + "\n")


def _run(args: list[str]) -> None:
    res = subprocess.run(CLI + args, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"polystory {args[0]} failed: {res.stderr[-2000:]}")


def _placements(db: str, ids) -> list[dict]:
    store = open_store(db)
    try:
        return [{"id": i, "event": s.event_id, "story": s.story_id} for i, s in
                ((i, store.article(i)) for i in ids)]
    finally:
        store.close()


def one_run(arts, work: Path) -> list[dict]:
    src, out = work / "blind.jsonl", work / "one.jsonl"
    _write(src, arts)
    _run(["cluster", str(src), "-o", str(out)])
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def chunks(arts, work: Path, size: int = 10) -> list[dict]:
    db = str(work / "chunks.db")
    for k in range(0, len(arts), size):
        part = work / f"chunk-{k}.jsonl"
        _write(part, arts[k:k + size])
        _run(["ingest", str(part), "--db", db])
    return _placements(db, [a.id for a in arts])


def posts(arts, work: Path) -> list[dict]:
    db = str(work / "posts.db")
    with served(db) as (base, _):
        for a in arts:
            req = urllib.request.Request(base + "/articles", data=json.dumps(article_row(a)).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=600).read()
    return _placements(db, [a.id for a in arts])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    arts, rows = events_dev()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, run in (("one_run", one_run), ("chunks_of_10", chunks), ("one_post_each", posts)):
            t0 = time.perf_counter()
            r = evaluate(rows, run(arts, work))
            out[name] = {"events_f1": round(r["events"]["bcubed"]["f1"], 4),
                         "stories_f1": round(r["stories"]["bcubed"]["f1"], 4),
                         "events": r["events"]["clusters"], "seconds": round(time.perf_counter() - t0, 1)}
            print(name, json.dumps(out[name]), flush=True)
    base = out["one_run"]
    out["largest_difference"] = round(max(abs(v[k] - base[k]) for v in out.values() if isinstance(v, dict)
                                          for k in ("events_f1", "stories_f1")), 4)
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
