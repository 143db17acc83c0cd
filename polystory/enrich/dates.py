"""Publication dates and event dates, in any language dateparser knows.

Two jobs:

* ``parse_published`` reads a publication date field (ISO, RFC 822, or a phrase) into a
  ``PartialDate`` carrying only the precision the value has.
* ``event_date`` finds the day of the reported happening.  It collects date mentions
  from the lead of the article (absolute dates, month-year, day-month, weekdays,
  "yesterday"/"today"), resolves the relative ones against the publication date, and
  picks the mention that best explains a report published then.  It never returns a
  date more precise than its evidence: a weekday resolved against a month-precision
  publication date gives the month, not a day.

Month and weekday names come from dateparser's locale data (so every language it ships
works); inflected forms are matched by prefix ("të enjten" -> "enjte", "марта" -> "март").
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass

from ..models import PartialDate

__all__ = ["parse_published", "event_date", "find_mentions", "named_weekday", "Mention",
           "date_words"]

log = logging.getLogger(__name__)

#: How far before publication a reported happening may lie and still be "the" event of a
#: news report (wire stories and weeklies recap the last week); later mentions are recalls.
RECENT_DAYS = 7
#: Reports are also written a little ahead (previews, time zones).
AHEAD_DAYS = 1
#: Only the lead is searched: later paragraphs recall background events.
LEAD_CHARS = 1500
#: Shortest month/weekday name matched by prefix (shorter ones must match exactly).
MIN_PREFIX = 4
#: Longest inflectional ending allowed after a month/weekday name.
MAX_SUFFIX = 3

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_YEAR = r"(1[89]\d\d|20\d\d)"
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Mention:
    """A date mentioned in a text: its value, where it starts, and whether it was relative."""

    date: PartialDate
    position: int
    relative: bool


@dataclass(frozen=True)
class _Words:
    months: dict[str, int]      # word form -> month number
    weekdays: dict[str, int]    # word form -> weekday (Monday 0)
    today: frozenset[str]
    yesterday: frozenset[str]


@functools.lru_cache(maxsize=None)
def date_words(language: str) -> _Words:
    """Month/weekday names and 'today'/'yesterday' words for ``language`` (and English)."""
    from dateparser.languages.loader import default_loader

    months: dict[str, int] = {}
    weekdays: dict[str, int] = {}
    today: set[str] = set()
    yesterday: set[str] = set()
    for code in dict.fromkeys([language, "en"]):
        try:
            info = default_loader.get_locale(code).info
        except (KeyError, ValueError):
            continue
        for i, name in enumerate(_MONTHS, 1):
            forms = [f.lower().split()[-1].rstrip(".") for f in info.get(name, [])]
            longest = max((len(f) for f in forms), default=0)
            for form in forms:
                # abbreviations ("mar", "gen") are ordinary words too ("Mar-a-Lago"): keep a
                # short form only when the language has no longer name for the month ("may")
                if not form.isdigit() and (len(form) >= MIN_PREFIX or len(form) == longest >= 3):
                    months.setdefault(form, i)
        for i, name in enumerate(_WEEKDAYS):
            for form in info.get(name, []):
                form = form.lower().split()[-1].rstrip(".")
                if len(form) >= MIN_PREFIX:
                    weekdays.setdefault(form, i)
        rel = info.get("relative-type", {})
        today.update(w.lower() for w in rel.get("0 day ago", []) if " " not in w)
        yesterday.update(w.lower() for w in rel.get("1 day ago", []) if " " not in w)
    return _Words(months, weekdays, frozenset(today), frozenset(yesterday))


def _lookup(token: str, table: dict[str, int]) -> int | None:
    """Exact match, or an inflected form: a name of at least MIN_PREFIX letters that starts
    the token, followed by at most MAX_SUFFIX letters ("enjten" -> "enjte", but not
    "shkurtimisht" -> "shkurt")."""
    if token in table:
        return table[token]
    for n in range(len(token) - 1, max(MIN_PREFIX, len(token) - MAX_SUFFIX) - 1, -1):
        hit = table.get(token[:n])
        if hit is not None:
            return hit
    return None


def _shift(day: dt.date, days: int) -> dt.date:
    """``day`` moved by ``days``, clamped to the calendar (years 1 to 9999)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min if days < 0 else dt.date.max


def _safe(y: int, m: int | None = None, d: int | None = None) -> PartialDate | None:
    try:
        return PartialDate(y, m, d)
    except ValueError:
        return None


_ISO = re.compile(r"\b" + _YEAR + r"-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./]" + _YEAR + r"\b")
_CJK = re.compile(_YEAR + r"\s*[年년]\s*(\d{1,2})\s*[月월](?:\s*(\d{1,2})\s*[日일])?")


def find_mentions(text: str, language: str, published: PartialDate | None = None) -> list[Mention]:
    """Date mentions in ``text``, relative ones resolved against ``published``.

    >>> [str(m.date) for m in find_mentions("Il 2 marzo 2023 a Roma, e giovedì.", "it",
    ...                                      PartialDate(2023, 3, 3))]
    ['2023-03-02', '2023-03-02']
    """
    words = date_words(language)
    found: list[Mention] = []
    for m in _ISO.finditer(text):
        _add(found, _safe(int(m[1]), int(m[2]), int(m[3])), m.start(), False)
    for m in _NUMERIC.finditer(text):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        day, month = (b, a) if language == "en" and a <= 12 < b else (a, b)
        _add(found, _safe(y, month, day), m.start(), False)
    for m in _CJK.finditer(text):
        _add(found, _safe(int(m[1]), int(m[2]), int(m[3]) if m[3] else None), m.start(), False)
    tokens = [(t.group().lower(), t.start(), t.end()) for t in _WORD.finditer(text)]
    for i, (tok, start, end) in enumerate(tokens):
        month = _lookup(tok, words.months)
        if month is not None:
            _add_month(found, text, start, end, month, published)
            continue
        weekday = _lookup(tok, words.weekdays)
        if weekday is not None and published is not None:
            _add(found, _resolve_weekday(weekday, published), start, True)
        elif published is not None and published.day and (tok in words.today or tok in words.yesterday):
            back = 1 if tok in words.yesterday else 0
            _add(found, PartialDate.from_date(_shift(published.first_day(), -back)),
                 start, True)
    found.sort(key=lambda x: x.position)
    return found


def named_weekday(text: str, language: str) -> int | None:
    """The first weekday named in the lead (Monday = 0): reports of one happening name the
    same day ("giovedì", "të enjten", "Thursday"), whatever their language.

    >>> named_weekday("Blinken dhe Lavrov folën të enjten.", "sq"), named_weekday("No day.", "en")
    (3, None)
    """
    weekdays = date_words(language).weekdays
    for t in _WORD.finditer(text[:LEAD_CHARS]):
        day = _lookup(t.group().lower(), weekdays)
        if day is not None:
            return day
    return None


def _add(found: list[Mention], date: PartialDate | None, pos: int, relative: bool) -> None:
    if date is not None:
        found.append(Mention(date, pos, relative))


_DAY_BEFORE = re.compile(r"(\d{1,2})(?:\.|º|er|st|nd|rd|th)?\s*(?:de\s+|of\s+|d'\s*)?$")
_DAY_AFTER = re.compile(r"^\s*(\d{1,2})(?:st|nd|rd|th)?\b(?!\s*[:.,]?\d)")
_YEAR_AFTER = re.compile(r"^[\s,.]*(?:[^\W\d_]{1,6}[\s,.]+){0,3}" + _YEAR + r"\b")


def month_context(text: str, start: int, end: int) -> tuple[int | None, int | None, int]:
    """(day, year, start) of the date around a month name at ``text[start:end]``: a day
    just before it ("2 marzo", "2. März") or just after ("March 2"), a year after it
    ("marzo 2023", "janar të vitit 2022"); ``start`` moves back to a leading day.

    >>> month_context("on 2 March 2023 in", 5, 10), month_context("last July.", 5, 9)
    ((2, 2023, 3), (None, None, 5))
    """
    before = text[max(0, start - 12):start]
    after = text[end:end + 40]
    pos = start
    dm = _DAY_BEFORE.search(before)
    if dm:
        pos = max(0, start - 12) + dm.start()
    else:
        dm = _DAY_AFTER.match(after)
        if dm:
            after = after[dm.end():]
    ym = _YEAR_AFTER.match(after)
    day = int(dm[1]) if dm and 1 <= int(dm[1]) <= 31 else None
    return day, int(ym[1]) if ym else None, pos


def _add_month(found: list[Mention], text: str, start: int, end: int, month: int,
               published: PartialDate | None) -> None:
    day, year, pos = month_context(text, start, end)
    if year is not None:
        _add(found, _safe(year, month, day), pos, False)
    elif published is not None and day:
        # day and month without a year: the year that puts it closest before publication
        pub = published.last_day()
        year = pub.year if (month, day) <= (pub.month, pub.day) or published.precision == "year" \
            else pub.year - 1
        if published.precision == "month" and month == published.month:
            year = published.year
        _add(found, _safe(year, month, day), pos, True)


def _resolve_weekday(weekday: int, published: PartialDate) -> PartialDate:
    """The latest such weekday on or before publication, as precise as publication allows."""
    if published.precision != "day":
        return published
    pub = published.first_day()
    return PartialDate.from_date(_shift(pub, -((pub.weekday() - weekday) % 7)))


def event_date(text: str, language: str, published: PartialDate | None) -> PartialDate | None:
    """The date of the happening that ``text`` reports, or ``None`` if there is no evidence.

    >>> pub = PartialDate(2023, 3, 3)
    >>> str(event_date("Blinken e Lavrov giovedì si sono incontrati.", "it", pub))
    '2023-03-02'
    >>> str(event_date("Talks were held on 21 January 2022 in Geneva.", "en", PartialDate(2022, 1, 22)))
    '2022-01-21'
    >>> event_date("Talks were held on 21 January 2022 in Geneva.", "en", None) is None
    True
    """
    if published is None:
        # without a publication date nothing tells the reported day from a recalled one:
        # "they have not met since 24 February 2022", "born on 22 April 1923", "the last
        # time they met was in January 2022" (events-dev: the one undated report that
        # named the day it reports was outnumbered by recalls that split or misjoined
        # reports; ECB+: birth dates).  The report is dated by its event's other reports
        # or by another report's recall of it (cluster.backref).
        return None
    mentions = find_mentions(text[:LEAD_CHARS], language, published)
    lo = _shift(published.first_day(), -RECENT_DAYS)
    hi = _shift(published.last_day(), AHEAD_DAYS)
    recent = [m.date for m in mentions
              if lo <= m.date.first_day() and m.date.last_day() <= hi]
    precise = [d for d in recent if d.precision == "day"]
    if precise:
        return precise[0]
    if recent and published.precision == "year":
        return min(recent, key=lambda d: -d.first_day().toordinal())
    return published


#: Longer publication date values are not dates (dateparser takes ~0.2 ms per character).
MAX_PUBLISHED_CHARS = 100

_PUB_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                "%a, %d %b %Y %H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %Z", "%d %b %Y")


def parse_published(value: str | None) -> PartialDate | None:
    """A publication date field as a ``PartialDate``; ``None`` if empty or not a date.

    >>> parse_published("2023-03"), parse_published("Thu, 02 Mar 2023 10:00:00 GMT")
    (PartialDate(year=2023, month=3, day=None), PartialDate(year=2023, month=3, day=2))
    >>> parse_published("2023-02-30") is None
    True
    """
    value = (value or "").strip()
    if not value or len(value) > MAX_PUBLISHED_CHARS:
        return None
    try:
        return PartialDate.parse(value)
    except ValueError:
        pass
    for fmt in _PUB_FORMATS:
        try:
            return PartialDate.from_date(dt.datetime.strptime(value, fmt).date())
        except ValueError:
            continue
    return _parse_phrase(value)


@functools.lru_cache(maxsize=1)
def _phrase_parser():
    """One dateparser parser for all calls (building one costs ~60 ms; it keeps no state
    between calls unless asked to try previous locales)."""
    import dateparser.date

    return dateparser.date.DateDataParser(settings={"STRICT_PARSING": False})


def _parse_phrase(value: str) -> PartialDate | None:
    """A free-form date ('Tuesday, March 21, 2023', '21. März 2023') in any language."""
    try:
        data = _phrase_parser().get_date_data(value)
    except (ValueError, OverflowError, RecursionError):  # dateparser raises on odd input
        return None
    if data is None or data.date_obj is None:
        return None
    if not re.search(_YEAR, value):
        return None  # a phrase without a year would be resolved against the clock
    d = data.date_obj.date()
    if data.period == "year":
        return PartialDate(d.year)
    if data.period == "month":
        return PartialDate(d.year, d.month)
    return PartialDate.from_date(d)
