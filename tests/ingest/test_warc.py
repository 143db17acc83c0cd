"""WARC files written with warcio: wanted responses, skipped records, damage."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from polystory.errors import ParseError
from polystory.ingest import read, stable_id


def _response(writer: WARCWriter, url: str, status: str, ctype: str, body: bytes):
    headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                     http_headers=headers)


def write_warc(path: Path, specs: list[tuple[str, str, str, bytes]], gzip: bool) -> list[int]:
    """Write response records; return the byte offset where each record ends."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    ends = []
    for url, status, ctype, body in specs:
        writer.write_record(_response(writer, url, status, ctype, body))
        ends.append(buf.tell())
    path.write_bytes(buf.getvalue())
    return ends


def page(n: int) -> bytes:
    body = f"<p>Article number {n}. " + "Lorem ipsum. " * 200 + "</p>"
    return f"<html><body>{body}</body></html>".encode()


def read_all(source):
    errors: list[ParseError] = []
    return list(read(source, on_error=errors.append)), errors


@pytest.mark.parametrize("gzip", [False, True])
def test_warc_reads_html_and_text_responses_only(tmp_path, gzip):
    path = tmp_path / ("crawl.warc.gz" if gzip else "crawl.warc")
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record("crawl.warc", {"software": "test"}))
    writer.write_record(_response(writer, "http://news.example/a", "200 OK",
                                  "text/html; charset=ISO-8859-1",
                                  "<html><body>Caf\u00e9 talks</body></html>".encode("latin-1")))
    writer.write_record(_response(writer, "http://news.example/logo.png", "200 OK",
                                  "image/png", b"\x89PNG\r\n\x1a\n\x00\x00"))
    writer.write_record(_response(writer, "http://news.example/gone", "404 Not Found",
                                  "text/html", b"<html><body>Not found</body></html>"))
    writer.write_record(writer.create_warc_record(
        "http://news.example/a", "request", payload=io.BytesIO(b"GET /a HTTP/1.1\r\n\r\n")))
    writer.write_record(_response(writer, "http://news.example/b.txt", "200 OK",
                                  "text/plain", "Plain \u00fcber text".encode("utf-8")))
    path.write_bytes(buf.getvalue())
    articles, errors = read_all(path)
    assert not errors
    assert [a.url for a in articles] == ["http://news.example/a", "http://news.example/b.txt"]
    html, text = articles
    assert html.text == "<html><body>Caf\u00e9 talks</body></html>" and html.html
    assert html.origin == f"{path}#2" and html.source == "news.example"
    assert html.id == stable_id(html.text, html.url)
    assert text.text == "Plain \u00fcber text" and not text.html
    assert text.origin == f"{path}#6"


def test_warc_bad_utf8_payload_is_replaced(tmp_path):
    path = tmp_path / "a.warc"
    write_warc(path, [("http://x/", "200 OK", "text/html", b"<html>caf\xe9</html>")], gzip=False)
    (article,), errors = read_all(path)
    assert not errors and article.text == "<html>caf\ufffd</html>"


def test_truncated_warc_gz_yields_good_records_then_reports(tmp_path):
    path = tmp_path / "cut.warc.gz"
    ends = write_warc(path, [(f"http://x/{i}", "200 OK", "text/html; charset=utf-8", page(i))
                             for i in range(3)], gzip=True)
    data = path.read_bytes()
    path.write_bytes(data[: (ends[1] + ends[2]) // 2])  # cut inside the third record
    got, errors = [], []
    for article in read(path, on_error=errors.append):
        got.append(article)
    assert [a.url for a in got] == ["http://x/0", "http://x/1"]
    assert all(a.text == page(i).decode() for i, a in enumerate(got))
    assert len(errors) == 1
    assert errors[0].where == f"{path}#3"
    assert str(path) in str(errors[0]) and "record 3" in str(errors[0])
    assert "\n" not in str(errors[0])


def test_truncated_warc_gz_without_on_error_raises_after_good_records(tmp_path):
    path = tmp_path / "cut.warc.gz"
    ends = write_warc(path, [(f"http://x/{i}", "200 OK", "text/html", page(i))
                             for i in range(2)], gzip=True)
    path.write_bytes(path.read_bytes()[: ends[1] - 40])  # inside the last deflate stream
    got = []
    with pytest.raises(ParseError) as info:
        for article in read(path):
            got.append(article)
    assert [a.url for a in got] == ["http://x/0"]
    assert info.value.where == f"{path}#2"


def test_warc_gz_missing_only_its_gzip_trailer_is_reported_after_all_records(tmp_path):
    path = tmp_path / "cut.warc.gz"
    ends = write_warc(path, [(f"http://x/{i}", "200 OK", "text/html", page(i))
                             for i in range(2)], gzip=True)
    path.write_bytes(path.read_bytes()[: ends[1] - 4])  # the records are whole, the file is not
    articles, errors = read_all(path)
    assert [a.url for a in articles] == ["http://x/0", "http://x/1"]
    assert [e.where for e in errors] == [f"{path}#3"]


@pytest.mark.parametrize("back", [10, 500])
def test_truncated_plain_warc_never_yields_a_partial_record(tmp_path, back):
    path = tmp_path / "cut.warc"
    ends = write_warc(path, [(f"http://x/{i}", "200 OK", "text/html", page(i))
                             for i in range(2)], gzip=False)
    path.write_bytes(path.read_bytes()[: ends[1] - back])
    articles, errors = read_all(path)
    assert [a.url for a in articles] == ["http://x/0"]
    assert [e.where for e in errors] == [f"{path}#2"]


@pytest.mark.parametrize("into", [30, 150])  # before / after the WARC-Target-URI line
def test_truncated_inside_next_record_header_is_reported(tmp_path, into):
    path = tmp_path / "cut.warc"
    ends = write_warc(path, [(f"http://x/{i}", "200 OK", "text/html", page(i))
                             for i in range(2)], gzip=False)
    path.write_bytes(path.read_bytes()[: ends[0] + into])
    articles, errors = read_all(path)
    assert len(articles) == 1 and [e.where for e in errors] == [f"{path}#2"]


def test_file_that_is_no_warc_raises(tmp_path):
    path = tmp_path / "fake.warc"
    path.write_text("this is not a WARC file\n", encoding="utf-8")
    with pytest.raises(ParseError) as info:
        list(read(path, on_error=lambda err: None))
    assert info.value.where == str(path) and "not a readable WARC" in str(info.value)


def test_warc_sniffed_without_suffix(tmp_path):
    path = tmp_path / "capture.bin"
    write_warc(path, [("http://x/", "200 OK", "text/html", page(0))], gzip=True)
    (article,), errors = read_all(path)
    assert not errors and article.url == "http://x/"
