"""The hard case: five Blinken-Lavrov articles, three languages, three events, one story.

The pipeline's results are read back from both stores (``module_store_url``): an SQLite
file, then a PostgreSQL database."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from polystory import Pipeline
from polystory.cli import main
from polystory.models import PartialDate

from conftest import DEMO, seed_articles


@pytest.fixture(scope="module")
def seeds_pipeline(module_store_url):
    """The seed run over each store (in place of the session's in-memory one)."""
    p = Pipeline(db=module_store_url)
    outcomes = p.add_many(seed_articles())
    yield p, outcomes
    p.close()


def test_seeds_make_three_events_in_one_story(seeds_pipeline):
    p, outcomes = seeds_pipeline
    event_of = {o.article_id: p.placement(o)[0] for o in outcomes}
    groups = {}
    for aid, eid in event_of.items():
        groups.setdefault(eid, set()).add(aid)
    assert sorted(map(sorted, groups.values())) == [["000", "001", "002"], ["003"], ["004"]]
    assert len({p.event(e)[0].story_id for e in groups}) == 1
    assert len(p.stories()) == 1


def test_outcomes_say_where_the_articles_are_after_repair(seeds_pipeline):
    """Each event's first report is its ``new_event``; the outcomes name the events the
    articles are in after the batch's repairs (003 and 004 are split off by their dates)."""
    p, outcomes = seeds_pipeline
    assert [(o.article_id, o.status) for o in outcomes] == [
        ("000", "new_event"), ("001", "joined_event"), ("002", "joined_event"),
        ("003", "new_event"), ("004", "new_event")]
    assert all(o.event_id == p.placement(o)[0] for o in outcomes)


def test_seed_languages_and_g20_date(seeds_pipeline):
    p, outcomes = seeds_pipeline
    langs = {o.article_id: p.store.article(o.article_id).document.language for o in outcomes}
    assert langs == {"000": "sq", "001": "it", "002": "en", "003": "it", "004": "en"}
    g20 = p.event(p.placement(outcomes[0])[0])[0]
    d = g20.event_date
    assert d is not None and d.year == 2023 and d.month == 3


def test_cluster_command_on_blind_seeds(tmp_path):
    src = tmp_path / "seeds.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for f in sorted(DEMO.glob("0*.txt")):
            fh.write(json.dumps({"id": f.stem[:3], "text": f.read_text(encoding="utf-8")}) + "\n")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(main, ["cluster", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["000", "001", "002", "003", "004"]
    assert all(set(r) == {"id", "event", "story", "language", "published", "event_date"} for r in rows)
    ev = {r["id"]: r["event"] for r in rows}
    assert ev["000"] == ev["001"] == ev["002"] and len({ev["000"], ev["003"], ev["004"]}) == 3
    assert len({r["story"] for r in rows}) == 1
    assert [r["language"] for r in rows] == ["sq", "it", "en", "it", "en"]
    a = PartialDate.parse(rows[0]["event_date"])
    assert (a.year, a.month) == (2023, 3)
    assert rows[0]["published"] == "2023-03"


def test_demo_command_prints_the_story():
    res = CliRunner().invoke(main, ["demo"])
    assert res.exit_code == 0, res.output
    assert res.output.count("Story ") == 1
    assert res.output.count(" article(s) ") == 3


def test_undated_reports_are_dated_by_back_references(seeds_pipeline):
    """003 and 004 carry no date; 000 recalls "January 2022" (Geneva) and 001 "last July"
    (the phone call).  The story is then ordered Geneva -> phone call -> G20."""
    p, outcomes = seeds_pipeline
    event_of = {o.article_id: p.placement(o)[0] for o in outcomes}
    geneva, call = p.event(event_of["003"])[0], p.event(event_of["004"])[0]
    assert geneva.event_date == PartialDate(2022, 1)
    assert call.event_date == PartialDate(2022, 7)
    story = p.stories()[0]
    assert story.event_ids == (event_of["003"], event_of["004"], event_of["000"])
