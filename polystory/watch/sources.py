"""The list of sources to watch: a text file of feed URLs, or an OPML file.

A text file has one URL per line; blank lines and lines starting with ``#`` are skipped, and
anything after the URL on its line is ignored.  An OPML file (what feed readers export) is
recognised by its ``<opml`` root: every ``<outline xmlUrl="...">`` is a source, at any depth.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import ConfigError, ParseError

__all__ = ["read_sources", "parse_sources"]


def parse_sources(text: str, where: str = "sources") -> list[str]:
    """Feed URLs from the text of a sources file, in order, without repeats.

    >>> parse_sources("# newsroom\\nhttps://a.example/rss  main\\n\\nhttps://a.example/rss\\n")
    ['https://a.example/rss']
    >>> parse_sources('<?xml version="1.0"?><opml version="2.0"><body><outline text="World">'
    ...               '<outline type="rss" xmlUrl="https://b.example/feed.xml"/></outline></body></opml>')
    ['https://b.example/feed.xml']
    """
    urls: list[str] = []
    head = text.lstrip()[:500].lower()
    if head.startswith("<") and "<opml" in head:
        if "<!doctype" in head or "<!entity" in text[:5000].lower():
            raise ParseError("OPML with a DOCTYPE or entities is not read", where=where)
        try:
            root = ET.fromstring(text.lstrip())
        except ET.ParseError as e:
            raise ParseError(f"malformed OPML: {e}", where=where) from None
        for node in root.iter("outline"):
            url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
            if url:
                urls.append(url)
    else:
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            url = line.split()[0]
            if not url.lower().startswith(("http://", "https://")):
                raise ParseError(f"not an http(s) feed URL: {url[:200]}", where=f"{where}:{n}")
            urls.append(url)
    return list(dict.fromkeys(urls))


def read_sources(path: str | Path) -> list[str]:
    """The feed URLs of a sources file (``ConfigError`` if it cannot be read or holds none)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"cannot read sources file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"sources file {path} is not UTF-8 text") from None
    urls = parse_sources(text, str(path))
    if not urls:
        raise ConfigError(f"sources file {path} names no feed URL")
    return urls
