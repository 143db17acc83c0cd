"""The command line: ingest, events, stories, show; clear errors.

The commands that open a store run on both stores (``store_url``: an SQLite file, then a
PostgreSQL database)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from polystory.cli import main

from conftest import DEMO


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_ingest_then_read_back(store_url):
    db = store_url
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


def test_missing_event_is_a_clear_error(store_url):
    res = _run("show", "Enope", "--db", store_url)
    assert res.exit_code == 1 and "no event with id 'Enope'" in res.output


def test_empty_input_file_fails_with_one_line(tmp_path, store_url):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    res = _run("ingest", str(empty), "--db", store_url)
    assert res.exit_code == 1
    assert "empty file" in res.output and "Traceback" not in res.output


def test_bad_lines_are_reported_and_good_ones_kept(tmp_path, store_url):
    src = tmp_path / "mixed.jsonl"
    text = next(DEMO.glob("004_*.txt")).read_text(encoding="utf-8")
    src.write_text(json.dumps({"id": "ok", "text": text}) + "\n{not json\n"
                   + json.dumps({"id": "notext"}) + "\n", encoding="utf-8")
    db = store_url
    res = _run("ingest", str(src), "--db", db)
    assert res.exit_code == 1 and "2 bad input record(s)" in res.output
    assert f"{src}:2" in res.output and f"{src}:3" in res.output
    events = _run("events", "--db", db, "--format", "json").output.splitlines()
    assert len(events) == 1
    assert _run("ingest", str(src), "--db", db, "--skip-bad").exit_code == 0


def test_bad_setting_is_a_config_error(tmp_path, monkeypatch):
    # one store only: the settings are refused before any store is opened
    monkeypatch.setenv("POLYSTORY_EVENT_THRESHOLD", "1.5")
    res = _run("events", "--db", str(tmp_path / "c.db"))
    assert res.exit_code == 1 and "event_threshold must be in [0, 1]; got 1.5" in res.output


def _seed_texts():
    return {f.stem[:3]: f.read_text(encoding="utf-8") for f in DEMO.glob("0*.txt")}


def test_pairs_ranks_same_event_across_languages_above_same_language(tmp_path):
    t = _seed_texts()
    same = [("000", "001"), ("000", "002"), ("001", "002")]       # sq-it, sq-en, it-en: G20
    other = [("001", "003"), ("002", "004")]                       # it-it, en-en: other events
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps({"id": f"{a}-{b}", "text1": t[a], "text2": t[b]}) + "\n"
                           for a, b in same + other), encoding="utf-8")
    both = {}
    for flags in ((), ("--same-event",)):
        out = tmp_path / "scores.jsonl"
        res = _run("pairs", str(src), "-o", str(out), *flags)
        assert res.exit_code == 0, res.output
        scores = {r["id"]: r["similarity"] for r in map(json.loads, out.read_text().splitlines())}
        assert set(scores) == {f"{a}-{b}" for a, b in same + other}
        assert all(0 <= s <= 1 for s in scores.values())
        assert min(scores[f"{a}-{b}"] for a, b in same) > max(scores[f"{a}-{b}"] for a, b in other)
        both[flags] = scores
    # the default also weighs people's grading: not the clusterer's probability alone
    assert any(abs(both[()][k] - both[("--same-event",)][k]) > 0.05 for k in scores)


def test_pairs_rejects_a_line_without_text2(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text(json.dumps({"id": "x", "text1": "a"}) + "\n")
    res = _run("pairs", str(src), "-o", str(tmp_path / "o.jsonl"))
    assert res.exit_code == 1 and f"{src}:1: needs string fields id, text1 and text2" in res.output


def test_eval_scores_cluster_output(tmp_path):
    key = tmp_path / "key.jsonl"
    out = tmp_path / "out.jsonl"
    key.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "a", "event": "e1", "group": "g", "event_date": "2023-03-02"},
        {"id": "b", "event": "e1", "group": "g", "event_date": "2023-03-02"},
        {"id": "c", "event": "e2", "group": "g", "event_date": "2022-01-21"}]))
    out.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "a", "event": "E1", "story": "S", "event_date": "2023-03-03"},
        {"id": "b", "event": "E1", "story": "S", "event_date": "2023-03"},
        {"id": "c", "event": "E1", "story": "S", "event_date": None}]))
    res = _run("eval", str(key), str(out))
    got = json.loads(res.output)
    assert got["stories"]["bcubed"]["f1"] == 1.0
    assert got["events"]["bcubed"]["precision"] == round((2 / 3 * 2 + 1 / 3) / 3, 4)
    assert got["events"]["clusters"] == 1 and got["events"]["key_clusters"] == 2
    assert got["event_date_within_1_day"] == round(1 / 3, 4)
