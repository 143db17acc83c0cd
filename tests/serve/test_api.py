"""The JSON API against a live server: ingest the seeds over HTTP and read them back."""
from __future__ import annotations

import json
import re

import pytest

from .conftest import seed_records

G20, GENEVA, CALL = "000", "003", "004"   # seed id prefixes: the G20 talk, Geneva, the call


def _by_prefix(results: list[dict]) -> dict[str, dict]:
    return {r["id"][:3]: r for r in results}


def test_post_seeds_make_three_events_in_one_story(seeded):
    _, results = seeded
    assert results[0]["status"] == "new_event"
    assert {r["status"] for r in results} <= {"new_event", "joined_event"}
    r = _by_prefix(results)
    assert r["000"]["event"] == r["001"]["event"] == r["002"]["event"]
    assert len({r[k]["event"] for k in (G20, GENEVA, CALL)}) == 3
    assert len({x["story"] for x in results}) == 1 and results[0]["story"]
    assert all(set(x) == {"id", "status", "event", "story", "reason", "duplicate_of"} for x in results)


def test_articles_read_back_as_sent(seeded):
    live, _ = seeded
    langs = {}
    for rec in seed_records():
        a = live.get(f"/articles/{rec['id']}")
        assert a["ok"] is True and a["status"] == "clustered"
        assert a["text"] == rec["text"] and a["source"] == rec["source"]
        assert a["document"]["text"] and a["event"] and a["story"]
        langs[rec["id"][:3]] = a["language"]
    assert langs == {"000": "sq", "001": "it", "002": "en", "003": "it", "004": "en"}


def test_events_list_filters_and_pages(seeded):
    live, results = seeded
    r = _by_prefix(results)
    everything = live.get("/events")
    assert everything["total"] == 3 and everything["article_total"] == 5
    assert {e["id"] for e in everything["events"]} == {r[k]["event"] for k in (G20, GENEVA, CALL)}
    assert [e["id"] for e in live.get("/events", language="sq")["events"]] == [r[G20]["event"]]
    assert [e["id"] for e in live.get("/events", since="2023")["events"]] == [r[G20]["event"]]
    assert {e["id"] for e in live.get("/events", until="2022-12")["events"]} == \
        {r[GENEVA]["event"], r[CALL]["event"]}
    assert [e["id"] for e in live.get("/events", since="2022-07-15", until="2022-07-20")["events"]] == \
        [r[CALL]["event"]]   # the call is dated 2022-07: the intervals overlap
    assert live.get("/events", story=results[0]["story"])["total"] == 3
    assert live.get("/events", story="nope")["total"] == 0
    assert live.get("/events", q="Lavrov")["total"] == 3
    assert live.get("/events", q="Лавров")["total"] == 3        # names match across scripts
    assert [e["id"] for e in live.get("/events", q="Ginevra")["events"]] == [r[GENEVA]["event"]]
    page = live.get("/events", limit=1, offset=1)
    assert page["total"] == 3 and [e["id"] for e in page["events"]] == [everything["events"][1]["id"]]
    assert live.get("/events", limit=0)["events"] == []


def test_event_detail_groups_by_language_with_evidence(seeded):
    live, results = seeded
    r = _by_prefix(results)
    e = live.get(f"/events/{r[G20]['event']}")
    assert sorted(e["by_language"]) == ["en", "it", "sq"] == e["languages"]
    assert set(e["headlines"]) == {"en", "it", "sq"} and all(e["headlines"].values())
    assert e["event_date"].startswith("2023-03") and "Lavrov" in e["actors"]
    members = [a for arts in e["by_language"].values() for a in arts]
    assert sorted(a["id"][:3] for a in members) == ["000", "001", "002"]
    joined = [a["evidence"] for a in members if a["evidence"]["kind"] == "joined"]
    assert joined, "later reports carry the evidence that put them here"
    for ev in joined:
        assert 0 <= ev["probability"] <= 1 and ev["similarity"] is not None
        assert "lavro" in ev["shared_names"] and "Lavrov" in ev["shared_names_display"]
        assert "date_agreement" in ev
    # the G20 talk is the latest event of the story: the phone call comes before it
    assert e["previous"]["id"] == r[CALL]["event"] and e["next"] is None
    assert e["story"] == r[G20]["story"] and e["story_title"]


def test_story_events_in_time_order(seeded):
    live, results = seeded
    r = _by_prefix(results)
    stories = live.get("/stories")
    assert stories["total"] == 1
    story = live.get(f"/stories/{results[0]['story']}")
    assert [e["id"] for e in story["events"]] == [r[k]["event"] for k in (GENEVA, CALL, G20)]
    assert [e["event_date"][:7] for e in story["events"]] == ["2022-01", "2022-07", "2023-03"]
    assert story["event_count"] == 3 and story["article_count"] == 5
    assert story == {**stories["stories"][0], "ok": True}


def test_search_is_cross_lingual(seeded):
    live, results = seeded
    latin = live.get("/search", q="Lavrov")["results"]
    cyrillic = live.get("/search", q="Лавров")["results"]
    assert {e["id"] for e in latin} == {e["id"] for e in cyrillic} == {x["event"] for x in results}
    assert all("Lavrov" in e["matched_names"] for e in latin + cyrillic)
    assert live.get("/search", q="Ginevra Lavrov")["results"][0]["id"] == _by_prefix(results)[GENEVA]["event"]
    assert live.get("/search", q="Starship rocket launch from Boca Chica")["results"] == []


def test_reposting_is_a_duplicate(seeded):
    live, results = seeded
    rec = seed_records()[0]
    again = live.post(rec)                                  # a single object is accepted too
    assert again == [{**results[0], "status": "duplicate", "reason": "already stored"}]
    copy = live.post({**rec, "id": "copy-of-000"})[0]
    assert copy["status"] == "duplicate" and copy["duplicate_of"] == rec["id"]
    assert copy["event"] == results[0]["event"]


def test_short_text_is_rejected_with_a_reason(live):
    r = live.post([{"id": "tiny", "text": "Too short."}])[0]
    assert r["status"] == "rejected" and "characters" in r["reason"] and r["event"] is None
    stored = live.get("/articles/tiny")
    assert stored["status"] == "rejected" and stored["document"] is None


def test_health_and_openapi(live):
    h = live.get("/health")
    assert h["ok"] is True and {"events", "stories", "articles", "revision"} <= set(h)
    paths = live.get("/openapi.json")["paths"]
    assert {"/articles", "/articles/{article_id}", "/events", "/events/{event_id}", "/stories",
            "/stories/{story_id}", "/search", "/health"} <= set(paths)
    assert "requestBody" in paths["/articles"]["post"]


# --- errors: one shape ------------------------------------------------------------------------
def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == status and body["error"]
    return body["error"]


@pytest.mark.parametrize("path", ["/events/nope", "/stories/nope", "/articles/nope", "/no/such/route"])
def test_not_found(live, path):
    _error(live.http.get(path), 404)


@pytest.mark.parametrize("body, status, says", [
    (b'{"text": ', 400, "malformed JSON"),
    (b"", 400, "empty body"),
    (b"\xff\xfe\x00", 400, ""),
    (b"[]", 422, "empty list"),
    (b'"just a string"', 422, "not a JSON object"),
    (b'[{"text": "fine but short"}, 3]', 422, "articles[1]"),
    (b'{"title": "no text"}', 422, "missing or empty 'text'"),
    (b'{"text": "x", "title": ["a", "list"]}', 422, "field 'title'"),
])
def test_malformed_input(live, body, status, says):
    before = live.get("/health")["revision"]
    message = _error(live.http.post("/articles", content=body,
                                    headers={"content-type": "application/json"}), status)
    assert says in message
    assert live.get("/health")["revision"] == before       # nothing was stored


@pytest.mark.parametrize("params, status, says", [
    ({"limit": -1}, 422, "limit"),
    ({"limit": 100000}, 422, "limit"),
    ({"since": "yesterday"}, 400, "since"),
    ({"until": "2023-13"}, 400, "until"),
])
def test_bad_query_parameters(live, params, status, says):
    assert says in _error(live.http.get("/events", params=params), status)


def test_search_needs_a_query(live):
    assert "q" in _error(live.http.get("/search"), 422)


def test_wrong_method(live):
    _error(live.http.delete("/events"), 405)


def test_body_over_the_limit_is_refused(live):
    big = json.dumps({"text": "x" * (6 * 1024 * 1024)}).encode()
    assert "limit" in _error(live.http.post("/articles", content=big), 413)

    def chunks():                     # no Content-Length: the limit holds while streaming
        for _ in range(7):
            yield b" " * (1024 * 1024)
    assert "limit" in _error(live.http.post("/articles", content=chunks()), 413)


def test_security_headers(live):
    r = live.http.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in live.http.get("/events").headers


def test_page_needs_no_network(live):
    """The page and its files come from this server: no external script, style or font."""
    for path in ("/", "/static/app.js", "/static/style.css"):
        r = live.http.get(path)
        assert r.status_code == 200, path
        for needle in ("http://", "https://", "//cdn", "@import", "url("):
            assert needle not in r.text, (path, needle)
    js = live.http.get("/static/app.js").text
    assert not re.search(r"\.(inner|outer)HTML\s*\+?=|insertAdjacentHTML|document\.write|eval\(", js)


def test_story_timeline(seeded):
    live, results = seeded
    r = _by_prefix(results)
    story = results[0]["story"]
    tl = live.get(f"/stories/{story}/timeline")
    assert tl["ok"] is True and tl["story"] == story and tl["total"] == 3
    assert [e["date"][:7] for e in tl["timeline"]] == ["2022-01", "2022-07", "2023-03"]
    assert [e["events"] for e in tl["timeline"]] == [[r[k]["event"]] for k in (GENEVA, CALL, G20)]
    assert sorted(tl["timeline"][2]["articles"]) == sorted(r[k]["id"] for k in ("000", "001", "002"))
    assert all(e["summary"] for e in tl["timeline"])
    italian = live.get(f"/stories/{story}/timeline", lang="it", dates=1)
    assert italian["total"] == 1 and italian["timeline"][0]["language"] == "it"
    _error(live.http.get("/stories/nope/timeline"), 404)
    _error(live.http.get(f"/stories/{story}/timeline", params={"dates": 0}), 422)
