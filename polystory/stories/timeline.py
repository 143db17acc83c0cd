"""Timelines: the dates of a story that matter most, and a short summary for each.

Date-wise timeline summarisation, as in the TLS literature (Tran et al. 2013; Ghalandari &
Ifrim 2020): first choose the dates, then summarise each from the sentences about it.

* **Dates.**  Every report votes for its own date (its publication day, else its event's
  date) and the day before (news mostly reports yesterday), and for each day it names
  ("on 12 January", "on Tuesday", resolved against its publication date).  A day named in
  a report written days later counts most: looking back, it still matters.  A day that is
  no report's own needs two reports naming it.  The dates with most votes are the
  timeline's.
* **Summaries.**  For each chosen date, the candidate sentences are those that name it and
  the leads of the reports of that day (or the next); the most central ones (TF-IDF cosine
  to the candidates' centroid) form the summary, in the language asked for where reports
  in it exist.
* Each entry lists its articles (reports of the day, then reports naming it) and their
  events.

>>> from polystory.models import PartialDate as D
>>> reports = [
...     Report("a1", "The quake struck Haiti on Tuesday. Thousands are feared dead.", "en", D(2010, 1, 13), "E1"),
...     Report("a2", "Rescuers search the rubble a day after the quake.", "en", D(2010, 1, 13), "E1"),
...     Report("a3", "Donors met in Montreal. The quake of 12 January 2010 killed many.", "en", D(2010, 1, 25), "E2"),
... ]
>>> for e in timeline(reports, dates=2):
...     print(e.date, e.article_ids, e.event_ids, e.summary)
2010-01-12 ('a1', 'a3', 'a2') ('E1', 'E2') The quake struck Haiti on Tuesday. Rescuers search the rubble a day after the quake.
2010-01-13 ('a1', 'a2') ('E1',) Thousands are feared dead.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence

from ..enrich.dates import find_mentions
from ..models import PartialDate

__all__ = ["Report", "TimelineEntry", "DateWeights", "timeline", "story_timeline", "date_scores",
           "own_date"]

#: Votes of a report for its own date (publication day, else its event's date).
W_PUBLISHED = 0.5
#: ... and for the day before its publication day (news mostly reports what happened
#: yesterday); only for a day that is a candidate by itself (someone's date, or named).
W_DAY_BEFORE = 0.5
#: Votes of a report for a day it names, written within ``RECALL_DAYS`` of that day.
W_MENTION = 1.0
#: Votes of a report for a day it names, written later: a day still recalled matters.
W_RECALL = 4.0
#: A report this many days or more after a day it names recalls it.
RECALL_DAYS = 2
#: A day that is no report's own date needs this many reports naming it (one report's
#: aside, "since the invasion of 24 February", is background, not the story).
MIN_NAMING_REPORTS = 2
#: Named days earlier than this before the story's first report are background (a
#: biography, an older crisis), not the story's timeline.
SPAN_DAYS = 30
#: Without ``dates``: as many entries as the story has distinct event dates, at most this.
DEFAULT_MAX_DATES = 40
#: Sentences per summary, and at most this many characters.
SUMMARY_SENTENCES = 2
MAX_SUMMARY_CHARS = 400
#: The first sentences of a report are its lead: what it reports.
LEAD_SENTENCES = 3
#: Candidate sentences outside these lengths are headings, tables or run-ons.
MIN_SENTENCE_CHARS = 20
MAX_SENTENCE_CHARS = 400
#: A report's first sentence says what it reports: a small head start in the centrality
#: ranking (the cosines to the centroid are mostly 0.2-0.6).
FIRST_SENTENCE_BONUS = 0.1
#: A sentence this similar (TF-IDF cosine) to one already chosen repeats it.
REDUNDANT_COSINE = 0.5

_SENTENCE = re.compile(r"[^\n]*?(?:[.!?。！？](?=\s)|\n|$)")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class DateWeights:
    """The votes of the date ranking (defaults: the module's constants)."""

    published: float = W_PUBLISHED
    day_before: float = W_DAY_BEFORE
    mention: float = W_MENTION
    recall: float = W_RECALL
    recall_days: int = RECALL_DAYS
    min_naming: int = MIN_NAMING_REPORTS


@dataclass(frozen=True, slots=True)
class Report:
    """One article of a story, as the timeline reads it."""

    id: str
    text: str
    language: str
    published: PartialDate | None = None
    event_id: str | None = None
    event_date: PartialDate | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One date of a timeline: what happened then, and which reports say so."""

    date: PartialDate
    summary: str
    article_ids: tuple[str, ...]
    event_ids: tuple[str, ...]
    language: str = ""
    score: float = 0.0

    def as_dict(self) -> dict:
        return {"date": str(self.date), "summary": self.summary, "articles": list(self.article_ids),
                "events": list(self.event_ids), "language": self.language}


@dataclass
class _Sentence:
    text: str
    report: int
    lead: bool
    days: set
    first: bool = False


def own_date(r: Report) -> PartialDate | None:
    """A report's date: its publication day, else its event's date, else its publication."""
    if r.published is not None and r.published.precision == "day":
        return r.published
    return r.event_date or r.published


def _sentences(r: Report, index: int) -> list[_Sentence]:
    """The report's sentences, each with the days it names (relative ones resolved)."""
    spans, out = [], []
    for m in _SENTENCE.finditer(r.text):
        s = m.group().strip()
        if s:
            spans.append(m.start())
            out.append(_Sentence(s, index, len(out) < LEAD_SENTENCES, set(), not out))
    for mention in find_mentions(r.text, r.language, r.published):
        if mention.date.precision == "day" and spans:
            out[max(0, bisect.bisect_right(spans, mention.position) - 1)].days.add(mention.date)
    return out


def date_scores(reports: Sequence[Report], sentences: list[list[_Sentence]] | None = None,
                weights: DateWeights | None = None) -> Counter:
    """Votes for each candidate date (see the module's docstring)."""
    w = weights or DateWeights()
    sentences = sentences if sentences is not None else [_sentences(r, i) for i, r in enumerate(reports)]
    owns = [own_date(r) for r in reports]
    known = [d.first_day() for d in owns if d is not None]
    lo = min(known) - dt.timedelta(days=SPAN_DAYS) if known else dt.date.min
    hi = max(known) + dt.timedelta(days=1) if known else dt.date.max
    votes: Counter = Counter()
    day_before: Counter = Counter()
    naming: Counter = Counter()
    for r, own, sents in zip(reports, owns, sentences):
        if own is not None:
            votes[own] += w.published
            if own.precision == "day":
                day_before[PartialDate.from_date(own.first_day() - dt.timedelta(days=1))] += w.day_before
        named = {d for s in sents for d in s.days if lo <= d.first_day() <= hi}
        for d in named:
            later = (own is not None and own.precision == "day"
                     and (own.first_day() - d.first_day()).days >= w.recall_days)
            votes[d] += w.recall if later else w.mention
            naming[d] += 1
    mine = {d for d in owns if d is not None}
    for d in [d for d in votes if d not in mine and naming[d] < w.min_naming]:
        del votes[d]
    for d, v in day_before.items():
        if d in votes:
            votes[d] += v
    return votes


def _tokens(text: str) -> Counter:
    return Counter(t.lower() for t in _TOKEN.findall(text))


def _tfidf(texts: list[str], df: Counter, n: int) -> list[dict[str, float]]:
    """Unit TF-IDF vectors (sublinear tf; idf from the story's ``n`` sentences)."""
    out = []
    for text in texts:
        v = {tok: (1 + math.log(c)) * math.log((1 + n) / (1 + df[tok])) for tok, c in _tokens(text).items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        out.append({tok: x / norm for tok, x in v.items()})
    return out


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(tok, 0.0) for tok, x in a.items())


def _summary(cands: list[_Sentence], vecs: dict[int, dict[str, float]]) -> list[_Sentence]:
    """The most central candidates (cosine to their centroid), not repeating each other."""
    if not cands:
        return []
    centroid: Counter = Counter()
    for c in cands:
        centroid.update(vecs[id(c)])
    norm = math.sqrt(sum(x * x for x in centroid.values())) or 1.0
    centre = {tok: x / norm for tok, x in centroid.items()}

    def score(c: _Sentence) -> float:
        return _cos(vecs[id(c)], centre) + (FIRST_SENTENCE_BONUS if c.first else 0.0)

    ranked = sorted(cands, key=lambda c: (-score(c), c.report, c.text))
    chosen: list[_Sentence] = []
    chars = 0
    for c in ranked:
        if len(chosen) >= SUMMARY_SENTENCES:
            break
        if chosen and chars + len(c.text) > MAX_SUMMARY_CHARS:
            continue
        if any(_cos(vecs[id(c)], vecs[id(o)]) >= REDUNDANT_COSINE for o in chosen):
            continue
        chosen.append(c)
        chars += len(c.text)
    return sorted(chosen, key=lambda c: (c.report, cands.index(c)))


def timeline(reports: Sequence[Report], *, dates: int | None = None,
             language: str | None = None, weights: DateWeights | None = None) -> list[TimelineEntry]:
    """The timeline of a story's reports: at most ``dates`` entries, in date order.

    Parameters
    ----------
    reports
        The story's articles (with their text, publication date and event).
    dates
        How many dates; by default as many as the story has distinct event dates (at most
        ``DEFAULT_MAX_DATES``).
    language
        Summaries from reports in this language (ISO 639-1) where a date has any.
    weights
        The votes of the date ranking (``DateWeights()`` by default).
    """
    if not reports:
        return []
    if dates is None:
        dates = min(DEFAULT_MAX_DATES, len({r.event_date or own_date(r) for r in reports} - {None}))
    sentences = [_sentences(r, i) for i, r in enumerate(reports)]
    votes = date_scores(reports, sentences, weights)
    chosen = sorted(votes, key=lambda d: (-votes[d], d.midpoint_ordinal(), str(d)))[:max(dates, 0)]
    owns = [own_date(r) for r in reports]
    df: Counter = Counter()
    for sents in sentences:
        for s in sents:
            df.update(_tokens(s.text).keys())
    n_sentences = sum(len(sents) for sents in sentences)
    by_day: dict[PartialDate, list[int]] = defaultdict(list)
    for i, own in enumerate(owns):
        if own is not None:
            by_day[own].append(i)
    entries = []
    used: set[int] = set()  # a sentence summarises one date: the best-voted one that wants it
    for d in chosen:
        next_day = PartialDate.from_date(d.first_day() + dt.timedelta(days=1)) if d.precision == "day" else None
        of_day = by_day.get(d, [])
        leads = of_day + (by_day.get(next_day, []) if next_day else [])
        naming = [i for i, sents in enumerate(sentences) if any(d in s.days for s in sents)]
        cands = [s for i in leads for s in sentences[i] if s.lead]
        cands += [s for i in naming for s in sentences[i] if d in s.days]
        cands = [s for s in cands if id(s) not in used]
        cands = [s for s in cands if MIN_SENTENCE_CHARS <= len(s.text) <= MAX_SENTENCE_CHARS] or cands
        unique: dict[str, _Sentence] = {}
        for s in cands:
            unique.setdefault(" ".join(s.text.split()).lower(), s)
        cands = list(unique.values())
        lang = ""
        if language:
            own_lang = [s for s in cands if reports[s.report].language == language]
            cands, lang = (own_lang, language) if own_lang else (cands, "")
        vecs = {id(s): v for s, v in zip(cands, _tfidf([s.text for s in cands], df, n_sentences))}
        picked = _summary(cands, vecs)
        used.update(id(s) for s in picked)
        if not lang and picked:
            lang = Counter(reports[s.report].language for s in picked).most_common(1)[0][0]
        ids = list(dict.fromkeys([reports[i].id for i in of_day + naming + [s.report for s in picked]]))
        members = set(ids)
        events = list(dict.fromkeys(r.event_id for r in reports if r.id in members and r.event_id))
        entries.append(TimelineEntry(d, " ".join(" ".join(s.text.split()) for s in picked),
                                     tuple(ids), tuple(events), lang, round(votes[d], 3)))
    return sorted(entries, key=lambda e: (e.date.midpoint_ordinal(), str(e.date)))


def story_timeline(store, story_id: str, *, dates: int | None = None,
                   language: str | None = None) -> list[TimelineEntry]:
    """The timeline of a stored story: its events' stored reports, read in one store
    snapshot (``SQLStore``: the event summaries and members; no pipeline, no encoder).
    Raises ``NotFound`` for an unknown story."""
    from ..errors import NotFound

    with store.snapshot():
        event_ids = store.list_events(story_id=story_id)
        if not event_ids:
            raise NotFound(f"no story with id {story_id!r}")
        reports = []
        for eid in event_ids:
            event, members = store.event(eid)
            reports += [Report(m.article.id, m.document.text, m.document.language,
                               m.document.published, eid, event.event_date)
                        for m in members if m.document is not None]
    return timeline(reports, dates=dates, language=language)
