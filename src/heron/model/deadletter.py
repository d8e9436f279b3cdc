"""Dead letters: input Heron could not turn into an event, kept with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RAW_KEEP_BYTES", "DeadLetter"]

#: How much of an oversized raw record a dead letter keeps (the rest is counted, not kept).
RAW_KEEP_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected record: where it came from, why, and its raw text."""

    source: str  # a file path, or a network source name
    reason: str
    raw: str
    location: str = ""  # "line 12", "record 7", "offset 4096"
    received: int = 0  # ns since the epoch
    raw_size: int = 0  # size of the original record in bytes, when ``raw`` is cut

    @classmethod
    def of(
        cls,
        source: str,
        reason: str,
        raw: str | bytes,
        location: str = "",
        received: int = 0,
    ) -> DeadLetter:
        """A dead letter keeping at most ``RAW_KEEP_BYTES`` of ``raw`` (bytes kept escaped)."""
        if isinstance(raw, bytes):
            size = len(raw)
            text = raw[:RAW_KEEP_BYTES].decode("utf-8", errors="backslashreplace")
        else:
            size = len(raw.encode("utf-8", errors="surrogatepass"))
            text = raw[:RAW_KEEP_BYTES] if size > RAW_KEEP_BYTES else raw
        return cls(source, reason, text, location, received, size)

    def to_dict(self) -> dict[str, Any]:
        """As JSON (``received`` in ns since the epoch)."""
        return {
            "received": self.received,
            "source": self.source,
            "location": self.location,
            "reason": self.reason,
            "raw_size": self.raw_size,
            "raw": self.raw,
        }
