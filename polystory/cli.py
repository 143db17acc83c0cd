"""The ``polystory`` command line: a thin layer over the Python API.

Every command exits non-zero with a one-line reason on failure (no traceback).
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

import click

from .config import Settings, load_settings
from .errors import ParseError, PolystoryError
from .models import Article, Event, Story

log = logging.getLogger("polystory")


# --- shared options ---------------------------------------------------------------------
def common_options(f: Callable) -> Callable:
    f = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="TOML file of settings (see docs/configuration.md).")(f)
    f = click.option("--db", default=None,
                     help="Store: an SQLite file path or a postgresql:// URL (default: user data dir).")(f)
    f = click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")(f)
    return f


def format_option(f: Callable) -> Callable:
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Output format.")(f)


def _settings(config_file: str | None, verbose: int, **overrides) -> Settings:
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return load_settings(config_file, env=os.environ, **overrides)


class _Cli(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PolystoryError as e:
            raise click.ClickException(str(e)) from None
        except (BrokenPipeError, KeyboardInterrupt) as e:
            if isinstance(e, BrokenPipeError):   # the reader left: nothing more to flush
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(130)


@click.group(cls=_Cli)
@click.version_option(package_name="polystory")
def main() -> None:
    """polystory: turn a multilingual stream of news articles into events and stories."""


# --- helpers ------------------------------------------------------------------------------
def _progress(total: int | None, label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="art", file=sys.stderr, disable=not sys.stderr.isatty())


def _read_all(inputs: Iterable[str], settings: Settings, errors: list[ParseError]) -> list[Article]:
    from .ingest import read

    arts: list[Article] = []
    for src in inputs:
        arts.extend(read(src, on_error=errors.append, max_text_chars=settings.max_text_chars))
    return arts


def _report_bad(errors: list[ParseError], skip_bad: bool) -> None:
    for e in errors:
        click.echo(f"skipped: {e}", err=True)
    if errors and not skip_bad:
        raise click.ClickException(f"{len(errors)} bad input record(s) (good ones were processed; "
                                   f"--skip-bad to accept)")


def _date(d) -> str | None:
    return str(d) if d is not None else None


def _event_json(e: Event) -> dict:
    return {"id": e.id, "story": e.story_id, "event_date": _date(e.event_date),
            "languages": list(e.languages), "articles": list(e.article_ids),
            "headline": e.headline, "actors": list(e.actors)}


def _print_story(p, s: Story, events: dict[str, Event] | None = None) -> None:
    """A story and its events; ``events`` (id -> event) if already read, else from ``p``."""
    click.echo(f"Story {s.id}: {s.title}")
    if s.actors:
        click.echo(f"  actors: {', '.join(s.actors)}")
    for eid in s.event_ids:
        e = events[eid] if events is not None else p.event(eid)[0]
        click.echo(f"  {_date(e.event_date) or 'undated':>10}  {eid}  [{', '.join(e.languages)}] "
                   f"{len(e.article_ids)} article(s)  {e.headline}")


def _pipeline(settings: Settings, db: str | None, **kw):
    from .pipeline import Pipeline

    return Pipeline(settings, db=db, **kw)


def _store(settings: Settings, db: str | None):
    """The store alone, for commands that only read: no encoder, no clusterer, no replay."""
    from .config import default_db_path
    from .store import open_store

    return open_store(db or settings.db or str(default_db_path()))


def _today() -> datetime.date:
    """The clock the CLI hands to the pipeline (UTC); library code never reads the clock."""
    return datetime.datetime.now(datetime.timezone.utc).date()


# --- commands -------------------------------------------------------------------------------
@main.command()
@click.option("--db", default=":memory:", show_default=True, help="Store to use.")
@click.option("-v", "--verbose", count=True)
def demo(db: str, verbose: int) -> None:
    """Run the whole pipeline on the built-in demo corpus and print its stories.

    The demo corpus is five real articles about Blinken and Lavrov in Albanian, Italian
    and English: three report one G20 talk, one a Geneva meeting, one a phone call.

    Example: polystory demo
    """
    from .ingest import read

    settings = _settings(None, verbose)
    folder = resources.files("polystory").joinpath("data/demo")
    with resources.as_file(folder) as path:
        arts = list(read(str(path)))
    with _pipeline(settings, db) as p:
        with _progress(len(arts), "demo") as bar:
            p.add_many(arts, progress=bar.update)
        for s in p.stories():
            _print_story(p, s)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@common_options
@click.option("--skip-bad", is_flag=True, help="Exit 0 even if some input records were bad.")
@format_option
def ingest(inputs: tuple[str, ...], config_file, db, verbose, skip_bad: bool, fmt: str) -> None:
    """Read articles (JSONL, CSV, folder of .txt/.html, RSS/Atom file or URL, WARC) into the store.

    Example: polystory ingest news.jsonl feeds/ --db news.db
    """
    from .ingest import read

    settings = _settings(config_file, verbose)
    errors: list[ParseError] = []
    counts: dict[str, int] = {}
    with _pipeline(settings, db, now=_today) as p, _progress(None, "ingest") as bar:
        for src in inputs:
            arts = read(src, on_error=errors.append, max_text_chars=settings.max_text_chars)
            for o in p.iter_add(arts, progress=bar.update):
                counts[o.status] = counts.get(o.status, 0) + 1
                if o.status == "rejected":
                    click.echo(f"rejected {o.article_id}: {o.reason}", err=True)
    if fmt == "json":
        click.echo(json.dumps(counts))
    else:
        click.echo(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items())) or "nothing added")
    _report_bad(errors, skip_bad)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@common_options
@click.option("--address", default=None,
              help="A running Ray cluster: 'auto', HOST:6379 or ray://HOST:10001 "
                   "(default: start a local Ray for this run).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Encoder workers (default: one per CPU of the local machine or cluster).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="At most this many articles per worker batch.")
@click.option("--cpus-per-worker", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="CPUs each worker reserves (and encoder threads).")
@click.option("--runtime-env", default=None,
              help="Ray runtime_env as JSON, or @FILE holding it, e.g. "
                   "'{\"pip\": [\"polystory[backfill]\"]}'.")
@click.option("--skip-bad", is_flag=True, help="Exit 0 even if some input records were bad.")
@format_option
def backfill(inputs: tuple[str, ...], config_file, db, verbose, address: str | None,
             workers: int | None, batch_size: int, cpus_per_worker: float,
             runtime_env: str | None, skip_bad: bool, fmt: str) -> None:
    """Backfill a large archive: embed on Ray (Ray Data), then cluster in time order.

    Cleaning, enrichment and embedding run on Ray workers; the articles are then added to
    the store ordered by publication date (else event date; undated ones last), exactly as
    `ingest` would add them in that order.  Needs: pip install 'polystory[backfill]'.
    See docs/backfill.md.

    Example: polystory backfill archive.jsonl --db news.db --workers 8
    """
    from .backfill import backfill as run_backfill, import_ray

    import_ray()  # fail before reading anything when Ray is missing
    settings = _settings(config_file, verbose)
    env = None
    if runtime_env:
        text = runtime_env
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text(encoding="utf-8")
            except OSError as e:
                raise click.ClickException(f"cannot read {text[1:]}: {e.strerror}") from None
        try:
            env = json.loads(text)
        except json.JSONDecodeError as e:
            raise click.ClickException(f"--runtime-env is not JSON: {e}") from None
    errors: list[ParseError] = []
    arts = _read_all(inputs, settings, errors)
    with _progress(len(arts), "cluster") as bar:
        report = run_backfill(arts, db=db, settings=settings, address=address, workers=workers,
                              batch_size=batch_size, cpus_per_worker=cpus_per_worker,
                              runtime_env=env, now=_today, verbose=verbose > 0,
                              progress=bar.update)
    if fmt == "json":
        click.echo(json.dumps({**dataclasses.asdict(report),
                               "articles_per_second": round(report.articles_per_second, 3)}))
    else:
        click.echo(report.summary())
    _report_bad(errors, skip_bad)


@main.command()
@common_options
@format_option
@click.option("--story", default=None, help="Only the events of this story.")
def events(config_file, db, verbose, fmt: str, story: str | None) -> None:
    """List events (date, languages, articles, headline).

    Example: polystory events --db news.db --format json
    """
    settings = _settings(config_file, verbose)
    store = _store(settings, db)
    try:
        with store.snapshot():          # one state, even mid-ingest; rows stream from SQL
            _echo_events(store.iter_events(story_id=story), fmt)
    finally:
        store.close()


def _echo_events(events: Iterable[Event], fmt: str) -> None:
    for e in events:
        if fmt == "json":
            click.echo(json.dumps(_event_json(e), ensure_ascii=False))
        else:
            click.echo(f"{e.id}  {_date(e.event_date) or 'undated':>10}  [{', '.join(e.languages)}] "
                       f"{len(e.article_ids)} article(s)  {e.headline}")


@main.command()
@common_options
@format_option
def stories(config_file, db, verbose, fmt: str) -> None:
    """List stories with their events in time order.

    Example: polystory stories --db news.db
    """
    settings = _settings(config_file, verbose)
    store = _store(settings, db)
    try:
        with store.snapshot():   # one state, even mid-ingest
            for row in store.iter_stories():
                s = row["story"]
                events = store.events_by_id(s.event_ids)
                if fmt == "json":
                    click.echo(json.dumps({"id": s.id, "title": s.title, "actors": list(s.actors),
                                           "events": [_event_json(events[e]) for e in s.event_ids]},
                                          ensure_ascii=False))
                else:
                    _print_story(None, s, events)
    finally:
        store.close()


@main.command()
@click.argument("event_id")
@common_options
@format_option
def show(event_id: str, config_file, db, verbose, fmt: str) -> None:
    """Show one event: its articles grouped by language, dates, actors and evidence.

    Example: polystory show E8aefb06c426e --db news.db
    """
    settings = _settings(config_file, verbose)
    store = _store(settings, db)
    try:
        _show(store, event_id, fmt)
    finally:
        store.close()


def _show(store, event_id: str, fmt: str) -> None:
    """One event's lines (the ``show`` command)."""
    e, members = store.event(event_id)
    by_lang: dict[str, list] = {}
    for m in members:
        by_lang.setdefault(m.document.language, []).append(m)
    if fmt == "json":
        out = _event_json(e)
        out["by_language"] = {
            lang: [{"id": m.article.id, "title": m.document.title, "url": m.article.url,
                    "published": _date(m.document.published),
                    "event_date": _date(m.document.event_date),
                    "actors": list(m.document.entity_names), "evidence": m.evidence}
                   for m in ms] for lang, ms in by_lang.items()}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(f"Event {e.id}  ({_date(e.event_date) or 'undated'})  story {e.story_id}")
    click.echo(f"  {e.headline}")
    if e.actors:
        click.echo(f"  actors: {', '.join(e.actors)}")
    for lang, ms in sorted(by_lang.items()):
        click.echo(f"  [{lang}]")
        for m in ms:
            d = m.document
            why = m.evidence.get("shared_names")
            click.echo(f"    {m.article.id}  published {_date(d.published) or '?'}  "
                       f"event date {_date(d.event_date) or '?'}  {d.title or d.text[:80]!r}"
                       + (f"  (shared: {', '.join(why)})" if why else ""))


@main.command()
@click.option("--db", default=None,
              help="Store: an SQLite file path or a postgresql:// URL (default: user data dir).")
@format_option
def check(db: str | None, fmt: str) -> None:
    """Verify the store's invariants: one line per problem, exit 1 if there is any.

    Checked: SQLite's integrity_check (on an SQLite store), the schema version, that every
    article is clustered (with a document, a vector and one event) or rejected (with no
    event), that nothing refers to a missing article, that every event has one story, and
    that stored dates and vectors are well-formed.  The store is not changed (not even
    migrated).

    Example: polystory check --db news.db   (or --db postgresql://user@host/news)
    """
    from .config import default_db_path
    from .store import check_store, is_postgres_url, open_store
    from .store.check import store_counts

    db = db or str(default_db_path())
    if not is_postgres_url(db) and not Path(db).is_file():
        raise click.ClickException(f"no database at {db}")
    store = open_store(db, migrate=False)
    path = store.path  # a URL's password is not shown
    try:
        problems = check_store(store)
        counts = {} if problems else store_counts(store)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps({"db": path, "ok": not problems, "counts": counts,
                               "problems": [dataclasses.asdict(p) for p in problems]},
                              ensure_ascii=False))
    else:
        for problem in problems:
            click.echo(str(problem))
        if not problems:
            click.echo(f"ok: {path}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {path}", err=True)
        click.get_current_context().exit(1)


@main.command()
@click.argument("input_path", metavar="INPUT.jsonl")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write one JSON line per input article.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", count=True)
@click.option("--skip-bad", is_flag=True, help="Exit 0 even if some input records were bad.")
def cluster(input_path: str, output: str, config_file, verbose, skip_bad: bool) -> None:
    """Batch mode: cluster INPUT into events and stories on a fresh in-memory store.

    Writes one line per input article: {"id", "event", "story", "language", "published",
    "event_date"}; event_date is the event's date (YYYY-MM-DD, YYYY-MM, YYYY or null).

    Example: polystory cluster articles.jsonl -o clusters.jsonl
    """
    settings = _settings(config_file, verbose)
    errors: list[ParseError] = []
    arts = _read_all([input_path], settings, errors)
    with _pipeline(settings, ":memory:") as p:
        with _progress(len(arts), "cluster") as bar:
            outcomes = p.add_many(arts, progress=bar.update)
        events = {}
        rows = []
        for o in outcomes:
            event_id, _ = p.placement(o)
            row = {"id": o.article_id, "event": event_id, "story": None, "language": None,
                   "published": None, "event_date": None}
            if event_id is not None:
                if event_id not in events:
                    events[event_id] = p.event(event_id)
                e, members = events[event_id]
                own = o.duplicate_of or o.article_id
                doc = next((m.document for m in members if m.article.id == own), members[0].document)
                row.update(story=e.story_id, language=doc.language,
                           published=_date(doc.published), event_date=_date(e.event_date))
            else:
                row["error"] = o.reason
            rows.append(row)
    with open(output, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    click.echo(f"{len(rows)} articles, {len(events)} events, "
               f"{len({r['story'] for r in rows if r['story']})} stories -> {output}", err=True)
    _report_bad(errors, skip_bad)


@main.command()
@click.argument("input_path", metavar="INPUT.jsonl")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--config", "config_file", type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", count=True)
def pairs(input_path: str, output: str, config_file, verbose) -> None:
    """Score pairs of articles: the clusterer's "same event" similarity in [0, 1].

    Input lines: {"id", "text1", "text2"} (optional "title1/2", "published1/2").
    Output lines: {"id", "similarity"}.

    Example: polystory pairs pairs.jsonl -o scores.jsonl
    """
    from .pairs import read_pairs, score_pairs

    settings = _settings(config_file, verbose)
    rows = []
    try:
        with open(input_path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ParseError(f"not JSON ({e.msg})", where=f"{input_path}:{n}") from None
                if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("id", "text1", "text2")):
                    raise ParseError("needs string fields id, text1 and text2", where=f"{input_path}:{n}")
                rows.append(row)
    except OSError as e:
        raise click.ClickException(f"cannot read {input_path}: {e.strerror}") from None
    scores = score_pairs(read_pairs(rows), settings)
    with open(output, "w", encoding="utf-8") as fh:
        for row, s in zip(rows, scores):
            fh.write(json.dumps({"id": row["id"], "similarity": round(float(s), 6)}) + "\n")
    click.echo(f"{len(rows)} pairs -> {output}", err=True)


@main.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. Any address other than loopback needs a write token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--token", envvar="POLYSTORY_TOKEN", default=None, metavar="SECRET",
              help="Writes (POST /articles) need 'Authorization: Bearer SECRET'. Prefer the "
                   "POLYSTORY_TOKEN environment variable (a command line is visible to other "
                   "users). Off by default on loopback; on any other --host a random token is "
                   "made and printed if none is given.")
def serve(config_file, db, verbose, host: str, port: int, token: str | None) -> None:
    """Serve the JSON API (POST /articles, /events, /stories, /search, ...) and the web page.

    One process over the same store as the other commands; API docs at /docs.
    Reads are open; writes need a token when one is set (always, off loopback).

    Example: polystory serve --db news.db --port 8000
    """
    settings = _settings(config_file, verbose)
    try:
        from .serve import serve as run_server
        from .serve.server import is_loopback
    except ImportError as e:
        raise click.ClickException(f"polystory serve needs the 'serve' extra ({e.name} is missing): "
                                   f"pip install 'polystory[serve]'") from None
    if not token and not is_loopback(host):
        import secrets

        token = secrets.token_urlsafe(24)
        click.echo(f"{host} is not loopback: writes need 'Authorization: Bearer {token}' "
                   f"(set POLYSTORY_TOKEN to choose the token)", err=True)
    with _pipeline(settings, db, now=_today) as p:
        click.echo(f"serving {p.store.path} at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
        run_server(p, host=host, port=port, log_level=["warning", "info", "debug"][min(verbose, 2)],
                   token=token)


@main.command(name="eval")
@click.argument("key_path", metavar="KEY.jsonl")
@click.argument("output_path", metavar="OUTPUT.jsonl")
def eval_cmd(key_path: str, output_path: str) -> None:
    """Score `polystory cluster` output against a key (events vs `event`, stories vs `group`).

    Prints BCubed and pairwise precision/recall/F1, cluster counts and the share of
    articles whose event date is within one day of the key's `event_date`.

    Example: polystory eval events.jsonl clusters.jsonl
    """
    from .eval import evaluate

    def load(path: str) -> list[dict]:
        try:
            with open(path, encoding="utf-8") as fh:
                return [json.loads(l) for l in fh if l.strip()]
        except (OSError, json.JSONDecodeError) as e:
            raise click.ClickException(f"cannot read {path}: {e}") from None

    click.echo(json.dumps(evaluate(load(key_path), load(output_path)), indent=2))


if __name__ == "__main__":
    main()
