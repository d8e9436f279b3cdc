"""Membership operators: ``in``, ``!in``, ``in~``, ``!in~`` and ``has_any`` / ``has_all``."""

from __future__ import annotations

from sqlglot import exp

from heron.query import ast
from heron.query.dialect import number, text
from heron.query.errors import QueryLimitError
from heron.query.expr import ExprCompiler, and_all, not_or_null, or_any, paren
from heron.query.schema import QType
from heron.query.scope import LetTable, Typed

__all__ = ["MAX_IN_ITEMS", "compile_in"]

#: Items of an ``in (…)`` list; more belong in an intel set.
MAX_IN_ITEMS = 10_000


def compile_in(c: ExprCompiler, node: ast.InList) -> Typed:
    """``in`` / ``!in`` / ``in~`` / ``!in~`` (values, or a one-column table) and has_any/all."""
    op = node.op
    value = c.compile(node.operand)
    negated = op.startswith("!")
    base = op.lstrip("!")
    subquery = _in_subquery(c, node)
    if subquery is not None:
        if base != "in":
            raise c.type_error(f"'{op}' takes a list of values, not a table", node)
        test: exp.Expr = exp.In(
            this=paren(c.as_text(value, node.operand)), query=exp.Subquery(this=subquery)
        )
        return Typed(not_or_null(test) if negated else test, QType.BOOL)
    items = _in_items(c, node)
    if base in ("has_any", "has_all"):
        return _has_any(c, node, value, items, negated)
    insensitive = base == "in~"
    if value.type is QType.LIST:
        texts = [text(str(i.value)) if i.constant else i.sql for i in items]
        if insensitive:
            lowered = [c.dialect.lower(t) for t in texts]
            test = c.dialect.list_any(
                value.sql,
                lambda e: exp.In(this=c.dialect.lower(e), expressions=[x.copy() for x in lowered]),
            )
        else:
            test = c.dialect.list_has_any(value.sql, texts)
        return Typed(not_or_null(test) if negated else test, QType.BOOL)
    if not items:
        return Typed(exp.Boolean(this=negated), QType.BOOL, value=negated)
    kinds = {i.type for i in items}
    if insensitive:
        left = c.dialect.lower(c.as_text(value, node.operand))
        rights = [c.dialect.lower(c.as_text(i, node)) for i in items]
    elif kinds <= {QType.LONG, QType.REAL} and (value.type.numeric or value.type.loose):
        left = c.as_number(value)
        rights = [i.sql for i in items]
    else:
        left_sql, _, kind = c.unify(value, items[0], node)
        left = left_sql
        rights = []
        for item in items:
            _, right_sql, item_kind = c.unify(value, item, node)
            if item_kind is not kind:
                raise c.type_error("the values of 'in' must be of one type", node)
            rights.append(right_sql)
    test = exp.In(this=paren(left), expressions=rights)
    return Typed(not_or_null(test) if negated else test, QType.BOOL, value.aggregate)


def _in_subquery(c: ExprCompiler, node: ast.InList) -> exp.Expr | None:
    if len(node.items) != 1 or not isinstance(node.items[0], ast.FieldRef):
        return None
    ref = node.items[0]
    bound = c.ctx.lets.get(ref.name)
    if not isinstance(bound, LetTable):
        return None
    if bound.columns is None or len(bound.columns) != 1:
        raise c.type_error(
            f"'{ref.name}' must have exactly one column to be used with 'in'",
            ref,
            f"end the let with | project <field>, e.g. let {ref.name} = … | project user.name;",
        )
    (column,) = bound.columns
    return exp.select(exp.column(column, quoted=True)).from_(exp.to_table(bound.cte))


def _in_items(c: ExprCompiler, node: ast.InList) -> list[Typed]:
    items: list[Typed] = []
    for src in node.items:
        item = c.compile(src)
        if item.type is QType.LIST and item.constant:
            for v in item.value:
                items.append(_constant(v))
        elif item.type is QType.LIST:
            raise c.type_error("a list column cannot be an item of 'in'", src)
        else:
            items.append(item)
        if len(items) > MAX_IN_ITEMS:
            raise c.ctx.error(
                QueryLimitError,
                f"'in' takes at most {MAX_IN_ITEMS:,} values",
                node.op_span,
                hint="load long indicator lists as an intel set",
            )
    return items


def _constant(value: object) -> Typed:
    if isinstance(value, bool):
        return Typed(exp.Boolean(this=value), QType.BOOL, value=value)
    if isinstance(value, int):
        return Typed(number(value), QType.LONG, value=value)
    if isinstance(value, float):
        return Typed(number(value), QType.REAL, value=value)
    return Typed(text(str(value)), QType.STRING, value=str(value))


def _has_any(
    c: ExprCompiler, node: ast.InList, value: Typed, items: list[Typed], negated: bool
) -> Typed:
    base = node.op.lstrip("!")
    terms = []
    for item, src in zip(items, node.items, strict=False):
        if not item.constant or not str(item.value):
            raise c.type_error(f"'{base}' needs constant, non-empty terms", src)
        terms.append(str(item.value))
    if not terms:
        return Typed(exp.Boolean(this=base == "has_all"), QType.BOOL)

    def test(v: exp.Expr) -> exp.Expr:
        tests = [c.string_test("has", v.copy(), text(t), t, cased=False) for t in terms]
        return or_any(tests) if base == "has_any" else and_all(tests)

    if value.type is QType.LIST:
        sql = c.dialect.list_any(value.sql, test)
    else:
        sql = test(c.as_text(value, node.operand))
    return Typed(not_or_null(sql) if negated else sql, QType.BOOL)
