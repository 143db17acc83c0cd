"""The listings' JSON is what their response models give: ``/events``, ``/stories``,
``/stories/{id}`` and ``/search`` return their payloads without FastAPI's validation
(``api._listing``), so their bytes must equal the validated model's, on a real stream
(events-dev blind, then ecbplus-dev, hashing encoder): the same fields, in the same order,
with the same types."""
from __future__ import annotations

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from polystory import Pipeline
from polystory.config import Settings
from polystory.serve import schemas
from polystory.serve.app import create_app

from conftest import shared_stream


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("payloads") / "store.db")
    with Pipeline(Settings(encoder="hashing"), db=db) as p:
        p.add_many(shared_stream(150))
        yield TestClient(create_app(p), base_url="http://127.0.0.1")


def _as_the_model_renders(model, body: dict) -> bytes:
    return JSONResponse(jsonable_encoder(model.model_validate(body))).body


def _same_as_model(client, model, path: str, **params) -> dict:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.content == _as_the_model_renders(model, r.json()), path
    return r.json()


def test_listings_are_their_models_bytes(client):
    everything = _same_as_model(client, schemas.EventList, "/events", limit=500)
    assert everything["total"] > 50 and everything["article_total"] > everything["total"]
    for params in ({"limit": 5, "offset": 3}, {"q": "Lavrov"}, {"q": "Лавров"}, {"language": "es"},
                   {"since": "2024-06"}, {"until": "2023"}, {"limit": 0}):
        _same_as_model(client, schemas.EventList, "/events", **params)
    stories = _same_as_model(client, schemas.StoryList, "/stories", limit=500)
    assert any(s["event_count"] > 1 for s in stories["stories"])
    undated = [s for s in stories["stories"] if s["first_date"] is None]
    dated = [s for s in stories["stories"] if s["first_date"] is not None]
    assert undated and dated     # both kinds of optional fields are rendered
    for s in stories["stories"][:10] + undated[:3]:
        detail = _same_as_model(client, schemas.StoryDetail, f"/stories/{s['id']}")
        assert list(detail)[-1] == "ok" and detail["events"] == s["events"]
        _same_as_model(client, schemas.EventList, "/events", story=s["id"], limit=3, offset=1)
    hits = 0
    for q in ("Lavrov", "Лавров", "SpaceX starship", "earthquake", "elections", "zzzz"):
        found = _same_as_model(client, schemas.SearchResult, "/search", q=q)
        hits += len(found["results"])
    assert hits > 5
