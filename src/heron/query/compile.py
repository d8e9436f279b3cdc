"""A hunt (syntax tree) → one SQL SELECT, built as sqlglot expressions for a dialect.

Each pipe stage either merges into the SELECT being built (a ``where`` after the
source, a ``take`` after a ``sort``, a ``summarize`` after ``where`` …) or wraps it
as a subquery; stages merge only where SQL's evaluation order gives the same answer
as the pipe's. ``let`` sub-queries become common table expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from heron.model.timeutil import now_ns as _now_ns
from heron.query import ast
from heron.query.dialect import Dialect, get_dialect
from heron.query.errors import QueryLimitError, QueryTypeError, Span, UnknownFieldError
from heron.query.expr import ExprCompiler, paren
from heron.query.functions import FUNCTIONS
from heron.query.parse import parse
from heron.query.schema import Catalog, QType
from heron.query.scope import Context, LetTable, Scope, Typed, suggest_name

__all__ = ["MAX_STAGES", "CompiledQuery", "compile_query"]

#: Most pipe stages in one query (every stage may nest one subquery deeper).
MAX_STAGES = 64

JOIN_KINDS = {
    "inner": "inner",
    "innerunique": "inner",
    "leftouter": "left",
    "rightouter": "right",
    "fullouter": "full",
    "leftsemi": "left semi",
    "leftanti": "left anti",
}
_TIME_ROUNDING = frozenset({"bin", "floor", "startofday", "startofweek", "startofmonth"})
_AGG_PREFIX = {"make_set": "set", "make_list": "list", "take_any": "any"}


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """SQL for one store, and what the compiler knows of the result."""

    sql: str
    dialect: str
    #: Result columns and their types; None when the source's columns are not known.
    columns: Mapping[str, QType] | None
    expression: exp.Expr
    query: str
    #: Where each field is first named in the query (to place store errors).
    field_spans: Mapping[str, Span]


@dataclass(slots=True)
class OrderKey:
    ordered: exp.Ordered
    name: str | None  # the output column it sorts by, or None for an expression


@dataclass(slots=True)
class Block:
    """A SELECT under construction and the shape of its output rows."""

    select: exp.Select
    columns: dict[str, QType] | None
    json_column: str | None
    text_columns: tuple[str, ...]
    known_names: tuple[str, ...]
    star: bool = True  # the select list is exactly *, so input and output rows agree
    grouped: bool = False
    distinct: bool = False
    order: list[OrderKey] = field(default_factory=list)
    limit: int | None = None

    @property
    def plain(self) -> bool:
        return self.star and not self.grouped and not self.distinct

    def scope(self, qualifier: str | None = None) -> Scope:
        return Scope(self.columns, self.json_column, qualifier, self.known_names)


def compile_query(
    query: str | ast.Query,
    *,
    dialect: str | Dialect = "duckdb",
    catalog: Catalog | None = None,
    now_ns: int | None = None,
    row_limit: int | None = None,
    search_spans: Mapping[str, list[tuple[int, int]]] | None = None,
) -> CompiledQuery:
    """Compile a hunt to SQL; ``row_limit`` caps the rows it can return.

    ``search_spans`` maps a ``search`` text to the only time spans (ns) whose events can
    contain it, from the store's free-text index; a search straight on ``events`` then
    reads just those spans.
    """
    tree = parse(query) if isinstance(query, str) else query
    ctx = Context(
        dialect=get_dialect(dialect),
        now_ns=_now_ns() if now_ns is None else now_ns,
        query=tree.text,
        catalog=catalog or Catalog(),
    )
    compiler = PipelineCompiler(ctx, search_spans or {})
    for let in tree.lets:
        compiler.bind_let(let)
    block = compiler.pipeline(tree.pipeline)
    if row_limit is not None:
        block = compiler.take_n(block, row_limit)
    select = block.select
    for name, cte in ctx.ctes:
        select = select.with_(name, as_=cte, copy=False)
    select = ctx.dialect.finalize(select)
    return CompiledQuery(
        sql=select.sql(dialect=ctx.dialect.name, copy=False),
        dialect=ctx.dialect.name,
        columns=dict(block.columns) if block.columns is not None else None,
        expression=select,
        query=tree.text,
        field_spans=dict(ctx.field_spans),
    )


def _field_names(node: ast.Expr) -> set[str]:
    names: set[str] = set()
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.FieldRef):
            names.add(item.name)
        elif isinstance(item, ast.Call | ast.ListLit):
            stack.extend(item.args if isinstance(item, ast.Call) else item.items)
        elif isinstance(item, ast.Binary):
            stack.extend((item.left, item.right))
        elif isinstance(item, ast.BoolOp):
            stack.extend(item.operands)
        elif isinstance(item, ast.Unary):
            stack.append(item.operand)
        elif isinstance(item, ast.InList):
            stack.extend((item.operand, *item.items))
        elif isinstance(item, ast.Between):
            stack.extend((item.operand, item.low, item.high))
        elif isinstance(item, ast.RegexMatch):
            stack.extend((item.operand, item.pattern))
    return names


def select_from(source: exp.Expr, *columns: exp.Expr) -> exp.Select:
    """``SELECT columns (or *) FROM source``, built in place (sqlglot copies by default)."""
    return exp.select(*(columns or (exp.Star(),)), copy=False).from_(source, copy=False)


def alias(value: exp.Expr, name: str) -> exp.Expr:
    """``value AS \"name\"``."""
    return exp.alias_(value, name, quoted=True, copy=False)


class PipelineCompiler:
    def __init__(self, ctx: Context, search_spans: Mapping[str, list[tuple[int, int]]]) -> None:
        self.ctx = ctx
        self.stages = 0
        self.search_spans = search_spans

    # -- lets and sources --------------------------------------------------------------

    def bind_let(self, let: ast.Let) -> None:
        value = let.value
        if isinstance(value, ast.FieldRef) and not value.quoted and self._is_table(value.name):
            value = ast.Pipeline(ast.Source(value.name, value.span), (), value.span)
        if isinstance(value, ast.Pipeline):
            block = self.pipeline(value)
            cte = self.ctx.next_alias("_let")
            self.ctx.ctes.append((cte, block.select))
            self.ctx.lets[let.name] = LetTable(
                cte, block.columns, block.json_column, block.text_columns, block.known_names
            )
            return
        typed = ExprCompiler(self.ctx, Scope(columns={})).compile(value)
        self.ctx.lets[let.name] = typed

    def _is_table(self, name: str) -> bool:
        return isinstance(self.ctx.lets.get(name), LetTable) or (
            name not in self.ctx.lets and self.ctx.catalog.get(name) is not None
        )

    def pipeline(self, pipeline: ast.Pipeline) -> Block:
        block = self.source(pipeline.source)
        on_events = pipeline.source.name == "events" and pipeline.source.name not in self.ctx.lets
        for i, stage in enumerate(pipeline.stages):
            if i == 0 and on_events and isinstance(stage, ast.Search):
                block = self.search(block, stage, self.search_spans.get(str(stage.text.value)))
                continue
            self.stages += 1
            if self.stages > MAX_STAGES:
                raise self.ctx.error(
                    QueryLimitError, f"a hunt has at most {MAX_STAGES} stages", stage.span
                )
            block = self.stage(block, stage)
        return block

    def source(self, source: ast.Source) -> Block:
        bound = self.ctx.lets.get(source.name)
        if isinstance(bound, LetTable):
            return Block(
                select_from(exp.to_table(bound.cte)),
                dict(bound.columns) if bound.columns is not None else None,
                bound.json_column,
                bound.text_columns,
                bound.known_names,
            )
        relation = self.ctx.catalog.get(source.name)
        if relation is None or bound is not None:
            names = [
                *self.ctx.catalog.relations,
                *(n for n, v in self.ctx.lets.items() if isinstance(v, LetTable)),
            ]
            close = suggest_name(source.name, names)
            raise self.ctx.error(
                UnknownFieldError,
                f"unknown table '{source.name}'" + (f" — did you mean '{close}'?" if close else ""),
                source.span,
                hint=None if close else "a hunt starts with one of: " + ", ".join(names),
            )
        return Block(
            select_from(exp.to_table(relation.table)),
            dict(relation.columns) if relation.columns is not None else None,
            relation.json_column,
            relation.text_columns,
            relation.known_names,
        )

    # -- stages ------------------------------------------------------------------------

    def stage(self, block: Block, stage: ast.Stage) -> Block:
        if isinstance(stage, ast.Where):
            return self.where(block, stage)
        if isinstance(stage, ast.Search):
            return self.search(block, stage)
        if isinstance(stage, ast.Project):
            return self.project(block, stage.items)
        if isinstance(stage, ast.Extend):
            return self.extend(block, stage)
        if isinstance(stage, ast.ProjectAway):
            from heron.query.columns import project_away

            return project_away(self, block, stage)
        if isinstance(stage, ast.ProjectRename):
            from heron.query.columns import project_rename

            return project_rename(self, block, stage)
        if isinstance(stage, ast.Summarize):
            from heron.query.summarize import summarize

            return summarize(self, block, stage)
        if isinstance(stage, ast.Sort):
            return self.sort(block, stage.keys)
        if isinstance(stage, ast.Top):
            return self.take(self.sort(block, stage.keys), stage.count)
        if isinstance(stage, ast.Take):
            return self.take(block, stage.count)
        if isinstance(stage, ast.Distinct):
            return self.distinct(block, stage)
        if isinstance(stage, ast.Count):
            return self.count(block)
        from heron.query.join import join

        return join(self, block, stage)

    def wrap(self, block: Block) -> Block:
        """``block`` as a subquery of a new SELECT *, keeping its row order where it can."""
        alias = self.ctx.next_alias()
        carried: list[OrderKey] = []
        if block.order and all(
            k.name is not None and (block.columns is None or k.name in block.columns)
            for k in block.order
        ):
            for key in block.order:
                assert key.name is not None
                ordered = exp.Ordered(
                    this=exp.column(key.name, quoted=True),
                    desc=key.ordered.args.get("desc"),
                    nulls_first=key.ordered.args.get("nulls_first"),
                )
                carried.append(OrderKey(ordered, key.name))
            if block.limit is None:  # the outer query sorts; sorting inside too is waste
                block.select.set("order", None)
        outer = select_from(block.select.subquery(alias, copy=False))
        if carried:
            outer.set("order", exp.Order(expressions=[k.ordered for k in carried]))
        return Block(
            outer,
            block.columns,
            block.json_column,
            block.text_columns,
            block.known_names,
            order=carried,
        )

    def where(self, block: Block, stage: ast.Where) -> Block:
        if not block.plain or block.limit is not None:
            block = self.wrap(block)
        predicate = ExprCompiler(self.ctx, block.scope()).predicate(stage.predicate)
        block.select.where(predicate, copy=False)
        return block

    def search(
        self, block: Block, stage: ast.Search, spans: list[tuple[int, int]] | None = None
    ) -> Block:
        needle = stage.text.value
        assert isinstance(needle, str)
        if not needle:
            raise self.ctx.error(QueryTypeError, "search needs some text", stage.text.span)
        if not block.plain or block.limit is not None:
            block = self.wrap(block)
        columns = [c for c in block.text_columns if block.columns and c in block.columns]
        if not columns:
            raise self.ctx.error(
                QueryTypeError,
                "search looks in event.original and message, which are not here",
                stage.span,
                hint='search before project/summarize: events | search "x" | project …',
            )
        d = self.ctx.dialect
        tests = [
            d.contains(exp.column(c, quoted=True), exp.Literal.string(needle), cased=False)
            for c in columns
        ]
        predicate = (
            tests[0]
            if len(tests) == 1
            else exp.Or(this=paren(tests[0]), expression=paren(tests[1]))
        )
        for extra in tests[2:]:
            predicate = exp.Or(this=predicate, expression=paren(extra))
        if spans is not None:
            predicate = exp.And(this=self._within(spans), expression=paren(predicate))
        block.select.where(predicate, copy=False)
        return block

    def _within(self, spans: list[tuple[int, int]]) -> exp.Expr:
        """``@timestamp`` inside one of ``spans`` (so the store reads only those row groups)."""
        if not spans:
            return exp.false()
        d = self.ctx.dialect
        ts = exp.column("@timestamp", quoted=True)
        tests = [
            exp.Between(this=ts.copy(), low=d.timestamp(a), high=d.timestamp(b)) for a, b in spans
        ]
        within: exp.Expr = tests[0]
        for more in tests[1:]:
            within = exp.Or(this=within, expression=more)
        return exp.Paren(this=within)

    def _ready_for_projection(self, block: Block, new_names: set[str]) -> Block:
        # ORDER BY resolves a bare name to an output alias first; a projection that
        # redefines a sort key's name (or any name, for expression keys) must nest.
        clash = any(k.name is None or k.name in new_names for k in block.order)
        if not block.plain or clash:
            return self.wrap(block)
        return block

    def project(self, block: Block, items: tuple[ast.Assign, ...]) -> Block:
        names = [self.output_name(item, i) for i, item in enumerate(items, 1)]
        block = self._ready_for_projection(block, set(names))
        compiler = ExprCompiler(self.ctx, block.scope())
        select_list: list[exp.Expr] = []
        columns: dict[str, QType] = {}
        passthrough: set[str] = set()
        for item, name in zip(items, names, strict=True):
            self.check_unique(name, columns, item)
            value = compiler.compile(item.expr)
            columns[name] = value.type
            if (
                isinstance(item.expr, ast.FieldRef)
                and isinstance(value.sql, exp.Column)
                and item.expr.name == name
            ):
                passthrough.add(name)
                select_list.append(value.sql)
            else:
                select_list.append(alias(value.sql, name))
        block.select.set("expressions", select_list)
        block.star = False
        block.columns = columns
        block.json_column = block.json_column if block.json_column in passthrough else None
        block.text_columns = tuple(c for c in block.text_columns if c in passthrough)
        return block

    def extend(self, block: Block, stage: ast.Extend) -> Block:
        pending: list[tuple[str, Typed, ast.Assign]] = []
        names = [self.output_name(item, i) for i, item in enumerate(stage.items, 1)]
        for item, name in zip(stage.items, names, strict=True):
            if _field_names(item.expr) & {n for n, _, _ in pending}:
                # Kusto lets a later column use an earlier one of the same extend.
                block = self._apply_extend(block, pending)
                pending = []
            if not pending:
                block = self._ready_for_projection(block, set(names))
            value = ExprCompiler(self.ctx, block.scope()).compile(item.expr)
            if any(n == name for n, _, _ in pending):
                raise self.ctx.error(QueryTypeError, f"'{name}' is set twice", item.span)
            pending.append((name, value, item))
        return self._apply_extend(block, pending)

    def _apply_extend(self, block: Block, pending: list[tuple[str, Typed, ast.Assign]]) -> Block:
        if not pending:
            return block
        replaced = [
            alias(v.sql, n)
            for n, v, _ in pending
            if block.columns is not None and n in block.columns
        ]
        added = [
            alias(v.sql, n)
            for n, v, _ in pending
            if block.columns is None or n not in block.columns
        ]
        star = exp.Star(replace=replaced) if replaced else exp.Star()
        block.select.set("expressions", [star, *added])
        if block.columns is not None:
            for name, value, _ in pending:
                block.columns[name] = value.type
            if block.json_column in {n for n, _, _ in pending}:
                block.json_column = None
        block.text_columns = tuple(
            c for c in block.text_columns if c not in {n for n, _, _ in pending}
        )
        block.star = False
        return block

    def sort(self, block: Block, keys: tuple[ast.SortKey, ...]) -> Block:
        if block.limit is not None:
            block = self.wrap(block)
        if not block.plain and not (
            self.ctx.dialect.order_by_output_names
            and all(
                isinstance(k.expr, ast.FieldRef)
                and block.columns is not None
                and k.expr.name in block.columns
                for k in keys
            )
        ):
            block = self.wrap(block)
        order: list[OrderKey] = []
        for key in keys:
            value = ExprCompiler(self.ctx, block.scope()).compile(key.expr)
            if value.type is QType.LIST:
                raise self.ctx.error(QueryTypeError, "cannot sort by a list", key.span)
            nulls_first = key.nulls_first if key.nulls_first is not None else not key.descending
            ordered = exp.Ordered(this=value.sql, desc=key.descending, nulls_first=nulls_first)
            name = (
                key.expr.name
                if isinstance(key.expr, ast.FieldRef) and isinstance(value.sql, exp.Column)
                else None
            )
            order.append(OrderKey(ordered, name))
        block.select.set("order", exp.Order(expressions=[k.ordered for k in order]))
        block.order = order
        return block

    def take(self, block: Block, count: ast.Expr) -> Block:
        value = ExprCompiler(self.ctx, Scope(columns={})).compile(count)
        if not value.constant or value.type is not QType.LONG or value.value < 0:
            raise self.ctx.error(QueryTypeError, "take needs a whole number ≥ 0", count.span)
        return self.take_n(block, int(value.value))

    def take_n(self, block: Block, n: int) -> Block:
        limit = n if block.limit is None else min(block.limit, n)
        block.select.limit(limit, copy=False)
        block.limit = limit
        return block

    def distinct(self, block: Block, stage: ast.Distinct) -> Block:
        if not block.plain or block.limit is not None or block.order:
            block = self.wrap(block)
        if stage.items:
            block = self.project(block, stage.items)
        block.select.distinct(copy=False)
        block.distinct = True
        return block

    def count(self, block: Block) -> Block:
        if not block.plain or block.limit is not None:
            block = self.wrap(block)
        block.select.set("order", None)
        block.order = []
        block.select.set("expressions", [alias(exp.Count(this=exp.Star()), "Count")])
        return self.reshaped(block, {"Count": QType.LONG})

    def reshaped(self, block: Block, columns: dict[str, QType]) -> Block:
        block.columns = columns
        block.json_column = None
        block.text_columns = ()
        block.known_names = ()
        block.star = False
        block.grouped = True
        return block

    # -- naming ------------------------------------------------------------------------

    def output_name(self, item: ast.Assign, index: int) -> str:
        """The column name of a project/extend/summarize item (Kusto's naming)."""
        if item.name is not None:
            return item.name
        node = item.expr
        if isinstance(node, ast.FieldRef):
            return node.name
        if isinstance(node, ast.Call):
            fname = node.name.lower()
            first = node.args[0] if node.args else None
            if fname in _TIME_ROUNDING and isinstance(first, ast.FieldRef):
                return first.name
            spec = FUNCTIONS.get(fname)
            if spec is not None and spec.aggregate:
                prefix = _AGG_PREFIX.get(fname, fname)
                if isinstance(first, ast.FieldRef):
                    return f"{prefix}_{first.name.replace('.', '_')}"
                return f"{prefix}_"
        return f"Column{index}"

    def check_unique(self, name: str, columns: Mapping[str, QType], where: object) -> None:
        if name in columns:
            raise self.ctx.error(
                QueryTypeError,
                f"two columns would be named '{name}'",
                getattr(where, "span", None),
                hint=f"name one of them: {name}2 = …",
            )
