"""RSS 2.0 and Atom feeds, from files and over HTTP."""
from __future__ import annotations

import functools
import http.server
import socket
import threading
import pytest

from polystory.errors import FetchError, ParseError
from polystory.ingest import read, stable_id

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Example News</title>
  <link>http://example.com/</link>
  <language>en</language>
  <item>
    <title>Blinken and Lavrov talk</title>
    <link>http://example.com/1</link>
    <description>&lt;p&gt;Short summary.&lt;/p&gt;</description>
    <content:encoded><![CDATA[<p>Full text: the two met in New Delhi.</p>]]></content:encoded>
    <pubDate>Thu, 02 Mar 2023 10:00:00 GMT</pubDate>
    <guid>http://example.com/1</guid>
  </item>
  <item>
    <title>Summary only</title>
    <link>http://example.com/2</link>
    <description>Only a summary here.</description>
  </item>
  <item>
    <title>No text at all</title>
    <link>http://example.com/3</link>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="it">
  <title>Atom Notizie</title>
  <id>urn:uuid:feed</id>
  <updated>2023-03-03T00:00:00Z</updated>
  <entry>
    <title>Telefonata franca e diretta</title>
    <link href="http://example.org/a1"/>
    <id>urn:uuid:a1</id>
    <updated>2022-07-29T12:00:00Z</updated>
    <content type="html">&lt;p&gt;Blinken e Lavrov hanno parlato.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Solo sommario</title>
    <link href="http://example.org/a2"/>
    <id>urn:uuid:a2</id>
    <published>2022-01-21T09:00:00+01:00</published>
    <updated>2022-01-22T09:00:00Z</updated>
    <summary>Incontro a Ginevra.</summary>
  </entry>
</feed>
"""


def read_all(source):
    errors: list[ParseError] = []
    return list(read(source, on_error=errors.append)), errors


def test_rss_file(tmp_path):
    path = tmp_path / "news.rss"
    path.write_text(RSS, encoding="utf-8")
    articles, errors = read_all(path)
    assert [a.title for a in articles] == ["Blinken and Lavrov talk", "Summary only"]
    first, second = articles
    assert "Full text: the two met in New Delhi." in first.text
    assert "Short summary" not in first.text
    assert first.url == "http://example.com/1" and first.published == "2023-03-02"
    assert first.source == "Example News" and first.language == "en"
    assert first.html and first.origin == f"{path}#1"
    assert first.id == stable_id(first.text, first.url)
    assert second.text == "Only a summary here." and second.published == ""
    assert second.origin == f"{path}#2"
    assert [e.where for e in errors] == [f"{path}#3"]
    assert "no text" in str(errors[0])


def test_rss_entry_without_text_raises_without_on_error(tmp_path):
    path = tmp_path / "news.xml"
    path.write_text(RSS, encoding="utf-8")
    got = []
    with pytest.raises(ParseError, match="no text"):
        for article in read(path):
            got.append(article)
    assert len(got) == 2


def test_atom_file(tmp_path):
    path = tmp_path / "feed.atom"
    path.write_text(ATOM, encoding="utf-8")
    articles, errors = read_all(path)
    assert not errors
    a1, a2 = articles
    assert a1.text == "<p>Blinken e Lavrov hanno parlato.</p>"
    assert (a1.title, a1.url, a1.published, a1.source) == (
        "Telefonata franca e diretta", "http://example.org/a1", "2022-07-29", "Atom Notizie")
    assert a2.text == "Incontro a Ginevra."
    assert a2.published == "2022-01-21"  # published wins over updated
    assert all(a.html for a in articles)
    assert a1.language == "it"


def test_feed_sniffed_without_known_suffix(tmp_path):
    path = tmp_path / "download"
    path.write_text(ATOM, encoding="utf-8")
    articles, _ = read_all(path)
    assert len(articles) == 2 and articles[0].source == "Atom Notizie"


def test_malformed_feed_is_parse_error(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>Bad & worse</title',
                    encoding="utf-8")
    with pytest.raises(ParseError) as info:
        list(read(path))
    message = str(info.value)
    assert info.value.where == str(path)
    assert "malformed feed" in message and "\n" not in message


def test_xml_that_is_no_feed_is_parse_error(tmp_path):
    path = tmp_path / "config.xml"
    path.write_text('<?xml version="1.0"?><config><a>1</a></config>', encoding="utf-8")
    with pytest.raises(ParseError, match="not an RSS or Atom feed"):
        list(read(path))


def test_feed_text_is_never_taken_as_a_file_name(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text(RSS, encoding="utf-8")
    path = tmp_path / "indirect.xml"
    path.write_text(str(secret), encoding="utf-8")
    with pytest.raises(ParseError):
        list(read(path))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def no_proxy(monkeypatch):
    """Make urllib connect to localhost directly, whatever proxy the environment sets."""
    for scheme in ("http", "https", "all"):
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def http_root(tmp_path, no_proxy):
    """Serve ``tmp_path`` over HTTP on localhost; yields (folder, base URL)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_feed_over_http(http_root):
    root, base = http_root
    (root / "feed.xml").write_text(RSS, encoding="utf-8")
    url = f"{base}/feed.xml"
    articles, errors = read_all(url)
    assert [a.url for a in articles] == ["http://example.com/1", "http://example.com/2"]
    assert articles[0].origin == f"{url}#1"
    assert [e.where for e in errors] == [f"{url}#3"]


def test_feed_url_not_found_is_fetch_error(http_root):
    _, base = http_root
    with pytest.raises(FetchError, match="HTTP 404"):
        list(read(f"{base}/missing.xml"))


def test_feed_url_unreachable_is_fetch_error(no_proxy):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="cannot fetch"):
        list(read(f"http://127.0.0.1:{port}/feed.xml"))
