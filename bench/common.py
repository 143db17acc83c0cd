"""Shared helpers of the bench scripts: documents and cached vectors of a data set."""
from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Iterator

import numpy as np

from polystory.clean import clean
from polystory.cluster import Item
from polystory.config import Settings
from polystory.embed import embed_input, get_encoder
from polystory.enrich import enrich
from polystory.models import Article, Document

CACHE = Path(__file__).resolve().parent / ".cache"


def bench_settings() -> Settings:
    """Defaults, with ``POLYSTORY_*`` from the environment (``POLYSTORY_ENCODER=static``)."""
    import os

    from polystory.config import load_settings

    return load_settings(env=os.environ)


def items_for(name: str, arts: list[Article], settings: Settings | None = None) -> list[Item]:
    """Cleaned, enriched documents with their vectors (cached in bench/.cache/NAME.npz)."""
    settings = settings or bench_settings()
    docs = []
    for a in arts:
        d = clean(a, settings)
        if d is None:  # too short to clean: keep what there is (as polystory pairs does)
            d = Document(id=a.id, title=a.title, text=a.text, language=a.language)
        docs.append(enrich(d, settings))
    # vectors are cached by the text the encoder sees, so a change to cleaning re-embeds
    # exactly the documents whose input changed
    texts = [embed_input(d, settings.embed_chars) for d in docs]
    keys = [hashlib.sha1(f"{settings.encoder}\0{t}".encode()).hexdigest() for t in texts]
    path = CACHE / (f"{name}.npz" if settings.encoder == Settings().encoder
                    else f"{name}.{settings.encoder}.npz")
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        data = np.load(path)
        if "keys" in data.files:
            cached = dict(zip(data["keys"].tolist(), data["vecs"]))
    todo = [i for i, k in enumerate(keys) if k not in cached]
    if todo:
        enc = get_encoder(settings.encoder)
        for s in range(0, len(todo), 32):
            chunk = todo[s:s + 32]
            for i, v in zip(chunk, enc.encode([texts[i] for i in chunk])):
                cached[keys[i]] = v
        CACHE.mkdir(exist_ok=True)
        np.savez(path, keys=np.array(list(cached)), vecs=np.stack(list(cached.values())))
    return [Item(d, cached[k]) for d, k in zip(docs, keys)]


def emit(report: dict, path: str = "") -> None:
    """Print a bench's figures as JSON, and write them to ``path`` if given."""
    import json

    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if path:
        Path(path).write_text(text + "\n", encoding="utf-8")


def article_row(a: Article) -> dict:
    """An article as a blind input line (``polystory ingest`` / ``POST /articles``)."""
    return {"id": a.id, "url": a.url, "title": a.title, "text": a.text, "published": a.published}


@contextlib.contextmanager
def served(db: str, env: dict | None = None, timeout: float = 900.0) -> Iterator[tuple[str, float]]:
    """``polystory serve`` on ``db`` and a free local port, as a separate process: yields its
    base URL once ``/health`` answers, and the seconds that took; stopped on exit."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "polystory.cli", "serve", "--db", db, "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=600) as r:
                    r.read()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("polystory serve exited") from None
                if time.perf_counter() - t0 > timeout:
                    raise RuntimeError(f"polystory serve did not answer in {timeout:.0f} s") from None
                time.sleep(0.2)
        yield base, time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait()
