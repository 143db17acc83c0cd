"""Clean stage: raw ``Article`` -> ``Document`` with main text, title and header date.

``clean(article, settings, stats)`` extracts HTML (trafilatura), repairs mojibake (ftfy),
drops boilerplate lines (``text.split_boilerplate``) and turns a crawl date line into the
publication date.  It returns ``None`` (and logs why) when nothing article-like is left.
"""
from __future__ import annotations

import hashlib
import logging
import re

from ..config import Settings
from ..enrich.dates import parse_published
from ..models import Article, Document, PartialDate
from .html import extract_html
from .text import LineStats, header_date, split_boilerplate

__all__ = ["clean", "fix_mojibake", "content_hash", "LineStats", "header_date", "url_date"]

log = logging.getLogger(__name__)

# Mojibake that was Unicode-normalised after the damage: 'Ã¼' became 'Ã1⁄4' (NFKC turns
# '¼' into '1⁄4'); put the fraction back so ftfy can see the original byte pattern.
_NFKC_FRACTIONS = {"1⁄4": "¼", "1⁄2": "½", "3⁄4": "¾"}
_FRACTION_AFTER_LEAD = re.compile(r"([ÃÂÅÄÐÑØÙ])(1⁄4|1⁄2|3⁄4)")


def fix_mojibake(text: str) -> str:
    """Repair text decoded with the wrong charset.

    >>> fix_mojibake("gÃ1⁄4nlÃ1⁄4k TÃ¼rkiye")
    'günlük Türkiye'
    """
    import ftfy

    text = _FRACTION_AFTER_LEAD.sub(lambda m: m.group(1) + _NFKC_FRACTIONS[m.group(2)], text)
    return ftfy.fix_text(text, normalization="NFC")


#: A year and month as path segments (/2010/09/): htmldate reads only year-month-day.
_URL_MONTH = re.compile(r"/((?:199\d|20[0-3]\d))/(0?[1-9]|1[0-2])/")


def url_date(url: str):
    """The publication date that a URL's path spells (/2013/05/02/, by htmldate; or a year
    and month, /2010/09/); else None.

    >>> str(url_date("http://nypost.com/2013/05/02/lindsay-lohan-is-mia/")), url_date("https://x.org/a")
    ('2013-05-02', None)
    >>> str(url_date("http://news4allz.blogspot.nl/2010/09/kraft-shooting-yvonne-hiller-charged.html"))
    '2010-09'
    """
    import datetime as dt

    from htmldate.extractors import extract_url_date
    from htmldate.utils import Extractor

    options = Extractor(False, dt.datetime(2100, 1, 1), dt.datetime(1990, 1, 1), True, "%Y-%m-%d")
    try:
        found = extract_url_date(url, options)
    except (ValueError, TypeError):
        found = None
    if found:
        return parse_published(found)
    m = _URL_MONTH.search(url)
    return PartialDate(int(m[1]), int(m[2])) if m else None


def _agree(header, from_url):
    """A header date read in the other order where only that order agrees with the URL's
    date: '11/09/2010' is 9 November to a US reader and 11 September on a Dutch page
    whose address says /2010/09/ (ECB+); day and month both up to 12 cannot say which.

    >>> from polystory.models import PartialDate as D
    >>> str(_agree(D(2010, 11, 9), D(2010, 9))), str(_agree(D(2010, 11, 9), D(2010, 11))), _agree(None, D(2010, 9))
    ('2010-09-11', '2010-11-09', None)
    """
    if header is None or from_url is None or header.precision != "day" or header.day > 12 \
            or from_url.year != header.year or from_url.month in (None, header.month):
        return header
    swapped = PartialDate(header.year, header.day, header.month)
    if from_url.month == swapped.month and from_url.day in (None, swapped.day):
        return swapped
    return header


def content_hash(text: str) -> str:
    """Hash of the whitespace-normalised text: same content, same hash."""
    norm = " ".join(text.split()).lower()
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


def clean(article: Article, settings: Settings, stats: LineStats | None = None) -> Document | None:
    """Main text of ``article`` as a ``Document`` (language and dates not yet set).

    Returns ``None`` when the cleaned text is shorter than ``settings.min_text_chars``.
    """
    text, title, date_hint = article.text, article.title, ""
    if article.html:
        parts = extract_html(text, article.url)
        text, title, date_hint = parts.text, title or parts.title, parts.date
    text = fix_mojibake(text)
    title = fix_mojibake(title).strip()
    split = split_boilerplate(text, stats)
    if stats is not None:
        stats.learn_one(text)
    body = split.body
    title = title or split.title
    if len(body) < settings.min_text_chars:
        log.info("dropped %s: only %d characters of text after cleaning", article.id, len(body))
        return None
    # publication date: the article's field, else the page's metadata, else a header line
    published = parse_published(article.published)
    if published is None and article.published.strip():
        log.warning("%s: published %r is not a date; ignored", article.origin or article.id,
                    article.published[:40])
    url = article.url or split.url
    if published is None:
        from_url = url_date(url) if url else None
        for hint in (date_hint, split.date_hint):
            published = published or _agree(header_date(hint), from_url)
        published = published or from_url
    return Document(
        id=article.id, title=title, text=body, language=article.language.strip().lower(),
        url=url, source=article.source, published=published,
        content_hash=content_hash(article.text), dropped_lines=split.dropped_lines,
    )
