"""The ``summarize`` stage: aggregates per group, including ``arg_max`` / ``arg_min`` rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from heron.query import ast
from heron.query.compile import Block, PipelineCompiler, select_from
from heron.query.errors import QueryTypeError
from heron.query.expr import ExprCompiler
from heron.query.schema import QType

__all__ = ["summarize"]


@dataclass(slots=True)
class _Output:
    name: str
    type: QType
    pack: str | None = None  # the packed arg_max value it is read from
    index: int = 0


def summarize(pc: PipelineCompiler, block: Block, stage: ast.Summarize) -> Block:
    """Group ``block``'s rows by ``stage.by`` and compute ``stage.aggregates`` per group."""
    ctx = pc.ctx
    if not stage.aggregates and not stage.by:
        raise ctx.error(QueryTypeError, "summarize needs aggregates or 'by' fields", stage.span)
    if not block.plain or block.limit is not None:
        block = pc.wrap(block)
    block.select.set("order", None)
    block.order = []
    scope = block.scope()
    outputs: list[_Output] = []
    select_list: list[exp.Expr] = []
    group: list[exp.Expr] = []

    def add(name: str, qtype: QType, sql: exp.Expr, where: object) -> None:
        if any(o.name == name for o in outputs):
            raise ctx.error(
                QueryTypeError,
                f"two columns would be named '{name}'",
                getattr(where, "span", None),
                hint=f"name one of them: {name}2 = …",
            )
        outputs.append(_Output(name, qtype))
        select_list.append(exp.alias_(sql, name, quoted=True, copy=False))

    for i, item in enumerate(stage.by, 1):
        value = ExprCompiler(ctx, scope).compile(item.expr)
        add(pc.output_name(item, i), value.type, value.sql, item)
        # By position: an alias such as "@timestamp" for bin(@timestamp, 5m) would
        # shadow the column inside a GROUP BY expression on ClickHouse.
        group.append(exp.Literal.number(i))

    packs = 0
    for i, item in enumerate(stage.aggregates, len(stage.by) + 1):
        call = item.expr
        if isinstance(call, ast.Call) and call.name.lower() in ("arg_max", "arg_min"):
            packs += 1
            pack = f"_pack{packs}"
            fields = _arg_extreme(pc, block, item, call, [o.name for o in outputs])
            sql, extreme = fields
            for index, (name, qtype) in enumerate(extreme):
                if any(o.name == name for o in outputs):
                    raise ctx.error(
                        QueryTypeError, f"two columns would be named '{name}'", call.span
                    )
                outputs.append(_Output(name, qtype, pack, index))
            select_list.append(exp.alias_(sql, pack, quoted=True, copy=False))
            continue
        value = ExprCompiler(ctx, scope, aggregates=True).compile(call)
        if not value.aggregate:
            raise ctx.error(
                QueryTypeError,
                "summarize computes aggregates: count(), dcount(f), sum(f), avg(f), …",
                item.span,
                hint="group by a field with 'by field', or aggregate it: take_any(field)",
            )
        add(pc.output_name(item, i), value.type, value.sql, item)

    block.select.set("expressions", select_list)
    if group:
        block.select.group_by(*group, copy=False)
    block = pc.reshaped(block, {o.name: o.type for o in outputs})
    if not packs:
        return block
    # The packed row of each arg_max is unpacked one level up, so every column comes from
    # the same row (separate arg_max calls could pick different rows on ties).
    d = ctx.dialect
    outer = select_from(
        block.select.subquery(ctx.next_alias(), copy=False),
        *[
            exp.column(o.name, quoted=True)
            if o.pack is None
            else exp.alias_(
                d.unpack(exp.column(o.pack, quoted=True), o.index), o.name, quoted=True, copy=False
            )
            for o in outputs
        ],
    )
    block.select = outer
    return block


def _arg_extreme(
    pc: PipelineCompiler,
    block: Block,
    item: ast.Assign,
    call: ast.Call,
    taken: list[str],
) -> tuple[exp.Expr, list[tuple[str, QType]]]:
    ctx = pc.ctx
    scope = block.scope()
    is_max = call.name.lower() == "arg_max"
    key_node = call.args[0]
    if isinstance(key_node, ast.Star):
        raise ctx.error(
            QueryTypeError, f"{call.name}() needs the value to maximize first", key_node.span
        )
    key = ExprCompiler(ctx, scope).compile(key_node)
    if key.type in (QType.LIST, QType.BOOL):
        raise ctx.error(QueryTypeError, f"{call.name}() needs an ordered value", key_node.span)
    if item.name is not None:
        key_name = item.name
    elif isinstance(key_node, ast.FieldRef):
        key_name = key_node.name
    else:
        key_name = ("max_" if is_max else "min_") + "value"
    names: list[tuple[str, QType]] = [(key_name, key.type)]
    values: list[exp.Expr] = [key.sql]
    for arg in call.args[1:]:
        if isinstance(arg, ast.Star):
            if block.columns is None:
                raise ctx.error(
                    QueryTypeError,
                    f"{call.name}(…, *) needs known columns",
                    arg.span,
                    hint="name the fields: arg_max(@timestamp, host.name, user.name)",
                )
            for column, qtype in block.columns.items():
                if column in taken or column == key_name or any(n == column for n, _ in names):
                    continue
                names.append((column, qtype))
                values.append(exp.column(column, quoted=True))
            continue
        value = ExprCompiler(ctx, scope).compile(arg)
        name = arg.name if isinstance(arg, ast.FieldRef) else f"Column{len(names)}"
        names.append((name, value.type))
        values.append(value.sql)
    kind = exp.ArgMax if is_max else exp.ArgMin
    return kind(this=ctx.dialect.pack(values), expression=key.sql.copy()), names
