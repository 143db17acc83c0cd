"""``polystory serve`` as a user runs it: it says where it serves, stops on Ctrl-C, and
reports a taken port in one line; on both stores (``store_url``)."""
from __future__ import annotations

import socket

from click.testing import CliRunner

from polystory.cli import main

from .conftest import Live, seed_records


def test_serve_command_serves_the_store_and_stops_on_ctrl_c(store_url, tmp_path):
    db = store_url
    srv = Live(db, log=tmp_path / "serve.log")
    try:
        health = srv.get("/health")
        assert health["ok"] is True and health["store"] == db and health["events"] == 0
        assert "text/html" in srv.http.get("/").headers["content-type"]
    finally:
        status = srv.close()
    assert f"at {srv.url}/" in srv.stderr()
    assert status in (0, 130), srv.stderr()


def test_serve_command_reports_a_taken_port_in_one_line(store_url):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = CliRunner().invoke(main, ["serve", "--db", store_url, "--port", str(port)])
    assert res.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in res.output and "Traceback" not in res.output


def test_serve_over_postgres_clusters_and_serves_the_seeds(postgres_url, tmp_path):
    """The server on the PostgreSQL store: the seeds POSTed, read back as 3 events in 1 story."""
    srv = Live(postgres_url, log=tmp_path / "pg-serve.log")
    try:
        results = srv.post(seed_records())
        assert [r["status"] for r in results].count("new_event") == 3
        stories = srv.get("/stories")["stories"]
        assert len(stories) == 1 and len(stories[0]["events"]) == 3
        assert [e["event_date"][:7] for e in stories[0]["events"]] == ["2022-01", "2022-07", "2023-03"]
        assert srv.get("/health")["store"].startswith("postgresql://")
    finally:
        status = srv.close()
    assert status in (0, 130), srv.stderr()
