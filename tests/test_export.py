"""``polystory export``: every event and story as JSON lines or CSV, the same rows that
``polystory events`` / ``stories --format json`` show, over events-dev articles."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from polystory.cli import main

from conftest import needs_shared

#: The encoder is not under test.
ENV = {"POLYSTORY_ENCODER": "hashing"}


def _run(*args) -> str:
    res = CliRunner().invoke(main, list(args), env=ENV, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    src = needs_shared("data/events-dev/events.jsonl")
    path = tmp_path_factory.mktemp("export") / "news.db"
    sample = tmp_path_factory.mktemp("export") / "sample.jsonl"
    sample.write_text("".join(src.read_text(encoding="utf-8").splitlines(keepends=True)[:40]),
                      encoding="utf-8")
    _run("ingest", str(sample), "--db", str(path))
    return str(path)


def test_export_events_jsonl_and_csv(db, tmp_path):
    listed = [json.loads(l) for l in _run("events", "--db", db, "--format", "json").splitlines()]
    rows = [json.loads(l) for l in _run("export", "events", "--db", db).splitlines()]
    assert len(rows) == len(listed) > 5
    for row, e in zip(rows, listed):
        assert row == {**e, "article_count": len(e["articles"])}
    out = tmp_path / "events.csv"
    _run("export", "--db", db, "--format", "csv", "-o", str(out))
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["id"] for r in table] == [e["id"] for e in listed]
    for r, e in zip(table, listed):
        assert r["articles"].split("; ") == e["articles"] and r["headline"] == e["headline"]
        assert r["languages"].split("; ") == e["languages"]
        assert r["event_date"] == (e["event_date"] or "") and int(r["article_count"]) == len(e["articles"])


def test_export_stories(db):
    listed = [json.loads(l) for l in _run("stories", "--db", db, "--format", "json").splitlines()]
    rows = [json.loads(l) for l in _run("export", "stories", "--db", db, "--format", "jsonl").splitlines()]
    assert [r["id"] for r in rows] == [s["id"] for s in listed]
    for r, s in zip(rows, listed):
        assert r["title"] == s["title"] and r["actors"] == s["actors"]
        assert r["events"] == [e["id"] for e in s["events"]] and r["event_count"] == len(s["events"])
        assert r["article_count"] == sum(len(e["articles"]) for e in s["events"])
    table = list(csv.DictReader(io.StringIO(_run("export", "stories", "--db", db, "--format", "csv"))))
    assert [t["events"].split("; ") for t in table] == [r["events"] for r in rows]


def test_export_to_an_unwritable_path_says_so(db, tmp_path):
    res = CliRunner().invoke(main, ["export", "--db", db, "-o", str(tmp_path / "no" / "dir.csv")], env=ENV)
    assert res.exit_code == 1 and "cannot write" in res.output and "Traceback" not in res.output
