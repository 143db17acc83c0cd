"""Named actors, places and numbers, normalised across languages and scripts.

There is no offline multilingual NER model on PyPI, so this is a general method that
needs none: a *name* is a capitalised word that is not merely sentence-initial (or an
acronym such as G20 or NATO).  Names are transliterated to Latin (``anyascii``:
Лавров -> Lavrov), lower-cased, stripped of hyphens and possessives, and cut to a
prefix (``KEY_CHARS``) so inflected forms meet: Lavrovin, Lavrova, Лаврова -> "lavro".
Scripts without letter case (Chinese, Arabic, ...) yield no names; the encoder covers them.
Numbers are kept as digit strings (G-20 -> "20", "10-minutëshe" -> "10").
"""
from __future__ import annotations

import re
from collections import Counter

__all__ = ["extract_entities", "extract_numbers", "entity_key"]

#: Prefix length that lets inflected forms of one name share a key.
KEY_CHARS = 5
#: Shorter keys (after normalisation) are too ambiguous to count, unless they hold a digit.
MIN_KEY_CHARS = 3
#: How many display names a document keeps.
MAX_NAMES = 12

_TOKEN = re.compile(r"[^\W_][\w'’\-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…:;\"“”«»()\[\]\n]\s*$")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?(?![.,]?\d)")


def entity_key(word: str) -> str:
    """Normalised key of a name: Latin, lower case, no hyphens or possessive, a prefix.

    >>> [entity_key(w) for w in ["Lavrov", "Лавров", "Lavrovin", "G-20", "Blinken's"]]
    ['lavro', 'lavro', 'lavro', 'g20', 'blink']
    """
    from anyascii import anyascii

    w = anyascii(word).lower()
    w = re.sub(r"['’](s)?$", "", w)
    w = re.sub(r"[^a-z0-9]", "", w)
    return w[:KEY_CHARS]


def _is_cased_name(tok: str) -> bool:
    return tok[0].isupper()


def extract_entities(text: str, stop_words: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(keys, display names) of the names in ``text``, most frequent first.

    ``stop_words`` (lower case) are ignored even when capitalised (month and day names).

    >>> keys, names = extract_entities("Blinken met Lavrov in Delhi. Blinken said the G20 "
    ...                                "talks were short. The Kremlin agreed.")
    >>> keys
    ('blink', 'delhi', 'g20', 'kreml', 'lavro')
    """
    tokens = list(_TOKEN.finditer(text))
    counts: Counter[str] = Counter()
    names: dict[str, Counter[str]] = {}
    mid_sentence: set[str] = set()
    for i, m in enumerate(tokens):
        tok = m.group().strip("'’-")
        if not tok or not tok[0].isalpha() or not _is_cased_name(tok):
            continue
        if tok.lower() in stop_words:
            continue
        sentence_start = i == 0 or bool(_SENTENCE_END.search(text[max(0, m.start() - 3):m.start()]))
        if not sentence_start:
            mid_sentence.add(tok)
        counts[tok] += 1
    lower_words = {m.group().lower() for m in tokens if m.group()[0].islower()}
    for tok, n in counts.items():
        # a word seen capitalised only at sentence starts is an ordinary word ("The", "Dopo"),
        # unless it starts sentences repeatedly and never appears in lower case
        acronym = tok.isupper() and len(tok) > 1
        repeated_name = n >= 2 and tok.lower() not in lower_words
        if tok not in mid_sentence and not acronym and not repeated_name:
            continue
        key = entity_key(tok)
        if len(key) < MIN_KEY_CHARS and not any(c.isdigit() for c in key):
            continue
        names.setdefault(key, Counter())[tok] += n
    ranked = sorted(names, key=lambda k: (-sum(names[k].values()), k))
    return tuple(ranked), tuple(names[k].most_common(1)[0][0] for k in ranked[:MAX_NAMES])


def extract_numbers(text: str) -> tuple[str, ...]:
    """Distinct numbers in ``text`` in order of appearance, as digit strings.

    >>> extract_numbers("A 10-minute talk at the G-20; 16 years, 1,5 million, 2023.")
    ('10', '20', '16', '1.5', '2023')
    """
    seen: dict[str, None] = {}
    for m in _NUMBER.finditer(text):
        seen.setdefault(m.group().replace(",", "."), None)
    return tuple(seen)
