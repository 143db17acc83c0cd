"""What keeps other web pages out of a server left running on a desktop.

Two checks, both before any route runs:

- **Host**: a request whose ``Host`` header names neither the address the server is bound to
  (nor, on loopback, ``localhost`` / ``127.0.0.1`` / ``::1``) nor a name the operator allowed
  is refused with 421.  A page on ``evil.example`` whose DNS name is re-pointed at 127.0.0.1
  (DNS rebinding) sends ``Host: evil.example`` and so reads and writes nothing.
- **JSON writes**: ``POST`` bodies must be ``Content-Type: application/json`` (415 otherwise).
  A cross-site form or ``fetch(..., {mode: "no-cors"})`` can only send ``text/plain``,
  ``application/x-www-form-urlencoded`` or ``multipart/form-data`` without a CORS
  preflight, and this server answers no preflight, so no other origin can write.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable

from ..errors import PolystoryError

__all__ = ["HostGuard", "MisdirectedRequest", "UnsupportedMediaType", "LOOPBACK_NAMES",
           "allowed_hosts_for", "is_json_media_type"]

#: The names a browser on this machine uses for a loopback server.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
#: Bind addresses that listen on every interface.
WILDCARDS = ("0.0.0.0", "::", "")


class MisdirectedRequest(PolystoryError):
    """A request whose ``Host`` header is not a name this server answers to."""

    status = 421


class UnsupportedMediaType(PolystoryError):
    """A write whose body is not declared as JSON."""

    status = 415


def _hostname(host: str) -> str:
    """The host part of a ``Host`` header, lower case, without port or IPv6 brackets.

    >>> _hostname("LocalHost:8000"), _hostname("[::1]:8000"), _hostname("::1"), _hostname("a.b.")
    ('localhost', '::1', '::1', 'a.b')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _is_loopback_name(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts_for(bound: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The ``Host`` names a server bound to ``bound`` answers to, plus ``extra``.

    A loopback bind answers to the loopback names; a wildcard bind (``0.0.0.0``) to any IP
    address literal (an IP address cannot be re-pointed by DNS) and ``localhost``, written
    ``"*ip"`` here; any other bind to its own address.  ``"*"`` in ``extra`` turns the check
    off.

    >>> allowed_hosts_for("127.0.0.1")
    ('127.0.0.1', 'localhost', '::1')
    >>> allowed_hosts_for("0.0.0.0", ["news.example"])
    ('*ip', 'localhost', 'news.example')
    """
    bound = _hostname(bound)
    names: list[str] = []
    if bound in WILDCARDS:
        names += ["*ip", "localhost"]
    elif _is_loopback_name(bound):
        names += [bound, *LOOPBACK_NAMES]
    else:
        names.append(bound)
    names += [_hostname(x) if x != "*" else "*" for x in extra if x]
    return tuple(dict.fromkeys(names))


class HostGuard:
    """Decides whether a ``Host`` header names this server.

    >>> g = HostGuard(allowed_hosts_for("127.0.0.1"))
    >>> g.allows("127.0.0.1:8000"), g.allows("localhost:8000"), g.allows("evil.example:8000")
    (True, True, False)
    >>> HostGuard(["*"]).allows("anything.example")
    True
    """

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = tuple(allowed)
        self._names = frozenset(self.allowed)

    def allows(self, host_header: str | None) -> bool:
        if "*" in self._names:
            return True
        if not host_header:       # HTTP/1.0 without Host: not a browser
            return False
        name = _hostname(host_header)
        return name in self._names or ("*ip" in self._names and _is_ip(name))

    def check(self, host_header: str | None) -> None:
        """``MisdirectedRequest`` unless ``allows(host_header)``."""
        if not self.allows(host_header):
            shown = (host_header or "")[:100]
            raise MisdirectedRequest(
                f"this server does not answer to host {shown!r}: serve with --allowed-host "
                f"NAME to allow a name (allowed: {', '.join(self.allowed)})")


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` declares JSON (``application/json``, or ``+json``).

    >>> is_json_media_type("application/json; charset=utf-8"), is_json_media_type("text/plain")
    (True, False)
    >>> is_json_media_type("application/x-www-form-urlencoded"), is_json_media_type(None)
    (False, False)
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_json_write(content_type: str | None) -> None:
    """``UnsupportedMediaType`` unless the body is declared as JSON."""
    if not is_json_media_type(content_type):
        shown = (content_type or "none")[:100]
        raise UnsupportedMediaType(f"writes take JSON only: send 'Content-Type: application/json' "
                                   f"(got {shown})")
