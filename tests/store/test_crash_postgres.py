"""Crash safety on PostgreSQL: a ``polystory ingest --db postgresql://...`` process SIGKILLed
mid-stream leaves whole articles only, a prefix of the stream; the next run completes it.

A shorter twin of ``tests/test_crash.py`` (which kills SQLite ingests at random points),
with the same stream and settings.
"""
from __future__ import annotations

import json
import signal
import subprocess
import time

from polystory.store import check_store, open_store

from test_crash import _command, _env, write_stream

N = 60
KILL_AFTER = 20  # articles committed before the kill
TIMEOUT_S = 600


def _count(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as con:
            return con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except psycopg.errors.UndefinedTable:  # the schema is not committed yet
        return 0


def _verify(url: str, order: list[str], rejected: set[str]) -> int:
    store = open_store(url, migrate=False)
    try:
        assert [str(p) for p in check_store(store)] == []
        rows = store._q("SELECT id, status FROM articles ORDER BY seq")
    finally:
        store.close()
    ids = [r[0] for r in rows]
    assert ids == order[:len(ids)], "the stored articles are not a prefix of the stream"
    assert {r[0] for r in rows if r[1] == "rejected"} == rejected & set(ids)
    return len(ids)


def test_sigkill_mid_stream_loses_nothing(postgres_url, tmp_path):
    src = tmp_path / "stream.jsonl"
    order, rejected = write_stream(src, N)
    with open(tmp_path / "run.err", "wb") as err:
        proc = subprocess.Popen(_command(src, postgres_url), env=_env(),
                                stdout=subprocess.DEVNULL, stderr=err)
        t0 = time.monotonic()
        while _count(postgres_url) < KILL_AFTER and proc.poll() is None:
            assert time.monotonic() - t0 < TIMEOUT_S, "ingest made no progress"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "run.err").read_text()[-500:]
    stored = _verify(postgres_url, order, rejected)
    assert KILL_AFTER <= stored < len(order)
    done = subprocess.run(_command(src, postgres_url), env=_env(), capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sum(json.loads(done.stdout).values()) == N
    assert _verify(postgres_url, order, rejected) == len(order)
