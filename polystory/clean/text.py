"""Boilerplate removal for plain text, by the shape of lines rather than a word list.

A news page saved as text has a *header* (weather widget, date line, "Must read",
navigation), the *body* (prose paragraphs, maybe sub-headings and ad markers) and a
*footer* (comment forms, "Latest article", "Back to top").  We find the body as the run
from the first to the last *prose* line, drop the footer, keep from the header only a
title and a date, and inside the body drop lines that are decorations ("- Advertisement -"),
read-more teasers ("READ  Some other headline"), or short lines seen in other documents
(``LineStats``: site furniture repeats across a source, news sentences do not).
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["LineStats", "TextParts", "split_boilerplate", "is_prose"]

#: A line with this many words and closing punctuation reads as a sentence.
PROSE_MIN_WORDS = 8
#: ...and this many words is prose whatever its punctuation (cut-off paragraphs).
PROSE_LONG_WORDS = 25
#: Lines up to this many words are candidates for "furniture" repeated across documents.
SHORT_LINE_WORDS = 12
#: A short line seen in at least this many other documents is furniture.
REPEATED_IN_DOCS = 2
#: A header line this long (in words) can be the title.
TITLE_MIN_WORDS = 4

_END_PUNCT = re.compile(r"[.!?…。！？؟\"'”»’)\]]\s*$")
# "- Advertisement -", "• Share •", "| Menu |": a short label between decorations
_DECORATED = re.compile(r"^[\-–—•*|#=~_]+\s*.{0,40}?\s*[\-–—•*|#=~_]+$")
# "READ  Will Smith responds..." / "ALSO READ: ...": an upper-case kicker before a headline
_TEASER = re.compile(r"^(?:[^\W\d_a-z]{3,}\s*){1,3}[:|»>\-–]?\s+\S", re.UNICODE)
_DATE_LINE = re.compile(r"^\s*(?:date|published|datum|data|fecha|date de publication)?\s*[:=]?\s*"
                        r"((?:19|20)\d\d-\d\d(?:-\d\d)?)\b\s*", re.IGNORECASE)
_WORDS = re.compile(r"\w+", re.UNICODE)


def _n_words(line: str) -> int:
    return len(_WORDS.findall(line))


def is_prose(line: str) -> bool:
    """Whether a line reads as running text rather than page furniture.

    >>> is_prose("Blinken and Lavrov spoke briefly on Thursday at the G20 meeting in Delhi.")
    True
    >>> is_prose("Please enter your comment!"), is_prose("- Advertisement -")
    (False, False)
    """
    n = _n_words(line)
    return n >= PROSE_LONG_WORDS or (n >= PROSE_MIN_WORDS and bool(_END_PUNCT.search(line)))


def _key(line: str) -> str:
    norm = " ".join(_WORDS.findall(line.lower()))
    return hashlib.blake2b(norm.encode(), digest_size=8).hexdigest()


@dataclass
class LineStats:
    """How many documents each short line occurs in (furniture detection across a corpus).

    >>> stats = LineStats()
    >>> for doc in ["Share this\\nA", "Share this\\nB", "Share this\\nC"]:
    ...     stats.learn_one(doc)
    >>> stats.seen_elsewhere("Share this")
    3
    """

    counts_: Counter = field(default_factory=Counter)

    def learn_one(self, text: str) -> None:
        keys = {_key(l) for l in text.splitlines() if 0 < _n_words(l) <= SHORT_LINE_WORDS}
        self.counts_.update(keys)

    def seen_elsewhere(self, line: str) -> int:
        """In how many learned documents ``line`` occurred."""
        return self.counts_.get(_key(line), 0)


@dataclass(frozen=True)
class TextParts:
    title: str
    body: str
    date_hint: str          # a date found in the page header ("2023-03", "Tuesday, March 21, 2023")
    dropped_lines: int


def split_boilerplate(text: str, stats: LineStats | None = None) -> TextParts:
    """Split a page saved as text into title, body and header date; drop the furniture.

    >>> page = "15.4 C\\nTuesday, March 21, 2023\\n\\nG20: Ministers meet for ten minutes\\n\\n" \\
    ...        "Must read\\n\\n- Advertisement -\\n\\n" + "The two ministers spoke briefly " \\
    ...        "on the fringes of the meeting in New Delhi on Thursday.\\n\\n- Advertisement -\\n\\n" \\
    ...        "Leave a Reply\\n\\nYour email address will not be published."
    >>> parts = split_boilerplate(page)
    >>> parts.title, parts.date_hint, parts.body[:31], parts.dropped_lines
    ('G20: Ministers meet for ten minutes', 'Tuesday, March 21, 2023', 'The two ministers spoke briefly', 7)
    """
    lines = [l.strip() for l in text.splitlines()]
    lines = [l for l in lines if l]
    date_hint = ""
    if lines:
        m = _DATE_LINE.match(lines[0])
        if m:
            date_hint = m.group(1)
            rest = lines[0][m.end():].strip()
            lines[0:1] = [rest] if rest else []
    prose = [i for i, l in enumerate(lines) if is_prose(l)]
    if not prose:  # a short text: keep all of it
        return TextParts("", "\n\n".join(lines), date_hint, 0)
    first, last = prose[0], prose[-1]
    title = ""
    for line in lines[:first]:
        if not date_hint and _looks_like_date(line):
            date_hint = line
        elif not title and _n_words(line) >= TITLE_MIN_WORDS and not _DECORATED.match(line):
            title = line
    within_doc = Counter(_key(l) for l in lines)
    body = [l for l in lines[first:last + 1] if not _is_furniture(l, within_doc, stats)]
    dropped = len(lines) - len(body) - bool(title)
    return TextParts(title, "\n\n".join(body), date_hint, dropped)


def _is_furniture(line: str, within_doc: Counter, stats: LineStats | None) -> bool:
    if is_prose(line):
        return False
    if _DECORATED.match(line) or _TEASER.match(line):
        return True
    short = _n_words(line) <= SHORT_LINE_WORDS
    if short and within_doc[_key(line)] > 1:
        return True
    return bool(short and stats is not None and stats.seen_elsewhere(line) >= REPEATED_IN_DOCS)


_MONTHISH = re.compile(r"\b(?:19|20)\d\d\b")


def _looks_like_date(line: str) -> bool:
    """A short header line holding a year, e.g. 'Tuesday, March 21, 2023'."""
    return _n_words(line) <= 6 and bool(_MONTHISH.search(line))
