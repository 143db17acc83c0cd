"""Shared fixtures: the real seed articles and a pipeline run over them (computed once)."""
from __future__ import annotations

from pathlib import Path

import pytest

from polystory import Article, Pipeline

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
DEMO = Path(__file__).resolve().parents[1] / "polystory" / "data" / "demo"


def seed_articles() -> list[Article]:
    """The five seed articles, blind (id and text only), from the package's demo copy."""
    return [Article(id=f.stem[:3], text=f.read_text(encoding="utf-8")) for f in sorted(DEMO.glob("0*.txt"))]


@pytest.fixture(scope="session")
def seeds_pipeline():
    p = Pipeline(db=":memory:")
    outcomes = p.add_many(seed_articles())
    yield p, outcomes
    p.close()


def needs_shared(path: str) -> Path:
    full = SHARED / path
    if not full.exists():
        pytest.skip(f"../shared/{path} not present")
    return full
