"""The functions of the hunting language: scalar (strings, numbers, time) and aggregates.

Each entry says how many arguments it takes and builds typed SQL from already compiled
arguments; the SQL function names are the compiler's own, never the query's text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from heron.query import ast
from heron.query.dialect import Dialect, fn, number, text
from heron.query.errors import QueryTypeError
from heron.query.schema import QType
from heron.query.scope import Context, Typed

if TYPE_CHECKING:
    from heron.query.expr import ExprCompiler

__all__ = ["FUNCTIONS", "CallSite", "Function", "bool_of_text"]

_DAY_NS = 86_400_000_000_000
_WEEK_START_NS = 3 * _DAY_NS  # 1970-01-04 was the first Sunday after the epoch


@dataclass(slots=True)
class CallSite:
    """A call being compiled: its arguments (compiled) and where it is."""

    ctx: Context
    node: ast.Call
    args: list[Typed]
    compiler: ExprCompiler

    @property
    def dialect(self) -> Dialect:
        return self.ctx.dialect

    def error(
        self, message: str, arg: int | None = None, hint: str | None = None
    ) -> QueryTypeError:
        span = self.node.args[arg].span if arg is not None else self.node.span
        error = self.ctx.error(QueryTypeError, message, span, hint)
        assert isinstance(error, QueryTypeError)
        return error

    def text_arg(self, i: int) -> exp.Expr:
        return self.compiler.as_text(self.args[i], self.node.args[i])

    def number_arg(self, i: int) -> exp.Expr:
        value = self.args[i]
        if not (value.type.numeric or value.type.loose):
            raise self.error(f"{self.node.name}() needs a number here, not a {value.type.value}", i)
        return self.compiler.as_number(value)

    def time_arg(self, i: int) -> exp.Expr:
        value = self.args[i]
        if value.type is QType.DATETIME:
            return value.sql
        if value.type.loose:
            return self.dialect.to_datetime(value.sql)
        raise self.error(f"{self.node.name}() needs a datetime, not a {value.type.value}", i)

    def bool_arg(self, i: int) -> exp.Expr:
        value = self.args[i]
        if value.type is not QType.BOOL:
            raise self.error(f"{self.node.name}() needs a condition here", i)
        return value.sql

    def const(self, i: int, qtype: QType, what: str) -> int | float | str:
        value = self.args[i]
        if not value.constant or value.type is not qtype:
            raise self.error(f"{self.node.name}() needs {what} here", i)
        result: int | float | str = value.value
        return result


Builder = Callable[[CallSite], Typed]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int
    build: Builder
    signature: str
    aggregate: bool = False
    special: bool = False  # compiled by summarize itself (arg_max / arg_min)


def bool_of_text(dialect: Dialect, value: exp.Expr) -> exp.Expr:
    """``true``/``1`` → TRUE, ``false``/``0`` → FALSE, anything else NULL."""
    lowered = dialect.lower(value)
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.In(this=lowered, expressions=[text("true"), text("1")]), true=exp.true()
            ),
            exp.If(
                this=exp.In(this=lowered.copy(), expressions=[text("false"), text("0")]),
                true=exp.false(),
            ),
        ]
    )


# -- time --------------------------------------------------------------------------------


def _ago(c: CallSite) -> Typed:
    span = c.const(0, QType.TIMESPAN, "a timespan such as 1h")
    assert isinstance(span, int)
    moment = c.ctx.now_ns - span
    return Typed(c.dialect.timestamp(moment), QType.DATETIME, value=moment)


def _now(c: CallSite) -> Typed:
    offset = 0
    if c.args:
        value = c.const(0, QType.TIMESPAN, "a timespan such as -1d")
        assert isinstance(value, int)
        offset = value
    moment = c.ctx.now_ns + offset
    return Typed(c.dialect.timestamp(moment), QType.DATETIME, value=moment)


def _bin(c: CallSite) -> Typed:
    value, size = c.args
    if not size.constant or size.type not in (QType.TIMESPAN, QType.LONG, QType.REAL):
        raise c.error("bin() needs a constant bin size (5m, 1h, 100 …)", 1)
    if size.value <= 0:
        raise c.error("the bin size must be greater than zero", 1)
    d = c.dialect
    if value.type is QType.DATETIME or (value.type.loose and size.type is QType.TIMESPAN):
        if size.type is not QType.TIMESPAN:
            raise c.error("bin() of a datetime needs a timespan (5m, 1h …)", 1)
        n = number(int(size.value))
        ns = d.int_div(d.epoch_ns(c.time_arg(0)), n)
        return Typed(d.from_epoch_ns(exp.Mul(this=ns, expression=n.copy())), QType.DATETIME)
    if value.type is QType.TIMESPAN and size.type is QType.TIMESPAN:
        n = number(int(size.value))
        return Typed(exp.Mul(this=d.int_div(value.sql, n), expression=n.copy()), QType.TIMESPAN)
    if value.type is QType.LONG and size.type is QType.LONG:
        n = number(int(size.value))
        return Typed(exp.Mul(this=d.int_div(value.sql, n), expression=n.copy()), QType.LONG)
    if value.type.numeric or value.type.loose:
        n = number(size.value)
        floored = exp.Floor(this=exp.Div(this=c.compiler.as_number(value), expression=n))
        return Typed(exp.Mul(this=floored, expression=n.copy()), QType.REAL)
    raise c.error(f"bin() cannot round a {value.type.value}", 0)


def _start_of_day(c: CallSite) -> Typed:
    d = c.dialect
    n = number(_DAY_NS)
    days = d.int_div(d.epoch_ns(c.time_arg(0)), n)
    return Typed(d.from_epoch_ns(exp.Mul(this=days, expression=n.copy())), QType.DATETIME)


def _start_of_week(c: CallSite) -> Typed:
    d = c.dialect
    week = number(7 * _DAY_NS)
    shifted = exp.Sub(this=d.epoch_ns(c.time_arg(0)), expression=number(_WEEK_START_NS))
    start = exp.Add(
        this=exp.Mul(this=d.int_div(exp.Paren(this=shifted), week), expression=week.copy()),
        expression=number(_WEEK_START_NS),
    )
    return Typed(d.from_epoch_ns(start), QType.DATETIME)


def _start_of_month(c: CallSite) -> Typed:
    return Typed(c.dialect.start_of_month(c.time_arg(0)), QType.DATETIME)


def _time_part(part: str) -> Builder:
    def build(c: CallSite) -> Typed:
        return Typed(c.dialect.time_part(part, c.time_arg(0)), QType.LONG)

    return build


def _day_of_week(c: CallSite) -> Typed:
    days = c.dialect.time_part("dayofweek", c.time_arg(0))
    return Typed(exp.Mul(this=exp.Paren(this=days), expression=number(_DAY_NS)), QType.TIMESPAN)


# -- strings -----------------------------------------------------------------------------


def _strlen(c: CallSite) -> Typed:
    return Typed(c.dialect.strlen(c.text_arg(0)), QType.LONG)


def _tolower(c: CallSite) -> Typed:
    return Typed(c.dialect.lower(c.text_arg(0)), QType.STRING)


def _toupper(c: CallSite) -> Typed:
    return Typed(c.dialect.upper(c.text_arg(0)), QType.STRING)


def _substring(c: CallSite) -> Typed:
    start = c.args[1]
    if start.type is not QType.LONG:
        raise c.error("substring() needs a whole-number start", 1)
    # Kusto counts from 0, SQL from 1.
    start1 = (
        number(start.value + 1) if start.constant else exp.Add(this=start.sql, expression=number(1))
    )
    length = None
    if len(c.args) == 3:
        if c.args[2].type is not QType.LONG:
            raise c.error("substring() needs a whole-number length", 2)
        length = c.args[2].sql
    return Typed(c.dialect.substring(c.text_arg(0), start1, length), QType.STRING)


def _strcat(c: CallSite) -> Typed:
    # Kusto treats a null as "" here; so do both engines once each part is coalesced.
    parts = [exp.Coalesce(this=c.text_arg(i), expressions=[text("")]) for i in range(len(c.args))]
    return Typed(fn("concat", *parts), QType.STRING)


def _replace_string(c: CallSite) -> Typed:
    return Typed(fn("replace", c.text_arg(0), c.text_arg(1), c.text_arg(2)), QType.STRING)


def _indexof(c: CallSite) -> Typed:
    return Typed(c.dialect.index_of(c.text_arg(0), c.text_arg(1)), QType.LONG)


def _split(c: CallSite) -> Typed:
    # Kusto splits an absent string as "" (giving [""]); ClickHouse does so too.
    value = exp.Coalesce(this=c.text_arg(0), expressions=[text("")])
    return Typed(c.dialect.split(value, c.text_arg(1)), QType.LIST)


def _extract(c: CallSite) -> Typed:
    from heron.query.expr import check_regex

    pattern = c.const(0, QType.STRING, "a constant regex")
    group = c.const(1, QType.LONG, "a constant group number")
    assert isinstance(pattern, str) and isinstance(group, int)
    check_regex(c.ctx, pattern, c.node.args[0].span)
    extracted = c.dialect.regex_extract(c.text_arg(2), pattern, group)
    return Typed(exp.Nullif(this=extracted, expression=text("")), QType.STRING)


# -- conversions and conditions ----------------------------------------------------------


def _tostring(c: CallSite) -> Typed:
    return Typed(c.text_arg(0), QType.STRING)


def _tolong(c: CallSite) -> Typed:
    value = c.args[0]
    if value.type is QType.LONG:
        return value
    return Typed(c.dialect.to_long(value.sql), QType.LONG)


def _todouble(c: CallSite) -> Typed:
    value = c.args[0]
    if value.type is QType.REAL:
        return value
    return Typed(c.dialect.to_double(value.sql), QType.REAL)


def _todatetime(c: CallSite) -> Typed:
    value = c.args[0]
    if value.type is QType.DATETIME:
        return value
    return Typed(c.dialect.to_datetime(c.text_arg(0)), QType.DATETIME)


def _tobool(c: CallSite) -> Typed:
    value = c.args[0]
    if value.type is QType.BOOL:
        return value
    return Typed(bool_of_text(c.dialect, c.text_arg(0)), QType.BOOL)


def _isnull(c: CallSite) -> Typed:
    return Typed(exp.Is(this=c.args[0].sql, expression=exp.Null()), QType.BOOL)


def _isnotnull(c: CallSite) -> Typed:
    return Typed(exp.Not(this=exp.Is(this=c.args[0].sql, expression=exp.Null())), QType.BOOL)


def _empty_test(c: CallSite) -> exp.Expr:
    value = c.args[0]
    is_null = exp.Is(this=value.sql, expression=exp.Null())
    if value.type is QType.LIST:
        empty = exp.EQ(this=c.dialect.list_length(value.sql.copy()), expression=number(0))
    elif value.type in (QType.STRING, QType.DYNAMIC, QType.UNKNOWN):
        empty = exp.EQ(this=c.text_arg(0).copy(), expression=text(""))
    else:
        return is_null
    return exp.Paren(this=exp.Or(this=is_null, expression=empty))


def _isempty(c: CallSite) -> Typed:
    return Typed(_empty_test(c), QType.BOOL)


def _isnotempty(c: CallSite) -> Typed:
    return Typed(exp.Not(this=_empty_test(c)), QType.BOOL)


def _common(c: CallSite, values: list[int]) -> tuple[list[exp.Expr], QType]:
    """The values ``c.args[i]`` as one type (strings when the types differ)."""
    types = {c.args[i].type for i in values}
    if len(types) == 1:
        (only,) = types
        return [c.args[i].sql for i in values], (QType.STRING if only.loose else only)
    if all(t.numeric or t.loose for t in types) and any(t.numeric for t in types):
        return [c.compiler.as_number(c.args[i]) for i in values], QType.REAL
    if QType.LIST in types:
        raise c.error(f"{c.node.name}() cannot mix lists with other values")
    return [c.text_arg(i) for i in values], QType.STRING


def _coalesce(c: CallSite) -> Typed:
    values, qtype = _common(c, list(range(len(c.args))))
    return Typed(exp.Coalesce(this=values[0], expressions=values[1:]), qtype)


def _iff(c: CallSite) -> Typed:
    condition = c.bool_arg(0)
    (then, otherwise), qtype = _common(c, [1, 2])
    return Typed(exp.If(this=condition, true=then, false=otherwise), qtype)


def _case(c: CallSite) -> Typed:
    if len(c.args) % 2 == 0:
        raise c.error("case() takes condition, value pairs and a final else value")
    values, qtype = _common(c, [*range(1, len(c.args), 2), len(c.args) - 1])
    ifs = [
        exp.If(this=c.bool_arg(i), true=values[k])
        for k, i in enumerate(range(0, len(c.args) - 1, 2))
    ]
    return Typed(exp.Case(ifs=ifs, default=values[-1]), qtype)


# -- numbers -----------------------------------------------------------------------------


def _math(kind: type[exp.Func] | str, keeps_type: bool = False) -> Builder:
    def build(c: CallSite) -> Typed:
        value = c.number_arg(0)
        sql: exp.Expr = fn(kind, value) if isinstance(kind, str) else kind(this=value)
        # abs() of a long is a long; the others give reals.
        qtype = c.args[0].type if keeps_type and c.args[0].type.numeric else QType.REAL
        return Typed(sql, qtype)

    return build


def _round(c: CallSite) -> Typed:
    digits = c.args[1].sql if len(c.args) > 1 else number(0)
    return Typed(exp.Round(this=c.number_arg(0), decimals=digits), QType.REAL)


def _pow(c: CallSite) -> Typed:
    return Typed(exp.Pow(this=c.number_arg(0), expression=c.number_arg(1)), QType.REAL)


def _array_length(c: CallSite) -> Typed:
    if c.args[0].type is not QType.LIST:
        raise c.error("array_length() needs a list", 0)
    return Typed(c.dialect.list_length(c.args[0].sql), QType.LONG)


# -- aggregates --------------------------------------------------------------------------


def _count(c: CallSite) -> Typed:
    return Typed(exp.Count(this=exp.Star()), QType.LONG)


def _countif(c: CallSite) -> Typed:
    return Typed(c.dialect.count_if(c.bool_arg(0)), QType.LONG)


def _dcount(c: CallSite) -> Typed:
    value = c.args[0]
    if value.type is QType.LIST:
        raise c.error("dcount() counts values, not lists", 0)
    if len(c.args) == 2:  # dcountif
        guarded = exp.If(this=c.bool_arg(1), true=value.sql)
        return Typed(exp.Count(this=exp.Distinct(expressions=[guarded])), QType.LONG)
    return Typed(exp.Count(this=exp.Distinct(expressions=[value.sql])), QType.LONG)


def _numeric_value(c: CallSite, conditional: bool) -> tuple[exp.Expr, QType]:
    value = c.args[0]
    if value.type is QType.TIMESPAN:
        sql, qtype = value.sql, QType.TIMESPAN
    else:
        sql, qtype = c.number_arg(0), (QType.LONG if value.type is QType.LONG else QType.REAL)
    if conditional:
        sql = exp.If(this=c.bool_arg(1), true=sql)
    return sql, qtype


def _sum(conditional: bool) -> Builder:
    def build(c: CallSite) -> Typed:
        sql, qtype = _numeric_value(c, conditional)
        total: exp.Expr = exp.Sum(this=sql)
        if qtype is not QType.REAL:  # DuckDB sums BIGINTs into a 128-bit HUGEINT
            total = exp.Cast(this=total, to=exp.DataType.build("BIGINT"))
        return Typed(total, qtype)

    return build


def _avg(conditional: bool) -> Builder:
    def build(c: CallSite) -> Typed:
        sql, qtype = _numeric_value(c, conditional)
        if qtype is QType.TIMESPAN:
            return Typed(c.dialect.to_long(exp.Avg(this=sql)), QType.TIMESPAN)
        return Typed(exp.Avg(this=sql), QType.REAL)

    return build


def _min_max(kind: type[exp.Func]) -> Builder:
    def build(c: CallSite) -> Typed:
        value = c.args[0]
        if value.type in (QType.LIST, QType.BOOL):
            raise c.error(f"{c.node.name}() needs ordered values, not a {value.type.value}", 0)
        return Typed(kind(this=value.sql), value.type)

    return build


def _collect(kind: str) -> Builder:
    def build(c: CallSite) -> Typed:
        value = c.args[0]
        agg = c.dialect.make_set(value.sql) if kind == "set" else c.dialect.make_list(value.sql)
        if len(c.args) == 2:
            limit = c.const(1, QType.LONG, "a constant maximum size")
            assert isinstance(limit, int)
            if limit <= 0:
                raise c.error("the maximum size must be greater than zero", 1)
            agg = c.dialect.list_slice(agg, limit)
        return Typed(agg, QType.LIST)

    return build


def _take_any(c: CallSite) -> Typed:
    return Typed(exp.AnyValue(this=c.args[0].sql), c.args[0].type)


def _stdev(c: CallSite) -> Typed:
    return Typed(exp.Stddev(this=c.number_arg(0)), QType.REAL)


def _special(c: CallSite) -> Typed:  # pragma: no cover - summarize compiles these itself
    raise c.error(f"{c.node.name}() must stand alone in summarize")


def _f(
    name: str,
    low: int,
    high: int,
    build: Builder,
    signature: str,
    *,
    aggregate: bool = False,
    special: bool = False,
) -> Function:
    return Function(name, low, high, build, signature, aggregate, special)


_MANY = 64

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        # time
        _f("ago", 1, 1, _ago, "ago(1h): the time that long before now"),
        _f("now", 0, 1, _now, "now() or now(-1d)"),
        _f("bin", 2, 2, _bin, "bin(@timestamp, 5m) or bin(bytes, 1000)"),
        _f("floor", 2, 2, _bin, "floor(value, size): same as bin()"),
        _f("startofday", 1, 1, _start_of_day, "startofday(@timestamp)"),
        _f("startofweek", 1, 1, _start_of_week, "startofweek(@timestamp): Sunday 00:00"),
        _f("startofmonth", 1, 1, _start_of_month, "startofmonth(@timestamp)"),
        _f("hourofday", 1, 1, _time_part("hour"), "hourofday(@timestamp): 0..23"),
        _f("dayofweek", 1, 1, _day_of_week, "dayofweek(@timestamp): 0d (Sunday) .. 6d"),
        _f("dayofmonth", 1, 1, _time_part("day"), "dayofmonth(@timestamp): 1..31"),
        _f("getmonth", 1, 1, _time_part("month"), "getmonth(@timestamp): 1..12"),
        _f("getyear", 1, 1, _time_part("year"), "getyear(@timestamp)"),
        # strings
        _f("strlen", 1, 1, _strlen, "strlen(text)"),
        _f("tolower", 1, 1, _tolower, "tolower(text)"),
        _f("toupper", 1, 1, _toupper, "toupper(text)"),
        _f("substring", 2, 3, _substring, "substring(text, start0[, length])"),
        _f("strcat", 1, _MANY, _strcat, "strcat(a, b, …)"),
        _f("replace_string", 3, 3, _replace_string, "replace_string(text, lookup, rewrite)"),
        _f("indexof", 2, 2, _indexof, "indexof(text, lookup): 0-based, -1 if absent"),
        _f("split", 2, 2, _split, "split(text, delimiter)"),
        _f("extract", 3, 3, _extract, "extract(regex, group, text)"),
        # conversions and conditions
        _f("tostring", 1, 1, _tostring, "tostring(value)"),
        _f("tolong", 1, 1, _tolong, "tolong(value)"),
        _f("toint", 1, 1, _tolong, "toint(value)"),
        _f("todouble", 1, 1, _todouble, "todouble(value)"),
        _f("toreal", 1, 1, _todouble, "toreal(value)"),
        _f("todatetime", 1, 1, _todatetime, "todatetime(text)"),
        _f("tobool", 1, 1, _tobool, "tobool(value)"),
        _f("isnull", 1, 1, _isnull, "isnull(value)"),
        _f("isnotnull", 1, 1, _isnotnull, "isnotnull(value)"),
        _f("isempty", 1, 1, _isempty, "isempty(value): null or empty"),
        _f("isnotempty", 1, 1, _isnotempty, "isnotempty(value)"),
        _f("coalesce", 2, _MANY, _coalesce, "coalesce(a, b, …)"),
        _f("iff", 3, 3, _iff, "iff(condition, then, else)"),
        _f("iif", 3, 3, _iff, "iif(condition, then, else)"),
        _f("case", 3, _MANY, _case, "case(cond1, value1, cond2, value2, …, else)"),
        # numbers and lists
        _f("abs", 1, 1, _math(exp.Abs, keeps_type=True), "abs(number)"),
        _f("round", 1, 2, _round, "round(number[, digits])"),
        _f("ceiling", 1, 1, _math(exp.Ceil), "ceiling(number)"),
        _f("sqrt", 1, 1, _math(exp.Sqrt), "sqrt(number)"),
        _f("log", 1, 1, _math("ln"), "log(number): natural logarithm"),
        _f("log10", 1, 1, _math("log10"), "log10(number)"),
        _f("pow", 2, 2, _pow, "pow(base, exponent)"),
        _f("array_length", 1, 1, _array_length, "array_length(list)"),
        # aggregates
        _f("count", 0, 0, _count, "count()", aggregate=True),
        _f("countif", 1, 1, _countif, "countif(condition)", aggregate=True),
        _f("dcount", 1, 1, _dcount, "dcount(field): exact distinct count", aggregate=True),
        _f("dcountif", 2, 2, _dcount, "dcountif(field, condition)", aggregate=True),
        _f("sum", 1, 1, _sum(False), "sum(number)", aggregate=True),
        _f("sumif", 2, 2, _sum(True), "sumif(number, condition)", aggregate=True),
        _f("avg", 1, 1, _avg(False), "avg(number)", aggregate=True),
        _f("avgif", 2, 2, _avg(True), "avgif(number, condition)", aggregate=True),
        _f("min", 1, 1, _min_max(exp.Min), "min(value)", aggregate=True),
        _f("max", 1, 1, _min_max(exp.Max), "max(value)", aggregate=True),
        _f("make_set", 1, 2, _collect("set"), "make_set(field[, max])", aggregate=True),
        _f("make_list", 1, 2, _collect("list"), "make_list(field[, max])", aggregate=True),
        _f("take_any", 1, 1, _take_any, "take_any(field)", aggregate=True),
        _f("stdev", 1, 1, _stdev, "stdev(number)", aggregate=True),
        _f(
            "arg_max",
            2,
            _MANY,
            _special,
            "arg_max(by, field, …) or arg_max(by, *)",
            aggregate=True,
            special=True,
        ),
        _f(
            "arg_min",
            2,
            _MANY,
            _special,
            "arg_min(by, field, …) or arg_min(by, *)",
            aggregate=True,
            special=True,
        ),
    ]
}
