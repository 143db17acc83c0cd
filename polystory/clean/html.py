"""Main text, title and date of an HTML page (trafilatura, with a plain fallback)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

__all__ = ["HtmlParts", "extract_html"]

log = logging.getLogger(__name__)

#: Pages larger than this are cut before parsing (bounded memory on hostile input).
MAX_HTML_CHARS = 5_000_000
# Every pattern below is scanned in time linear in the page: hostile pages repeat an
# opening ("<!DOCTYPE a [", "<script", "<title>") without its end, and a lazy ``.*?`` up
# to that end would rescan the rest of the page from each repetition (quadratic).
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_SUBSET_END = re.compile(r"\]\s*>")
_HIDDEN = re.compile(r"<(script|style|iframe|noscript)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_TITLE = re.compile(r"<title\b[^<>]*>", re.IGNORECASE)
_TITLE_END = re.compile(r"</title\s*>", re.IGNORECASE)


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
    html = strip_internal_dtds(html[:MAX_HTML_CHARS])  # no internal DTD: no entity bombs
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


def strip_internal_dtds(html: str) -> str:
    """``html`` without the internal subsets (``<!DOCTYPE x [ ... ]>``) of its doctypes,
    where entities are declared (billion laughs); an unterminated subset runs to the end.

    >>> strip_internal_dtds('<!DOCTYPE html [<!ENTITY a "aa">]><p>&a;</p>')
    '<p>&a;</p>'
    """
    out, pos = [], 0
    while (m := _DOCTYPE.search(html, pos)) is not None:
        gt = html.find(">", m.end())
        bracket = html.find("[", m.end(), len(html) if gt < 0 else gt)
        if bracket < 0:  # no internal subset: keep the declaration
            out.append(html[pos:len(html) if gt < 0 else gt + 1])
            pos = len(html) if gt < 0 else gt + 1
            continue
        out.append(html[pos:m.start()])
        end = _SUBSET_END.search(html, bracket)
        pos = len(html) if end is None else end.end()
    out.append(html[pos:])
    return "".join(out)


def _title(html: str) -> str:
    m = _TITLE.search(html)
    if not m:
        return ""
    end = _TITLE_END.search(html, m.end())
    return _strip_tags(html[m.end():end.start() if end else m.end() + 300]).strip()


def _drop_hidden(html: str) -> str:
    """``html`` without script, style, iframe and noscript elements (an unclosed one runs
    to the end), each replaced by a line break."""
    out, pos = [], 0
    while (m := _HIDDEN.search(html, pos)) is not None:
        out.append(html[pos:m.start()] + "\n")
        end = re.compile(rf"</{m.group(1)}\s*>", re.IGNORECASE).search(html, m.end())
        pos = len(html) if end is None else end.end()
    out.append(html[pos:])
    return "".join(out)


def _strip_tags(html: str) -> str:
    import html as htmllib

    text = _TAG.sub("\n", _drop_hidden(html))
    return re.sub(r"\n\s*\n+", "\n\n", htmllib.unescape(text)).strip()
