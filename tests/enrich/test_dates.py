"""Publication and event dates in several languages, absolute and relative."""
from __future__ import annotations

import pytest

from polystory.enrich.dates import event_date, find_mentions, parse_published
from polystory.models import PartialDate

D = PartialDate


@pytest.mark.parametrize("text,lang,pub,expected", [
    # relative weekdays resolved against a day-precision publication date
    ("Il ministro ha parlato giovedì con il collega russo.", "it", D(2023, 3, 3), D(2023, 3, 2)),
    ("Blinken dhe Lavrov folën të enjten gjatë takimit.", "sq", D(2023, 3, 3), D(2023, 3, 2)),
    ("Am Donnerstag trafen sich die Minister in Neu-Delhi.", "de", D(2023, 3, 4), D(2023, 3, 2)),
    ("Лавров и Блинкен вчера поговорили по телефону.", "ru", D(2022, 7, 30), D(2022, 7, 29)),
    # a weekday on the day of publication is that day, not a week back
    ("SpaceX launched on Thursday from Texas.", "en", D(2024, 3, 14), D(2024, 3, 14)),
    # absolute dates in several languages and scripts
    ("Talks were held on 21 January 2022 in Geneva.", "en", D(2022, 1, 22), D(2022, 1, 21)),
    ("El 28 de mayo de 2022 el Real Madrid ganó la final.", "es", D(2022, 5, 29), D(2022, 5, 28)),
    ("Die Rakete startete am 18. November 2023 in Texas.", "de", D(2023, 11, 20), D(2023, 11, 18)),
    ("拜登与习近平于2022年11月14日在巴厘岛会晤。", "zh", D(2022, 11, 15), D(2022, 11, 14)),
    # a day named long before publication is a recall, not the event
    ("El 28 de mayo de 2022 el Real Madrid ganó la final.", "es", D(2024, 6, 1), D(2024, 6, 1)),
    # recalls of older events in the lead do not win over the recent one
    ("On Thursday they met for the first time since January 2022.", "en", D(2023, 3, 3), D(2023, 3, 2)),
    # without a publication date a month named without a day is background, not the
    # event's date (events-dev: undated G20 and Bali reports recalling older months)
    ("The last time the two men met was in January 2022, the month before Russia invaded "
     "Ukraine.", "en", None, None),
    ("Earlier, after Biden's inauguration in January 2021, they have spoken by phone.", "en",
     None, None),
    ("Lavrov e Blinken nunca se tinham reunido desde o início da guerra, em fevereiro de 2022.",
     "pt", None, None),
    # ... and so is a day: without a publication date nothing tells the reported day from
    # a recalled one (events-dev: an undated report of the G20 talk of 2 March 2023)
    ("Госсекретарь США и министр иностранных дел РФ ни разу лично не встречались с 24 "
     "февраля 2022 года, когда Россия напала на Украину.", "ru", None, None),
    ("Since January 2022 they had not met; on 2 March 2023 they spoke in New Delhi.", "en",
     D(2023, 3, 3), D(2023, 3, 2)),
    # month-precision publication: a weekday cannot give a day
    ("Blinken dhe Lavrov folën të enjten.", "sq", D(2023, 3), D(2023, 3)),
    # no evidence at all
    ("No date is mentioned here.", "en", None, None),
])
def test_event_date(text, lang, pub, expected):
    assert event_date(text, lang, pub) == expected


def test_durations_are_not_dates():
    assert find_mentions("Hanno parlato per circa 10 minuti e 16 anni fa.", "it", D(2023, 3, 3)) == []


@pytest.mark.parametrize("value,expected", [
    ("2023-03", D(2023, 3)), ("2023-03-02", D(2023, 3, 2)), ("2023", D(2023)),
    ("2023-03-02T10:00:00+01:00", D(2023, 3, 2)), ("Thu, 02 Mar 2023 10:00:00 GMT", D(2023, 3, 2)),
    ("Tuesday, March 21, 2023", D(2023, 3, 21)), ("", None), ("2023-02-30", None),
    ("not a date", None),
])
def test_parse_published(value, expected):
    assert parse_published(value) == expected
