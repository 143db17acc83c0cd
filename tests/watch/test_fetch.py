"""The fetcher's politeness, with its clock and sleep replaced: the per-host delay, retries
with exponential backoff (and Retry-After), and what is refused before any connection."""
from __future__ import annotations

import re

import pytest

from polystory.errors import FetchError
from polystory.watch import Fetcher, FetchOptions, Refused
from polystory.watch.fetch import HttpError, decode_html

from .site import Route, Site


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(round(s, 3))
        self.t += s


def _fetcher(fake: FakeTime, **kw) -> Fetcher:
    opts = dict(host_delay_s=0.0, backoff_s=0.0, timeout_s=5.0, allow_networks=("127.0.0.1/32",))
    return Fetcher(FetchOptions(**{**opts, **kw}), sleep=fake.sleep, clock=fake.clock)


def test_the_per_host_delay_is_kept():
    fake = FakeTime()
    with Site() as site:
        site.add("/a", body=b"a")
        site.add("/b", body=b"b")
        f = _fetcher(fake, host_delay_s=1.5)
        try:
            f.get(site.url("/a"))
            fake.t += 0.5                      # half a second later: wait the rest
            f.get(site.url("/b"))
            assert fake.slept == [1.0]
            fake.t += 5
            f.get(site.url("/a"))              # long enough ago: no wait
            assert fake.slept == [1.0]
        finally:
            f.close()


def test_retries_back_off_exponentially_and_honour_retry_after():
    fake = FakeTime()
    with Site() as site:
        site.add("/busy", status=503, body=b"busy")
        site.add("/later", status=429, body=b"slow down", headers={"Retry-After": "7"})
        site.add("/gone", status=404, body=b"gone")
        f = _fetcher(fake, retries=2, backoff_s=2.0)
        try:
            with pytest.raises(HttpError, match="HTTP 503") as e:
                f.get(site.url("/busy"))
            assert e.value.code == 503 and fake.slept == [2.0, 4.0] and site.hits["/busy"] == 3
            fake.slept.clear()
            with pytest.raises(HttpError, match="HTTP 429"):
                f.get(site.url("/later"))
            assert fake.slept == [7.0, 7.0]
            fake.slept.clear()
            with pytest.raises(HttpError, match="HTTP 404"):
                f.get(site.url("/gone"))
            assert fake.slept == [] and site.hits["/gone"] == 1      # a 404 is not retried
        finally:
            f.close()


def test_a_retry_that_succeeds():
    fake = FakeTime()
    with Site() as site:
        route = site.add("/flaky", status=500, body=b"oops")

        f = _fetcher(fake, retries=1)
        orig = site._answer

        def answer(h):
            if site.hits["/flaky"] >= 1:
                route.status, route.body = 200, b"<rss/>"
            orig(h)
        site._answer = answer
        try:
            r = f.get(site.url("/flaky"))
            assert r.status == 200 and r.body == b"<rss/>" and site.hits["/flaky"] == 2
        finally:
            f.close()


@pytest.mark.parametrize("url, says", [
    ("ftp://example.org/feed", "not an http(s) URL"),
    ("http://localhost:1/feed", "loopback or private"),
    ("http://169.254.169.254/latest/meta-data/", "loopback or private"),   # cloud metadata
    ("http://[::1]:1/", "loopback or private"),
    ("http://100.64.0.1/", "loopback or private"),
])
def test_refused_before_any_connection(url, says):
    f = Fetcher(FetchOptions(host_delay_s=0.0))
    try:
        with pytest.raises(Refused, match=re.escape(says)):
            f.get(url)
        assert f.requests == 0
    finally:
        f.close()


def test_a_declared_body_over_the_limit_is_not_read():
    fake = FakeTime()
    with Site() as site:
        site.add("/big", body=b"x" * 5000)
        f = _fetcher(fake, max_bytes=4096)
        try:
            with pytest.raises(FetchError, match="5000 bytes is over the limit of 4096"):
                f.get(site.url("/big"))
        finally:
            f.close()


def test_legacy_encodings():
    ru = "Лавров и Блинкен поговорили по телефону"
    assert decode_html(ru.encode("windows-1251"), "text/html; charset=windows-1251") == ru
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">' \
           "</head><body>Genève, café</body></html>"
    assert "Genève, café" in decode_html(page.encode("iso-8859-1"), "text/html")
    assert decode_html("Ελλάδα".encode("utf-8"), "") == "Ελλάδα"
