"""Timelines: salient dates and summaries, on a real Timeline17 collection and the seeds."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from polystory.cli import main
from polystory.enrich import parse_published
from polystory.enrich.dates import find_mentions
from polystory.models import PartialDate
from polystory.stories.timeline import Report, own_date, timeline

from conftest import DEMO, needs_shared


@pytest.fixture(scope="module")
def h1n1_guardian():
    """The Guardian's swine-flu collection of Timeline17 (76 reports) and its gold timeline."""
    path = needs_shared("data/timeline17-dev/articles.jsonl")
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    reports = [Report(r["id"], r["text"], "en", parse_published(r["published"]))
               for r in rows if r["collection"] == "H1N1_guardian" and r["text"].strip()]
    gold = json.load(open(path.with_name("timelines.json"), encoding="utf-8"))["H1N1_guardian"][0]
    return reports, {dt.date.fromisoformat(d) for d, _ in gold}


def test_timeline_of_a_real_collection_beats_publication_counts(h1n1_guardian):
    reports, gold = h1n1_guardian
    entries = timeline(reports, dates=len(gold))
    assert len(entries) == len(gold)
    days = [e.date.first_day() for e in entries]
    assert days == sorted(days) and len(set(days)) == len(days)
    counts: dict = {}
    for r in reports:
        counts[r.published] = counts.get(r.published, 0) + 1
    baseline = {d.first_day() for d in sorted(counts, key=lambda d: (-counts[d], d.first_day()))[:len(gold)]}
    assert len(set(days) & gold) > len(baseline & gold)
    texts = {r.id: " ".join(r.text.split()) for r in reports}
    for e in entries:
        assert e.summary and len(e.summary) <= 400 + 1
        # the summary's sentences come from the entry's own reports
        assert all(any(part[:40] in texts[a] for a in e.article_ids)
                   for part in e.summary.split(" . ")[:1])
        # each listed report is of that day (or the next) or names it
        day = e.date.first_day()
        for a in e.article_ids:
            r = next(r for r in reports if r.id == a)
            assert own_date(r).first_day() in (day, day + dt.timedelta(days=1)) \
                or e.date in {m.date for m in find_mentions(r.text, "en", r.published)}
    # no two entries share a summary
    assert len({e.summary for e in entries}) == len(entries)


def test_default_number_of_dates_follows_the_events():
    d = PartialDate
    reports = [Report("a", "Quake hits the capital on Tuesday, killing many.", "en", d(2010, 1, 13), "E1", d(2010, 1, 12)),
               Report("b", "Aid arrives at the airport as rescuers dig.", "en", d(2010, 1, 16), "E2", d(2010, 1, 16)),
               Report("c", "Donors pledge billions at a conference.", "en", d(2010, 3, 31), "E3", d(2010, 3, 31))]
    entries = timeline(reports)
    # three event dates, three entries; one report naming a day is not enough to move it
    assert [str(e.date) for e in entries] == ["2010-01-13", "2010-01-16", "2010-03-31"]
    assert [e.event_ids for e in entries] == [("E1",), ("E2",), ("E3",)]
    assert timeline([]) == []


def test_summary_in_the_language_asked_for_where_there_is_one():
    d = PartialDate(2023, 3, 2)
    reports = [Report("en1", "Blinken and Lavrov spoke briefly at the G20 meeting in New Delhi.", "en", d, "E"),
               Report("it1", "Blinken e Lavrov hanno parlato brevemente al G20 di Nuova Delhi.", "it", d, "E")]
    (it,) = timeline(reports, dates=1, language="it")
    assert it.language == "it" and "Nuova Delhi" in it.summary
    (fallback,) = timeline(reports, dates=1, language="de")
    assert fallback.summary and fallback.language in ("en", "it")
    assert set(it.article_ids) == {"en1", "it1"}


def test_seed_story_timeline_reads_geneva_call_g20(seeds_pipeline):
    p, outcomes = seeds_pipeline
    (story,) = p.stories()
    entries = p.timeline(story.id)
    assert [str(e.date)[:7] for e in entries] == ["2022-01", "2022-07", "2023-03"]
    by_article = {o.article_id: p.placement(o)[0] for o in outcomes}
    assert [set(e.article_ids) for e in entries] == [{"003"}, {"004"}, {"000", "001", "002"}]
    assert [e.event_ids for e in entries] == [(by_article["003"],), (by_article["004"],), (by_article["000"],)]
    assert "Blinken ha avvertito" in entries[0].summary   # the Geneva report's lead
    g20_it = p.timeline(story.id, language="it")[2]
    assert g20_it.language == "it" and "G20" in g20_it.summary


def test_timeline_command_on_blind_seeds(tmp_path):
    src, out = tmp_path / "seeds.jsonl", tmp_path / "timeline.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for f in sorted(DEMO.glob("0*.txt")):
            fh.write(json.dumps({"id": f.stem[:3], "text": f.read_text(encoding="utf-8")}) + "\n")
        fh.write("{not json\n")
    res = CliRunner().invoke(main, ["timeline", str(src), "-o", str(out), "--dates", "3"])
    assert res.exit_code == 1 and "seeds.jsonl:6" in res.output   # bad line reported...
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["date"][:7] for r in rows] == ["2022-01", "2022-07", "2023-03"]   # ...good ones done
    assert all(set(r) == {"date", "summary", "articles", "events"} and r["summary"] for r in rows)
    assert rows[2]["articles"] and set(rows[2]["articles"]) == {"000", "001", "002"}
    res = CliRunner().invoke(main, ["timeline", str(src), "-o", str(out), "--dates", "2", "--skip-bad"])
    assert res.exit_code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_stories_command_shows_timelines(tmp_path):
    db = str(tmp_path / "seeds.db")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(DEMO), "--db", db]).exit_code == 0
    res = runner.invoke(main, ["stories", "--db", db, "--timeline", "--format", "json"])
    assert res.exit_code == 0, res.output
    (story,) = [json.loads(line) for line in res.output.splitlines()]
    assert [t["date"][:7] for t in story["timeline"]] == ["2022-01", "2022-07", "2023-03"]
    assert [t["events"] for t in story["timeline"]] == [[e["id"]] for e in story["events"]]
    text = runner.invoke(main, ["stories", "--db", db, "--timeline", "--dates", "1", "--lang", "it"])
    assert text.exit_code == 0 and "timeline:" in text.output
    assert len([l for l in text.output.splitlines() if "article(s))" in l]) == 1
    plain = runner.invoke(main, ["stories", "--db", db])
    assert "timeline:" not in plain.output
