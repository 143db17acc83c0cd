"""Backfill: embed a large archive on a Ray cluster, then cluster it in time order.

Embedding is nearly all the cost of adding an article (the encoder takes ~0.25 s per text on
one CPU core; cleaning and enriching ~3 ms), and it is embarrassingly parallel.  Clustering
is sequential: each article joins the events of the articles before it.  So ``backfill``

1. (driver) opens the store and leaves out the articles it already holds (same id or same
   content), so a second backfill of the same archive embeds and adds nothing;
2. (Ray Data, on the workers) cleans, enriches and embeds the rest: a pool of actors, each
   with its own encoder loaded once, maps batches of articles to their sort time and the
   vectors of their encoder input and recall sentences (``pipeline.prepare`` and
   ``pipeline.embed_texts``, the very functions ``Pipeline`` uses);
3. (driver) sorts the articles by time -- publication date, else event date; undated
   articles come after the dated ones, in input order -- and feeds them to the ordinary
   ``Pipeline.iter_add``, with an encoder that answers from the vectors the workers
   computed.  Cleaning, enriching, clustering, stories and the store are exactly those of
   ``polystory ingest`` of the same articles in that order.

Boilerplate detection across articles (``LineStats``) is the one stateful part of cleaning.
On the driver it is the pipeline's own, over the sorted stream, so the stored documents are
those ``ingest`` would make.  A worker cleans each batch with a fresh ``LineStats`` that
learns only that batch; where the two disagree about a repeated line inside an article's
lead, the worker's vector is for a slightly different text and goes unused, and the driver
embeds that text itself (counted as ``embedded_on_driver``): the result is still exact, it
only costs time.

Ray is an optional dependency (``pip install 'polystory[backfill]'``); importing this module
does not import it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import socket
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .clean import LineStats, content_hash
from .config import Settings
from .embed import Encoder, embedding_key, get_encoder
from .errors import ConfigError, PolystoryError
from .models import Article
from .pipeline import Pipeline, embed_texts, future_limit, prepare

__all__ = ["backfill", "BackfillReport", "PrecomputedEncoder", "time_key", "batch_sizing",
           "import_ray"]

log = logging.getLogger(__name__)

#: Articles per Ray Data batch (one call of a worker, one fresh ``LineStats``).
BATCH_SIZE = 64


def import_ray():
    """``ray`` with Ray Data, or a ``ConfigError`` that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise ConfigError("polystory backfill needs Ray Data: pip install 'polystory[backfill]' "
                          f"(or 'ray[data]>=2.9'); {e}") from None
    return ray


@dataclass
class BackfillReport:
    """What a backfill did.  ``events`` and ``stories`` count the whole store afterwards."""

    articles: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    events: int = 0
    stories: int = 0
    to_workers: int = 0           # articles sent to the Ray workers
    workers: int = 0
    vectors_from_workers: int = 0
    embedded_on_driver: int = 0   # texts the workers' vectors did not cover
    seconds: float = 0.0
    start_seconds: float = 0.0    # opening the store, starting (or reaching) Ray
    embed_seconds: float = 0.0    # the distributed clean/enrich/embed, to the last vector
    cluster_seconds: float = 0.0  # the driver's ordered pass through the pipeline

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self.statuses.items()))
        return (f"{self.articles} articles ({counts or 'nothing added'}); store: {self.events} "
                f"events, {self.stories} stories; {self.seconds:.1f} s "
                f"({self.articles_per_second:.2f} articles/s; start {self.start_seconds:.1f} s, "
                f"embed {self.embed_seconds:.1f} s on {self.workers} worker(s), "
                f"cluster {self.cluster_seconds:.1f} s); "
                f"{self.embedded_on_driver} text(s) embedded on the driver")


class PrecomputedEncoder:
    """An encoder that answers from vectors computed elsewhere (by cache key), and asks
    ``base`` for the texts it was not given.  Same ``name``, ``dim`` and fitted data
    (``combiner``, ``language_means``) as ``base``."""

    def __init__(self, base: Encoder, vectors: dict[str, np.ndarray] | None = None) -> None:
        self.base = base
        self.name = base.name
        self.dim = base.dim
        self.combiner = getattr(base, "combiner", None)
        self.language_means = getattr(base, "language_means", None)
        self.vectors: dict[str, np.ndarray] = vectors if vectors is not None else {}
        self.hits = 0
        self.misses = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: list[int] = []
        for i, t in enumerate(texts):
            vec = self.vectors.pop(embedding_key(self.name, t), None)
            if vec is None:
                todo.append(i)
            else:
                out[i] = vec
        if todo:
            out[todo] = self.base.encode([texts[i] for i in todo])
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        return out


def time_key(when: str, index: int) -> tuple:
    """Sort key of an article: dated ones by date (a month or a year sorts at its first
    day), then undated ones; ties and undated articles in input order."""
    return (0, when, index) if when else (1, "", index)


class _PrepareAndEmbed:
    """The Ray Data worker: clean + enrich + embed batches of articles with one encoder."""

    def __init__(self, settings: Settings, latest: dt.date | None, threads: int) -> None:
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        # warnings about an article are the driver's to give (it prepares every article again)
        logging.getLogger("polystory").setLevel(logging.ERROR)
        self.settings = settings
        self.latest = latest
        self.encoder = get_encoder(settings.encoder)
        if threads and hasattr(self.encoder, "num_threads"):
            self.encoder.num_threads = threads

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        stats = LineStats()
        whens: list[str] = []
        keyed: list[list[str]] = []
        texts: dict[str, str] = {}
        for raw in batch["article"]:
            art = Article(**json.loads(raw))
            doc = prepare(art, self.settings, stats, latest=self.latest)
            if doc is None:
                whens.append("")
                keyed.append([])
                continue
            when = doc.published or doc.event_date
            whens.append(when.first_day().isoformat() if when else "")
            keys = []
            for t in embed_texts(doc, self.settings):
                k = embedding_key(self.encoder.name, t)
                texts.setdefault(k, t)
                keys.append(k)
            keyed.append(keys)
        vecs = dict(zip(texts, self.encoder.encode(list(texts.values())))) if texts else {}
        return {
            "index": [int(i) for i in batch["index"]],
            "when": whens,
            "keys": [",".join(ks) for ks in keyed],
            "vectors": [np.stack([vecs[k] for k in ks]).astype(np.float32).tobytes() if ks else b""
                        for ks in keyed],
        }


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on an address nothing listens at (Ray itself retries for minutes)."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        return  # 'auto', 'local' or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise ConnectionError(f"nothing answers there ({e.strerror or e})") from None


def _reason(e: BaseException) -> str:
    lines = [l.strip() for l in str(e).splitlines() if l.strip()]
    return lines[-1] if lines else type(e).__name__


def batch_sizing(n: int, workers: int, batch_size: int) -> int:
    """The batch size used: at most ``batch_size``, and small enough that each worker gets
    about four batches (so a small archive still keeps every worker busy to the end).

    >>> batch_sizing(84, 2, 64), batch_sizing(5, 2, 64), batch_sizing(100_000, 8, 64)
    (11, 1, 64)
    """
    return max(1, min(batch_size, -(-n // (4 * workers))))


def _from_items(ray, items: list[dict], blocks: int):
    try:
        return ray.data.from_items(items, override_num_blocks=blocks)
    except TypeError:  # Ray < 2.10
        return ray.data.from_items(items, parallelism=blocks)


def _distributed(ray, arts: list[tuple[int, Article]], settings: Settings, latest: dt.date | None,
                 workers: int, batch_size: int, cpus_per_worker: float, verbose: bool,
                 ) -> Iterable[tuple[int, str, list[str], np.ndarray]]:
    """(input index, sort time, cache keys, vectors) per article, from the Ray workers."""
    with warnings.catch_warnings():  # Ray's own deprecated settings, as it reads them
        warnings.simplefilter("ignore", DeprecationWarning)
        ray.data.DataContext.get_current().enable_progress_bars = verbose
    if not verbose:
        logging.getLogger("ray.data").setLevel(logging.ERROR)
    items = [{"index": i, "article": json.dumps(dataclasses.asdict(a), ensure_ascii=False)}
             for i, a in arts]
    blocks = -(-len(items) // batch_size)
    args: dict[str, Any] = dict(
        fn_constructor_kwargs={"settings": settings, "latest": latest,
                               "threads": max(1, int(cpus_per_worker))},
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=cpus_per_worker,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            # a worker that dies fails the run; without restarts Ray does not warn that the
            # actors' constructor arguments live in the object store
            ds = _from_items(ray, items, blocks).map_batches(_PrepareAndEmbed, max_restarts=0, **args)
        except TypeError:  # a Ray that takes no free-form remote arguments
            ds = _from_items(ray, items, blocks).map_batches(_PrepareAndEmbed, **args)
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for i, when, keys, blob in zip(batch["index"], batch["when"], batch["keys"], batch["vectors"]):
            ks = str(keys).split(",") if keys else []
            vecs = np.frombuffer(bytes(blob), dtype=np.float32).reshape(len(ks), -1) if ks else None
            yield int(i), str(when), ks, vecs


def backfill(articles: Iterable[Article], *, db: str | None = None, settings: Settings | None = None,
             address: str | None = None, workers: int | None = None, batch_size: int = BATCH_SIZE,
             cpus_per_worker: float = 1, runtime_env: dict | None = None,
             now: Callable[[], dt.date] | None = None, verbose: bool = False,
             progress: Callable[[int], None] | None = None) -> BackfillReport:
    """Embed ``articles`` on Ray, then add them to the store at ``db`` in time order.

    ``address``: a running Ray cluster (``auto``, ``host:6379`` or ``ray://host:10001``);
    without it a local Ray is started with ``workers`` CPUs and shut down at the end.  When the
    caller has already connected (``ray.is_initialized()``), that connection is used.
    ``workers``: encoder actors (default: the cluster's CPUs / ``cpus_per_worker``).
    ``now`` is the clock for future publication dates, as in ``Pipeline``.
    """
    ray = import_ray()
    settings = settings or Settings()
    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1; got {batch_size}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be at least 1; got {workers}")
    t0 = time.perf_counter()
    report = BackfillReport()
    arts = list(articles)
    report.articles = len(arts)
    encoder = PrecomputedEncoder(get_encoder(settings.encoder))
    with Pipeline(settings, db=db, encoder=encoder, now=now) as p:
        # what the store already holds is a duplicate (or a rejected id clash): no work
        new = [(i, a) for i, a in enumerate(arts)
               if p.store.find_article(a.id) is None and p.store.find_hash(content_hash(a.text)) is None]
        report.to_workers = len(new)
        when: dict[int, str] = {}
        if new:
            started = False
            if not ray.is_initialized():
                kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": verbose,
                                      "logging_level": logging.INFO if verbose else logging.ERROR}
                if runtime_env:
                    kw["runtime_env"] = runtime_env
                try:
                    if address:
                        _check_reachable(address)
                        ray.init(address=address, **kw)
                    else:
                        cpus = -(-workers * cpus_per_worker // 1) if workers else os.cpu_count()
                        # "local": a new instance, even where a cluster is running here
                        ray.init(address="local", num_cpus=int(cpus or 1), **kw)
                except (ConnectionError, RuntimeError, ValueError) as e:
                    where = f"at {address}" if address else "locally"
                    raise PolystoryError(f"cannot start or reach Ray {where}: "
                                         f"{_reason(e)}") from None
                started = True
            report.start_seconds = time.perf_counter() - t0
            try:
                cpus = int(ray.cluster_resources().get("CPU", 1))
                pool = workers or max(1, int(cpus // cpus_per_worker))
                if pool * cpus_per_worker > cpus:
                    log.warning("%d workers of %g CPU(s) need more than the cluster's %d CPUs; "
                                "as many as fit run (more if the cluster scales up)", pool,
                                cpus_per_worker, cpus)
                size = batch_sizing(len(new), pool, batch_size)
                report.workers = min(pool, -(-len(new) // size))
                for i, w, keys, vecs in _distributed(ray, new, settings, future_limit(now),
                                                     report.workers, size, cpus_per_worker,
                                                     verbose):
                    when[i] = w
                    for k, v in zip(keys, vecs if vecs is not None else ()):
                        encoder.vectors[k] = v
            except ray.exceptions.RayError as e:
                raise PolystoryError(f"the Ray workers failed: {_reason(e)} "
                                     f"(is polystory installed on the workers? see "
                                     f"docs/backfill.md)") from e
            finally:
                if started:
                    ray.shutdown()
        report.vectors_from_workers = len(encoder.vectors)
        t1 = time.perf_counter()
        report.embed_seconds = t1 - t0 - report.start_seconds if new else 0.0
        if not new:
            report.start_seconds = t1 - t0
        # already stored first (they only report duplicates), then by time
        order = sorted(range(len(arts)),
                       key=lambda i: time_key(when[i], i) if i in when else (-1, "", i))
        for o in p.iter_add((arts[i] for i in order), progress=progress):
            report.statuses[o.status] = report.statuses.get(o.status, 0) + 1
        report.cluster_seconds = time.perf_counter() - t1
        report.embedded_on_driver = encoder.misses
        report.events = len(p.store.list_events())
        report.stories = len(p.store.list_stories())
    report.seconds = time.perf_counter() - t0
    return report
