"""Loaders for the shared evaluation data (../shared), as blind ``Article`` streams."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from polystory.models import Article

SHARED = Path(os.environ.get("POLYSTORY_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared"))
csv.field_size_limit(10**8)


def events_dev() -> tuple[list[Article], list[dict]]:
    """Blind articles (id, url, title, text, published) and the answer key rows."""
    rows = [json.loads(l) for l in open(SHARED / "data/events-dev/events.jsonl", encoding="utf-8")]
    arts = [Article(id=r["id"], text=r["text"], title=r.get("title", ""), url=r.get("url", ""),
                    published=r.get("published", "")) for r in rows]
    return arts, rows


def ecbplus_dev() -> tuple[list[Article], list[dict]]:
    """ECB+ topics 1-35, blind (id and text only), and the key rows (event, group = topic)."""
    rows = [json.loads(l) for l in open(SHARED / "data/ecbplus-dev/docs.jsonl", encoding="utf-8")]
    return [Article(id=r["id"], text=r["text"]) for r in rows], rows


def seeds() -> list[Article]:
    files = sorted((SHARED / "seeds").glob("0*.txt"))
    return [Article(id=f.stem, text=f.read_text(encoding="utf-8")) for f in files]


def semeval(split: str) -> list[dict]:
    with open(SHARED / f"data/semeval2022-task8-sample/{split}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def semeval_articles(split: str) -> list[Article]:
    seen: dict[str, Article] = {}
    for r in semeval(split):
        for k in ("1", "2"):
            aid = r["pair_id"].split("_")[int(k) - 1]
            seen.setdefault(aid, Article(id=aid, text=r["text" + k], language=r["lang" + k]))
    return list(seen.values())


def load(name: str) -> list[Article]:
    if name == "events-dev":
        return events_dev()[0]
    if name == "ecbplus-dev":
        return ecbplus_dev()[0]
    if name == "seeds":
        return seeds()
    if name.startswith("semeval-"):
        return semeval_articles(name.split("-", 1)[1])
    raise ValueError(f"unknown data set {name}")
