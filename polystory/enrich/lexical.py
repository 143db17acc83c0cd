"""Content words of a document as hashed term counts: the within-language lexical signal.

Reports of one happening share its particulars (``Betty Ford``, ``probation``, ``Newport
Beach``, ``rear-ended``); two look-alike happenings share the vocabulary of their kind but
not those.  A TF-IDF cosine of content words is the backbone of the classic news-clustering
systems, and it is strong within one language, where a dense multilingual embedding ranks
look-alikes as near-duplicates.

Words are lower-cased and cut to a prefix (``KEY_CHARS``) so inflected forms meet
(``checked``/``checks``, ``Lavrova``/``Lavrovin``); scripts written without spaces (Chinese,
Japanese, Thai) give character bigrams.  Terms are hashed into ``BUCKETS`` (feature
hashing: no vocabulary to keep, a fixed-size document-frequency table, collisions rare at
this size).  Weights are sublinear (1 + log tf); the IDF is the stream's, learned online by
``PairScorer``.  The title's terms are kept apart: a headline names the happening.
"""
from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

__all__ = ["Terms", "extract_terms", "BUCKETS"]

#: Size of the hashed term space (a power of two).
BUCKETS = 1 << 21
#: Prefix that lets inflected forms of one word share a term.
KEY_CHARS = 6
#: Shorter words (mostly function words) are not terms.
MIN_CHARS = 3
#: The body is read up to this many characters (the lead carries the happening; a very
#: long text must not drown it).
MAX_TEXT_CHARS = 5000

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# scripts without spaces between words: CJK ideographs, kana, Thai, Lao, Khmer, Myanmar
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                       r"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")


@dataclass(frozen=True, eq=False)
class Terms:
    """Hashed content terms of a document: sorted unique bucket ids with their sublinear
    term frequencies, and the (unique, sorted) bucket ids of its title's terms."""

    ids: np.ndarray        # int32, sorted, unique
    tf: np.ndarray         # float32, 1 + log(count), aligned with ids
    title: np.ndarray      # int32, sorted, unique

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Terms) and np.array_equal(self.ids, other.ids)
                and np.array_equal(self.tf, other.tf) and np.array_equal(self.title, other.title))

    def __hash__(self) -> int:
        return hash((self.ids.tobytes(), self.title.tobytes()))

    def __len__(self) -> int:
        return len(self.ids)


def _words(text: str) -> list[str]:
    out: list[str] = []
    for m in _WORD.finditer(text.lower()):
        w = m.group()
        if _UNSPACED.search(w):
            chars = [c for c in w]
            out.extend(a + b for a, b in zip(chars, chars[1:]))
        elif len(w) >= MIN_CHARS:
            out.append(w[:KEY_CHARS])
    return out


def _bucket(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & (BUCKETS - 1)


def _hashed(words: list[str]) -> Counter:
    return Counter(_bucket(w) for w in words)


EMPTY = np.zeros(0, dtype=np.int32)


def extract_terms(title: str, text: str) -> Terms:
    """The hashed terms of a document's title and body (title words count in the body too).

    >>> t = extract_terms("Lohan checks into rehab", "Lindsay Lohan checked into the Betty Ford "
    ...                   "Center on Thursday to begin a 90-day stay.")
    >>> len(t), len(t.title), bool(set(t.title) <= set(t.ids))
    (14, 4, True)
    """
    counts = _hashed(_words(title) + _words(text[:MAX_TEXT_CHARS]))
    ids = np.array(sorted(counts), dtype=np.int32)
    tf = np.array([1.0 + np.log(counts[i]) for i in ids.tolist()], dtype=np.float32)
    title_ids = np.array(sorted(set(_hashed(_words(title)))), dtype=np.int32) if title else EMPTY
    return Terms(ids if len(ids) else EMPTY, tf, title_ids)
