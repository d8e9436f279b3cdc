"""Wall-clock times of log lines as int nanoseconds: BSD ``Mmm dd hh:mm:ss``, ISO 8601, zones.

Syslog-family parsers meet the same few time shapes millions of times a second, so
this avoids ``datetime`` on the hot path: the epoch second of a civil date is cached,
a fixed UTC offset is read once, and the rest is integer arithmetic. Zones with
daylight saving (``zoneinfo.ZoneInfo``) are honoured through ``datetime`` only when
one is configured.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heron.parsers.base import ParseContext

__all__ = [
    "MONTHS",
    "NS_PER_S",
    "BsdClock",
    "TimeFieldError",
    "civil_to_ns",
    "fraction_ns",
    "infer_year",
    "iso_to_ns",
    "zone_from_text",
]

NS_PER_S = 1_000_000_000
_DAY = 86_400
# A BSD line dated up to this far after receipt is clock skew, not last year's line.
_FUTURE_SKEW_S = 2 * _DAY
# int64 nanoseconds reach 2262-04-11; the model refuses anything outside 1970..2262.
_NS_MAX = 9_223_372_036_854_775_807

MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
):
    MONTHS[_name] = _i
    MONTHS[_name.upper()] = _i
    MONTHS[_name.lower()] = _i

# Abbreviations seen in device logs (CEF ``rt``, LEEF ``devTime``). Ambiguous ones
# (IST, CST in Asia …) take their most common western meaning; zone names such as
# ``Europe/Berlin`` are looked up in the tz database instead.
_ABBREVIATIONS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "CEST": 120,
    "MET": 60,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "IST": 330,
    "JST": 540,
    "KST": 540,
    "AEST": 600,
    "AEDT": 660,
    "EST": -300,
    "EDT": -240,
    "CST": -360,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
}


class TimeFieldError(ValueError):
    """A date or time field is out of range; the parser turns it into a ParseError."""


def _days_from_civil(year: int, month: int, day: int) -> int:
    # Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date.
    y = year - (month <= 2)
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@lru_cache(maxsize=8192)
def _midnight(year: int, month: int, day: int) -> int:
    if not 1 <= month <= 12:
        raise TimeFieldError(f"month {month} out of range")
    last = 29 if month == 2 and _is_leap(year) else _MONTH_DAYS[month - 1]
    if not 1 <= day <= last:
        if month == 2 and day == 29:
            raise TimeFieldError(f"February 29 in {year}, not a leap year")
        raise TimeFieldError(f"day {day} out of range for month {month}")
    return _days_from_civil(year, month, day) * _DAY


@lru_cache(maxsize=64)
def _fixed_offset(tz: tzinfo) -> int | None:
    """The UTC offset of a zone in seconds when it never changes, else None."""
    if isinstance(tz, timezone):
        offset = tz.utcoffset(None)
        return int(offset.total_seconds()) if offset is not None else 0
    return None


def _offset_at(tz: tzinfo, local_seconds: int) -> int:
    fixed = _fixed_offset(tz)
    if fixed is not None:
        return fixed
    naive = datetime(1970, 1, 1) + timedelta(seconds=local_seconds)
    offset = naive.replace(tzinfo=tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def civil_to_ns(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    nanos: int,
    tz: tzinfo,
) -> int:
    """Nanoseconds since the epoch of a wall-clock time in ``tz``; TimeFieldError if invalid."""
    if hour > 23 or minute > 59 or second > 60:
        raise TimeFieldError(f"time {hour:02d}:{minute:02d}:{second:02d} out of range")
    local = _midnight(year, month, day) + hour * 3600 + minute * 60 + second
    ns = (local - _offset_at(tz, local)) * NS_PER_S + nanos
    if not 0 <= ns <= _NS_MAX:
        raise TimeFieldError(f"year {year} is outside 1970..2262")
    return ns


def fraction_ns(digits: str) -> int:
    """A decimal fraction of a second (``"123"`` → 123_000_000); digits past 9 are dropped."""
    return int(digits[:9].ljust(9, "0")) if digits else 0


def infer_year(
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    tz: tzinfo,
    received_ns: int,
) -> int:
    """The year that puts a year-less time closest before ``received_ns``.

    A December line read in January belongs to last year; a line a little in the
    future (clocks disagree) keeps the current year. Feb 29 goes to the latest leap year.
    """
    received_s = received_ns // NS_PER_S
    off = _fixed_offset(tz)
    local_now = received_s + (off if off is not None else _offset_at(tz, received_s))
    candidate = _year_of_day(local_now // _DAY)
    limit = local_now + _FUTURE_SKEW_S
    error = TimeFieldError(f"no year before {candidate + 1} has {month:02d}-{day:02d}")
    for y in range(candidate, candidate - 8, -1):
        try:
            local = _midnight(y, month, day) + hour * 3600 + minute * 60 + second
        except TimeFieldError as exc:
            error = exc
            continue
        if local <= limit:
            return y
    raise error


@lru_cache(maxsize=256)
def _year_of_day(days: int) -> int:
    return (datetime(1970, 1, 1) + timedelta(days=days)).year


def zone_from_text(text: str) -> tzinfo | None:
    """A zone from ``Z``, ``+01:00``, ``+0100``, ``+01``, ``GMT-0200``, ``CET`` or an IANA name."""
    t = text.strip()
    if not t:
        return None
    upper = t.upper()
    if upper in _ABBREVIATIONS:
        minutes = _ABBREVIATIONS[upper]
        return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))
    for prefix in ("GMT", "UTC"):
        if upper.startswith(prefix) and len(t) > 3 and t[3] in "+-":
            return zone_from_text(t[3:])
    if t[0] in "+-":
        digits = t[1:].replace(":", "")
        if not (digits.isascii() and digits.isdigit()) or len(digits) not in (1, 2, 3, 4):
            return None
        if len(digits) <= 2:
            hours, minutes = int(digits), 0
        else:
            hours, minutes = int(digits[:-2]), int(digits[-2:])
        if hours > 23 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(delta if t[0] == "+" else -delta)
    if "/" in t and t.isascii():
        return _iana(t)
    return None


@lru_cache(maxsize=128)
def _iana(name: str) -> tzinfo | None:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return None


_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,]([0-9]+))?[ ]?(.*)",
    re.DOTALL,
)


def iso_to_ns(text: str, default_tz: tzinfo) -> int:
    """An ISO 8601 / RFC 3339 time (``T`` or space between date and time) in ns.

    Up to 9 fraction digits are kept; a missing zone means ``default_tz``. Zones may be
    ``Z``, ``±HH:MM``, ``±HHMM`` or ``±HH``, optionally after a space.
    """
    m = _ISO.match(text)
    if m is None:
        raise TimeFieldError(f"not an ISO 8601 time: {text[:40]!r}")
    year, month, day, hour, minute, second, fraction, rest = m.groups()
    tz = default_tz
    if rest:
        if rest == "Z" or rest == "z":
            tz = UTC
        else:
            zone = zone_from_text(rest)
            if zone is None:
                raise TimeFieldError(f"unknown time zone {rest[:16]!r}")
            tz = zone
    return civil_to_ns(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        fraction_ns(fraction) if fraction else 0,
        tz,
    )


class BsdClock:
    """BSD dates (``Mmm dd`` with an optional year) of one context, each date computed once.

    Lines of a file share few dates, so the UTC second of each date's local midnight is
    cached per context (year, zone and receipt day); a line then costs one dict lookup
    and three small ints. Zones with daylight saving skip the cache of offsets.
    """

    __slots__ = ("_ctx", "_dates", "_fixed", "_local_now", "_sig", "_tz", "_year")

    def __init__(self) -> None:
        self._ctx: object = None
        self._sig: tuple[object, ...] = ()
        self._dates: dict[tuple[str, str, str | None], tuple[int, int, int, int]] = {}
        self._fixed: int | None = 0
        self._year: int | None = None
        self._local_now = 0
        self._tz: tzinfo = UTC

    def to_ns(
        self,
        ctx: ParseContext,
        date: tuple[str, str, str | None],
        hour: int,
        minute: int,
        second: int,
        nanos: int,
    ) -> int:
        """Nanoseconds of ``date`` (month name, day, year or None) at the given time."""
        if ctx is not self._ctx:
            self._bind(ctx)
        entry = self._dates.get(date)
        if entry is None:
            entry = self._date_entry(date)
            if len(self._dates) > 4096:
                self._dates.clear()
            self._dates[date] = entry
        if hour > 23 or minute > 59 or second > 60:
            raise TimeFieldError(f"time {hour:02d}:{minute:02d}:{second:02d} out of range")
        local = entry[0] + hour * 3600 + minute * 60 + second
        offset = self._fixed if self._fixed is not None else _offset_at(self._tz, local)
        ns = (local - offset) * NS_PER_S + nanos
        if not 0 <= ns <= _NS_MAX:
            raise TimeFieldError(f"year {entry[1]} is outside 1970..2262")
        return ns

    def _bind(self, ctx: ParseContext) -> None:
        # The context object is recorded last, so a reader never sees it with old settings.
        received_ns = ctx.received or time.time_ns()
        sig = (ctx.year, ctx.timezone, received_ns // (NS_PER_S * _DAY))
        if sig != self._sig:
            tz = ctx.timezone
            fixed = _fixed_offset(tz)
            received_s = received_ns // NS_PER_S
            self._dates = {}
            self._tz, self._fixed, self._year = tz, fixed, ctx.year
            self._local_now = received_s + (
                fixed if fixed is not None else _offset_at(tz, received_s)
            )
            self._sig = sig
        self._ctx = ctx

    def _date_entry(self, date: tuple[str, str, str | None]) -> tuple[int, int, int, int]:
        mon, day_text, year_text = date
        month = MONTHS.get(mon)
        if month is None:
            raise TimeFieldError(f"unknown month {mon!r}")
        day = int(day_text)
        if year_text is not None:
            year = int(year_text)
        elif self._year is not None:
            year = self._year
        else:
            year = self._infer(month, day)
        return _midnight(year, month, day), year, month, day

    def _infer(self, month: int, day: int) -> int:
        candidate = _year_of_day(self._local_now // _DAY)
        limit = self._local_now + _FUTURE_SKEW_S
        error = TimeFieldError(f"no year before {candidate + 1} has {month:02d}-{day:02d}")
        for y in range(candidate, candidate - 8, -1):
            try:
                if _midnight(y, month, day) <= limit:
                    return y
            except TimeFieldError as exc:
                error = exc
        raise error
