"""Cleaning and enrichment of crawled text, on the real shapes of ECB+ (../shared): an
address line at the top, the headline under it, a date line with a clock time, and the
spaces a tokeniser left around punctuation."""
from __future__ import annotations

import json
import re

import pytest

from polystory.clean import clean, header_date
from polystory.clean.text import detokenize, is_url_line
from polystory.config import Settings
from polystory.enrich import document_language
from polystory.models import Article, PartialDate

from conftest import needs_shared


@pytest.fixture(scope="module")
def ecb() -> dict[str, Article]:
    path = needs_shared("data/ecbplus-dev/docs.jsonl")
    rows = [json.loads(l) for l in path.open(encoding="utf-8")]
    return {r["id"]: Article(id=r["id"], text=r["text"]) for r in rows}


@pytest.fixture(scope="module")
def cleaned(ecb) -> dict:
    s = Settings()
    return {i: clean(a, s) for i, a in ecb.items()}


def test_no_article_is_lost(cleaned):
    # a page that is only an address, a date and a headline keeps its headline as text
    assert all(d is not None for d in cleaned.values())
    assert cleaned["4_6ecbplus"].text == "Esther Williams, swimming star, dies at 91"


def test_address_line_is_the_url_and_never_the_title(ecb, cleaned):
    crawled = [i for i, a in ecb.items() if a.text.startswith(("http://", "https://"))]
    assert len(crawled) > 300
    for i in crawled:
        d = cleaned[i]
        assert not d.title.lower().startswith(("http", "www")), i
        assert d.url.startswith("http") and " " not in d.url, i
    d = cleaned["1_10ecbplus"]
    assert d.url == "http://articles.latimes.com/2013/may/03/local/la-me-0504-lohan-rehab-20130504"
    assert d.title == "Lindsay Lohan checks into Betty Ford Center"
    assert d.text.startswith("After skipping out on entering a Newport Beach rehabilitation")


@pytest.mark.parametrize("doc_id, title, published", [
    ("1_10ecbplus", "Lindsay Lohan checks into Betty Ford Center", PartialDate(2013, 5, 3)),   # May 03, 2013
    ("1_12ecbplus", "Lindsay Lohan is MIA after pretending to check into unlicensed Calif. rehab center",
     PartialDate(2013, 5, 2)),                                                          # May 2, 2013 | 5: 03pm
    ("1_2ecbplus", "Lawyer: Lindsay Lohan checks into rehab facility", PartialDate(2013, 5, 2)),  # date above title
    ("1_14ecbplus", None, PartialDate(2013, 5, 3)),                 # UPDATED 05/03/2013 at 11: 00 AM EDT
    ("11_1ecbplus", "Parliamentary elections in Turkmenistan to be held on two-party basis",
     PartialDate(2013, 9, 26)),                                     # 26 September 2013, 10: 00 (GMT+05: 00)
    ("10_18ecbplus", "REPORT: RED SOX MAKE HUGE OFFER TO TEIXEIRA", PartialDate(2008, 12, 16)),
    # "11/09/2010" on a Dutch page whose address says /2010/09/: 11 September, not 9 November
    ("22_14ecbplus", "Kraft Shooting: Yvonne Hiller Charged With Two Counts Of Murder", PartialDate(2010, 9, 11)),
    # no date line: the address's year and month (/2013/09/)
    ("27_6ecbplus", None, PartialDate(2013, 9)),
])
def test_headline_and_date_line_under_the_address(cleaned, doc_id, title, published):
    d = cleaned[doc_id]
    if title is not None:
        assert d.title == title
    assert d.published == published
    assert not header_date(d.text.split("\n")[0])    # the date line is not left in the body


def test_most_crawled_pages_with_a_date_line_are_dated(ecb, cleaned):
    # a line of its own under the address that spells "Month D, YYYY" or "D Month YYYY"
    date_line = re.compile(r"^(?:\w+\.?,? )?(?:[A-Z][a-z]{2,8}\.? \d{1,2},? (?:19|20)\d\d|\d{1,2} [A-Z][a-z]{2,8} (?:19|20)\d\d)")
    with_line = [i for i, a in ecb.items() if a.text.startswith("http")
                 and any(date_line.match(l.strip()) for l in a.text.splitlines()[1:4])]
    assert len(with_line) > 100
    dated = [i for i in with_line if cleaned[i].published is not None]
    assert len(dated) / len(with_line) >= 0.97


def test_language_of_crawled_english_is_english(cleaned):
    # a URL or site-name title must not outvote the body (it made 58 of 982 docs 'und'/'es'/'fr')
    langs = [document_language(d) for d in cleaned.values()]
    assert sum(l == "en" for l in langs) / len(langs) >= 0.99


def test_url_lines_as_tokenisers_leave_them():
    assert is_url_line("http://www. nydailynews. com/entertainment/gossip/lindsay-lohan-article-1. 1333220")
    assert is_url_line("http://riveraveblues. com/2008/12/teixeira-not-headed-to-boston-6361 /")
    assert not is_url_line("Lindsay Lohan checks into rehab at Betty Ford Center")
    assert not is_url_line("www is how the web began, said the speaker on Tuesday.")


def test_detokenize_is_a_no_op_on_ordinary_text():
    for text in ["Blinken and Lavrov spoke for ten minutes, on Thursday (March 2).",
                 "Il ministro l'ha detto: «è finita».", "It's Lohan's 90-day stay at 5:03 pm."]:
        assert detokenize(text) == text
    assert detokenize("Lohan ’ s lawyer said it 's over , and he ca n't") == "Lohan’s lawyer said it's over, and he can't"


def test_a_sentence_naming_a_date_stays_in_the_body():
    text = ("Blinken and Lavrov met in Geneva on 21 January 2022.\n"
            "The talks lasted ninety minutes and both sides described them as frank and useful.")
    d = clean(Article(id="x", text=text), Settings())
    assert d.text.startswith("Blinken and Lavrov met in Geneva on 21 January 2022.")
    assert d.published is None
