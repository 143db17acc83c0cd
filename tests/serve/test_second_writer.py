"""A server and a separate ``polystory ingest`` on one store: the server's reads are the
store's summaries (and, for ``/search``, its vectors and name keys), so what the other
process wrote shows on the next request, without a restart.  On both stores."""
from __future__ import annotations

import os
import subprocess
import sys

from .conftest import DEMO, Live

HASHING = {"POLYSTORY_ENCODER": "hashing"}


def test_reads_show_what_another_process_ingested(store_url, tmp_path):
    live = Live(store_url, env=HASHING, log=tmp_path / "serve.log")
    try:
        assert live.get("/events")["total"] == 0 and live.get("/stories")["total"] == 0
        ingest = subprocess.run([sys.executable, "-m", "polystory.cli", "ingest", str(DEMO),
                                 "--db", store_url, "--format", "json"],
                                capture_output=True, text=True, env={**os.environ, **HASHING},
                                timeout=600)
        assert ingest.returncode == 0, ingest.stderr
        events = live.get("/events")
        assert events["total"] >= 1 and events["article_total"] == 5
        assert live.get("/health")["events"] == events["total"]
        stories = live.get("/stories")
        assert stories["total"] >= 1
        assert sum(s["event_count"] for s in stories["stories"]) == events["total"]
        first = events["events"][0]
        detail = live.get(f"/events/{first['id']}")
        assert detail["articles"] == first["articles"] and detail["headline"] == first["headline"]
        assert live.get("/events", q="Lavrov")["total"] >= 1       # the search text too
        assert live.get("/events", q="Лавров")["total"] >= 1       # and the name keys
        # /search reads the store's vectors and name keys, not the server's clusterer,
        # which has never seen these articles
        found = live.get("/search", q="Лавров")["results"]
        assert found and {e["id"] for e in found} == {e["id"] for e in live.get("/search", q="Lavrov")["results"]}
        assert all("Lavrov" in e["matched_names"] for e in found)
    finally:
        live.close()


def test_a_server_replays_nothing_until_its_first_write(store_url, tmp_path):
    """``polystory serve`` on a store that holds a stream answers reads from the store
    without replaying the clusterer's window (none of its articles are in memory); the
    first POST replays it, then places the new article among them."""
    ingest = subprocess.run([sys.executable, "-m", "polystory.cli", "ingest", str(DEMO),
                             "--db", store_url], capture_output=True, text=True,
                            env={**os.environ, **HASHING}, timeout=600)
    assert ingest.returncode == 0, ingest.stderr
    live = Live(store_url, env=HASHING, log=tmp_path / "serve.log")
    try:
        assert live.get("/health")["articles"] == 0                # nothing replayed
        events = live.get("/events")
        assert events["article_total"] == 5 and live.get("/search", q="Lavrov")["results"]
        assert live.get("/health")["articles"] == 0                # reads replay nothing
        text = ("Sergei Lavrov and Antony Blinken spoke again by telephone on Tuesday about "
                "the exchange of prisoners, the State Department said.")
        [placed] = live.post({"id": "later-call", "text": text, "title": "Blinken calls Lavrov"})
        assert placed["status"] in {"new_event", "joined_event"}
        assert live.get("/health")["articles"] == 6                # the window, then the new one
        assert live.get("/events")["article_total"] == 6
    finally:
        live.close()
