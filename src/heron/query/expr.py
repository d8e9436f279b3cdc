"""Expressions → typed sqlglot expressions: fields, literals, operators, function calls.

Values from the query become sqlglot literals (escaped by sqlglot for the dialect),
field names become quoted identifiers or JSON keys inside literals, and function names
come from the compiler's own table: no text of the query is pasted into SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import re2
from sqlglot import exp

from heron.query import ast
from heron.query.dialect import number, text
from heron.query.errors import (
    QueryError,
    QueryTypeError,
    Span,
    UnknownFunctionError,
)
from heron.query.functions import FUNCTIONS, CallSite, bool_of_text
from heron.query.schema import QType
from heron.query.scope import NO_VALUE, Context, LetTable, Scope, Typed

__all__ = ["ExprCompiler", "and_all", "not_or_null", "or_any", "paren", "term_pattern"]

# Operators print without parentheses of their own; everything else is self-delimited.
_COMPOUND = (exp.Binary, exp.Unary, exp.Between, exp.In)
_ARITH: dict[str, type[exp.Binary]] = {
    "+": exp.Add,
    "-": exp.Sub,
    "*": exp.Mul,
    "/": exp.Div,
    "%": exp.Mod,
}
_ORDER: dict[str, type[exp.Binary]] = {
    "<": exp.LT,
    ">": exp.GT,
    "<=": exp.LTE,
    ">=": exp.GTE,
}
_STRING_OPS = frozenset({"has", "hasprefix", "hassuffix", "contains", "startswith", "endswith"})


def paren(value: exp.Expr) -> exp.Expr:
    """``value`` in parentheses unless it is atomic (so operator precedence never bites)."""
    if isinstance(value, exp.Paren) or not isinstance(value, _COMPOUND):
        return value
    return exp.Paren(this=value)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def term_pattern(term: str, *, cased: bool, prefix: bool = True, suffix: bool = True) -> str:
    """An RE2 pattern matching ``term`` as a whole term (Kusto's ``has``)."""
    pattern: str = re2.escape(term)
    # A boundary is needed only where the term itself starts or ends with a letter or
    # digit: "10.0.0.1" inside "src=10.0.0.1:80" is a match, "dmin" inside "admin" is not.
    if prefix and _is_word_char(term[0]):
        pattern = r"(?:^|[^\pL\pN])" + pattern
    if suffix and _is_word_char(term[-1]):
        pattern += r"(?:$|[^\pL\pN])"
    return pattern if cased else "(?i)" + pattern


def and_all(items: Sequence[exp.Expr]) -> exp.Expr:
    return _balanced(items, exp.And)


def or_any(items: Sequence[exp.Expr]) -> exp.Expr:
    return _balanced(items, exp.Or)


def _balanced(items: Sequence[exp.Expr], kind: type[exp.Connector]) -> exp.Expr:
    # Balanced, so a chain of a thousand ``or``s is ten levels deep, not a thousand.
    if len(items) == 1:
        return paren(items[0])
    mid = len(items) // 2
    return kind(this=_balanced(items[:mid], kind), expression=_balanced(items[mid:], kind))


def _not(value: exp.Expr) -> exp.Expr:
    return exp.Not(this=paren(value))


def not_or_null(value: exp.Expr) -> exp.Expr:
    # Kusto strings are never null (absent is ""), so "!has x" holds for an absent field.
    return exp.Not(this=exp.Coalesce(this=value, expressions=[exp.false()]))


class ExprCompiler:
    """Compiles expressions of one stage against one ``Scope``."""

    def __init__(self, ctx: Context, scope: Scope, *, aggregates: bool = False) -> None:
        self.ctx = ctx
        self.scope = scope
        self.aggregates = aggregates
        self._inside_aggregate = False
        self.dialect = ctx.dialect

    # -- entry points ------------------------------------------------------------------

    def compile(self, node: ast.Expr) -> Typed:
        method = getattr(self, "_" + type(node).__name__.lower())
        result: Typed = method(node)
        return result

    def predicate(self, node: ast.Expr) -> exp.Expr:
        """A condition: must be a bool."""
        value = self.compile(node)
        if value.type is QType.BOOL:
            return value.sql
        raise self.type_error(
            f"a condition must be true or false, not a {value.type.value}",
            node,
            'compare it: where Image != ""  or  where isnotempty(Image)',
        )

    # -- leaves ------------------------------------------------------------------------

    def _literal(self, node: ast.Literal) -> Typed:
        kind = node.kind
        value = node.value
        if kind is ast.LitKind.STRING:
            assert isinstance(value, str)
            return Typed(text(value), QType.STRING, value=value)
        if kind is ast.LitKind.BOOL:
            return Typed(exp.Boolean(this=bool(value)), QType.BOOL, value=bool(value))
        if kind is ast.LitKind.DATETIME:
            assert isinstance(value, int)
            return Typed(self.dialect.timestamp(value), QType.DATETIME, value=value)
        assert isinstance(value, int | float) and not isinstance(value, bool)
        qtype = {
            ast.LitKind.LONG: QType.LONG,
            ast.LitKind.REAL: QType.REAL,
            ast.LitKind.TIMESPAN: QType.TIMESPAN,
        }[kind]
        return Typed(number(value), qtype, value=value)

    def _listlit(self, node: ast.ListLit) -> Typed:
        items = [self.compile(i) for i in node.items]
        for item, src in zip(items, node.items, strict=True):
            if not item.constant or item.type is QType.LIST:
                raise self.type_error("a dynamic([...]) list holds constant values", src)
        return Typed(
            exp.Array(expressions=[i.sql for i in items]),
            QType.LIST,
            value=[i.value for i in items],
        )

    def _fieldref(self, node: ast.FieldRef) -> Typed:
        if not node.quoted and node.name in self.ctx.lets:
            bound = self.ctx.lets[node.name]
            if isinstance(bound, LetTable):
                raise self.type_error(
                    f"'{node.name}' is a table; use it as a source, in join, or in 'in (…)'",
                    node,
                )
            return Typed(bound.sql.copy(), bound.type, bound.aggregate, bound.value)
        if self.aggregates and not self._inside_aggregate:
            raise self.type_error(
                f"'{node.name}' is neither in 'by' nor inside an aggregate",
                node,
                f"group by it (by {node.name}) or aggregate it (take_any({node.name}))",
            )
        return self.ctx.resolve_field(self.scope, node.name, node.span, quoted=node.quoted)

    def _star(self, node: ast.Star) -> Typed:
        raise self.type_error("'*' is only allowed in arg_max/arg_min and distinct", node)

    # -- operators ---------------------------------------------------------------------

    def _unary(self, node: ast.Unary) -> Typed:
        value = self.compile(node.operand)
        if node.op == "not":
            if value.type is not QType.BOOL:
                raise self.type_error(f"'not' needs a condition, not a {value.type.value}", node)
            return Typed(_not(value.sql), QType.BOOL, value.aggregate)
        if value.type in (QType.LONG, QType.REAL, QType.TIMESPAN):
            folded = -value.value if value.constant else NO_VALUE
            return Typed(exp.Neg(this=paren(value.sql)), value.type, value.aggregate, folded)
        if value.type.loose:
            return Typed(exp.Neg(this=paren(self.as_number(value))), QType.REAL, value.aggregate)
        raise self.type_error(f"cannot negate a {value.type.value}", node)

    def _boolop(self, node: ast.BoolOp) -> Typed:
        parts = [self.compile(o) for o in node.operands]
        for part, src in zip(parts, node.operands, strict=True):
            if part.type is not QType.BOOL:
                raise self.type_error(f"'{node.op}' joins conditions, not a {part.type.value}", src)
        sql = [p.sql for p in parts]
        combined = and_all(sql) if node.op == "and" else or_any(sql)
        return Typed(combined, QType.BOOL, any(p.aggregate for p in parts))

    def _binary(self, node: ast.Binary) -> Typed:
        op = node.op
        left = self.compile(node.left)
        right = self.compile(node.right)
        if op in _ARITH:
            return self._arithmetic(op, left, right, node)
        base = op.lstrip("!").removesuffix("_cs")
        if base in _STRING_OPS:
            return self._string_op(node, left, right)
        return self._compare(op, left, right, node)

    def _arithmetic(self, op: str, left: Typed, right: Typed, node: ast.Binary) -> Typed:
        agg = left.aggregate or right.aggregate
        lt, rt = left.type, right.type
        dt, ts = QType.DATETIME, QType.TIMESPAN
        if lt is dt and rt is dt and op == "-":
            if left.constant and right.constant:
                return self._const_timespan(left.value - right.value)
            diff = exp.Sub(
                this=self.dialect.epoch_ns(left.sql), expression=self.dialect.epoch_ns(right.sql)
            )
            return Typed(diff, ts, agg)
        if lt is dt and rt is ts and op in "+-":
            if left.constant and right.constant:
                moved = left.value + right.value if op == "+" else left.value - right.value
                return Typed(self.dialect.timestamp(moved), dt, value=moved)
            shifted = _ARITH[op](this=self.dialect.epoch_ns(left.sql), expression=paren(right.sql))
            return Typed(self.dialect.from_epoch_ns(shifted), dt, agg)
        if lt is ts and rt is dt and op == "+":
            return self._arithmetic(op, right, left, node)
        if lt is ts and rt is ts and op in "+-":
            return Typed(_ARITH[op](this=paren(left.sql), expression=paren(right.sql)), ts, agg)
        if (lt is ts and rt.numeric and op in "*/") or (lt.numeric and rt is ts and op == "*"):
            product = _ARITH[op](this=paren(left.sql), expression=paren(right.sql))
            return Typed(self.dialect.to_long(product) if op == "/" else product, ts, agg)
        if (lt.numeric or lt.loose) and (rt.numeric or rt.loose):
            sql = _ARITH[op](
                this=paren(self.as_number(left)), expression=paren(self.as_number(right))
            )
            both_long = lt is QType.LONG and rt is QType.LONG
            return Typed(sql, QType.LONG if both_long and op != "/" else QType.REAL, agg)
        hint = "join strings with strcat(a, b)" if QType.STRING in (lt, rt) else None
        raise self.type_error(
            f"cannot apply '{op}' to a {lt.value} and a {rt.value}", node, hint, node.op_span
        )

    def _const_timespan(self, ns: int) -> Typed:
        return Typed(number(ns), QType.TIMESPAN, value=ns)

    def _compare(self, op: str, left: Typed, right: Typed, node: ast.Binary) -> Typed:
        agg = left.aggregate or right.aggregate
        if op in ("=~", "!~"):
            if left.type is QType.LIST or right.type is QType.LIST:
                return self._list_equals(left, right, node, insensitive=True, negated=op == "!~")
            a, b = self.as_text(left, node.left), self.as_text(right, node.right)
            test = exp.EQ(this=self.dialect.lower(a), expression=self.dialect.lower(b))
            return Typed(not_or_null(test) if op == "!~" else test, QType.BOOL, agg)
        if QType.LIST in (left.type, right.type) and op in ("==", "!="):
            return self._list_equals(left, right, node, insensitive=False, negated=op == "!=")
        a, b, kind = self.unify(left, right, node)
        if op in _ORDER:
            if kind in (QType.BOOL, QType.LIST):
                raise self.type_error(f"cannot order {kind.value} values", node, None, node.op_span)
            return Typed(_ORDER[op](this=paren(a), expression=paren(b)), QType.BOOL, agg)
        if op == "==":
            return Typed(exp.EQ(this=paren(a), expression=paren(b)), QType.BOOL, agg)
        if kind in (QType.STRING, QType.DYNAMIC, QType.UNKNOWN):
            # Kusto: an absent string is "", and "" != "x" holds.
            return Typed(exp.NullSafeNEQ(this=paren(a), expression=paren(b)), QType.BOOL, agg)
        return Typed(exp.NEQ(this=paren(a), expression=paren(b)), QType.BOOL, agg)

    def unify(self, left: Typed, right: Typed, node: Any) -> tuple[exp.Expr, exp.Expr, QType]:
        """Both sides as SQL of one comparable type, and that type."""
        lt, rt = left.type, right.type
        if lt is rt and not lt.loose:
            return left.sql, right.sql, lt
        if lt.numeric and rt.numeric:
            return left.sql, right.sql, QType.REAL
        if lt.loose and rt.loose:
            return self.as_text(left, node), self.as_text(right, node), QType.STRING
        if lt.loose or rt.loose:
            loose, firm = (left, right) if lt.loose else (right, left)
            converted = self.convert_loose(loose, firm.type, node)
            pair = (converted, firm.sql) if lt.loose else (firm.sql, converted)
            return pair[0], pair[1], firm.type
        if QType.DATETIME in (lt, rt) and QType.STRING in (lt, rt):
            when, other = (left, right) if lt is QType.DATETIME else (right, left)
            if other.constant:
                from heron.query.parse import parse_datetime_text

                try:
                    ns = parse_datetime_text(str(other.value))
                except QueryError as exc:
                    raise self.type_error(
                        exc.message, node, "write times as datetime(2024-03-01 10:00) or ago(1h)"
                    ) from None
                lit = self.dialect.timestamp(ns)
                return (
                    (when.sql, lit, QType.DATETIME)
                    if lt is QType.DATETIME
                    else (lit, when.sql, QType.DATETIME)
                )
        raise self.type_error(
            f"cannot compare a {lt.value} with a {rt.value}",
            node,
            _mismatch_hint(left, right, node),
            getattr(node, "op_span", None),
        )

    def convert_loose(self, loose: Typed, target: QType, node: Any) -> exp.Expr:
        """A value of unknown type converted for comparison with a ``target`` value."""
        if target.numeric:
            return self.as_number(loose)
        if target is QType.DATETIME:
            return self.dialect.to_datetime(loose.sql)
        if target is QType.BOOL:
            return bool_of_text(self.dialect, self.as_text(loose, node))
        if target in (QType.STRING, QType.TIMESPAN):
            return (
                self.as_text(loose, node)
                if target is QType.STRING
                else self.dialect.to_long(loose.sql)
            )
        raise self.type_error(f"cannot compare a {loose.type.value} with a {target.value}", node)

    def _list_equals(
        self, left: Typed, right: Typed, node: ast.Binary, *, insensitive: bool, negated: bool
    ) -> Typed:
        values, item = (left, right) if left.type is QType.LIST else (right, left)
        if item.type is QType.LIST:
            raise self.type_error("cannot compare two lists", node, None, node.op_span)
        if item.type not in (QType.STRING, QType.DYNAMIC) and not item.constant:
            raise self.type_error(f"cannot compare a list with a {item.type.value}", node)
        needle = self.as_text(item, node) if not item.constant else text(str(item.value))
        if insensitive:
            lowered = self.dialect.lower(needle)
            test = self.dialect.list_any(
                values.sql, lambda e: exp.EQ(this=self.dialect.lower(e), expression=lowered)
            )
        else:
            test = self.dialect.list_contains(values.sql, needle)
        return Typed(not_or_null(test) if negated else test, QType.BOOL)

    def _string_op(self, node: ast.Binary, left: Typed, right: Typed) -> Typed:
        op = node.op
        negated = op.startswith("!")
        base = op.lstrip("!")
        cased = base.endswith("_cs")
        base = base.removesuffix("_cs")
        if right.type is QType.LIST:
            raise self.type_error(f"'{op}' needs a string on its right", node.right)
        needle_text: str | None = str(right.value) if right.constant else None
        needle = text(needle_text) if needle_text is not None else self.as_text(right, node.right)
        if base.startswith("has") and needle_text is None:
            raise self.type_error(f"'{base}' needs a constant term on its right", node.right)
        if base.startswith("has") and not needle_text:
            raise self.type_error(f"'{base}' needs a non-empty term", node.right)

        def test(value: exp.Expr) -> exp.Expr:
            return self.string_test(base, value, needle, needle_text, cased=cased)

        if left.type is QType.LIST:
            sql = self.dialect.list_any(left.sql, test)
        else:
            sql = test(self.as_text(left, node.left))
        if negated:
            sql = not_or_null(sql)
        return Typed(sql, QType.BOOL, left.aggregate or right.aggregate)

    def string_test(
        self,
        base: str,
        value: exp.Expr,
        needle: exp.Expr,
        needle_text: str | None,
        *,
        cased: bool,
    ) -> exp.Expr:
        d = self.dialect
        if base == "contains":
            return d.contains(value, needle, cased=cased)
        if base == "startswith":
            return d.starts_with(value, needle, cased=cased)
        if base == "endswith":
            return d.ends_with(value, needle, cased=cased)
        assert needle_text is not None
        pattern = term_pattern(
            needle_text, cased=cased, prefix=base != "hassuffix", suffix=base != "hasprefix"
        )
        # The substring test first: cheap, and it spares the regex most rows.
        return exp.And(
            this=paren(d.contains(value, needle.copy(), cased=cased)),
            expression=d.regex_match(value.copy(), pattern),
        )

    def _regexmatch(self, node: ast.RegexMatch) -> Typed:
        value = self.compile(node.operand)
        pattern = self.compile(node.pattern)
        if not pattern.constant or not isinstance(pattern.value, str):
            raise self.type_error("'matches regex' needs a constant string pattern", node.pattern)
        check_regex(self.ctx, pattern.value, node.pattern.span)
        if value.type is QType.LIST:
            sql = self.dialect.list_any(
                value.sql, lambda e: self.dialect.regex_match(e, pattern.value)
            )
        else:
            sql = self.dialect.regex_match(self.as_text(value, node.operand), pattern.value)
        return Typed(sql, QType.BOOL, value.aggregate)

    def _between(self, node: ast.Between) -> Typed:
        value = self.compile(node.operand)
        low = self.compile(node.low)
        high = self.compile(node.high)
        a, lo, kind = self.unify(value, low, node)
        _, hi, _ = self.unify(value, high, node)
        if kind in (QType.BOOL, QType.LIST):
            raise self.type_error(f"'between' needs ordered values, not {kind.value}", node)
        sql: exp.Expr = exp.Between(this=paren(a), low=paren(lo), high=paren(hi))
        if node.negated:
            sql = _not(sql)
        return Typed(sql, QType.BOOL, value.aggregate)

    def _inlist(self, node: ast.InList) -> Typed:
        from heron.query.membership import compile_in

        return compile_in(self, node)

    # -- calls -------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> Typed:
        name = node.name
        spec = FUNCTIONS.get(name) or FUNCTIONS.get(name.lower())
        if spec is None:
            from heron.query.scope import suggest_name

            close = suggest_name(name, list(FUNCTIONS))
            raise self.ctx.error(
                UnknownFunctionError,
                f"unknown function '{name}'" + (f" — did you mean '{close}'?" if close else ""),
                node.name_span,
                hint=None if close else "see docs/reference/hunting-language.md for the functions",
            )
        if not spec.min_args <= len(node.args) <= spec.max_args:
            want = (
                str(spec.min_args)
                if spec.min_args == spec.max_args
                else f"{spec.min_args} to {spec.max_args}"
            )
            raise self.type_error(
                f"{spec.name}() takes {want} argument{'s' if spec.max_args != 1 else ''}, "
                f"got {len(node.args)}",
                node,
                spec.signature,
            )
        if spec.special:
            raise self.type_error(f"{spec.name}() must stand alone in summarize", node)
        if spec.aggregate:
            if not self.aggregates:
                raise self.type_error(
                    f"{spec.name}() is an aggregate: use it in summarize",
                    node,
                    None,
                    node.name_span,
                )
            if self._inside_aggregate:
                raise self.type_error("aggregates cannot be nested", node, None, node.name_span)
            self._inside_aggregate = True
            try:
                args = [self.compile(a) for a in node.args]
            finally:
                self._inside_aggregate = False
        else:
            args = [self.compile(a) for a in node.args]
        site = CallSite(self.ctx, node, args, self)
        result = spec.build(site)
        if spec.aggregate:
            return Typed(result.sql, result.type, True)
        return Typed(result.sql, result.type, self._any_aggregate_typed(args), result.value)

    # -- conversions -------------------------------------------------------------------

    def as_text(self, value: Typed, node: ast.Expr | None = None) -> exp.Expr:
        """The value as a string (Kusto converts scalars to text for string operators)."""
        if value.type in (QType.STRING, QType.DYNAMIC):
            return value.sql
        if value.type is QType.LIST:
            raise self.type_error("a list is not a string here", node)
        return self.dialect.to_string(value.sql)

    def as_number(self, value: Typed) -> exp.Expr:
        if value.type.numeric:
            return value.sql
        return self.dialect.to_double(value.sql)

    # -- helpers -----------------------------------------------------------------------

    def _any_aggregate_typed(self, values: Sequence[Typed]) -> bool:
        return any(v.aggregate for v in values)

    def type_error(
        self,
        message: str,
        node: object,
        hint: str | None = None,
        span: Span | None = None,
    ) -> QueryTypeError:
        where = span or getattr(node, "span", None)
        error = self.ctx.error(QueryTypeError, message, where, hint)
        assert isinstance(error, QueryTypeError)
        return error


def check_regex(ctx: Context, pattern: str, span: Span) -> None:
    """Reject a pattern RE2 cannot compile, with RE2's reason."""
    try:
        re2.compile(pattern)
    except re2.error as exc:
        raise ctx.error(
            QueryTypeError,
            f"invalid regular expression: {exc}",
            span,
            hint="patterns are RE2 syntax: no backreferences or lookaround",
        ) from None


def _contains_aggregate(node: ast.Expr) -> bool:
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Call):
            spec = FUNCTIONS.get(item.name) or FUNCTIONS.get(item.name.lower())
            if spec is not None and spec.aggregate:
                return True
            stack.extend(item.args)
        elif isinstance(item, ast.Binary):
            stack.extend((item.left, item.right))
        elif isinstance(item, ast.BoolOp):
            stack.extend(item.operands)
        elif isinstance(item, ast.Unary):
            stack.append(item.operand)
    return False


def _mismatch_hint(left: Typed, right: Typed, node: ast.Expr) -> str | None:
    types = {left.type, right.type}
    if types == {QType.LONG, QType.STRING} or types == {QType.REAL, QType.STRING}:
        return (
            "compare numbers with numbers (source.port == 22), or convert with tostring()/tolong()"
        )
    if QType.DATETIME in types:
        return "compare times with datetime(2024-03-01 10:00), ago(1h) or another time"
    if QType.TIMESPAN in types:
        return "timespans are written 5m, 1h, 2d"
    return None


Builder = Callable[[CallSite], Typed]
