"""Crash safety: ``polystory ingest`` is SIGKILLed at random points; no article is lost.

One real ``python -m polystory.cli ingest`` process after another works through the same
JSONL stream into one store, each killed (SIGKILL: no cleanup, no atexit) at a random
point: during start-up, or a random moment after the store holds a randomly chosen number
of articles (mid-batch, mid-embedding, mid-repair, mid-transaction).  After every kill the
store must pass ``check_store``, hold every article at most once, and hold exactly a
prefix of the stream (committed in input order: nothing skipped, nothing invented).  A
last run to completion must then leave every article stored exactly once.  On both stores
(``store_url``): an SQLite file, then a PostgreSQL database.

Knobs (environment): ``POLYSTORY_CRASH_N`` articles (default 200), ``POLYSTORY_CRASH_KILLS``
kills (default 5), ``POLYSTORY_CRASH_SEED``.  Embedding is kept cheap: texts are short
(~250 characters, two real sentences of the seed articles plus a reference number) and the
encoder sees only their first 60 characters (``POLYSTORY_EMBED_CHARS``), so few distinct
vectors are computed; the store and its transactions are exercised as in production.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from polystory.store import check_store, is_postgres_url, open_store
from polystory.store.schema import SCHEMA_VERSION

from conftest import DEMO, raw_db

N = int(os.environ.get("POLYSTORY_CRASH_N", "200"))
KILLS = int(os.environ.get("POLYSTORY_CRASH_KILLS", "5"))
SEED = int(os.environ.get("POLYSTORY_CRASH_SEED", "20230302"))
#: Every REJECT_EVERY-th article is too short (stored as rejected), and one in as many
#: repeats the previous article's text under another id (a duplicate: not stored).
REJECT_EVERY = 25
RUN_TIMEOUT_S = 1800


def _sentences() -> list[str]:
    found: list[str] = []
    for f in sorted(DEMO.glob("0*.txt")):
        for s in re.split(r"(?<=[.!?])\s+", f.read_text(encoding="utf-8")):
            s = " ".join(s.split())
            if 50 <= len(s) <= 140 and s not in found:
                found.append(s)
    return found


def write_stream(path: Path, n: int) -> tuple[list[str], set[str]]:
    """Write ``n`` articles; return the ids that must be stored (in order) and the rejected.

    Articles come in groups of four about one day (groups nine days apart), so events stay
    small as in a real stream.
    """
    sentences = _sentences()
    stored: list[str] = []
    rejected: set[str] = set()
    previous = ""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            group = i // 4
            first, second = random.Random(group).sample(sentences, 2)
            day = dt.date(1993, 1, 1) + dt.timedelta(days=9 * group)
            aid = f"c{i:05d}"
            if i % REJECT_EVERY == 7:
                text = f"Breaking news, item {i}."
                rejected.add(aid)
            elif i % REJECT_EVERY == 19:
                text = previous  # same content, another id: a duplicate
            else:
                text = f"{first} {second} (Ref. {i})"
            if i % REJECT_EVERY != 19:
                stored.append(aid)
            previous = text
            fh.write(json.dumps({"id": aid, "text": text, "published": day.isoformat()},
                                ensure_ascii=False) + "\n")
    return stored, rejected


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYSTORY_")}
    # one encoder thread: the machine is shared, and OpenMP spinning on busy cores costs
    # more than it gains on 16 short texts
    env.update(POLYSTORY_EMBED_CHARS="60", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    return env


def _command(src: Path, db: str | Path) -> list[str]:
    return [sys.executable, "-m", "polystory.cli", "ingest", str(src), "--db", str(db),
            "--format", "json"]


def _count(db: str) -> int:
    """Articles committed so far (read through a separate connection, as any reader)."""
    if is_postgres_url(db):
        import psycopg

        try:
            with psycopg.connect(db, autocommit=True) as con:
                return con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        except psycopg.errors.UndefinedTable:  # not created yet
            return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # not created yet
        return 0


def verify(db: str, order: list[str], rejected: set[str]) -> int:
    """The store after a kill: consistent, each article at most once, a prefix of ``order``."""
    raw = raw_db(db)
    if raw.version() == 0:  # killed before the schema was committed: an empty store
        tables = raw.query("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()"
                           if raw.postgres else
                           "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'")[0][0]
        assert tables == 0
        return 0
    # killed between two migrations (each its own transaction): an earlier schema, whole,
    # that the next open upgrades (check would say "opening it upgrades it")
    store = open_store(db, migrate=raw.version() < SCHEMA_VERSION)
    try:
        assert [str(p) for p in check_store(store)] == []
        rows = store._q("SELECT id, status, content_hash FROM articles ORDER BY seq")
    finally:
        store.close()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "an article id is stored twice"
    assert len({r[2] for r in rows}) == len(rows), "the same content is stored twice"
    assert ids == order[:len(ids)], "the stored articles are not a prefix of the stream"
    assert {r[0] for r in rows if r[1] == "rejected"} == rejected & set(ids)
    return len(ids)


def test_sigkill_at_random_points_loses_nothing(tmp_path, store_url):
    rng = random.Random(SEED)
    src, db = tmp_path / "stream.jsonl", store_url
    order, rejected = write_stream(src, N)
    # kill 1: during start-up (imports, schema, replay); the others once the store holds
    # a random number of articles, after a random extra moment
    targets = [None] + sorted(rng.sample(range(1, int(len(order) * 0.7)), KILLS - 1))
    kills: list[dict] = []
    started = time.monotonic()
    for k, target in enumerate(targets):
        with open(tmp_path / f"run{k}.err", "wb") as err:
            proc = subprocess.Popen(_command(src, db), env=_env(), stdout=subprocess.DEVNULL,
                                    stderr=err)
            t0 = time.monotonic()
            if target is None:
                time.sleep(rng.uniform(0.05, 1.0))
            else:
                while _count(db) < target and proc.poll() is None:
                    assert time.monotonic() - t0 < RUN_TIMEOUT_S, "ingest made no progress"
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, 0.1))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert proc.returncode == -signal.SIGKILL, (
            f"run {k} ended by itself (rc {proc.returncode}) before its kill at {target}: "
            + (tmp_path / f"run{k}.err").read_text(errors="replace")[-500:])
        stored = verify(db, order, rejected)
        kills.append({"target": target, "stored": stored, "after_s": round(time.monotonic() - t0, 2)})
    assert len(kills) >= KILLS
    assert [k["stored"] for k in kills] == sorted(k["stored"] for k in kills)  # nothing lost
    # the same ingest, run to completion, stores every article exactly once
    done = subprocess.run(_command(src, db), env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout)
    assert sum(counts.values()) == N
    assert counts.get("rejected", 0) == len(rejected - set(order[:kills[-1]["stored"]]))
    assert verify(db, order, rejected) == len(order)
    # and once more: nothing left to add
    again = subprocess.run(_command(src, db), env=_env(), capture_output=True, text=True,
                           timeout=RUN_TIMEOUT_S)
    assert again.returncode == 0 and json.loads(again.stdout) == {"duplicate": N}
    assert verify(db, order, rejected) == len(order)
    print(f"\ncrash test: N={N} kills={kills} total={time.monotonic() - started:.1f}s")
