"""What every indicator loader takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from heron.intel.errors import IndicatorError, IntelFormatError
from heron.intel.indicator import Indicator
from heron.intel.store import LOAD_SCHEMA, TAG_SEPARATOR, indicators_to_arrow
from heron.model.timeutil import NS_PER_S, format_ns, now_ns, parse_timestamp

__all__ = [
    "BulkIndicators",
    "LoadOptions",
    "LoadResult",
    "decode_text",
    "parse_time_value",
]


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Defaults for what an input does not say.

    ``source`` names the feed (default: the file's name); ``ttl`` (ns) gives indicators
    without an expiry one, counted from ``now``; ``alert`` is whether matches of
    indicators that do not say raise alerts.
    """

    source: str | None = None
    confidence: int | None = None
    alert: bool = True
    ttl: int | None = None
    tags: tuple[str, ...] = ()
    now: int = field(default_factory=now_ns)


@dataclass(slots=True)
class BulkIndicators:
    """Indicators that share every attribute but type and value (a plain list's lines).

    Kept as two lists rather than a million ``Indicator`` objects: building the objects
    and reading them back into columns would cost more than parsing the values.
    """

    source: str
    confidence: int | None
    alert: bool
    types: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    expires: int | None = None
    tags: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.values)

    def to_table(self) -> pa.Table:
        n = len(self.values)
        constant = {
            "source": pa.array([self.source] * n, pa.string()),
            "confidence": pa.array([self.confidence] * n, pa.int32()),
            "alert": pa.array([self.alert] * n, pa.bool_()),
            "expires": pa.array([self.expires] * n, pa.int64()),
            "tags": pa.array(
                [TAG_SEPARATOR.join(self.tags) if self.tags else None] * n, pa.string()
            ),
        }
        columns = [
            pa.array(self.types, pa.string()),
            pa.array(self.values, pa.string()),
        ] + [
            constant[f.name] if f.name in constant else pa.nulls(n, f.type)
            for f in LOAD_SCHEMA
            if f.name not in ("type", "value")
        ]
        return pa.Table.from_arrays(columns, schema=LOAD_SCHEMA)

    def indicators(self) -> list[Indicator]:
        return [
            Indicator(t, v, self.source, self.confidence, None, self.alert, None, None,
                      self.expires, self.tags)
            for t, v in zip(self.types, self.values, strict=True)
        ]  # fmt: skip


@dataclass(slots=True)
class LoadResult:
    """Indicators read from one input, and the reasons others were refused."""

    where: str
    format: str
    indicators: list[Indicator] = field(default_factory=list)
    errors: list[IndicatorError] = field(default_factory=list)
    #: Indicators the input withdraws (STIX ``revoked``): they expire when loaded.
    revoked: list[Indicator] = field(default_factory=list)
    bulk: list[BulkIndicators] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many indicators were read (not counting those refused)."""
        return len(self.indicators) + sum(len(b) for b in self.bulk)

    def all_indicators(self) -> list[Indicator]:
        """Every indicator as an object (for small inputs and tests; loads use ``to_table``)."""
        return self.indicators + [i for b in self.bulk for i in b.indicators()]

    def to_table(self) -> pa.Table:
        """Everything read, as one table of ``LOAD_SCHEMA`` for ``IntelStore.load``."""
        tables = [indicators_to_arrow(self.indicators)] + [b.to_table() for b in self.bulk]
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]

    def refuse(self, reason: str, at: str = "") -> None:
        place = f"{self.where}:{at}" if at else self.where
        self.errors.append(IndicatorError(reason, where=place))

    def finish(self, options: LoadOptions) -> LoadResult:
        """Apply the defaults of ``options`` and refuse indicators already expired."""
        kept: list[Indicator] = []
        for ind in self.indicators:
            if ind.expires is None and options.ttl is not None:
                ind.expires = options.now + options.ttl
            if ind.expires is not None and ind.expires <= options.now:
                self.errors.append(
                    IndicatorError(
                        f"{ind.type} {ind.value} expired at {format_ns(ind.expires)}; not loaded",
                        where=self.where,
                    )
                )
                continue
            if options.tags:
                ind.tags = tuple(dict.fromkeys((*ind.tags, *options.tags)))
            kept.append(ind)
        self.indicators = kept
        for bulk in self.bulk:
            if bulk.expires is None and options.ttl is not None:
                bulk.expires = options.now + options.ttl
            if options.tags:
                bulk.tags = tuple(dict.fromkeys((*bulk.tags, *options.tags)))
        return self

    def extend(self, other: LoadResult) -> None:
        self.indicators.extend(other.indicators)
        self.bulk.extend(other.bulk)
        self.errors.extend(other.errors)
        self.revoked.extend(other.revoked)


def parse_time_value(value: object) -> int | None:
    """A time from a feed: ISO 8601 text, ``YYYY-MM-DD``, or epoch seconds (or ms)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            if len(text) == 10 and text[4] == "-" and text[7] == "-":
                text += "T00:00:00Z"
            return parse_timestamp(text)
    # Epoch seconds until the year 5138; larger numbers are milliseconds.
    if number > 1e11:
        number /= 1000
    return int(number * NS_PER_S)


def decode_text(data: bytes, where: str) -> str:
    """Bytes of a list or document as text: UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntelFormatError(f"not UTF-8 text (byte {exc.start})", where=where) from None
