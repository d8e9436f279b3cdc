"""The time range a page shows (``?range=24h`` or ``?from=…&to=…``) and its bucket size."""

from __future__ import annotations

from dataclasses import dataclass

from heron.errors import HeronError
from heron.model.timeutil import NS_PER_S, now_ns, parse_timestamp

__all__ = ["RANGES", "TimeRange", "bucket_for", "resolve_range"]

_M = 60 * NS_PER_S
#: Range choices of the picker: label → length.
RANGES: dict[str, int] = {
    "15m": 15 * _M,
    "1h": 60 * _M,
    "24h": 24 * 60 * _M,
    "7d": 7 * 24 * 60 * _M,
    "30d": 30 * 24 * 60 * _M,
}
_STEPS = [
    _M,
    5 * _M,
    15 * _M,
    30 * _M,
    60 * _M,
    180 * _M,
    360 * _M,
    720 * _M,
    1440 * _M,
    7 * 1440 * _M,
    30 * 1440 * _M,
]


def bucket_for(span_ns: int, buckets: int = 60) -> int:
    """The smallest step giving at most ``buckets`` bars over ``span_ns``."""
    for step in _STEPS:
        if span_ns / step <= buckets:
            return step
    return _STEPS[-1] * max(1, span_ns // (_STEPS[-1] * buckets) + 1)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``[start, end)`` in ns, the picker's label, its bucket, and why it was moved."""

    start: int
    end: int
    label: str
    step: int
    note: str = ""

    @property
    def span(self) -> int:
        return self.end - self.start


def _parse(text: str) -> int:
    try:
        return parse_timestamp(text.strip())
    except (HeronError, ValueError) as exc:
        raise HeronError(f"not a time: {text[:40]!r} (use 2024-03-01T10:00:00Z)") from exc


def resolve_range(
    label: str | None,
    start_text: str | None,
    end_text: str | None,
    *,
    newest: int | None,
    oldest: int | None,
    default: str = "24h",
) -> TimeRange:
    """The range asked for. A relative range ends now, unless the newest stored event is
    older than its start: then it ends at that event (old data sets stay visible)."""
    if start_text or end_text:
        end = _parse(end_text) if end_text else now_ns()
        start = _parse(start_text) if start_text else end - RANGES["24h"]
        if start >= end:
            raise HeronError("the range must start before it ends")
        return TimeRange(start, end, "custom", bucket_for(end - start))
    label = label if label in RANGES or label == "all" else default
    if label == "all":
        end = (newest if newest is not None else now_ns()) + 1
        start = oldest if oldest is not None else end - RANGES["24h"]
        start = min(start, end - _M)
        step = bucket_for(end - start)
        return TimeRange(start - start % step, end, "all", step)
    span = RANGES[label]
    end = now_ns()
    note = ""
    if newest is not None and newest < end - span:
        end = newest + 1
        note = "no events in that span before now; showing the span up to the newest event"
    step = bucket_for(span)
    # Bucket edges on whole steps, so the bars line up with the time labels.
    end = end - end % step + step
    return TimeRange(end - span, end, label, step, note)
