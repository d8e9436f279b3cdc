"""Errors of threat-intelligence loading: each says which file, feed, line or object."""

from __future__ import annotations

from heron.errors import HeronError

__all__ = ["FeedError", "IndicatorError", "IntelError", "IntelFormatError"]


class IntelError(HeronError):
    """Something about threat intelligence went wrong; ``where`` names the input."""

    def __init__(self, reason: str, *, where: str = "") -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


class IndicatorError(IntelError):
    """One indicator (a row, a STIX object, a MISP attribute) was refused; the rest load."""


class IntelFormatError(IntelError):
    """A whole input cannot be read: unknown format, invalid JSON, not a STIX bundle …"""


class FeedError(IntelError):
    """A remote feed (TAXII, HTTP) failed: timeout, refused connection, HTTP error."""
