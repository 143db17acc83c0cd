"""Concurrent use of one store: 8 HTTP clients POST 10,000 articles (one per request) to a
live server while CLI readers (`polystory events`, `stories`, `check`) and HTTP readers
query the same database.  Every article must be stored exactly once, every request must
succeed, every read must see a consistent store; the latency of the POSTs is reported
(docs/reliability.md).

The encoder is not under test: the server uses character n-gram hashing, so the run
measures the server, the pipeline and the store rather than the neural encoder (with it,
10,000 articles take an hour on two cores).  ``POLYSTORY_CONCURRENCY_N`` changes the count.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from polystory.eval.streams import resample
from polystory.ingest import read
from polystory.models import Article

from .conftest import DEMO, Live

N = int(os.environ.get("POLYSTORY_CONCURRENCY_N", "10000"))
CLIENTS = 8
FAST = {"POLYSTORY_ENCODER": "hashing"}
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


def _records() -> list[dict]:
    """``N`` distinct real-text articles: events-dev and the SemEval sample when ../shared is
    there (12+ languages), else the demo seeds, resampled with shifted dates."""
    paths = [SHARED / "data/events-dev/events.jsonl", SHARED / "data/semeval2022-task8-sample"]
    base = list(read(str(paths[0]))) if paths[0].exists() else list(read(str(DEMO)))
    if paths[1].exists():
        import csv

        csv.field_size_limit(10**8)
        with open(paths[1] / "test.csv", encoding="utf-8", newline="") as fh:
            seen = {}
            for row in csv.DictReader(fh):
                for k, aid in zip("12", row["pair_id"].split("_")):
                    seen.setdefault(aid, {"id": aid, "text": row["text" + k]})
        base += [Article(id=r["id"], text=r["text"]) for r in seen.values()]
    return [{"id": a.id, "text": a.text, "title": a.title, "published": a.published}
            for a in resample(base, N, shift_days=7)]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "polystory.cli", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **FAST})


def test_ten_thousand_posts_from_eight_clients_while_readers_query(tmp_path):
    httpx = pytest.importorskip("httpx")
    records = _records()
    assert len({r["id"] for r in records}) == N
    db = str(tmp_path / "busy.db")
    live = Live(db, env=FAST)
    latencies: list[float] = []
    failures: list[str] = []
    results: dict[str, str] = {}
    copies: dict[str, str] = {}     # same content under another id -> the stored id
    lock = threading.Lock()

    def client(share: list[dict]) -> None:
        with httpx.Client(base_url=live.url, timeout=300) as http:
            for rec in share:
                t0 = time.perf_counter()
                try:
                    r = http.post("/articles", json=rec)
                except httpx.HTTPError as e:
                    failures.append(f"{rec['id']}: {type(e).__name__}: {e}")
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if r.status_code != 200:
                        failures.append(f"{rec['id']}: HTTP {r.status_code} {r.text[:200]}")
                    else:
                        for res in r.json()["results"]:
                            results[res["id"]] = res["status"]
                            if res["duplicate_of"]:
                                copies[res["id"]] = res["duplicate_of"]

    writers = [threading.Thread(target=client, args=(records[i::CLIENTS],)) for i in range(CLIENTS)]
    reads = {"cli": 0, "http": 0}

    def readers() -> None:
        try:
            read_while_writing()
        except Exception as e:   # noqa: BLE001 - a failed read fails the test, with its reason
            failures.append(f"reader: {type(e).__name__}: {e}")

    def read_while_writing() -> None:
        with httpx.Client(base_url=live.url, timeout=300) as http:
            while any(w.is_alive() for w in writers):
                for args in (("events", "--format", "json"), ("stories", "--format", "json"),
                             ("check",)):
                    out = _cli(*args, "--db", db)
                    if out.returncode != 0:
                        failures.append(f"polystory {args[0]}: exit {out.returncode}: "
                                        f"{out.stdout[-300:]} {out.stderr[-500:]}")
                    elif args[0] != "check":
                        lines = [json.loads(line) for line in out.stdout.splitlines() if line]
                        assert all(line["id"] for line in lines)
                    reads["cli"] += 1
                for path in ("/events", "/stories", "/health"):
                    r = http.get(path)
                    if r.status_code != 200:
                        failures.append(f"GET {path}: HTTP {r.status_code}")
                    reads["http"] += 1

    reader = threading.Thread(target=readers)
    t0 = time.perf_counter()
    try:
        for w in writers:
            w.start()
        reader.start()
        for w in writers:
            w.join()
        reader.join()
        wall = time.perf_counter() - t0
        health = live.get("/health")
    finally:
        status = live.close()
    assert not failures, failures[:10]
    assert status in (0, 130), live.stderr()[-2000:]
    # every article answered once, stored once, none lost
    posted = {r["id"] for r in records}
    assert len(results) == N and set(results) == posted
    with sqlite3.connect(db) as con:
        stored = [r[0] for r in con.execute("SELECT id FROM articles")]
        placed = con.execute("SELECT count(*) FROM memberships").fetchone()[0]
    # an article is stored, or is the same text as a stored one under another id (reported
    # as a duplicate of it, which is not stored twice)
    assert len(stored) == len(set(stored)) == N - len(copies)
    assert set(stored) | set(copies) == posted and set(copies.values()) <= set(stored)
    assert placed == sum(s in ("new_event", "joined_event") for s in results.values())
    assert health["articles"] == placed
    check = _cli("check", "--db", db)
    assert check.returncode == 0, check.stdout + check.stderr
    assert reads["cli"] >= 3 and reads["http"] >= 3     # the readers ran during the ingest
    lat = np.array(latencies) * 1000
    counts = {s: list(results.values()).count(s) for s in sorted(set(results.values()))}
    print(f"\n{N} POSTs from {CLIENTS} clients in {wall:.0f} s ({N / wall:.0f}/s); latency ms "
          f"p50 {np.percentile(lat, 50):.0f} p95 {np.percentile(lat, 95):.0f} "
          f"p99 {np.percentile(lat, 99):.0f} max {lat.max():.0f}; outcomes {counts}; "
          f"{reads['cli']} CLI reads, {reads['http']} HTTP reads during the ingest")
