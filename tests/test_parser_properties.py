"""Property tests: the parsers of untrusted text never crash, whatever the input.

Texts are drawn from arbitrary Unicode and from fragments that look like what the parsers
look for (dates in several scripts, impossible dates, month and weekday names, markup,
mojibake, control characters), so the interesting paths are reached often.
"""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polystory.clean import LineStats, clean, fix_mojibake
from polystory.clean.html import extract_html, strip_internal_dtds
from polystory.clean.text import split_boilerplate
from polystory.config import Settings
from polystory.enrich.dates import event_date, find_mentions, named_weekday, parse_published
from polystory.enrich.entities import extract_entities, extract_numbers
from polystory.enrich.recall import find_recalls
from polystory.models import Article, Document, PartialDate

FRAGMENTS = [
    "2023-03-02", "2023-02-30", "0000-00-00", "9999-12-31", "0001-01-01", "1899-12-31",
    "9999-12", "0001-01", "31.12.2023", "2/30/2023", "99.99.2099", "2023年3月2日", "2023년 13월 45일", "2023-3",
    "March", "march 2023", "21 January 2022", "32 May 2023", "May", "marzo", "giovedì",
    "të enjten", "shkurt", "четверг", "марта", "yesterday", "ieri", "today", "Thursday",
    "Thu, 02 Mar 2023 10:00:00 GMT", "Tuesday, March 21, 2023", "date 2023-03 ",
    "Lavrov", "Лавров", "Blinken's", "G-20", "NATO", "O'Neill", "-", "'", "’", "«»",
    "1,5", "10.000.000", "10-minutëshe", "Ã¼", "Ã1⁄4", "â€™", "Ã©tÃ©", "<p>", "</p>",
    "<script>", "<!DOCTYPE a [", "]>", "&amp;", "&#0;", "\x00", "\u200b", "\ufeff", "\ud7ff",
    "\n", "\n\n", "\r\n", " ", "\t", ".", "!", "?", ":", "…", "- Advertisement -", "READ",
]
LANGUAGES = ["en", "it", "sq", "ru", "de", "fr", "es", "zh", "ar", "ja", "und", "", "EN",
             "xx", "zz-ZZ", "sr-Latn", "../en", "\x00"]

texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map("".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join),
)
languages = st.one_of(st.sampled_from(LANGUAGES), st.text(max_size=6))


@st.composite
def partial_dates(draw) -> PartialDate:
    d = draw(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
    precision = draw(st.sampled_from(["day", "month", "year"]))
    return PartialDate(d.year, d.month if precision != "year" else None,
                       d.day if precision == "day" else None)


# the ends of the calendar: "a week before" or "the end of the month" must not overflow
EDGES = [PartialDate(1, 1, 1), PartialDate(1, 1), PartialDate(1), PartialDate(9999, 12, 31),
         PartialDate(9999, 12), PartialDate(9999), PartialDate(2024, 2, 29)]
published = st.none() | partial_dates() | st.sampled_from(EDGES)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(text=texts, language=languages, pub=published)
def test_event_date_never_crashes(text, language, pub):
    found = event_date(text, language, pub)
    assert found is None or isinstance(found, PartialDate)


@FAST
@given(text=texts, language=languages, pub=published)
def test_find_mentions_never_crashes(text, language, pub):
    mentions = find_mentions(text, language, pub)
    assert all(0 <= m.position < max(len(text), 1) for m in mentions)
    assert [m.position for m in mentions] == sorted(m.position for m in mentions)


@FAST
@given(text=texts, language=languages)
def test_weekdays_and_recalls_never_crash(text, language):
    day = named_weekday(text, language)
    assert day is None or 0 <= day <= 6
    for recall in find_recalls(text, language):
        assert 1 <= recall.month <= 12 and recall.sentence


# field values: short (dateparser takes some 20 ms on each)
field_values = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=6).map("".join),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.none() | field_values)
def test_parse_published_never_crashes(value):
    parsed = parse_published(value)
    assert parsed is None or isinstance(parsed, PartialDate)
    if parsed is not None:  # whatever it accepts, the store can read back
        assert PartialDate.parse(str(parsed)) == parsed


def test_parse_published_gives_up_on_long_values_at_once():
    import time

    t0 = time.monotonic()
    assert parse_published("March 2023 " * 200_000) is None
    assert time.monotonic() - t0 < 1


@FAST
@given(text=texts, stop=st.frozensets(st.text(max_size=6), max_size=4))
def test_extract_entities_never_crashes(text, stop):
    keys, names = extract_entities(text, stop)
    assert len(keys) == len(set(keys)) and len(names) <= len(keys)
    assert all(isinstance(n, str) and n for n in names)
    assert all(isinstance(n, str) for n in extract_numbers(text))


@FAST
@given(text=texts)
def test_fix_mojibake_and_split_boilerplate_never_crash(text):
    fixed = fix_mojibake(text)
    assert isinstance(fixed, str)
    stats = LineStats()
    for _ in range(2):  # the second time every short line is "seen elsewhere"
        parts = split_boilerplate(fixed, stats)
        stats.learn_one(fixed)
        assert parts.dropped_lines >= 0 and isinstance(parts.body, str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, title=texts, pub=st.one_of(texts, st.sampled_from(FRAGMENTS)),
       html=st.booleans(), language=languages)
def test_clean_never_crashes(text, title, pub, html, language):
    article = Article(id="x", text=text, title=title, published=pub, html=html,
                      language=language, origin="fuzz:1")
    doc = clean(article, Settings(min_text_chars=1), LineStats())
    assert doc is None or isinstance(doc, Document)
    if doc is not None and doc.published is not None:
        assert PartialDate.parse(str(doc.published)) == doc.published


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=texts)
def test_extract_html_never_crashes(page):
    parts = extract_html(page)
    assert isinstance(parts.text, str) and isinstance(parts.title, str)
    assert "<!DOCTYPE a [" not in strip_internal_dtds(page)
