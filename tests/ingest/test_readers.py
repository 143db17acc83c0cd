"""Ingest readers on real files: JSONL, CSV, folders, single files, decoding, errors."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from polystory.errors import ConfigError, FetchError, ParseError
from polystory.ingest import read, stable_id

SEEDS = Path("/work/shared/seeds")
BINARY = "binary file, not text/JSONL/CSV/HTML/feed/WARC"


def read_all(source, **kw):
    """Read everything, collecting per-record errors instead of raising."""
    errors: list[ParseError] = []
    articles = list(read(source, on_error=errors.append, **kw))
    return articles, errors


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- JSONL ---------------------------------------------------------------------------

def test_jsonl_good_lines_read_and_malformed_line_reported(tmp_path):
    path = write_jsonl(tmp_path / "news.jsonl", [
        json.dumps({"id": "n1", "text": "Blinken met Lavrov.", "title": "Talk",
                    "url": "http://x/1", "published": "2023-03-02", "language": "en",
                    "source": "wire", "event": "A"}),
        '{"id": "n2", "text": "unterminated',
        "",
        json.dumps({"text": "Second good article.", "id": 7, "published": 2023}),
    ])
    articles, errors = read_all(path)
    assert [a.id for a in articles] == ["n1", "7"]
    first, second = articles
    assert (first.title, first.url, first.published, first.language, first.source) == (
        "Talk", "http://x/1", "2023-03-02", "en", "wire")
    assert first.origin == f"{path}:1" and second.origin == f"{path}:4"
    assert second.published == "2023" and not second.html
    assert len(errors) == 1
    assert errors[0].where == f"{path}:2"
    assert "malformed JSON" in str(errors[0]) and "\n" not in str(errors[0])


def test_jsonl_without_on_error_raises_at_bad_line_after_good_ones(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [json.dumps({"text": "fine"}), "[1, 2]"])
    got = []
    with pytest.raises(ParseError) as info:
        for article in read(path):
            got.append(article)
    assert len(got) == 1
    assert info.value.where == f"{path}:2"
    assert "not a JSON object" in str(info.value)


@pytest.mark.parametrize("record, reason", [
    ({"id": "x"}, "missing or empty 'text'"),
    ({"text": "   \n "}, "missing or empty 'text'"),
    ({"text": ["a"]}, "field 'text'"),
    ({"text": "ok", "title": {"a": 1}}, "field 'title'"),
])
def test_jsonl_records_without_usable_text_are_reported(tmp_path, record, reason):
    path = write_jsonl(tmp_path / "a.jsonl", [json.dumps({"text": "kept"}), json.dumps(record)])
    articles, errors = read_all(path)
    assert [a.text for a in articles] == ["kept"]
    assert [e.where for e in errors] == [f"{path}:2"]
    assert reason in str(errors[0])


def test_jsonl_html_flag_and_html_documents(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        json.dumps({"text": "<p>fragment</p>", "html": True}),
        json.dumps({"text": "  <!DOCTYPE html><html><body>x</body></html>"}),
        json.dumps({"text": "<html lang=en><body>y</body></html>"}),
        json.dumps({"text": "plain words about <html> tags"}),
    ])
    articles, errors = read_all(path)
    assert not errors
    assert [a.html for a in articles] == [True, True, True, False]


def test_jsonl_id_defaults_to_stable_id_of_text_and_url(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        json.dumps({"text": "Same words", "url": "http://a"}),
        json.dumps({"text": "Same   words\n", "url": "http://a"}),
        json.dumps({"text": "Same words"}),
    ])
    articles, _ = read_all(path)
    assert articles[0].id == articles[1].id == stable_id("Same words", "http://a")
    assert articles[2].id == stable_id("Same words") != articles[0].id


def test_jsonl_utf8_bom_and_ndjson_suffix(tmp_path):
    path = tmp_path / "a.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": "caf\u00e9"}).encode() + b"\n")
    articles, errors = read_all(path)
    assert not errors and [a.text for a in articles] == ["caf\u00e9"]


def test_jsonl_utf16_with_bom(tmp_path):
    path = tmp_path / "a.jsonl"
    hello = "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439"
    lines = json.dumps({"text": hello}, ensure_ascii=False) + "\n" + '{"text": "two"}\n'
    path.write_bytes(lines.encode("utf-16"))  # with BOM
    articles, errors = read_all(path)
    assert not errors
    assert [a.text for a in articles] == [hello, "two"]
    assert articles[1].origin.endswith(":2")


def test_jsonl_invalid_utf8_line_is_replaced_with_warning(tmp_path, caplog):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "good"}\n{"text": "caf\xe9"}\n')
    with caplog.at_level(logging.WARNING, logger="polystory.ingest"):
        articles, errors = read_all(path)
    assert not errors
    assert articles[1].text == "caf\ufffd"
    assert f"{path}:2" in caplog.text and "UTF-8" in caplog.text


def test_jsonl_lone_surrogate_escape_is_replaced(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", ['{"text": "a\\ud800b"}'])
    (article,), _ = read_all(path)
    assert article.text == "a\ufffdb"
    article.text.encode("utf-8")


# --- truncation ----------------------------------------------------------------------

def test_oversize_text_truncated_with_warning_naming_origin(tmp_path, caplog):
    path = write_jsonl(tmp_path / "big.jsonl", [json.dumps({"text": "x" * 50}),
                                                json.dumps({"text": "short"})])
    with caplog.at_level(logging.WARNING, logger="polystory.ingest"):
        articles, _ = read_all(path, max_text_chars=20)
    assert [len(a.text) for a in articles] == [20, 5]
    assert f"{path}:1" in caplog.text and "truncated" in caplog.text
    assert f"{path}:2" not in caplog.text


def test_oversize_single_file_truncated(tmp_path, caplog):
    path = tmp_path / "long.txt"
    path.write_text("word " * 100, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="polystory.ingest"):
        (article,), _ = read_all(path, max_text_chars=12)
    assert article.text == "word word wo"
    assert str(path) in caplog.text


@pytest.mark.parametrize("bad", [0, -5, 1.5, True])
def test_max_text_chars_must_be_positive_int(tmp_path, bad):
    path = write_jsonl(tmp_path / "a.jsonl", ['{"text": "x"}'])
    with pytest.raises(ConfigError):
        read(path, max_text_chars=bad)


# --- CSV -----------------------------------------------------------------------------

def test_csv_quoted_multiline_text_and_start_lines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        'id,title,text,published,event\n'
        'c1,"One, two","First line\nsecond line, with comma\n""quoted""",2023-03-02,A\n'
        'c2,Empty,,2023-03-03,A\n'
        ',No id,"Plain text",,B\n',
        encoding="utf-8", newline="")
    articles, errors = read_all(path)
    assert [a.id for a in articles] == ["c1", stable_id("Plain text")]
    first = articles[0]
    assert first.text == 'First line\nsecond line, with comma\n"quoted"'
    assert first.title == "One, two" and first.published == "2023-03-02"
    assert first.origin == f"{path}:2"
    assert articles[1].origin == f"{path}:6"
    assert [e.where for e in errors] == [f"{path}:5"]
    assert "text" in str(errors[0])


def test_csv_bom_header_and_case(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffText,URL\nHallo Welt,http://x\n".encode("utf-8"))
    (article,), errors = read_all(path)
    assert not errors and article.text == "Hallo Welt" and article.url == "http://x"


def test_csv_without_text_column_raises(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(ParseError, match="no 'text' column"):
        read_all(path)


def test_csv_long_field_beyond_default_csv_limit(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('text\n"' + "y" * 300_000 + '"\n', encoding="utf-8")
    (article,), errors = read_all(path)
    assert not errors and len(article.text) == 300_000


# --- folders and single files --------------------------------------------------------

def test_folder_of_txt_and_html_files(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "b.txt").write_text("Text B", encoding="utf-8")
    (root / "a.html").write_text("<html><body>A</body></html>", encoding="utf-8")
    (root / "sub" / "c.HTM").write_text("<p>C</p>", encoding="utf-8")
    (root / "notes.md").write_text("ignored", encoding="utf-8")
    (root / "data.json").write_text('{"text": "ignored"}', encoding="utf-8")
    (root / ".hidden.txt").write_text("ignored", encoding="utf-8")
    articles, errors = read_all(root)
    assert not errors
    assert [a.id for a in articles] == ["a", "b", "c"]
    assert [a.html for a in articles] == [True, False, True]
    assert [a.source for a in articles] == ["corpus", "corpus", "sub"]
    assert all(a.title == "" for a in articles)
    assert articles[1].origin == str(root / "b.txt") and articles[1].text == "Text B"


def test_folder_reports_bad_files_and_keeps_going(tmp_path):
    (tmp_path / "1.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "2.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "3.txt").write_text("good", encoding="utf-8")
    articles, errors = read_all(tmp_path)
    assert [a.id for a in articles] == ["3"]
    assert [e.where for e in errors] == [str(tmp_path / "1.txt"), str(tmp_path / "2.txt")]
    assert "empty file" in str(errors[0]) and BINARY in str(errors[1])


def test_single_txt_and_html_files(tmp_path):
    folder = tmp_path / "press"
    folder.mkdir()
    txt = folder / "000_abc.txt"
    txt.write_text("Some news.\n", encoding="utf-8")
    html = folder / "page.htm"
    html.write_text("<!doctype html><title>T</title><p>x", encoding="utf-8")
    (a,), _ = read_all(txt)
    (b,), _ = read_all(str(html))
    assert (a.id, a.text, a.title, a.source, a.origin, a.html) == (
        "000_abc", "Some news.\n", "", "press", str(txt), False)
    assert (b.id, b.html, b.origin) == ("page", True, str(html))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared seeds not present")
def test_shared_seeds_folder():
    articles, errors = read_all(SEEDS)
    assert not errors
    stems = sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert len(articles) == 5
    assert [a.id for a in articles] == stems
    assert all(a.text.strip() and a.source == "seeds" and not a.html for a in articles)
    assert "Blinken" in articles[0].text


# --- sniffing unknown suffixes -------------------------------------------------------

@pytest.mark.parametrize("content, expect_html, expect_id_is_stem", [
    (b'{"text": "from jsonl", "id": "j1"}\n', False, False),
    (b"<!DOCTYPE html><html><body>page</body></html>", True, True),
    (b"just some words", False, True),
])
def test_unknown_suffix_is_sniffed(tmp_path, content, expect_html, expect_id_is_stem):
    path = tmp_path / "input.dat"
    path.write_bytes(content)
    (article,), errors = read_all(path)
    assert not errors
    assert article.html is expect_html
    assert (article.id == "input") is expect_id_is_stem


# --- decoding ------------------------------------------------------------------------

def test_invalid_utf8_text_file_replaced_with_warning(tmp_path, caplog):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\u00e9 cr\u00e8me".encode("latin-1"))
    with caplog.at_level(logging.WARNING, logger="polystory.ingest"):
        (article,), _ = read_all(path)
    assert article.text == "Caf\ufffd cr\ufffdme"
    assert str(path) in caplog.text


@pytest.mark.parametrize("encoding, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_utf16_with_bom_text_file(tmp_path, encoding, bom):
    path = tmp_path / "u16.txt"
    text = "\u041d\u043e\u0432\u043e\u0441\u0442\u0438: Blinken & Lavrov"
    path.write_bytes(bom + text.encode(encoding))
    (article,), errors = read_all(path)
    assert not errors and article.text == text


def test_utf8_bom_is_stripped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello")
    (article,), _ = read_all(path)
    assert article.text == "hello"


# --- whole-input errors --------------------------------------------------------------

def test_missing_path_is_fetch_error(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(FetchError) as info:
        read(missing)
    assert str(info.value) == f"no such file or directory: {missing}"


@pytest.mark.parametrize("name, content", [
    ("e.jsonl", b""), ("e.txt", b"  \n\t\n"), ("e.csv", b"\n\n"), ("e.warc", b""),
    ("e.xml", b"\xef\xbb\xbf \n"),
])
def test_empty_file_is_parse_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ParseError) as info:
        read(path)
    assert info.value.where == str(path)
    assert str(info.value) == f"{path}: empty file"


@pytest.mark.parametrize("name", ["blob.bin", "blob.jsonl", "blob.txt", "blob"])
def test_binary_file_is_parse_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ParseError) as info:
        read(path)
    assert info.value.where == str(path)
    assert BINARY in str(info.value)


# --- stable ids ----------------------------------------------------------------------

def test_stable_id_properties():
    a = stable_id("Blinken and Lavrov met in New Delhi.")
    assert re.fullmatch(r"a[0-9a-f]{15}", a)
    assert a == stable_id("Blinken and Lavrov met in New Delhi.")
    assert a == stable_id("  Blinken  and\nLavrov\tmet in New Delhi. \n")
    assert a != stable_id("Blinken and Lavrov met in Geneva.")
    assert a != stable_id("Blinken and Lavrov met in New Delhi.", "http://example.com/1")
    assert stable_id("x", "http://a") != stable_id("x", "http://b")
    assert stable_id("Caf\u00e9") == stable_id("Cafe\u0301")  # NFC


def test_reading_twice_gives_same_ids(tmp_path):
    lines = [json.dumps({"text": f"article {i}"}) for i in range(5)]
    path = write_jsonl(tmp_path / "a.jsonl", lines)
    first = [a.id for a in read(path)]
    assert first == [a.id for a in read(path)]
    assert len(set(first)) == 5
