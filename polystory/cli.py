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


def batch_options(f: Callable) -> Callable:
    """The options of the batch commands (``cluster``, ``timeline``)."""
    f = click.option("--skip-bad", is_flag=True, help="Exit 0 even if some input records were bad.")(f)
    f = click.option("-v", "--verbose", count=True)(f)
    f = click.option("--config", "config_file", type=click.Path(dir_okay=False))(f)
    return f


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


def _print_timeline(entries) -> None:
    click.echo("  timeline:")
    for e in entries:
        click.echo(f"  {str(e.date):>10}  {e.summary}  ({len(e.article_ids)} article(s))")


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
@click.option("--timeline", "with_timeline", is_flag=True,
              help="Also each story's timeline: its salient dates with a short summary each.")
@click.option("--dates", type=click.IntRange(min=1), default=None,
              help="With --timeline: at most this many dates (default: the salient ones).")
@click.option("--lang", default=None, help="With --timeline: summaries in this language where possible.")
def stories(config_file, db, verbose, fmt: str, with_timeline: bool, dates: int | None,
            lang: str | None) -> None:
    """List stories with their events in time order (and, with --timeline, their timelines).

    Example: polystory stories --db news.db --timeline
    """
    settings = _settings(config_file, verbose)
    store = _store(settings, db)
    if with_timeline:
        from .stories.timeline import story_timeline
    try:
        with store.snapshot():   # one state, even mid-ingest
            for row in store.iter_stories():
                s = row["story"]
                events = store.events_by_id(s.event_ids)
                entries = (story_timeline(store, s.id, dates=dates, language=lang)
                           if with_timeline else None)
                if fmt == "json":
                    out = {"id": s.id, "title": s.title, "actors": list(s.actors),
                           "events": [_event_json(events[e]) for e in s.event_ids]}
                    if entries is not None:
                        out["timeline"] = [e.as_dict() for e in entries]
                    click.echo(json.dumps(out, ensure_ascii=False))
                else:
                    _print_story(None, s, events)
                    if entries is not None:
                        _print_timeline(entries)
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
@batch_options
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
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write one JSON line per timeline entry, in date order.")
@click.option("--dates", type=click.IntRange(min=1), default=None,
              help="At most this many entries (default: as many as the story's salient dates).")
@click.option("--lang", default=None, help="Summaries in this language where its reports have one.")
@batch_options
def timeline(input_path: str, output: str, dates: int | None, lang: str | None, config_file,
             verbose, skip_bad: bool) -> None:
    """Batch mode: the timeline of INPUT's largest story, on a fresh in-memory store.

    Writes one line per entry, in date order: {"date", "summary", "articles", "events"};
    date is YYYY-MM-DD (YYYY-MM where only the month is known), articles and events are
    the ids of the reports of that date and their events.

    Example: polystory timeline articles.jsonl -o timeline.jsonl --dates 10
    """
    settings = _settings(config_file, verbose)
    errors: list[ParseError] = []
    arts = _read_all([input_path], settings, errors)
    with _pipeline(settings, ":memory:") as p:
        with _progress(len(arts), "cluster") as bar:
            p.add_many(arts, progress=bar.update)
        sizes = {s.id: sum(len(p.event(e)[0].article_ids) for e in s.event_ids) for s in p.stories()}
        largest = min(sizes, key=lambda sid: (-sizes[sid], sid)) if sizes else None
        entries = p.timeline(largest, dates=dates, language=lang) if largest else []
    with open(output, "w", encoding="utf-8") as fh:
        for e in entries:
            out = e.as_dict()
            fh.write(json.dumps({k: out[k] for k in ("date", "summary", "articles", "events")},
                                ensure_ascii=False) + "\n")
    click.echo(f"{len(arts)} articles, largest story {largest} ({sizes.get(largest, 0) if largest else 0} "
               f"articles): {len(entries)} timeline entries -> {output}", err=True)
    _report_bad(errors, skip_bad)


@main.command()
@click.argument("input_path", metavar="INPUT.jsonl")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--same-event", is_flag=True,
              help="The clusterer's own \"same event\" probability alone.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", count=True)
def pairs(input_path: str, output: str, same_event: bool, config_file, verbose) -> None:
    """Score pairs of articles: how much they tell the same news, in [0, 1].

    The mean of the clusterer's "same event" probability and a head fitted on people's
    graded ratings, over the clusterer's features (--same-event: the first alone).
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
    scores = score_pairs(read_pairs(rows), settings, same_event=same_event)
    with open(output, "w", encoding="utf-8") as fh:
        for row, s in zip(rows, scores):
            fh.write(json.dumps({"id": row["id"], "similarity": round(float(s), 6)}) + "\n")
    click.echo(f"{len(rows)} pairs -> {output}", err=True)


def _duration(value: str) -> float:
    """Seconds from ``90``, ``90s``, ``10m``, ``2h`` or ``1d``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = value.strip().lower()
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError:
        raise click.BadParameter(f"not a duration: {value!r} (e.g. 90s, 10m, 2h)") from None
    if seconds <= 0:
        raise click.BadParameter(f"must be positive; got {value!r}")
    return seconds


def watch_options(f: Callable) -> Callable:
    """The fetching options shared by ``watch`` and ``serve --watch``."""
    for decorator in reversed([
        click.option("--every", default="10m", show_default=True,
                     help="Time between two polls of a source (90s, 10m, 2h)."),
        click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
                     default=20.0, show_default=True, help="Seconds per request (connect, read, whole body)."),
        click.option("--host-delay", "host_delay_s", type=click.FloatRange(min=0), default=1.0,
                     show_default=True, help="Seconds between two requests to one host."),
        click.option("--max-bytes", type=click.IntRange(min=1024), default=5 * 1024 * 1024,
                     show_default=True, help="Largest feed or page read."),
        click.option("--retries", type=click.IntRange(min=0), default=2, show_default=True,
                     help="Further tries after a timeout, connection error, 429 or 5xx."),
        click.option("--backoff", "backoff_s", type=click.FloatRange(min=0), default=2.0,
                     show_default=True, help="Seconds before the first retry (doubling after)."),
        click.option("--allow-private", is_flag=True,
                     help="Also fetch loopback and private addresses (a feed on this machine or LAN)."),
        click.option("--allow-network", "allow_networks", multiple=True, metavar="CIDR",
                     help="Fetch from this network although it is private (repeatable), e.g. 10.1.0.0/16."),
        click.option("--ignore-robots", is_flag=True,
                     help="Do not read robots.txt (only for sources that allow you to)."),
    ]):
        f = decorator(f)
    return f


def _fetch_options(timeout_s, host_delay_s, max_bytes, retries, backoff_s, allow_private,
                   allow_networks, ignore_robots):
    import ipaddress

    from .watch import FetchOptions

    for net in allow_networks:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise click.BadParameter(f"not a network: {net!r} (e.g. 10.1.0.0/16)",
                                     param_hint="--allow-network") from None
    return FetchOptions(timeout_s=timeout_s, host_delay_s=host_delay_s, max_bytes=max_bytes,
                        retries=retries, backoff_s=backoff_s, allow_private=allow_private,
                        allow_networks=tuple(allow_networks), robots=not ignore_robots)


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
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              envvar="POLYSTORY_ALLOWED_HOSTS",
              help="A further name the server answers to in the Host header (repeatable; "
                   "e.g. the name a reverse proxy or your LAN uses). Requests for any other "
                   "name are refused (421): the bound address, and localhost on loopback, "
                   "are always allowed. '*' allows any name.")
@click.option("--watch", "watch_file", default=None, metavar="SOURCES",
              help="Also watch the feeds of SOURCES (as `polystory watch` does), from inside "
                   "the server: it stays the single writer; /health shows each source.")
@watch_options
def serve(config_file, db, verbose, host: str, port: int, token: str | None,
          allowed_hosts: tuple[str, ...], watch_file: str | None, every: str, timeout_s,
          host_delay_s, max_bytes, retries, backoff_s, allow_private, allow_networks,
          ignore_robots) -> None:
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
    watch = None
    if watch_file:
        from .serve.server import Watch
        from .watch import read_sources

        watch = Watch(tuple(read_sources(watch_file)), _duration(every),
                      _fetch_options(timeout_s, host_delay_s, max_bytes, retries, backoff_s,
                                     allow_private, allow_networks, ignore_robots))
    # the clusterer's window is replayed at the first write, not before the first read
    with _pipeline(settings, db, now=_today, restore=False) as p:
        click.echo(f"serving {p.store.path} at http://{host}:{port}/ (Ctrl-C to stop)"
                   + (f", watching {len(watch.sources)} source(s) every {every}" if watch else ""),
                   err=True)
        run_server(p, host=host, port=port, log_level=["warning", "info", "debug"][min(verbose, 2)],
                   token=token, allowed_hosts=allowed_hosts, watch=watch)


@main.command()
@click.argument("what", type=click.Choice(["events", "stories"]), default="events")
@common_options
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="JSON lines (lists stay lists) or CSV (lists joined with '; ').")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here instead of standard output.")
def export(what: str, config_file, db, verbose, fmt: str, output: str | None) -> None:
    """Export every event (or story) as JSON lines or CSV, one row each.

    Events: id, story, event_date, languages, article_count, articles, headline, actors.
    Stories: id, title, actors, event_count, article_count, languages, first_date,
    last_date, events (in time order).

    Example: polystory export stories --db news.db --format csv -o stories.csv
    """
    from .export import EVENT_FIELDS, STORY_FIELDS, event_rows, story_rows, write_rows

    settings = _settings(config_file, verbose)
    store = _store(settings, db)       # the summaries the store keeps: no encoder, no replay
    try:
        rows = event_rows(store) if what == "events" else story_rows(store)
        fields = EVENT_FIELDS if what == "events" else STORY_FIELDS
        if output is None:
            n = write_rows(rows, fields, fmt, sys.stdout)
        else:
            try:
                with open(output, "w", encoding="utf-8", newline="") as fh:
                    n = write_rows(rows, fields, fmt, fh)
            except OSError as e:
                raise click.ClickException(f"cannot write {output}: {e.strerror}") from None
    finally:
        store.close()
    click.echo(f"{n} {what} exported" + (f" -> {output}" if output else ""), err=True)


def _print_watch_status(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"{r['url']}\n  last poll {r['last_poll'] or 'never'} ({r['last_status'] or '-'}), "
                   f"next poll {r['next_poll'] or 'now'}; items seen {r['items_seen']} "
                   f"(done {r['done']}, queued {r['queued']}, failed {r['failed']}); "
                   f"errors {r['errors']} ({r['failures']} in a row)"
                   + (f"\n  last error: {r['last_error']}" if r['last_error'] else ""))


def _report_poll(report) -> None:
    for rep in report.sources.values():
        if rep.status == "skipped":
            continue
        line = f"{rep.url}: {rep.status}"
        if rep.error:
            line += f" ({rep.error})"
        line += f", {rep.new_items} new, {rep.ingested} ingested"
        if rep.from_summary:
            line += f" ({rep.from_summary} from the feed summary)"
        click.echo(line, err=True)
        for url, error in rep.item_errors:
            click.echo(f"  {url}: {error}", err=True)


@main.command()
@click.argument("sources_file", metavar="SOURCES")
@common_options
@watch_options
@click.option("--once", is_flag=True, help="Poll every source once, ingest what is new, exit.")
@click.option("--status", "show_status", is_flag=True,
              help="Show each source's last poll, items seen, errors and next poll, and exit.")
@format_option
def watch(sources_file: str, config_file, db, verbose, every: str, timeout_s, host_delay_s,
          max_bytes, retries, backoff_s, allow_private, allow_networks, ignore_robots,
          once: bool, show_status: bool, fmt: str) -> None:
    """Watch news sources: poll feeds, fetch each new item's page, ingest it once.

    SOURCES is a text file of feed URLs (one per line, # comments) or an OPML file.  Each
    poll is a conditional GET; each new item's URL is queued in the store before its page
    is fetched and its main text, title and date extracted (the feed's summary is kept when
    the page cannot be had).  robots.txt, a per-host delay, timeouts, a size limit, bounded
    redirects and retries apply; private addresses are refused unless --allow-private.
    A kill at any moment loses nothing: a restart goes on from the queue.  Run one writer
    per store (or `polystory serve --watch SOURCES`).  See docs/watch.md.

    Example: polystory watch sources.txt --db news.db --every 10m
    """
    from .store import open_store
    from .watch import Monitor, read_sources, source_status
    from .store.watch import WatchQueue

    urls = read_sources(sources_file)
    every_s = _duration(every)
    options = _fetch_options(timeout_s, host_delay_s, max_bytes, retries, backoff_s,
                             allow_private, allow_networks, ignore_robots)
    settings = _settings(config_file, verbose)
    if show_status:
        from .config import default_db_path

        from .store import is_postgres_url

        path = db or settings.db or str(default_db_path())
        if not is_postgres_url(path) and not Path(path).is_file():
            raise click.ClickException(f"no database at {path}")
        store = open_store(path)
        try:
            _print_watch_status(source_status(WatchQueue(store), urls), fmt)
        finally:
            store.close()
        return
    with _pipeline(settings, db, now=_today) as p:
        monitor = Monitor(p.store, urls, lambda arts: [o.status for o in p.add_many(arts)],
                          every_s=every_s, options=options)
        click.echo(f"watching {len(urls)} source(s) into {p.store.path}"
                   + ("" if once else f", every {every} (Ctrl-C to stop)"), err=True)
        try:
            monitor.run(once=once, on_poll=_report_poll)
        finally:
            monitor.close()
        if once:
            counts = monitor.queue.counts()
            click.echo(", ".join(f"{n} {k}" for k, n in counts.items()) + " item(s)")


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
