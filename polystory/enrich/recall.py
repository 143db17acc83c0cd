"""Back-references: sentences in which a report recalls an earlier happening by its date.

News reports date the background they recall: "the last time they met in person was in
January 2022, in Geneva", "the first time since last July, when they spoke by phone".
Such a sentence can date *another* article that reports that earlier happening but
carries no date of its own.  This module only finds the sentences and their (possibly
year-less) month; matching them to undated articles is the clusterer's job
(``polystory.cluster.backref``), because it needs vectors and the recalling event's date.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import _WORD, _lookup, date_words, month_context

__all__ = ["Recall", "find_recalls", "split_sentences"]

#: Sentences longer than this are cut (the encoder sees the part around the date).
MAX_SENTENCE_CHARS = 400
#: At most this many recalled dates are kept per article, the last ones (background comes
#: late in a report); each costs one short embedding.
MAX_RECALLS = 3
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


@dataclass(frozen=True, slots=True)
class Recall:
    """A sentence that names a month (and maybe a year and day) of a happening."""

    sentence: str
    month: int
    year: int | None = None
    day: int | None = None


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def find_recalls(text: str, language: str) -> tuple[Recall, ...]:
    """Sentences naming a month, with the month, year and day they give.

    >>> find_recalls("They met in Geneva in January 2022. Then they spoke by phone last July.", "en")
    (Recall(sentence='They met in Geneva in January 2022.', month=1, year=2022, day=None), \
Recall(sentence='Then they spoke by phone last July.', month=7, year=None, day=None))
    """
    months = date_words(language).months
    out: list[Recall] = []
    for sentence in split_sentences(text):
        for t in _WORD.finditer(sentence):
            tok = t.group()
            month = _lookup(tok.lower(), months)
            # English month names double as words ("may", "march"): only capitalised ones
            if month is None or (language == "en" and not tok[0].isupper()):
                continue
            day, year, _ = month_context(sentence, t.start(), t.end())
            out.append(Recall(sentence[:MAX_SENTENCE_CHARS], month, year, day))
            break  # one date per sentence: its first
    return tuple(out[-MAX_RECALLS:])
