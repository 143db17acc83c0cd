"""All of polystory's exceptions.  Messages are one line."""
from __future__ import annotations

__all__ = [
    "PolystoryError", "ConfigError", "FetchError", "ParseError", "StoreError",
    "NotFound", "NotFittedError",
]


class PolystoryError(Exception):
    """Base class: the CLI prints ``str(err)`` and exits non-zero."""

    status = 500


class ConfigError(PolystoryError, ValueError):
    """A setting or parameter has a value it cannot take."""

    status = 400


class FetchError(PolystoryError):
    """An input (file or URL) could not be read."""

    status = 502


class ParseError(PolystoryError, ValueError):
    """An input could be read but not understood; ``where`` is ``file:line``."""

    status = 400

    def __init__(self, message: str, where: str = "") -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(PolystoryError):
    """The store cannot be opened, read or written."""


class NotFound(PolystoryError, KeyError):
    status = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class NotFittedError(PolystoryError, AttributeError):
    """An estimator was asked to predict before it learned anything."""
