"""``polystory watch`` as a user runs it: ``--once``, ``--status``, bad input, and a SIGKILL
mid-poll followed by a restart that fetches each item once and ingests it once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from polystory.cli import main
from polystory.store import open_store
from polystory.store.watch import WatchQueue
from polystory.watch import canonical_url, item_article_id

from .site import EVENTS_DEV, Site, by_language, dev_rows, page_html, rss

pytestmark = pytest.mark.skipif(not EVENTS_DEV.exists(), reason="../shared/data/events-dev not present")

ENV = {"POLYSTORY_ENCODER": "hashing"}
#: 127.0.0.1 allowed by name; no politeness delay; small timeouts.
FLAGS = ["--allow-network", "127.0.0.1/32", "--host-delay", "0", "--timeout", "5",
         "--retries", "0"]


def _site(site: Site, langs=("en", "es", "de", "fr"), per_feed: int = 6) -> list[str]:
    """Feeds of ``per_feed`` pages each; the item links in discovery order."""
    rows = by_language(dev_rows())
    links = []
    for lang in langs:
        items = []
        for row in rows[lang][:per_feed]:
            path = f"/{lang}/{row['id']}"
            site.add(path, body=page_html(row).encode())
            items.append((site.url(path), row))
        site.add(f"/feeds/{lang}.xml", body=rss(f"Feed {lang}", lang, items),
                 content_type="application/rss+xml")
        links += [link for link, _ in items]
    return links


def _sources(tmp_path, site: Site, paths) -> str:
    f = tmp_path / "sources.txt"
    f.write_text("# the newsroom's list\n" + "".join(f"{site.url(p)}  {p}\n" for p in paths),
                 encoding="utf-8")
    return str(f)


def _run(*args):
    return CliRunner().invoke(main, list(args), env=ENV, catch_exceptions=False)


def test_watch_once_then_status(tmp_path):
    with Site() as site:
        links = _site(site, langs=("it", "pt"), per_feed=3)
        sources = _sources(tmp_path, site, ["/feeds/it.xml", "/feeds/pt.xml", "/feeds/gone.xml"])
        db = str(tmp_path / "news.db")
        res = _run("watch", sources, "--db", db, "--once", *FLAGS)
        assert res.exit_code == 0, res.output
        assert res.stdout.strip() == "0 queued, 0 fetched, 6 done, 0 failed item(s)"
        assert f"{site.url('/feeds/gone.xml')}: error (HTTP 404" in res.stderr
        assert f"{site.url('/feeds/it.xml')}: 200, 3 new, 3 ingested" in res.stderr
        text = _run("watch", sources, "--db", db, "--status").stdout
        assert f"{site.url('/feeds/pt.xml')}\n  last poll " in text and "items seen 3 (done 3" in text
        assert "last error: HTTP 404" in text
        rows = [json.loads(l) for l in _run("watch", sources, "--db", db, "--status",
                                            "--format", "json").stdout.splitlines()]
        by = {r["url"]: r for r in rows}
        assert by[site.url("/feeds/it.xml")]["items_seen"] == 3
        assert by[site.url("/feeds/gone.xml")]["errors"] == 1
        assert set(rows[0]) >= {"last_poll", "items_seen", "errors", "next_poll", "last_error"}
        # a second --once: the feeds are read again, nothing is fetched or ingested twice
        hits = sum(site.hits[l[len(site.base):]] for l in links)
        res = _run("watch", sources, "--db", db, "--once", *FLAGS)
        assert res.stdout.strip() == "0 queued, 0 fetched, 6 done, 0 failed item(s)"
        assert sum(site.hits[l[len(site.base):]] for l in links) == hits == 6
        events = _run("events", "--db", db, "--format", "json").stdout.splitlines()
        assert sum(len(json.loads(e)["articles"]) for e in events) == 6


@pytest.mark.parametrize("content, says", [
    ("", "names no feed URL"),
    ("ftp://example.org/feed\n", "not an http(s) feed URL"),
    ("<opml><body><outline xmlUrl='https://a.example/f'", "malformed OPML"),
])
def test_bad_sources_files_say_why(tmp_path, content, says):
    f = tmp_path / "sources.txt"
    f.write_text(content, encoding="utf-8")
    res = CliRunner().invoke(main, ["watch", str(f), "--db", str(tmp_path / "x.db"), "--once"], env=ENV)
    assert res.exit_code == 1 and says in res.output and "Traceback" not in res.output


def test_status_of_a_missing_store_says_so(tmp_path):
    f = tmp_path / "s.txt"
    f.write_text("https://a.example/feed\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["watch", str(f), "--db", str(tmp_path / "none.db"), "--status"], env=ENV)
    assert res.exit_code == 1 and "no database at" in res.output
    assert not (tmp_path / "none.db").exists()


def test_bad_options_say_why(tmp_path):
    f = tmp_path / "s.txt"
    f.write_text("https://a.example/feed\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["watch", str(f), "--every", "soon"], env=ENV)
    assert res.exit_code == 2 and "not a duration" in res.output
    res = CliRunner().invoke(main, ["watch", str(f), "--allow-network", "lan"], env=ENV)
    assert res.exit_code == 2 and "not a network" in res.output


def test_opml_sources(tmp_path):
    with Site() as site:
        _site(site, langs=("nl", "el"), per_feed=1)
        opml = tmp_path / "feeds.opml"
        opml.write_text(f"""<?xml version="1.0"?><opml version="2.0"><head><title>desk</title></head>
<body><outline text="Europe"><outline type="rss" text="nl" xmlUrl="{site.url('/feeds/nl.xml')}"/>
<outline type="rss" text="el" xmlUrl="{site.url('/feeds/el.xml')}"/></outline></body></opml>""",
                        encoding="utf-8")
        res = _run("watch", str(opml), "--db", str(tmp_path / "o.db"), "--once", *FLAGS)
        assert res.exit_code == 0 and res.stdout.strip() == "0 queued, 0 fetched, 2 done, 0 failed item(s)"


def _counts(db: str) -> dict[str, int]:
    store = open_store(db)
    try:
        return WatchQueue(store).counts()
    finally:
        store.close()


def test_sigkill_mid_poll_then_restart_fetches_and_ingests_each_item_once(tmp_path):
    """24 items: the first 16 fetched and ingested, then three more fetched, and the
    20th page held by the site while ``watch`` is killed; the restart finishes the rest."""
    with Site() as site:
        links = _site(site)
        held = links[19][len(site.base):]
        gate = site.routes[held].gate = __import__("threading").Event()
        sources = _sources(tmp_path, site, [f"/feeds/{l}.xml" for l in ("en", "es", "de", "fr")])
        db = str(tmp_path / "kill.db")
        cmd = [sys.executable, "-m", "polystory.cli", "watch", sources, "--db", db, "--once", *FLAGS]
        env = {**os.environ, **ENV}
        with (tmp_path / "first.log").open("wb") as log:
            proc = subprocess.Popen(cmd, stderr=log, stdout=subprocess.DEVNULL, env=env)
        try:
            assert site.wait_for(held).wait(180), (tmp_path / "first.log").read_text()
            counts = _counts(db)       # what the store says at the moment of the kill
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        gate.set()
        assert counts == {"queued": 5, "fetched": 3, "done": 16, "failed": 0}, counts
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "0 queued, 0 fetched, 24 done, 0 failed item(s)"
        # each page fetched once; the held one again, as its fetch never finished
        for link in links:
            path = link[len(site.base):]
            assert site.hits[path] == (2 if path == held else 1), path
        store = open_store(db)
        try:
            ids = [a.article.id for a in store.list_articles()]
            assert sorted(ids) == sorted(item_article_id(canonical_url(l)) for l in links)
            assert all(a.status == "clustered" for a in store.list_articles())
        finally:
            store.close()
        check = _run("check", "--db", db)
        assert check.exit_code == 0 and check.stdout.startswith("ok:"), check.output
