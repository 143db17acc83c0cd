"""Stories and timelines on Timeline17 (the dev topics): one command.

Usage: python bench/timeline.py [--json FILE] [--timelines-only] [--dump FILE]

* Stories: the articles go blind (id, text, published) through the real pipeline, in file
  order, exactly as ``polystory cluster`` reads them (empty texts are bad input: skipped and
  counted); story BCubed P/R/F1 against ``topic``.
* Timelines, per collection (the unit of the timeline task: a collection's articles, N =
  the gold timeline's length): Date-F1 and date-aligned ROUGE-1/2 (see tls_metrics.py) of
  polystory's timeline, next to the baseline of the N publication dates with most articles.
* Vectors are cached by text in bench/.cache (text_cache.py): the first run embeds
  ~1,100 articles and their recall sentences with e5 (about 40 minutes of CPU on this
  machine), later runs none.  ``--timelines-only`` skips clustering (and embedding): the
  timeline of each collection needs only the prepared articles.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit  # noqa: E402
from datasets import SHARED  # noqa: E402
from text_cache import TextCacheEncoder  # noqa: E402

from polystory import Pipeline  # noqa: E402
from polystory.config import Settings  # noqa: E402
from polystory.eval import bcubed  # noqa: E402
from polystory.ingest import read  # noqa: E402
from polystory.models import PartialDate  # noqa: E402
from polystory.stories import timeline as tl  # noqa: E402
from tls_metrics import date_f1, tls_scores  # noqa: E402

DATA = SHARED / "data/timeline17-dev"


def load_key() -> tuple[list[dict], dict]:
    rows = [json.loads(l) for l in open(DATA / "articles.jsonl", encoding="utf-8")]
    timelines = json.load(open(DATA / "timelines.json", encoding="utf-8"))
    return rows, timelines


def blind_articles(rows: list[dict]) -> tuple[list, list]:
    """The articles as ``polystory cluster`` reads them from a blind JSONL file."""
    errors: list = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "blind.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps({k: r[k] for k in ("id", "text", "published")}) + "\n")
        arts = list(read(str(path), on_error=errors.append, max_text_chars=Settings().max_text_chars))
    return arts, errors


def _gold(timeline: list) -> dict:
    """Date -> sentences; a date listed twice is one date (N = the distinct dates)."""
    out: dict = {}
    for d, sents in timeline:
        out.setdefault(dt.date.fromisoformat(d), []).extend(sents)
    return out


def _mean(rows: list[dict]) -> dict:
    keys = rows[0].keys()
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in keys}


def pub_count_baseline(reports: list[tl.Report], n: int) -> dict:
    """The N publication dates with most articles; each summarised by its reports' leads
    (the first sentence of each, most central first) like polystory's summaries."""
    counts = Counter(r.published for r in reports if r.published is not None)
    days = sorted(counts, key=lambda d: (-counts[d], d.first_day()))[:n]
    return {d.first_day(): [tl.timeline([r for r in reports if r.published == d], dates=1)[0].summary]
            for d in days}


#: The grid of date weights searched leave-one-topic-out
#: (published, day_before, mention, recall, recall_days, min_naming).
GRID = [tl.DateWeights(p, b, m, r, k, n) for p in (0.5, 1.0) for b in (0.0, 0.5) for m in (1.0, 2.0)
        for r in (1.0, 2.0, 4.0) for k in (2, 7) for n in (1, 2, 3)]


def timeline_figures(reports_of: dict[str, list[tl.Report]], timelines: dict, topic_of: dict) -> dict:
    """Per collection: polystory's timeline (shipped weights), the publication-count baseline,
    and the date ranking with weights chosen leave-one-topic-out on the GRID."""
    out: dict = {"collections": {}}
    mine, base = [], []
    sents = {c: [tl._sentences(r, i) for i, r in enumerate(rs)] for c, rs in reports_of.items()}
    for coll, reports in reports_of.items():
        for k, gold_tl in enumerate(timelines[coll]):
            gold = _gold(gold_tl)
            entries = tl.timeline(reports, dates=len(gold))
            pred = {e.date.first_day(): [e.summary] for e in entries}
            m = tls_scores(pred, gold)
            b = tls_scores(pub_count_baseline(reports, len(gold)), gold)
            mine.append(m)
            base.append(b)
            out["collections"][f"{coll}#{k}"] = {"n": len(gold), "polystory": m, "pub_count": b}
            print(coll, len(gold), m, b, file=sys.stderr)
    out["polystory_mean"], out["pub_count_mean"] = _mean(mine), _mean(base)
    # leave one topic out: the weights best on the other topics' collections
    table = {}
    for w in GRID:
        for coll, reports in reports_of.items():
            votes = tl.date_scores(reports, sents[coll], w)
            for k, gold_tl in enumerate(timelines[coll]):
                gold = list(_gold(gold_tl))
                top = sorted(votes, key=lambda d: (-votes[d], d.midpoint_ordinal(), str(d)))[:len(gold)]
                table[w, coll, k] = date_f1([d.first_day() for d in top], gold)
    keys = sorted({(c, k) for _, c, k in table})
    held = []
    for t in sorted(set(topic_of.values())):
        train = [ck for ck in keys if topic_of[ck[0]] != t]
        best = max(GRID, key=lambda w: sum(table[w, c, k] for c, k in train))
        for c, k in keys:
            if topic_of[c] == t:
                held.append(table[best, c, k])
                out["collections"][f"{c}#{k}"]["logo_date_f1"] = round(table[best, c, k], 4)
                out["collections"][f"{c}#{k}"]["logo_weights"] = list(dataclasses.astuple(best))
    out["logo_date_f1_mean"] = round(sum(held) / len(held), 4)
    return out


def _reports_without_stories(arts, by_id) -> dict[str, list[tl.Report]]:
    """Per collection, its articles as the pipeline prepares them (clean + enrich, one
    stream, as ``Pipeline`` does), without embedding or clustering."""
    from polystory.clean import LineStats
    from polystory.pipeline import prepare

    import pickle

    cache = Path(__file__).resolve().parent / ".cache" / "timeline17-dev.reports.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    settings, stats = Settings(), LineStats()
    out: dict[str, list[tl.Report]] = {}
    for a in arts:
        doc = prepare(a, settings, stats)
        if doc is not None:
            out.setdefault(by_id[a.id]["collection"], []).append(
                tl.Report(a.id, doc.text, doc.language, doc.published, None, doc.event_date))
    cache.parent.mkdir(exist_ok=True)
    cache.write_bytes(pickle.dumps(out))
    return out


def _stories(arts, rows, by_id, report, args) -> dict[str, list[tl.Report]]:
    """Cluster blind through the real pipeline: story BCubed, and per collection its
    articles with their events (for the timelines)."""
    settings = Settings()
    encoder = TextCacheEncoder("timeline17-dev", settings.encoder)
    with Pipeline(settings, db=":memory:", encoder=encoder) as p:
        try:
            outcomes = p.add_many(arts)
        finally:
            encoder.save()
        story = {}
        for o in outcomes:
            _, sid = p.placement(o)
            if sid is not None:
                story[o.article_id] = sid
        key = {r["id"]: r["topic"] for r in rows if r["id"] in story}
        s = bcubed(key, story)
        sizes = Counter(story.values())
        report["stories"] = {"bcubed": s.as_dict(), "stories": len(sizes), "topics": len(set(key.values())),
                             "largest_story_share_per_topic": _largest_share(key, story)}
        print(json.dumps(report["stories"]), file=sys.stderr)
        event_date: dict = {}
        reports_of: dict[str, list[tl.Report]] = {}
        for o in outcomes:
            eid, _ = p.placement(o)
            if eid is None:
                continue
            if eid not in event_date:
                event_date[eid] = p.event(eid)[0].event_date
            doc = p.store.article(o.duplicate_of or o.article_id).document
            reports_of.setdefault(by_id[o.article_id]["collection"], []).append(
                tl.Report(o.article_id, doc.text, doc.language, doc.published, eid, event_date[eid]))
        if args.dump:  # what a study of story linking needs: per article its event, names, vectors
            import pickle

            items = {it.doc.id: (eid, it) for eid, its in p.clusterer.events_.items() for it in its}
            dump = {aid: {"event": eid, "story": story.get(aid), "topic": by_id[aid]["topic"],
                          "entities": it.doc.entities, "vec": it.vec, "centered": p.scorer.centered(it),
                          "published": str(it.doc.published), "event_date": str(event_date.get(eid))}
                    for aid, (eid, it) in items.items()}
            with open(args.dump, "wb") as fh:
                pickle.dump(dump, fh)
    return reports_of


def _largest_share(key: dict, pred: dict) -> dict:
    """Per topic: the share of its articles in its largest predicted story."""
    out = {}
    for t in sorted(set(key.values())):
        mine = Counter(pred[a] for a in key if key[a] == t)
        out[t] = round(max(mine.values()) / sum(mine.values()), 3)
    return out


def run(args) -> dict:
    rows, timelines = load_key()
    by_id = {r["id"]: r for r in rows}
    arts, errors = blind_articles(rows)
    report: dict = {"articles": len(rows), "bad_input": len(errors)}
    if args.timelines_only:
        reports_of = _reports_without_stories(arts, by_id)
    else:
        reports_of = _stories(arts, rows, by_id, report, args)
    topic_of = {c: next(r["topic"] for r in rows if r["collection"] == c) for c in reports_of}
    report["timelines"] = timeline_figures(reports_of, timelines, topic_of)
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default="", help="write the figures to this file")
    ap.add_argument("--dump", default="", help="pickle per-article events, names and vectors here")
    ap.add_argument("--timelines-only", action="store_true",
                    help="timelines only: clean + enrich the articles, no embedding or clustering")
    args = ap.parse_args()
    emit(run(args), args.json)


if __name__ == "__main__":
    main()
