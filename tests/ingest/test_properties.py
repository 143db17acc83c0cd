"""Property tests: ``read`` on arbitrary bytes fails only with the package's own errors."""
from __future__ import annotations

import gzip
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polystory.errors import FetchError, ParseError
from polystory.ingest import read, stable_id
from polystory.models import Article

SUFFIXES = [".txt", ".html", ".htm", ".jsonl", ".json", ".csv", ".xml", ".rss", ".atom",
            ".warc", ".warc.gz", ".dat", ""]
PREFIXES = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"{", b'{"text": "', b"text,id\n",
            b"<?xml version='1.0'?><rss version='2.0'><channel><item><description>",
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><content>",
            b"<!doctype html>", b"WARC/1.0\r\n", b"WARC/1.0\r\nWARC-Type: response\r\n"
            b"Content-Length: 40\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"]

contents = st.builds(
    lambda prefix, body, squeeze: gzip.compress(prefix + body) if squeeze else prefix + body,
    st.sampled_from(PREFIXES), st.binary(max_size=600), st.booleans(),
) | st.binary(max_size=600)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _check(path, max_chars: int) -> None:
    """Read ``path`` both ways; only ParseError/FetchError may escape, articles are sane."""
    errors: list[ParseError] = []
    for on_error in (None, errors.append):
        try:
            for article in read(path, on_error=on_error, max_text_chars=max_chars):
                assert isinstance(article, Article)
                assert article.id and article.text and len(article.text) <= max_chars
                article.text.encode("utf-8")  # no lone surrogates
        except (ParseError, FetchError) as err:
            assert "\n" not in str(err)
    assert all(isinstance(err, ParseError) for err in errors)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=contents, suffix=st.sampled_from(SUFFIXES), max_chars=st.integers(1, 100))
def test_read_arbitrary_bytes_raises_only_package_errors(scratch, data, suffix, max_chars):
    logging.disable(logging.WARNING)
    try:
        path = scratch / f"input{suffix}"
        path.write_bytes(data)
        _check(path, max_chars)
    finally:
        logging.disable(logging.NOTSET)


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.text(min_size=1), min_size=1, max_size=8),
       seps=st.lists(st.sampled_from([" ", "  ", "\n", "\t", " \r\n "]), min_size=8, max_size=8))
def test_stable_id_ignores_whitespace_layout(words, seps):
    tokens = [t for w in words for t in w.split()]
    plain = " ".join(tokens)
    spaced = "".join(t + s for t, s in zip(tokens, seps * (len(tokens) // 8 + 1)))
    assert stable_id(plain) == stable_id("\n " + spaced)
