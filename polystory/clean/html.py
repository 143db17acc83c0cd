"""Main text, title and date of an HTML page (trafilatura, with a plain fallback)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

__all__ = ["HtmlParts", "extract_html"]

log = logging.getLogger(__name__)

#: Pages larger than this are cut before parsing (bounded memory on hostile input).
MAX_HTML_CHARS = 5_000_000
_ENTITY_DECL = re.compile(r"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)
_TAGS = re.compile(r"<(script|style|iframe|noscript)\b.*?</\1\s*>|<[^>]+>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class HtmlParts:
    title: str
    text: str
    date: str


def extract_html(html: str, url: str = "") -> HtmlParts:
    """Extract the article from an HTML page; comments, navigation and scripts are dropped.

    >>> page = "<html><body><nav>Home | World</nav><article><h1>Ministers meet</h1><p>" + \\
    ...   "The two ministers met in New Delhi on Thursday for about ten minutes. " * 3 + \\
    ...   "</p><script>alert(1)</script></article></body></html>"
    >>> parts = extract_html(page)
    >>> parts.title, parts.text.startswith("The two ministers"), "alert" in parts.text
    ('Ministers meet', True, False)
    """
    html = _ENTITY_DECL.sub("", html[:MAX_HTML_CHARS])  # no internal DTD: no entity bombs
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(html, url=url or None, include_comments=False,
                                          include_tables=False, with_metadata=True)
    except Exception as e:  # trafilatura/lxml raise many types on broken markup
        log.warning("trafilatura failed on %s (%s); using plain tag stripping", url or "page", e)
        doc = None
    if doc is not None and doc.text:
        title = (doc.title or "").strip()
        text = doc.text
        if title and text.startswith(title):
            text = text[len(title):].lstrip()
        return HtmlParts(title, text, doc.date or "")
    return HtmlParts(_title(html), _strip_tags(html), "")


def _title(html: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", html, re.DOTALL | re.IGNORECASE)
    return _strip_tags(m.group(1)).strip() if m else ""


def _strip_tags(html: str) -> str:
    import html as htmllib

    text = _TAGS.sub("\n", html)
    return re.sub(r"\n\s*\n+", "\n\n", htmllib.unescape(text)).strip()
