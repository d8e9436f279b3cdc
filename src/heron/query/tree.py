"""The tree builder: Lark rule reductions → ``heron.query.ast`` nodes, with positions."""

from __future__ import annotations

import math
import re
from typing import Any

from lark import Token, Transformer

from heron.query import ast
from heron.query.errors import QuerySyntaxError, Span
from heron.query.literals import (
    MAX_LONG,
    decode_string,
    parse_datetime_text,
    parse_timespan_text,
)

__all__ = ["TreeBuilder"]


def _span(item: Any) -> Span:
    if isinstance(item, Token):
        start = item.start_pos or 0
        return Span(start, item.end_pos if item.end_pos is not None else start + len(item))
    span = getattr(item, "span", None)
    if isinstance(span, Span):
        return span
    raise TypeError(f"no position for {item!r}")  # pragma: no cover - grammar invariant


def _cover(items: list[Any]) -> Span:
    flat: list[Any] = []
    for item in items:
        if isinstance(item, tuple):
            flat.extend(_cover([i]) if isinstance(i, tuple) else i for i in item)
        else:
            flat.append(item)
    spans = [
        i if isinstance(i, Span) else _span(i)
        for i in flat
        if isinstance(i, Token | Span) or hasattr(i, "span")
    ]
    return Span(min(s.start for s in spans), max(s.end for s in spans))


def _nodes(children: list[Any]) -> list[Any]:
    """The children that are not punctuation or keyword tokens."""
    return [c for c in children if not isinstance(c, Token)]


class TreeBuilder(Transformer[Token, Any]):
    """Builds ``heron.query.ast`` nodes as the LALR parser reduces each rule."""

    # -- whole query -----------------------------------------------------------------

    def start(self, children: list[Any]) -> ast.Query:
        nodes = _nodes(children)
        return ast.Query(lets=tuple(nodes[:-1]), pipeline=nodes[-1])

    def let_stmt(self, children: list[Any]) -> ast.Let:
        _let, name = children[0], children[1]
        value = children[-1]
        return ast.Let(
            name=str(name), value=value, span=_cover([children[0], value]), name_span=_span(name)
        )

    def let_expr(self, children: list[Any]) -> ast.Expr:
        value: ast.Expr = children[0]
        return value

    def let_pipe(self, children: list[Any]) -> ast.Pipeline:
        head, *stages = children
        if not isinstance(head, ast.FieldRef) or head.quoted:
            raise QuerySyntaxError(
                "a pipeline starts with a table name (events, alerts or a let name)",
                span=_span(head),
            )
        source = ast.Source(head.name, head.span)
        return ast.Pipeline(source, tuple(stages), _cover([head, *stages]))

    def let_search(self, children: list[Any]) -> ast.Pipeline:
        return self.pipeline(children)

    def pipeline(self, children: list[Any]) -> ast.Pipeline:
        head, *stages = children
        if isinstance(head, ast.Pipeline):  # search "text" as the first stage
            return ast.Pipeline(head.source, head.stages + tuple(stages), _cover([head, *stages]))
        return ast.Pipeline(head, tuple(stages), _cover([head, *stages]))

    def table_source(self, children: list[Any]) -> ast.Source:
        return ast.Source(str(children[0]), _span(children[0]))

    def search_source(self, children: list[Any]) -> ast.Pipeline:
        kw, text = children
        span = _cover([kw, text])
        return ast.Pipeline(ast.Source("events", _span(kw)), (ast.Search(text, span),), span)

    # -- stages ----------------------------------------------------------------------

    def where_op(self, children: list[Any]) -> ast.Where:
        return ast.Where(children[1], _cover(children))

    def search_op(self, children: list[Any]) -> ast.Search:
        return ast.Search(children[1], _cover(children))

    def project_op(self, children: list[Any]) -> ast.Project:
        return ast.Project(tuple(_nodes(children)), _cover(children))

    def project_away_op(self, children: list[Any]) -> ast.ProjectAway:
        names = [self._pattern(c) for c in children[1:] if not _is_punct(c)]
        return ast.ProjectAway(tuple(names), _cover(children))

    def project_rename_op(self, children: list[Any]) -> ast.ProjectRename:
        return ast.ProjectRename(tuple(_nodes(children)), _cover(children))

    def extend_op(self, children: list[Any]) -> ast.Extend:
        return ast.Extend(tuple(_nodes(children)), _cover(children))

    def summarize_op(self, children: list[Any]) -> ast.Summarize:
        aggregates: tuple[ast.Assign, ...] = ()
        by: tuple[ast.Assign, ...] = ()
        after_by = False
        for child in children[1:]:
            if isinstance(child, Token) and child.type == "BY":
                after_by = True
            elif isinstance(child, tuple):
                if after_by:
                    by = child
                else:
                    aggregates = child
        return ast.Summarize(aggregates, by, _cover(children))

    def top_op(self, children: list[Any]) -> ast.Top:
        nodes = _nodes(children)
        return ast.Top(nodes[0], tuple(nodes[1:]), _cover(children))

    def sort_op(self, children: list[Any]) -> ast.Sort:
        return ast.Sort(tuple(_nodes(children)), _cover(children))

    def take_op(self, children: list[Any]) -> ast.Take:
        return ast.Take(children[1], _cover(children))

    def distinct_op(self, children: list[Any]) -> ast.Distinct:
        return ast.Distinct(tuple(_nodes(children)), _cover(children))

    def count_op(self, children: list[Any]) -> ast.Count:
        return ast.Count(_cover(children))

    def join_op(self, children: list[Any]) -> ast.Join:
        kind = "inner"
        kind_span: Span | None = None
        right: ast.Pipeline | None = None
        keys: list[ast.JoinKey] = []
        for child in _nodes(children):
            if isinstance(child, tuple):
                kind, kind_span = child
            elif isinstance(child, ast.Pipeline):
                right = child
            elif isinstance(child, ast.JoinKey):
                keys.append(child)
        assert right is not None  # the grammar requires it
        return ast.Join(kind, right, tuple(keys), _cover(children), kind_span)

    def join_kind(self, children: list[Any]) -> tuple[str, Span]:
        return str(children[0]).lower(), _span(children[0])

    def join_same(self, children: list[Any]) -> ast.JoinKey:
        f: ast.FieldRef = children[0]
        return ast.JoinKey(f, f, f.span)

    def join_pair(self, children: list[Any]) -> ast.JoinKey:
        a, op, b = children
        span = _cover(children)
        if str(op) != "==":
            raise QuerySyntaxError("join keys are compared with ==", span=_span(op))
        sides = {}
        for tok in (a, b):
            side, _, name = str(tok).partition(".")
            sides[side] = ast.FieldRef(name, Span(_span(tok).start + len(side) + 1, _span(tok).end))
        if set(sides) != {"$left", "$right"}:
            raise QuerySyntaxError("a join key pairs $left.<field> with $right.<field>", span=span)
        return ast.JoinKey(sides["$left"], sides["$right"], span)

    def column_list(self, children: list[Any]) -> tuple[ast.Assign, ...]:
        return tuple(_nodes(children))

    def named_expr(self, children: list[Any]) -> ast.Assign:
        name, value = _nodes(children)
        return ast.Assign(name.name, value, _cover([name, value]), name.span)

    def unnamed_expr(self, children: list[Any]) -> ast.Assign:
        return ast.Assign(None, children[0], _span(children[0]))

    def rename(self, children: list[Any]) -> tuple[ast.FieldRef, ast.FieldRef]:
        new, old = _nodes(children)
        return new, old

    def sort_key(self, children: list[Any]) -> ast.SortKey:
        expr = children[0]
        descending = True
        nulls_first: bool | None = None
        for tok in children[1:]:
            if tok.type == "SORT_DIR":
                descending = str(tok).lower() == "desc"
            elif tok.type == "NULLS_POS":
                nulls_first = str(tok).lower() == "first"
        return ast.SortKey(expr, descending, nulls_first, _cover(children))

    # -- expressions -----------------------------------------------------------------

    def or_expr(self, children: list[Any]) -> ast.BoolOp:
        return ast.BoolOp("or", tuple(children), _cover(children))

    def and_expr(self, children: list[Any]) -> ast.BoolOp:
        return ast.BoolOp("and", tuple(children), _cover(children))

    def not_op(self, children: list[Any]) -> ast.Unary:
        return ast.Unary("not", children[1], _cover(children))

    def binary(self, children: list[Any]) -> ast.Binary:
        left, op, right = children
        name = str(op)
        if name == "<>":
            name = "!="
        return ast.Binary(name, left, right, _cover(children), _span(op))

    def regex_match(self, children: list[Any]) -> ast.RegexMatch:
        return ast.RegexMatch(children[0], children[2], _cover(children))

    def in_list(self, children: list[Any]) -> ast.InList:
        operand, op = children[0], children[1]
        items: tuple[ast.Expr, ...] = next((c for c in children if isinstance(c, tuple)), ())
        return ast.InList(operand, items, str(op), _cover(children), _span(op))

    def between(self, children: list[Any]) -> ast.Between:
        operand, op = children[0], children[1]
        low, high = _nodes(children[2:])
        negated = str(op).startswith("!")
        return ast.Between(operand, low, high, negated, _cover(children))

    def negate(self, children: list[Any]) -> ast.Expr:
        _minus, operand = children
        span = _cover(children)
        if isinstance(operand, ast.Literal) and operand.kind in (
            ast.LitKind.LONG,
            ast.LitKind.REAL,
            ast.LitKind.TIMESPAN,
        ):
            assert isinstance(operand.value, int | float)
            return ast.Literal(-operand.value, operand.kind, span)
        return ast.Unary("-", operand, span)

    def call(self, children: list[Any]) -> ast.Call:
        name = children[0]
        args: tuple[ast.Expr, ...] = next((c for c in children if isinstance(c, tuple)), ())
        return ast.Call(str(name), args, _cover([name, args]), _span(name))

    def args(self, children: list[Any]) -> tuple[ast.Expr, ...]:
        return tuple(
            ast.Star(_span(c)) if isinstance(c, Token) else c
            for c in children
            if not isinstance(c, Token) or c.type == "STAR"
        )

    def dynamic_list(self, children: list[Any]) -> ast.ListLit:
        items: tuple[ast.Expr, ...] = next((c for c in children if isinstance(c, tuple)), ())
        return ast.ListLit(items, _cover(children))

    def expr_list(self, children: list[Any]) -> tuple[ast.Expr, ...]:
        return tuple(_nodes(children))

    def field(self, children: list[Any]) -> ast.FieldRef:
        tok = children[0]
        if tok.type == "QUOTED_NAME":
            name = str(tok).strip()[1:-1].strip()[1:-1]
            _check_quoted_name(name, _span(tok))
            return ast.FieldRef(name, _span(tok), quoted=True)
        return ast.FieldRef(str(tok), _span(tok))

    def string(self, children: list[Any]) -> ast.Literal:
        return ast.Literal(decode_string(children[0]), ast.LitKind.STRING, _span(children[0]))

    def literal(self, children: list[Any]) -> ast.Literal:
        tok: Token = children[0]
        span = _span(tok)
        kind = tok.type
        if kind in ("STRING", "VERBATIM"):
            return ast.Literal(decode_string(tok), ast.LitKind.STRING, span)
        if kind == "INT":
            value = int(str(tok))
            if value > MAX_LONG:
                raise QuerySyntaxError("number too large for a long", span=span)
            return ast.Literal(value, ast.LitKind.LONG, span)
        if kind == "REAL":
            real = float(str(tok))
            if not math.isfinite(real):
                raise QuerySyntaxError("number out of range", span=span)
            return ast.Literal(real, ast.LitKind.REAL, span)
        if kind == "TIMESPAN":
            return ast.Literal(parse_timespan_text(str(tok), span), ast.LitKind.TIMESPAN, span)
        if kind == "DATETIME":
            inner = str(tok)[len("datetime(") : -1]
            return ast.Literal(parse_datetime_text(inner, span), ast.LitKind.DATETIME, span)
        return ast.Literal(kind == "TRUE", ast.LitKind.BOOL, span)

    def _pattern(self, child: Any) -> ast.FieldRef:
        if isinstance(child, Token):  # FIELD_PATTERN
            return ast.FieldRef(str(child), _span(child))
        assert isinstance(child, ast.FieldRef)
        return child


def _is_punct(child: Any) -> bool:
    return isinstance(child, Token) and child.type not in ("FIELD_PATTERN",)


_BAD_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f\"'\\]")


def _check_quoted_name(name: str, span: Span) -> None:
    if not name or len(name) > 256 or _BAD_NAME_CHARS.search(name):
        raise QuerySyntaxError(
            "a field name is 1 to 256 characters without quotes, backslashes or control characters",
            span=span,
        )
