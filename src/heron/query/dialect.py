"""The SQL differences between the stores, in one place.

The compiler builds sqlglot expressions; where DuckDB and ClickHouse spell a thing
differently (JSON access, list predicates, nanosecond time, tolerant casts, string
search) it asks the ``Dialect``. Everything else is plain sqlglot, which prints the
right SQL for either engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlglot import exp

__all__ = ["CLICKHOUSE", "DUCKDB", "ClickHouseDialect", "Dialect", "DuckDBDialect", "get_dialect"]

_NS_PER_S = 1_000_000_000
#: The lambda parameter of list predicates; no field can be named like this.
_ELEMENT = "_e"


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """A call of the SQL function ``name`` (a fixed name chosen by the compiler)."""
    return exp.Anonymous(this=name, expressions=list(args))


def text(value: str) -> exp.Literal:
    """A string literal; sqlglot escapes it for the target dialect."""
    return exp.Literal.string(value)


def number(value: int | float) -> exp.Expr:
    if value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def timestamp_text(ns: int) -> str:
    """``YYYY-MM-DD HH:MM:SS.fffffffff`` in UTC, as both engines read it."""
    seconds, nanos = divmod(ns, _NS_PER_S)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{base}.{nanos:09d}" if nanos else base


class Dialect:
    """How one SQL engine spells what the hunting language needs (DuckDB by default)."""

    name = "duckdb"
    #: ORDER BY a bare name means the output column of that name (not an input column).
    order_by_output_names = True

    def finalize(self, select: exp.Select) -> exp.Select:
        """The finished statement, with any settings the engine needs to run it as meant."""
        return select

    # -- values ------------------------------------------------------------------------

    def json_field(self, column: exp.Expr, key: str) -> exp.Expr:
        """The text of the top-level key ``key`` of the JSON in ``column`` (NULL if absent)."""
        path = '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return fn("json_extract_string", column, text(path))

    def timestamp(self, ns: int) -> exp.Expr:
        return exp.Cast(
            this=text(timestamp_text(ns)), to=exp.DataType.build("TIMESTAMP_NS", dialect="duckdb")
        )

    def epoch_ns(self, value: exp.Expr) -> exp.Expr:
        return fn("epoch_ns", value)

    def from_epoch_ns(self, value: exp.Expr) -> exp.Expr:
        return fn("make_timestamp_ns", value)

    def int_div(self, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        return exp.IntDiv(this=left, expression=right)

    # -- tolerant conversions (NULL when the value does not convert) ---------------------

    def to_string(self, value: exp.Expr) -> exp.Expr:
        return exp.Cast(this=value, to=exp.DataType.build("VARCHAR"))

    def to_double(self, value: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))

    def to_long(self, value: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=value, to=exp.DataType.build("BIGINT"))

    def to_datetime(self, value: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=value, to=exp.DataType.build("TIMESTAMP_NS", dialect="duckdb"))

    # -- strings -----------------------------------------------------------------------

    def lower(self, value: exp.Expr) -> exp.Expr:
        return exp.Lower(this=value)

    def upper(self, value: exp.Expr) -> exp.Expr:
        return exp.Upper(this=value)

    def strlen(self, value: exp.Expr) -> exp.Expr:
        return fn("length", value)

    def substring(self, value: exp.Expr, start1: exp.Expr, length: exp.Expr | None) -> exp.Expr:
        args = [value, start1] if length is None else [value, start1, length]
        return fn("substring", *args)

    def index_of(self, value: exp.Expr, part: exp.Expr) -> exp.Expr:
        """0-based position of ``part`` in ``value``, -1 when absent (Kusto's indexof)."""
        return exp.Sub(this=fn("strpos", value, part), expression=number(1))

    def split(self, value: exp.Expr, delimiter: exp.Expr) -> exp.Expr:
        return fn("string_split", value, delimiter)

    def contains(self, value: exp.Expr, part: exp.Expr, *, cased: bool) -> exp.Expr:
        if cased:
            return fn("contains", value, part)
        return fn("contains", self.lower(value), self.lower(part))

    def starts_with(self, value: exp.Expr, part: exp.Expr, *, cased: bool) -> exp.Expr:
        if cased:
            return fn("starts_with", value, part)
        return fn("starts_with", self.lower(value), self.lower(part))

    def ends_with(self, value: exp.Expr, part: exp.Expr, *, cased: bool) -> exp.Expr:
        if cased:
            return fn("ends_with", value, part)
        return fn("ends_with", self.lower(value), self.lower(part))

    def regex_match(self, value: exp.Expr, pattern: str) -> exp.Expr:
        # DuckDB's regexp_matches and ClickHouse's match both run RE2.
        return exp.RegexpLike(this=value, expression=text(pattern))

    def regex_extract(self, value: exp.Expr, pattern: str, group: int) -> exp.Expr:
        return fn("regexp_extract", value, text(pattern), number(group))

    # -- lists -------------------------------------------------------------------------

    def list_contains(self, values: exp.Expr, item: exp.Expr) -> exp.Expr:
        return fn("list_contains", values, item)

    def list_has_any(self, values: exp.Expr, items: Sequence[exp.Expr]) -> exp.Expr:
        return fn("list_has_any", values, exp.Array(expressions=list(items)))

    def list_any(self, values: exp.Expr, predicate: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
        """True when ``predicate`` holds for some element of ``values``."""
        element = exp.to_identifier(_ELEMENT)
        test = exp.Lambda(this=predicate(exp.column(_ELEMENT)), expressions=[element])
        return exp.GT(this=fn("len", fn("list_filter", values, test)), expression=number(0))

    def list_length(self, values: exp.Expr) -> exp.Expr:
        return fn("len", values)

    def list_slice(self, values: exp.Expr, count: int) -> exp.Expr:
        return fn("list_slice", values, number(1), number(count))

    # -- aggregates --------------------------------------------------------------------

    def count_if(self, condition: exp.Expr) -> exp.Expr:
        # DuckDB's count_if gives NULL (not 0) when the condition is never true or false.
        return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))

    def make_set(self, value: exp.Expr) -> exp.Expr:
        # Sorted, so a set reads the same on every run and store; an empty group gives []
        # as in Kusto (and ClickHouse), not NULL.
        distinct = fn("list_sort", exp.ArrayUniqueAgg(this=value))
        return exp.Coalesce(this=distinct, expressions=[exp.Array()])

    def make_list(self, value: exp.Expr) -> exp.Expr:
        not_null = exp.Where(this=exp.Not(this=exp.Is(this=value, expression=exp.Null())))
        listed = exp.Filter(this=fn("list", value), expression=not_null)
        return exp.Coalesce(this=listed, expressions=[exp.Array()])

    def pack(self, values: Sequence[exp.Expr]) -> exp.Expr:
        """One value holding several (for arg_max over many columns of the same row)."""
        return exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.to_identifier(f"c{i}"), expression=v)
                for i, v in enumerate(values)
            ]
        )

    def unpack(self, packed: exp.Expr, index: int) -> exp.Expr:
        return fn("struct_extract", packed, text(f"c{index}"))

    # -- time parts --------------------------------------------------------------------

    def time_part(self, part: str, value: exp.Expr) -> exp.Expr:
        """``hour``, ``dayofweek`` (0 = Sunday), ``day``, ``month`` or ``year`` of a datetime."""
        return fn(part, value)

    def start_of_month(self, value: exp.Expr) -> exp.Expr:
        return exp.Cast(
            this=fn("date_trunc", text("month"), value),
            to=exp.DataType.build("TIMESTAMP_NS", dialect="duckdb"),
        )


class DuckDBDialect(Dialect):
    """DuckDB (the embedded store)."""


class ClickHouseDialect(Dialect):
    """ClickHouse: ``DateTime64(9, 'UTC')`` times, ``Array(String)`` lists, JSON text."""

    name = "clickhouse"
    # ClickHouse resolves names to columns first here (the setting below), so the
    # compiler nests a sort instead of ordering by an alias in the same SELECT.
    order_by_output_names = False

    def finalize(self, select: exp.Select) -> exp.Select:
        # ClickHouse lets a SELECT alias shadow a column everywhere in the statement
        # (bin(@timestamp, 5m) AS "@timestamp" would change min("@timestamp") beside it);
        # resolving names to columns first gives the pipe's meaning, as in DuckDB.
        settings = [exp.EQ(this=exp.column("prefer_column_name_to_alias"), expression=number(1))]
        if select.find(exp.Join) is not None:
            # Without it ClickHouse fills unmatched outer-join columns with '' and 0, not NULL.
            settings.append(exp.EQ(this=exp.column("join_use_nulls"), expression=number(1)))
        select.set("settings", settings)
        return select

    def json_field(self, column: exp.Expr, key: str) -> exp.Expr:
        # JSONExtractString gives '' for non-strings; DuckDB's json_extract_string gives
        # the JSON text of numbers and booleans and NULL for null or absent keys.
        kind = fn("JSONType", column, text(key))
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=kind, expression=text("String")),
                    true=fn("JSONExtractString", column, text(key)),
                ),
                exp.If(this=exp.EQ(this=kind, expression=text("Null")), true=exp.Null()),
            ],
            default=fn("JSONExtractRaw", column, text(key)),
        )

    def timestamp(self, ns: int) -> exp.Expr:
        return fn("toDateTime64", text(timestamp_text(ns)), number(9), text("UTC"))

    def epoch_ns(self, value: exp.Expr) -> exp.Expr:
        return fn("toUnixTimestamp64Nano", value)

    def from_epoch_ns(self, value: exp.Expr) -> exp.Expr:
        return fn("fromUnixTimestamp64Nano", fn("toInt64", value), text("UTC"))

    def int_div(self, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        return fn("intDiv", left, right)

    def to_string(self, value: exp.Expr) -> exp.Expr:
        return fn("toString", value)

    def to_double(self, value: exp.Expr) -> exp.Expr:
        return fn("toFloat64OrNull", fn("toString", value))

    def to_long(self, value: exp.Expr) -> exp.Expr:
        return fn("toInt64OrNull", fn("toString", value))

    def to_datetime(self, value: exp.Expr) -> exp.Expr:
        return fn("parseDateTime64BestEffortOrNull", fn("toString", value), number(9), text("UTC"))

    def lower(self, value: exp.Expr) -> exp.Expr:
        return fn("lowerUTF8", value)

    def upper(self, value: exp.Expr) -> exp.Expr:
        return fn("upperUTF8", value)

    def strlen(self, value: exp.Expr) -> exp.Expr:
        return fn("lengthUTF8", value)

    def substring(self, value: exp.Expr, start1: exp.Expr, length: exp.Expr | None) -> exp.Expr:
        args = [value, start1] if length is None else [value, start1, length]
        return fn("substringUTF8", *args)

    def index_of(self, value: exp.Expr, part: exp.Expr) -> exp.Expr:
        return exp.Sub(this=fn("positionUTF8", value, part), expression=number(1))

    def split(self, value: exp.Expr, delimiter: exp.Expr) -> exp.Expr:
        return fn("splitByString", delimiter, value)

    def contains(self, value: exp.Expr, part: exp.Expr, *, cased: bool) -> exp.Expr:
        name = "position" if cased else "positionCaseInsensitiveUTF8"
        return exp.GT(this=fn(name, value, part), expression=number(0))

    def starts_with(self, value: exp.Expr, part: exp.Expr, *, cased: bool) -> exp.Expr:
        if cased:
            return fn("startsWith", value, part)
        return fn("startsWith", self.lower(value), self.lower(part))

    def ends_with(self, value: exp.Expr, part: exp.Expr, *, cased: bool) -> exp.Expr:
        if cased:
            return fn("endsWith", value, part)
        return fn("endsWith", self.lower(value), self.lower(part))

    def regex_extract(self, value: exp.Expr, pattern: str, group: int) -> exp.Expr:
        return fn("regexpExtract", value, text(pattern), number(group))

    def list_contains(self, values: exp.Expr, item: exp.Expr) -> exp.Expr:
        return fn("has", values, item)

    def list_has_any(self, values: exp.Expr, items: Sequence[exp.Expr]) -> exp.Expr:
        return fn("hasAny", values, exp.Array(expressions=list(items)))

    def list_any(self, values: exp.Expr, predicate: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
        element = exp.to_identifier(_ELEMENT)
        test = exp.Lambda(this=predicate(exp.column(_ELEMENT)), expressions=[element])
        return fn("arrayExists", test, values)

    def list_length(self, values: exp.Expr) -> exp.Expr:
        return fn("length", values)

    def list_slice(self, values: exp.Expr, count: int) -> exp.Expr:
        return fn("arraySlice", values, number(1), number(count))

    def count_if(self, condition: exp.Expr) -> exp.Expr:
        return fn("countIf", condition)

    def make_set(self, value: exp.Expr) -> exp.Expr:
        return fn("arraySort", fn("groupUniqArray", value))

    def make_list(self, value: exp.Expr) -> exp.Expr:
        return fn("groupArray", value)

    def pack(self, values: Sequence[exp.Expr]) -> exp.Expr:
        return fn("tuple", *values)

    def unpack(self, packed: exp.Expr, index: int) -> exp.Expr:
        return fn("tupleElement", packed, number(index + 1))

    def time_part(self, part: str, value: exp.Expr) -> exp.Expr:
        if part == "dayofweek":  # ClickHouse counts Monday = 1 … Sunday = 7
            return exp.Mod(this=fn("toDayOfWeek", value), expression=number(7))
        names = {"hour": "toHour", "day": "toDayOfMonth", "month": "toMonth", "year": "toYear"}
        return fn(names[part], value)

    def start_of_month(self, value: exp.Expr) -> exp.Expr:
        return fn("toDateTime64", fn("toStartOfMonth", value), number(9), text("UTC"))


DUCKDB = DuckDBDialect()
CLICKHOUSE = ClickHouseDialect()
_DIALECTS: dict[str, Dialect] = {"duckdb": DUCKDB, "clickhouse": CLICKHOUSE}


def get_dialect(name: str | Dialect) -> Dialect:
    """The dialect called ``name`` (``duckdb`` or ``clickhouse``)."""
    if isinstance(name, Dialect):
        return name
    try:
        return _DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown SQL dialect {name!r}; use one of {sorted(_DIALECTS)}") from None
