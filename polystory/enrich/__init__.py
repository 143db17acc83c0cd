"""Enrich stage: language, publication and event dates, names and numbers of a ``Document``."""
from __future__ import annotations

import dataclasses

from ..config import Settings
from ..models import Document
from .dates import date_words, event_date, named_weekday, parse_published
from .entities import extract_entities, extract_numbers
from .language import UNKNOWN, detect_language
from .lexical import Terms, extract_terms
from .recall import Recall, find_recalls

__all__ = ["enrich", "detect_language", "event_date", "parse_published", "extract_entities",
           "extract_numbers", "find_recalls", "Recall", "UNKNOWN", "Terms", "extract_terms", "document_language",
           "with_terms"]


#: A body this long identifies its language without the title.
LANGUAGE_MIN_BODY = 200


def document_language(doc: Document) -> str:
    """The language of a document's body: a junk title (a URL, a site name) must not
    outvote it; a short body is read with its title."""
    if len(doc.text) >= LANGUAGE_MIN_BODY or not doc.title:
        return detect_language(doc.text)
    return detect_language(f"{doc.title}\n{doc.text}")


def enrich(doc: Document, settings: Settings) -> Document:
    """``doc`` with language (unless given), event date, names and numbers filled in.

    >>> from polystory.models import PartialDate
    >>> d = enrich(Document(id="x", title="", text="Il ministro Lavrov ha incontrato Blinken "
    ...     "giovedì a Nuova Delhi, durante il G20.", language="",
    ...     published=PartialDate(2023, 3, 3)), Settings())
    >>> d.language, str(d.event_date), d.entities[:3]
    ('it', '2023-03-02', ('blink', 'delhi', 'g20'))
    """
    full = f"{doc.title}\n{doc.text}" if doc.title else doc.text
    language = doc.language or document_language(doc)
    words = date_words(language)
    stop = frozenset(words.months) | frozenset(words.weekdays)
    keys, names = extract_entities(full, stop)
    return dataclasses.replace(
        doc,
        language=language,
        event_date=event_date(full, language, doc.published),
        entities=keys,
        entity_names=names,
        numbers=extract_numbers(full),
        weekday=named_weekday(full, language),
        recalls=find_recalls(full, language),
        terms=extract_terms(doc.title, doc.text),
    )


def with_terms(doc: Document) -> Document:
    """``doc`` with its lexical terms (derived from title and text: a store keeps the text,
    not the terms, so a replayed document gets them here)."""
    if doc.terms is not None:
        return doc
    return dataclasses.replace(doc, terms=extract_terms(doc.title, doc.text))
