"""How a rule sees one event: field lookup with ECS fallback, values as text, cached.

An ``EventView`` is made once per event (and log-source adapter) and shared by the
prefilter and by every rule checked on that event, so each field is looked up and
lowercased at most once however many rules read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from heron.detect.sigma.fieldmap import ECS_FALLBACK

__all__ = ["NOT_KEYWORD_SEARCHED", "EventView", "as_text", "joined_text", "original_as_message"]

Text = str | tuple[str, ...] | None
_MISSING: Final = object()

#: Fields never searched by keyword rules: bookkeeping, not content.
NOT_KEYWORD_SEARCHED = frozenset(
    {"event.original", "event.id", "event.ingested", "@timestamp", "log.file.path"}
)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def as_text(value: Any) -> Text:
    """A field value as Sigma compares it: text, a tuple of texts for lists, or None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(t for t in (_scalar_text(v) for v in value) if t is not None)
    return _scalar_text(value)


def _lower(text: Text) -> Text:
    if isinstance(text, str):
        return text.lower()
    if text is None:
        return None
    return tuple(t.lower() for t in text)


class EventView:
    """Read-only access to one event's fields the way Sigma rules read them."""

    __slots__ = ("_blob", "_cased", "_keywords", "_lower", "_probe", "fields")

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self._lower: dict[str, Text] = {}
        self._cased: dict[str, Text] = {}
        self._keywords: tuple[str, ...] | None = None
        self._blob: str | None = None
        self._probe: dict[bool, str] | None = None

    def get(self, name: str) -> Any:
        """The raw value: the field itself, else its ECS equivalent, else None."""
        value = self.fields.get(name)
        if value is None:
            alt = ECS_FALLBACK.get(name)
            if alt is not None:
                value = self.fields.get(alt)
        return value

    def text(self, name: str) -> Text:
        """The value as text (case kept)."""
        cached = self._cased.get(name, _MISSING)
        if cached is not _MISSING:
            return cast(Text, cached)
        text = self._cased[name] = as_text(self.get(name))
        return text

    def lower(self, name: str) -> Text:
        """The value as lowercase text: what case-insensitive tests compare."""
        cached = self._lower.get(name, _MISSING)
        if cached is not _MISSING:
            return cast(Text, cached)
        value = self.fields.get(name)
        text: Text
        if value.__class__ is str:
            text = value.lower()
        elif value is None and name not in ECS_FALLBACK:
            text = None
        elif value.__class__ is list:
            # A list of texts (event.category, related.ip) without two generator passes;
            # any other item (a number, None) raises and takes the general path.
            try:
                text = tuple(map(str.lower, value))
            except TypeError:
                text = _lower(self.text(name))
        else:
            text = _lower(self.text(name))
        self._lower[name] = text
        return text

    def set_lower(self, name: str, text: Text) -> None:
        """Record a lowercased value computed elsewhere (the prefilter)."""
        self._lower[name] = text

    def keyword_texts(self, cased: bool = False) -> tuple[str, ...]:
        """Every searchable value as text, for keyword (field-less) rules."""
        texts = self._keywords
        if texts is None:
            texts = self._keywords = _searchable(self.fields)
        return texts if cased else tuple(t.lower() for t in texts)

    def keyword_blob(self) -> str:
        """All searchable values, lowercased, joined by NUL: one string to scan for literals.

        A literal without NUL occurs in the blob exactly when it occurs in one value.
        """
        blob = self._blob
        if blob is None:
            blob = self._blob = self.keyword_probe_text(True).lower()
        return blob

    def keyword_probe_text(self, with_ints: bool) -> str:
        """The searchable values joined by NUL, case kept, whole numbers left out unless
        ``with_ints``: what a prefilter scans before it asks for ``keyword_blob``.

        A literal with a character other than a digit or "-" cannot occur in a number's
        text, and a third of a Windows event's values are numbers.
        """
        probe = self._probe
        if probe is None:
            probe = self._probe = {}
        else:
            text = probe.get(with_ints)
            if text is not None:
                return text
        text = probe[with_ints] = self._joined(with_ints)
        return text

    def _joined(self, with_ints: bool) -> str:
        skip = NOT_KEYWORD_SEARCHED
        if with_ints:
            parts = [
                v if v.__class__ is str else str(v) if v.__class__ is int else joined_text(v)
                for k, v in self.fields.items()
                if v is not None and k not in skip
            ]
        else:
            parts = [
                v if v.__class__ is str else joined_text(v)
                for k, v in self.fields.items()
                if v is not None and v.__class__ is not int and k not in skip
            ]
        extra = original_as_message(self.fields)
        if extra is not None:
            parts.append(extra)
        return "\0".join(parts)


def joined_text(value: Any) -> str:
    """A non-text value as keyword searches see it: list elements joined by NUL."""
    text = as_text(value)
    if text is None:
        return ""
    return text if isinstance(text, str) else "\0".join(text)


def original_as_message(fields: Mapping[str, Any]) -> str | None:
    """``event.original`` when it stands for the message: a raw line with no ``message``.

    JSON or XML records are not searched as text (their field names would match).
    """
    original = fields.get("event.original")
    if (
        isinstance(original, str)
        and "message" not in fields
        and original.lstrip()[:1] not in ("{", "<")
    ):
        return original
    return None


def _searchable(fields: Mapping[str, Any]) -> tuple[str, ...]:
    skip = NOT_KEYWORD_SEARCHED
    texts: list[str] = []
    for k, v in fields.items():
        if v is None or k in skip:
            continue
        text = as_text(v)
        if isinstance(text, str):
            texts.append(text)
        elif text:
            texts.extend(text)
    extra = original_as_message(fields)
    if extra is not None:
        texts.append(extra)
    return tuple(texts)
