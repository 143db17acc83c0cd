"""The small set of data types that the pipeline stages pass between them.

``Article`` is what ingest reads, ``Document`` what clean + enrich make of it, and
``Event`` / ``Story`` what clustering and story linking produce.  All are frozen
dataclasses; dates are ``PartialDate`` values that carry their own precision.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

__all__ = ["PartialDate", "Article", "Document", "Event", "Story"]

_PARTIAL_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A calendar date known to a precision of a day, a month or a year.

    >>> PartialDate.parse("2023-03")
    PartialDate(year=2023, month=3, day=None)
    >>> str(PartialDate(2023, 3, 2)), PartialDate(2023, 3).precision
    ('2023-03-02', 'month')
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a PartialDate with a day needs a month")
        # validates ranges (raises ValueError for 2023-02-30 and the like)
        _dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @classmethod
    def parse(cls, value: str) -> "PartialDate":
        """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a time part is ignored)."""
        m = _PARTIAL_RE.match(value.strip()[:10])
        if not m:
            raise ValueError(f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {value!r}")
        y, mo, d = m.groups()
        return cls(int(y), int(mo) if mo else None, int(d) if d else None)

    @classmethod
    def from_date(cls, d: _dt.date) -> "PartialDate":
        return cls(d.year, d.month, d.day)

    def first_day(self) -> _dt.date:
        return _dt.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> _dt.date:
        if self.day:
            return self.first_day()
        if self.month == 12:  # (no "first of next month" after December 9999)
            return _dt.date(self.year, 12, 31)
        if self.month:
            return _dt.date(self.year, self.month + 1, 1) - _dt.timedelta(days=1)
        return _dt.date(self.year, 12, 31)

    def midpoint_ordinal(self) -> float:
        return (self.first_day().toordinal() + self.last_day().toordinal()) / 2

    def distance_days(self, other: "PartialDate") -> int:
        """Days between the two date intervals (0 when they overlap)."""
        a0, a1 = self.first_day().toordinal(), self.last_day().toordinal()
        b0, b1 = other.first_day().toordinal(), other.last_day().toordinal()
        return max(0, b0 - a1, a0 - b1)

    def __str__(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"


@dataclass(frozen=True, slots=True)
class Article:
    """One raw article as read by ingest.

    ``origin`` says where it came from (``file.jsonl:12``), for error messages.
    ``html`` is set when the text is still an HTML page to extract.
    """

    id: str
    text: str
    title: str = ""
    url: str = ""
    published: str = ""
    language: str = ""
    source: str = ""
    html: bool = False
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    """A cleaned and enriched article, ready for embedding and clustering."""

    id: str
    title: str
    text: str
    language: str
    url: str = ""
    source: str = ""
    published: PartialDate | None = None
    event_date: PartialDate | None = None
    entities: tuple[str, ...] = ()
    entity_names: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    weekday: int | None = None
    recalls: tuple = ()            # tuple[polystory.enrich.recall.Recall, ...]
    terms: object = None           # polystory.enrich.lexical.Terms (derived from title + text)
    content_hash: str = ""
    dropped_lines: int = 0
    dated_by: str = ""             # the report whose recall gave event_date ("": its own)

    @property
    def lead(self) -> str:
        """Title and first paragraphs: what the encoder sees."""
        return (self.title + "\n" + self.text).strip() if self.title else self.text


@dataclass(frozen=True, slots=True)
class Event:
    """A real-world happening: the articles that report it."""

    id: str
    article_ids: tuple[str, ...]
    story_id: str | None = None
    event_date: PartialDate | None = None
    languages: tuple[str, ...] = ()
    headline: str = ""
    actors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Story:
    """Events that continue one another, in event-date order (undated last)."""

    id: str
    event_ids: tuple[str, ...]
    title: str = ""
    actors: tuple[str, ...] = field(default_factory=tuple)
