"""The read models (``store/readmodel.py``): the summaries the writer keeps are what
summarizing the stored rows gives, the SQL filters keep what the Python rule keeps, an older
store is migrated to them, and the read-only commands never build a clusterer.  On both
stores, over a real stream (events-dev blind, then ecbplus-dev) with the hashing encoder."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from polystory import Pipeline
from polystory.cli import main
from polystory.config import Settings
from polystory.models import PartialDate
from polystory.serve.queries import EventFilter
from polystory.store import SCHEMA_VERSION, check_store, open_store
from polystory.summary import summarize_event, summarize_story

from conftest import raw_db, shared_stream

#: ecbplus-dev articles after events-dev (the whole file takes minutes on 2 cores).
ECBPLUS = 200


@pytest.fixture(scope="module")
def filled(module_store_url):
    """A store of each kind holding the stream, with the summaries its writer kept."""
    with Pipeline(Settings(encoder="hashing"), db=module_store_url) as p:
        p.add_many(shared_stream(ECBPLUS))
    return module_store_url


def _from_rows(store):
    """Events and stories as summarizing the stored members gives them (the reference)."""
    events = {}
    for eid in sorted({s.event_id for s in store.list_articles() if s.event_id}):
        members = store.event_members(eid)
        events[eid] = summarize_event(eid, [m.document for m in members], members[0].story_id)
    stories = {}
    for sid in store.list_stories():
        evs = [events[e] for e in store.list_events(story_id=sid)]
        stories[sid] = summarize_story(sid, evs)
    return events, stories


def test_summaries_are_the_stored_members_summarized(filled):
    store = open_store(filled)
    try:
        events, stories = _from_rows(store)
        assert len(events) > 50 and any(len(e.article_ids) > 3 for e in events.values())
        assert any(len(s.event_ids) > 1 for s in stories.values())
        listed = list(store.iter_events())
        assert {e.id: e for e in listed} == events
        assert [e.id for e in listed] == store.list_events()   # in order of the first article
        page, total = store.stories_page()
        assert total == len(stories) and {s["story"].id: s["story"] for s in page} == stories
        # largest first, then in order of the first event link (as the listings always were)
        order = {sid: i for i, sid in enumerate(store.list_stories())}
        assert [s["story"].id for s in page] == sorted(
            stories, key=lambda sid: (-len(stories[sid].event_ids), order[sid]))
        for sid, s in stories.items():
            assert [e.id for e in store.iter_events(story_id=sid)] == store.list_events(story_id=sid)
            assert store.story_summary(sid)["event_count"] == len(s.event_ids)
        # a story's events in story order, read as one range
        assert store.story_events(list(stories)) == {
            sid: [events[e] for e in s.event_ids] for sid, s in stories.items()}
        assert check_store(store) == []
    finally:
        store.close()


def test_a_name_is_shown_as_the_events_latest_article_writes_it(filled):
    """``event_name_display`` (what ``/search`` shows in ``matched_names``) reads the
    articles that carry a key; it agrees with reading all of the event's articles."""
    store = open_store(filled)
    try:
        checked = 0
        for eid in store.list_events():
            members = [m.document for m in store.event_members(eid) if m.document]
            written = {k: n for d in members for k, n in zip(d.entities, d.entity_names)}
            keys = sorted({k for d in members for k in d.entities}) + ["zzzzz"]
            assert store.event_name_display(eid, keys) == written
            checked += len(written)
        assert checked > 1000
    finally:
        store.close()


def test_the_events_that_most_recently_named_an_actor(filled):
    """``event_name_keys(keys, limit=n)`` (what ``/search`` starts from for a name): the
    ``n`` events whose articles named one of the keys most recently, read page by page
    from the most recent article back; and which of the keys each event carries."""
    store = open_store(filled)
    try:
        latest: dict[str, dict[str, int]] = {}     # key -> event -> latest seq naming it
        for seq, stored in enumerate(store.list_articles()):
            if stored.event_id and stored.document:
                for key in stored.document.entities:
                    latest.setdefault(key, {})[stored.event_id] = seq
        common = sorted(latest, key=lambda k: -len(latest[k]))[:6]
        assert len(latest[common[0]]) > 10
        store.PAGE = 3      # several pages per key
        for keys in ([common[0]], [common[1], common[4]], common[2:6], [common[3], "zzzzz"]):
            last = {}
            for k in keys:
                for eid, seq in latest.get(k, {}).items():
                    last[eid] = max(last.get(eid, -1), seq)
            for n in (1, 4, 9, 10_000):
                want = sorted(last, key=lambda e: (-last[e], e))[:n]
                got = store.event_name_keys(keys, limit=n)
                assert sorted(got) == sorted(want), (keys, n)
                for eid, carried in got.items():
                    assert carried == {k for k in keys if eid in latest.get(k, {})}
        assert store.event_name_keys(["zzzzz"], limit=5) == {}
    finally:
        store.close()


def _filters(events) -> list[EventFilter]:
    """Filters of every kind, from words and names that the stream holds."""
    actors = [a for e in events for a in e.actors]
    return [EventFilter(), EventFilter(language="es"), EventFilter(language="en"),
            EventFilter(since=PartialDate(2024, 6)), EventFilter(until=PartialDate(2023)),
            EventFilter(since=PartialDate(2024, 5, 15), until=PartialDate(2024, 6, 10)),
            EventFilter(q="SpaceX"), EventFilter(q="starship cohete"), EventFilter(q="Лавров"),
            EventFilter(q="EU"), EventFilter(q="G7"), EventFilter(q="the"),
            EventFilter(q=actors[0]), EventFilter(q=f"{actors[3]} {actors[10]}"),
            EventFilter(q="reid", language="en"), EventFilter(q='"quoted'),
            EventFilter(q="no-such-word-anywhere")]


def test_sql_filters_keep_what_the_python_rule_keeps(filled):
    store = open_store(filled)
    try:
        events = {e.id: e for e in store.iter_events()}
        members = {eid: store.event_members(eid) for eid in events}
        kept_any = 0
        for flt in _filters(list(events.values())):
            want = [eid for eid in store.list_events() if flt.accepts(events[eid], members[eid])]
            got, total, articles = store.events_page(**flt.store_filters())
            assert [e.id for e in got] == want, flt
            assert total == len(want) and articles == sum(len(events[e].article_ids) for e in want)
            page, total2, articles2 = store.events_page(**flt.store_filters(), limit=3, offset=2)
            assert [e.id for e in page] == want[2:5] and (total2, articles2) == (total, articles)
            newest, *totals = store.events_page(**flt.store_filters(), limit=4, newest_first=True)
            assert [e.id for e in newest] == want[::-1][:4] and totals == [total, articles]
            kept_any += 0 < len(want) < len(events)
        assert kept_any >= 8   # the filters really filter
        # one story's page: its totals are the story summary's (no count), its events in
        # story-link order
        for sid in store.list_stories()[:40]:
            want = store.list_events(story_id=sid)
            page, total, articles = store.events_page(story_id=sid, limit=2, offset=1)
            assert [e.id for e in page] == want[1:3] and total == len(want)
            assert articles == sum(len(events[e].article_ids) for e in want)
        assert store.events_page(story_id="no-such-story", limit=5) == ([], 0, 0)
    finally:
        store.close()


@pytest.mark.parametrize("version", [6, 5, 4, 2, 1])
def test_an_older_store_is_migrated_to_the_read_models(filled, tmp_path, version):
    """A store at schema version 6 (no totals, name keys without their article's seq), 5
    (each story summary stores its events in order), 4
    (summaries, no story terms: its story summaries are recounted), 2 (the watch queue, no
    read models) or 1 (neither) gets them, equal to the writer's."""
    store = open_store(filled)
    try:
        want_events, want_stories = list(store.iter_events()), store.stories_page()
        keys = sorted({k for a in store.event_members(want_events[0].id) for k in a.document.entities})[:3]
        want_named = store.event_name_keys(keys, limit=8)
        assert len(want_named) >= 1
    finally:
        store.close()
    raw = raw_db(filled)
    # before migration 7: no totals, no line counts, name keys without their article's seq
    raw.execute("DROP TABLE read_totals; DROP TABLE line_counts; DROP INDEX article_names_recent; "
                "ALTER TABLE article_names DROP COLUMN seq")
    if version < 6:   # before migration 6: the stories' events stored in each summary, the old index
        raw.execute("ALTER TABLE story_summaries ADD COLUMN event_ids TEXT NOT NULL DEFAULT '[]'; "
                    "DROP INDEX event_stories_story_seq; "
                    "CREATE INDEX event_stories_story ON event_stories(story_id)")
    if version == 6:
        pass
    elif version == 5:
        raw.execute("UPDATE story_summaries SET actors = '[]', first_date = NULL")
    elif version == 4:
        raw.execute("DROP TABLE story_terms; DROP INDEX event_summaries_story_order; "
                    "DROP INDEX event_summaries_story_size; "
                    "ALTER TABLE event_summaries DROP COLUMN date_order; "
                    "UPDATE story_summaries SET actors = '[]'")
    else:
        raw.execute("DROP TABLE IF EXISTS article_fts; DROP TABLE article_search; "
                    "DROP TABLE article_names; DROP TABLE event_summaries; DROP TABLE story_summaries; "
                    "DROP TABLE story_terms; "
                    "ALTER TABLE documents DROP COLUMN dated_by; DROP TABLE event_links")
    if version == 1:
        raw.execute("DROP TABLE watch_items; DROP TABLE watch_sources")
    raw.set_version(version)
    store = open_store(filled)
    try:
        assert store.schema_version() == SCHEMA_VERSION == 7
        assert list(store.iter_events()) == want_events and store.stories_page() == want_stories
        assert store.events_page(limit=1)[1:] == (len(want_events),
                                                  sum(len(e.article_ids) for e in want_events))
        assert store.event_name_keys(keys, limit=8) == want_named
        assert store.events_page(words=[("spacex", ["space"])])[1] > 0
        assert check_store(store) == []
    finally:
        store.close()


def test_check_finds_a_wrong_total(filled):
    raw = raw_db(filled)
    raw.execute("UPDATE read_totals SET n = n + 1 WHERE name = 'stories'")
    store = open_store(filled, migrate=False)
    try:
        problems = check_store(store)
        assert [p.check for p in problems] == ["summary"]
        assert problems[0].message.startswith("1 listing total(s) that differ from the summaries")
    finally:
        store.close()
        raw.execute("UPDATE read_totals SET n = n - 1 WHERE name = 'stories'")


def test_check_finds_a_stale_summary(filled):
    raw = raw_db(filled)
    eid = raw.query("SELECT event_id FROM event_summaries ORDER BY first_seq LIMIT 1")[0][0]
    raw.execute(f"UPDATE event_summaries SET article_count = article_count + 1 WHERE event_id = '{eid}'")
    store = open_store(filled, migrate=False)
    try:
        problems = check_store(store)
        assert [p.check for p in problems] == ["summary", "summary"]   # and the totals disagree
        assert eid in problems[0].message and "listing total(s)" in problems[1].message
    finally:
        store.close()
    raw.execute(f"UPDATE event_summaries SET article_count = article_count - 1 WHERE event_id = '{eid}'")


def test_reading_commands_build_no_pipeline(filled, monkeypatch):
    """``events``, ``stories`` and ``show`` read the store only: no encoder, no replay."""
    def no_pipeline(*a, **k):
        raise AssertionError("a reading command built a Pipeline")

    monkeypatch.setattr("polystory.pipeline.Pipeline.__init__", no_pipeline)
    store = open_store(filled)
    try:
        first = next(store.iter_events())
    finally:
        store.close()
    runner = CliRunner()
    events = runner.invoke(main, ["events", "--db", filled, "--format", "json"])
    assert events.exit_code == 0, events.output
    assert json.loads(events.output.splitlines()[0])["id"] == first.id
    stories = runner.invoke(main, ["stories", "--db", filled])
    assert stories.exit_code == 0 and stories.output.startswith("Story ")
    show = runner.invoke(main, ["show", first.id, "--db", filled, "--format", "json"])
    assert show.exit_code == 0 and json.loads(show.output)["articles"] == list(first.article_ids)
    timeline = runner.invoke(main, ["stories", "--db", filled, "--format", "json", "--timeline",
                                    "--dates", "3"])
    assert timeline.exit_code == 0, timeline.output
    assert all("timeline" in json.loads(line) for line in timeline.output.splitlines())
    export = runner.invoke(main, ["export", "events", "--db", filled])
    assert export.exit_code == 0, export.output
    assert json.loads(export.output.splitlines()[0])["id"] == first.id


def test_a_reader_reads_a_store_of_another_encoder(filled):
    """The store holds hashing vectors; a reader whose settings name another encoder reads it
    (it needs no encoder), where a writer of that encoder is refused."""
    env = {"POLYSTORY_ENCODER": "static"}
    runner = CliRunner()
    for args in (["events"], ["stories"], ["export", "stories"]):
        out = runner.invoke(main, args + ["--db", filled], env=env)
        assert out.exit_code == 0, (args, out.output)
        assert out.output.strip()
    with pytest.raises(Exception, match="encoder"):
        Pipeline(Settings(encoder="static"), db=filled)


def test_a_closed_pipe_ends_the_events_command(filled):
    proc = subprocess.Popen([sys.executable, "-m", "polystory.cli", "events", "--db", filled],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "POLYSTORY_ENCODER": "hashing"})
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) in (0, 130)
    assert first.startswith(b"E") and b"Traceback" not in err and b"Exception" not in err
