"""The command line: ingest, events, stories, show; clear errors."""
from __future__ import annotations

import json

from click.testing import CliRunner

from polystory.cli import main

from conftest import DEMO


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_ingest_then_read_back(tmp_path):
    db = str(tmp_path / "cli.db")
    res = _run("ingest", str(DEMO), "--db", db, "--format", "json")
    assert res.exit_code == 0, res.output
    counts = json.loads(res.output)
    assert set(counts) <= {"new_event", "joined_event"} and sum(counts.values()) == 5
    res = _run("events", "--db", db, "--format", "json")
    events = [json.loads(l) for l in res.output.splitlines()]
    assert len(events) == 3 and sum(len(e["articles"]) for e in events) == 5
    big = max(events, key=lambda e: len(e["articles"]))
    assert big["languages"] == ["en", "it", "sq"]
    res = _run("stories", "--db", db)
    assert res.output.count("Story ") == 1
    res = _run("show", big["id"], "--db", db, "--format", "json")
    shown = json.loads(res.output)
    assert set(shown["by_language"]) == {"en", "it", "sq"}
    assert _run("show", big["id"], "--db", db).output.count("[") >= 3
    # ingesting again adds nothing
    again = _run("ingest", str(DEMO), "--db", db, "--format", "json")
    assert json.loads(again.output) == {"duplicate": 5}


def test_missing_event_is_a_clear_error(tmp_path):
    res = _run("show", "Enope", "--db", str(tmp_path / "x.db"))
    assert res.exit_code == 1 and "no event with id 'Enope'" in res.output


def test_empty_input_file_fails_with_one_line(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    res = _run("ingest", str(empty), "--db", str(tmp_path / "e.db"))
    assert res.exit_code == 1
    assert "empty file" in res.output and "Traceback" not in res.output


def test_bad_lines_are_reported_and_good_ones_kept(tmp_path):
    src = tmp_path / "mixed.jsonl"
    text = next(DEMO.glob("004_*.txt")).read_text(encoding="utf-8")
    src.write_text(json.dumps({"id": "ok", "text": text}) + "\n{not json\n"
                   + json.dumps({"id": "notext"}) + "\n", encoding="utf-8")
    db = str(tmp_path / "m.db")
    res = _run("ingest", str(src), "--db", db)
    assert res.exit_code == 1 and "2 bad input record(s)" in res.output
    assert f"{src}:2" in res.output and f"{src}:3" in res.output
    events = _run("events", "--db", db, "--format", "json").output.splitlines()
    assert len(events) == 1
    assert _run("ingest", str(src), "--db", db, "--skip-bad").exit_code == 0


def test_bad_setting_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYSTORY_EVENT_THRESHOLD", "1.5")
    res = _run("events", "--db", str(tmp_path / "c.db"))
    assert res.exit_code == 1 and "event_threshold must be in [0, 1]; got 1.5" in res.output
