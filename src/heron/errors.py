"""The typed error tree: every error says where it happened."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataDirLockedError",
    "EventValidationError",
    "HeronError",
    "ParseError",
    "StoreError",
]


class HeronError(Exception):
    """Base of every error Heron raises on purpose."""


class ConfigError(HeronError):
    """A configuration value or command-line option is wrong."""


class ParseError(HeronError):
    """A raw record could not be parsed; ``reason`` is what a person reads."""

    def __init__(self, reason: str, *, parser: str = "", offset: int | None = None) -> None:
        self.reason = reason
        self.parser = parser
        self.offset = offset
        where = f"{parser}: " if parser else ""
        super().__init__(f"{where}{reason}")


class EventValidationError(HeronError):
    """An event carries a value of the wrong type for a typed field."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"field {field!r} must be {expected}, got {shown}")


class StoreError(HeronError):
    """The store could not do what was asked."""


class DataDirLockedError(StoreError):
    """Another process holds the data directory's database."""
