"""Polite, bounded HTTP(S) fetching for the monitor (httpx, ``urllib.robotparser``).

``Fetcher.get`` refuses what the monitor must not fetch before any connection is made: a
scheme other than http(s), and a host that resolves to a loopback, private, link-local or
otherwise non-public address (unless ``allow_private``, or the address is in one of the
``allow_networks``), on the first request and on every redirect.  It waits ``host_delay_s``
between two requests to one host, gives each request ``timeout_s`` (connect, read, and the
whole body), reads at most ``max_bytes``, follows at most ``max_redirects`` redirects,
and retries transport errors, 429 and 5xx ``retries`` times with exponential backoff.
``Fetcher.allowed`` answers from each host's robots.txt (fetched once, cached).

Limits: the address is checked when the name is resolved here; the connection resolves it
again (a DNS answer that changes in between is not caught), and an HTTP proxy from the
environment is never used (``trust_env=False``), so what is checked is what is reached.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
import urllib.robotparser
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from ..errors import FetchError

__all__ = ["Fetcher", "FetchOptions", "Response", "Refused", "HttpError", "check_address",
           "decode_html"]

log = logging.getLogger(__name__)

USER_AGENT = "polystory-watch/0.1 (+https://pypi.org/project/polystory/)"
#: The robots.txt user agent token the monitor obeys (and ``*``).
ROBOTS_AGENT = "polystory"
#: Statuses worth another try: rate limited, or a server-side hiccup.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Seconds a robots.txt answer is trusted; a failed fetch of it is retried sooner.
ROBOTS_TTL_S = 24 * 3600.0
ROBOTS_RETRY_S = 300.0
#: Largest robots.txt read (Google reads 500 KiB).
ROBOTS_MAX_BYTES = 512 * 1024
#: Longest Retry-After honoured (seconds); longer ones wait for the next poll instead.
MAX_RETRY_AFTER_S = 60.0


class Refused(FetchError):
    """A URL the monitor must not fetch (scheme, private address, robots.txt)."""


class HttpError(FetchError):
    """An HTTP error status (after retries)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class FetchOptions:
    """How the monitor fetches.  Every field has a CLI flag of ``polystory watch``."""

    timeout_s: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    backoff_s: float = 2.0
    host_delay_s: float = 1.0
    allow_private: bool = False
    allow_networks: tuple[str, ...] = ()
    robots: bool = True
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Response:
    url: str                    # after redirects
    status: int
    headers: Mapping[str, str]
    body: bytes


def check_address(url: str, *, allow_private: bool = False,
                  allow_networks: Iterable[str] = ()) -> None:
    """``Refused`` unless ``url`` is http(s) and its host resolves only to public addresses
    (or to ones ``allow_private`` / ``allow_networks`` allow).

    >>> check_address("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    polystory.watch.fetch.Refused: not an http(s) URL: file:///etc/passwd
    >>> check_address("http://127.0.0.1:8000/feed")
    Traceback (most recent call last):
    ...
    polystory.watch.fetch.Refused: http://127.0.0.1:8000/feed: 127.0.0.1 is a loopback or private address (--allow-private to fetch it)
    >>> check_address("http://127.0.0.1:8000/feed", allow_networks=["127.0.0.1/32"])
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL: {url[:200]}")
    if allow_private:
        return
    nets = [ipaddress.ip_network(n, strict=False) for n in allow_networks]
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as e:
        raise FetchError(f"cannot resolve {parts.hostname}: {e}") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in n for n in nets):
            continue
        if not ip.is_global or ip.is_multicast:
            raise Refused(f"{url[:200]}: {ip} is a loopback or private address "
                          f"(--allow-private to fetch it)")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)


def decode_html(body: bytes, content_type: str = "") -> str:
    """A page's text: the charset its headers declare, else its ``<meta charset>``, else
    UTF-8, else trafilatura's guess (``decode_file``).

    >>> decode_html("Привет".encode("windows-1251"), "text/html; charset=windows-1251")
    'Привет'
    >>> decode_html(b'<meta charset="iso-8859-1"><p>caf\\xe9</p>')
    '<meta charset="iso-8859-1"><p>café</p>'
    """
    declared = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", content_type or "", re.I)
    candidates = [declared.group(1)] if declared else []
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for enc in candidates:
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    from trafilatura.utils import decode_file

    return decode_file(body)


@dataclass
class _Robots:
    parser: urllib.robotparser.RobotFileParser
    until: float


class Fetcher:
    """GETs with the limits of ``FetchOptions``; one per monitor (it keeps the connections,
    the per-host clock and the robots.txt cache).  ``sleep`` and ``clock`` are injectable."""

    def __init__(self, options: FetchOptions = FetchOptions(), *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self._sleep = sleep
        self._clock = clock
        self._last: dict[str, float] = {}
        self._robots: dict[str, _Robots] = {}
        self._client = httpx.Client(timeout=httpx.Timeout(options.timeout_s), follow_redirects=False,
                                    trust_env=False, headers={"User-Agent": options.user_agent})
        self.requests = 0       # sent, for reports and benchmarks

    def close(self) -> None:
        self._client.close()

    # --- one URL ------------------------------------------------------------------------------
    def get(self, url: str, headers: Mapping[str, str] | None = None, *,
            max_bytes: int | None = None) -> Response:
        """GET ``url`` (redirects followed and checked); a 304 is returned, other 4xx/5xx
        raise ``HttpError`` (after retries), refusals ``Refused``, the rest ``FetchError``."""
        o = self.options
        current = url
        for _ in range(o.max_redirects + 1):
            check_address(current, allow_private=o.allow_private, allow_networks=o.allow_networks)
            r = self._with_retries(current, dict(headers or {}), max_bytes or o.max_bytes)
            location = r.headers.get("location")
            if r.status in REDIRECTS and location:
                current = urljoin(current, location)
                continue
            if r.status >= 400:
                raise HttpError(f"HTTP {r.status} fetching {current[:200]}", r.status)
            return r
        raise FetchError(f"more than {o.max_redirects} redirects fetching {url[:200]}")

    def _with_retries(self, url: str, headers: dict, max_bytes: int) -> Response:
        o = self.options
        for attempt in range(o.retries + 1):
            last = attempt == o.retries
            try:
                r = self._once(url, headers, max_bytes)
            except (httpx.TransportError, _TooSlow) as e:
                if last:
                    what = "timed out" if isinstance(e, (httpx.TimeoutException, _TooSlow)) else "failed"
                    raise FetchError(f"{what} fetching {url[:200]} ({o.retries + 1} tries): "
                                     f"{type(e).__name__}") from None
                self._sleep(o.backoff_s * 2 ** attempt)
                continue
            if r.status in RETRY_STATUSES and not last:
                wait = o.backoff_s * 2 ** attempt
                after = r.headers.get("retry-after", "")
                if after.isdigit():
                    wait = max(wait, min(float(after), MAX_RETRY_AFTER_S))
                self._sleep(wait)
                continue
            return r
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict, max_bytes: int) -> Response:
        host = urlsplit(url).netloc.lower()
        wait = self._last.get(host, -1e18) + self.options.host_delay_s - self._clock()
        if wait > 0:
            self._sleep(wait)
        start = self._clock()
        self._last[host] = start
        self.requests += 1
        with self._client.stream("GET", url, headers=headers) as r:
            declared = r.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{url[:200]}: body of {int(declared)} bytes is over the limit "
                                 f"of {max_bytes}")
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url[:200]}: body is over the limit of {max_bytes} bytes")
                if self._clock() - start > self.options.timeout_s:
                    raise _TooSlow()
                chunks.append(chunk)
            self._last[host] = self._clock()
            return Response(str(r.url), r.status_code, dict(r.headers), b"".join(chunks))

    # --- robots.txt ------------------------------------------------------------------------------
    def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt lets ``polystory`` fetch ``url`` (always, when
        ``robots`` is off); ``Refused`` for a URL that may not be fetched at all.  No robots.txt (4xx) allows everything; 401/403 and an
        unreachable one (5xx, timeout) allow nothing for now, as RFC 9309 says."""
        o = self.options
        # a URL that may not be fetched at all says so (not "robots.txt forbids")
        check_address(url, allow_private=o.allow_private, allow_networks=o.allow_networks)
        if not o.robots:
            return True
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        cached = self._robots.get(key)
        if cached is None or cached.until < self._clock():
            cached = self._robots[key] = self._fetch_robots(key)
        return cached.parser.can_fetch(ROBOTS_AGENT, url)

    def _fetch_robots(self, origin: str) -> _Robots:
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            r = self.get(origin + "/robots.txt", max_bytes=ROBOTS_MAX_BYTES)
            parser.parse(decode_html(r.body, r.headers.get("content-type", "")).splitlines())
            return _Robots(parser, self._clock() + ROBOTS_TTL_S)
        except HttpError as e:
            if e.code in (401, 403):
                parser.disallow_all = True
            elif e.code >= 500:
                parser.disallow_all = True
                return _Robots(parser, self._clock() + ROBOTS_RETRY_S)
            else:
                parser.parse([])           # no robots.txt: everything allowed
            return _Robots(parser, self._clock() + ROBOTS_TTL_S)
        except FetchError as e:
            log.info("robots.txt of %s: %s; not fetching from it for now", origin, e)
            parser.disallow_all = True
            return _Robots(parser, self._clock() + ROBOTS_RETRY_S)


class _TooSlow(Exception):
    """The whole body took longer than the timeout (a server trickling bytes)."""
