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
from typing import Iterable

__all__ = ["LineStats", "TextParts", "split_boilerplate", "is_prose", "detokenize", "is_url_line",
           "header_date"]

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
# a crawled URL line, also as tokenisers leave it ("http://www. nydailynews. com/...")
_URL_LINE = re.compile(r"^(?:(?:https?|ftp)\s*:\s*/\s*/|www\s*\.\s*\w)\S*(?:\s\S+)*$", re.IGNORECASE)
_DOMAIN_PATH = re.compile(r"^[\w\-]+(?:\.\s?[\w\-]+)*\.\s?[a-z]{2,6}\s?/\S*(?:\s[\-/]\s?\S*)*$", re.IGNORECASE)


def is_url_line(line: str) -> bool:
    """A line that is a URL (a crawl's address line), not text.

    >>> is_url_line("http://articles. latimes. com/2013/may/03/local/la-me-0504-lohan-rehab")
    True
    >>> is_url_line("nypost. com/2013/05/02/lindsay-lohan-is-mia /"), is_url_line("Lohan checks in")
    (True, False)
    """
    line = line.strip()
    return bool(line) and (bool(_URL_LINE.match(line) and " " not in line.split("/", 3)[-1][:1])
                           or bool(_DOMAIN_PATH.match(line)))


# Tokenised text, as some corpora and processors leave it: "Lohan ’ s", "it 's", "word , word",
# "5: 03pm", "( AP )", "“ Mean Girls ”"
_DETOK = [
    (re.compile(r"(?<=\w)\s*(['’])\s*(s|re|ve|ll|d|m|t)\b(?!['’])", re.IGNORECASE), r"\1\2"),
    (re.compile(r"(\w)\s+(n['’]t)\b", re.IGNORECASE), r"\1\2"),
    (re.compile(r"(?<=\w)\s+([,.;:!?%])(?=\s|$)"), r"\1"),
    (re.compile(r"(\d)\s?:\s(\d\d)(?!\d)"), r"\1:\2"),
    (re.compile(r"([(\[])\s+"), r"\1"),
    (re.compile(r"\s+([)\]])"), r"\1"),
    (re.compile(r"“\s+(.*?)\s+”"), r"“\1”"),
    (re.compile(r"(?<=\s)\"\s+(.*?)\s+\"(?=[\s,.;:!?]|$)"), r'"\1"'),
    (re.compile(r"`` (.*?) ''"), r'"\1"'),
]


def detokenize(line: str) -> str:
    """Undo a tokeniser's spaces around punctuation (a no-op on ordinary text).

    >>> print(detokenize("Lohan ’ s lawyer said it 's over , and he ca n't say ( AP ) at 5: 03pm ."))
    Lohan’s lawyer said it's over, and he can't say (AP) at 5:03pm.
    >>> detokenize("Blinken and Lavrov spoke briefly, on Thursday (March 2).")
    'Blinken and Lavrov spoke briefly, on Thursday (March 2).'
    """
    for pattern, repl in _DETOK:
        line = pattern.sub(repl, line)
    return line


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
    >>> again = LineStats(); again.learn_counts(stats.counts_.items()); again.seen_elsewhere("share THIS")
    3
    """

    counts_: Counter = field(default_factory=Counter)
    #: The keys the last ``learn_one`` counted, sorted: a writer stores them with the
    #: article, so that a restart reads the same counts back (``learn_counts``).
    last_keys_: tuple[str, ...] = ()

    def learn_one(self, text: str) -> None:
        keys = {_key(l) for l in text.splitlines() if 0 < _n_words(l) <= SHORT_LINE_WORDS}
        self.counts_.update(keys)
        self.last_keys_ = tuple(sorted(keys))

    def learn_counts(self, counts: Iterable[tuple[str, int]]) -> None:
        """Add counts of line keys learned elsewhere (the store's, on a restart)."""
        for key, n in counts:
            self.counts_[key] += n

    def seen_elsewhere(self, line: str) -> int:
        """In how many learned documents ``line`` occurred."""
        return self.counts_.get(_key(line), 0)


@dataclass(frozen=True)
class TextParts:
    title: str
    body: str
    date_hint: str          # a date found in the page header ("2023-03", "Tuesday, March 21, 2023")
    dropped_lines: int
    url: str = ""           # an address line at the top of a crawled text


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
    lines = [detokenize(l.strip()) for l in text.splitlines()]
    lines = [l for l in lines if l]
    date_hint = url = ""
    # a crawl's address line at the top is metadata, never the title
    while lines and is_url_line(lines[0]):
        url = url or re.sub(r"\s+", "", lines[0])
        lines.pop(0)
    if lines:
        m = _DATE_LINE.match(lines[0])
        if m:
            date_hint = m.group(1)
            rest = lines[0][m.end():].strip()
            lines[0:1] = [rest] if rest else []
    title, header = "", 0
    # a date line at the top is the header's, even when it is long enough to read as prose
    for i, line in enumerate(lines[:HEADER_LINES]):
        if _looks_like_date(line):
            date_hint = date_hint or line
            del lines[i]
            header = 1
            break
    if url and lines and _n_words(lines[0]) <= HEADLINE_MAX_WORDS and not _SENTENCE_STOP.search(lines[0]):
        # under a crawl's address line comes the headline
        title = lines.pop(0)
    if not lines:  # nothing but a headline: it is the text
        title, lines = "", [title]
    prose = [i for i, l in enumerate(lines) if is_prose(l)]
    if not prose:  # a short text: keep all of it
        return TextParts(title, "\n\n".join(lines), date_hint, 0, url)
    first, last = prose[0], prose[-1]
    for line in lines[:first]:
        if not date_hint and _looks_like_date(line):
            date_hint = line
        elif not title and _n_words(line) >= TITLE_MIN_WORDS and not _DECORATED.match(line) \
                and not is_url_line(line):
            title = line
    within_doc = Counter(_key(l) for l in lines)
    body = [l for l in lines[first:last + 1] if not _is_furniture(l, within_doc, stats)]
    dropped = len(lines) + header - len(body) - (bool(title) and title in lines)
    return TextParts(title, "\n\n".join(body), date_hint, dropped, url)


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
#: The header: a date line is looked for in this many lines at the top.
HEADER_LINES = 4
#: A headline under an address line has at most this many words and no full stop.
HEADLINE_MAX_WORDS = 30
_SENTENCE_STOP = re.compile(r"[.!?。！？]\s*$")
#: A header date line has at most this many words ("UPDATED 05/03/2013 at 11:00 AM EDT").
DATE_LINE_WORDS = 14
_HEADER_LABEL = re.compile(r"^(?:(?:originally |first |last )?(?:posted|published|updated)(?: on)?|date|on)"
                           r"\s*:?\s*", re.IGNORECASE)
# clock times with an optional am/pm and zone: "11:00 AM EDT", "10:00 (GMT+05:00)", "5:40 p.m. ET"
_CLOCK = re.compile(r"\b\d{1,2}\s?[:.h]\s?\d\d(?:\s?[:.]\s?\d\d)?\s*(?:[ap]\.?\s?m\b\.?)?"
                    r"(?:\s*\(?(?:[A-Z]{2,4}|UTC|GMT)(?:\s?[+-]\s?\d{1,2}(?:\s?:?\s?\d\d)?)?\)?)?",
                    re.IGNORECASE)
_HEADER_PARTS = re.compile(r"\s*[|•·]\s*|\s+-\s+|\s+at\s+|\s+um\s+|\s+alle\s+|\s+à\s+"
                           r"|,?\s+(?:last\s+)?updated\b:?\s*|^found\s+", re.IGNORECASE)


def header_date(line: str):
    """The publication date that a page header line states, else None: the line without
    its label and clock time, or one of its parts.

    >>> [str(header_date(x)) for x in ["May 2, 2013 | 5:03pm", "UPDATED 05/03/2013 at 11:00 AM EDT",
    ...  "26 September 2013, 10:00 (GMT+05:00)", "on Tuesday, 16 December 2008 13:45."]]
    ['2013-05-02', '2013-05-03', '2013-09-26', '2008-12-16']
    >>> header_date("Lindsay Lohan checks into rehab") is None
    True
    """
    return _date_part(line)[0]


def _date_part(line: str):
    """(date, the part of the line that spells it, the line without label and clock)."""
    from ..enrich.dates import parse_published

    line = (line or "").strip()
    if not line or not _MONTHISH.search(line) or _n_words(line) > DATE_LINE_WORDS:
        return None, "", ""
    bare = _HEADER_LABEL.sub("", _CLOCK.sub(" ", line)).strip(" ,.;:()")
    for part in [line, bare] + _HEADER_PARTS.split(bare):
        part = _HEADER_LABEL.sub("", part.strip()).strip(" ,.;:()")
        if part and _MONTHISH.search(part):
            d = parse_published(part)
            if d is not None:
                return d, part, bare
    return None, "", bare


#: A header date line: its date in at most this many words, and no more than this many
#: words besides its label and clock ("on Tuesday, 16 December 2008").
DATE_PHRASE_WORDS = 6
DATE_LINE_BARE_WORDS = 8


def _looks_like_date(line: str) -> bool:
    """A header line that states a date and little else, e.g. 'Tuesday, March 21, 2023 |
    5:03pm' (not a sentence that mentions one)."""
    d, part, bare = _date_part(line)
    return (d is not None and _n_words(_CLOCK.sub(" ", part)) <= DATE_PHRASE_WORDS
            and _n_words(bare) <= DATE_LINE_BARE_WORDS)
