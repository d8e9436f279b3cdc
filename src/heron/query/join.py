"""The ``join`` stage: rows of two pipelines matched on equal keys (Kusto's join kinds)."""

from __future__ import annotations

from sqlglot import exp

from heron.query import ast
from heron.query.compile import JOIN_KINDS, Block, PipelineCompiler, select_from
from heron.query.errors import QueryTypeError
from heron.query.expr import ExprCompiler, paren
from heron.query.schema import QType

__all__ = ["join"]


def join(pc: PipelineCompiler, left: Block, stage: ast.Join) -> Block:
    """``left | join kind=… (right) on keys``."""
    ctx = pc.ctx
    kind = JOIN_KINDS.get(stage.kind)
    if kind is None:
        raise ctx.error(
            QueryTypeError,
            f"unknown join kind '{stage.kind}'",
            stage.kind_span or stage.span,
            hint="kinds: " + ", ".join(JOIN_KINDS),
        )
    if not stage.keys:
        raise ctx.error(QueryTypeError, "join needs 'on' keys", stage.span)
    right = pc.pipeline(stage.right)
    for side in (left, right):
        if side.limit is None:  # row order inside a join's input is meaningless
            side.select.set("order", None)
    left_alias, right_alias = ctx.next_alias("_l"), ctx.next_alias("_r")
    left_scope, right_scope = left.scope(left_alias), right.scope(right_alias)
    compiler = ExprCompiler(ctx, left_scope)
    conditions: list[exp.Expr] = []
    for key in stage.keys:
        a = ctx.resolve_field(left_scope, key.left.name, key.left.span, quoted=key.left.quoted)
        b = ctx.resolve_field(right_scope, key.right.name, key.right.span, quoted=key.right.quoted)
        if QType.LIST in (a.type, b.type):
            raise ctx.error(QueryTypeError, "cannot join on a list", key.span)
        left_sql, right_sql, _ = compiler.unify(a, b, key)
        conditions.append(exp.EQ(this=paren(left_sql), expression=paren(right_sql)))
    condition = conditions[0]
    for more in conditions[1:]:
        condition = exp.And(this=paren(condition), expression=paren(more))

    semi = kind in ("left semi", "left anti")
    if not semi and (left.columns is None or right.columns is None):
        raise ctx.error(
            QueryTypeError,
            "join needs the columns of both sides to be known",
            stage.span,
            hint="project the fields you need on the side that reads alerts",
        )
    select_list: list[exp.Expr] = []
    columns: dict[str, QType] | None
    if left.columns is None:
        select_list.append(exp.Column(this=exp.Star(), table=exp.to_identifier(left_alias)))
        columns = None
    else:
        select_list.extend(exp.column(c, table=left_alias, quoted=True) for c in left.columns)
        columns = dict(left.columns)
    if not semi:
        assert right.columns is not None and columns is not None
        for column, qtype in right.columns.items():
            name, n = column, 0
            while name in columns:  # Kusto's naming of a right-side duplicate: name1, name2 …
                n += 1
                name = f"{column}{n}"
            columns[name] = qtype
            ref = exp.column(column, table=right_alias, quoted=True)
            select_list.append(
                ref if name == column else exp.alias_(ref, name, quoted=True, copy=False)
            )
    select = select_from(left.select.subquery(left_alias, copy=False), *select_list).join(
        right.select.subquery(right_alias, copy=False), on=condition, join_type=kind, copy=False
    )
    return Block(
        select,
        columns,
        left.json_column,
        left.text_columns,
        left.known_names,
        star=False,
    )
