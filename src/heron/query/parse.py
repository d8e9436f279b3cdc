"""Query text → syntax tree (``heron.query.ast``), with caret errors and size limits.

The grammar (``grammar.lark``) is parsed by Lark's LALR parser with the tree builder
below applied as each rule reduces: no parse tree is kept and nothing recurses on the
depth of the input, so a deeply nested query costs a stack of values, not Python frames.
The depth of the finished tree is then checked without recursion.
"""

from __future__ import annotations

import difflib
import re
import threading
from importlib import resources
from typing import Any

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from heron.query import ast
from heron.query.errors import QueryError, QueryLimitError, QuerySyntaxError, Span
from heron.query.literals import parse_datetime_text, parse_timespan_text
from heron.query.tree import TreeBuilder

__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_CHARS",
    "STAGE_KEYWORDS",
    "parse",
    "parse_datetime_text",
    "parse_timespan_text",
]

#: Longest query accepted; long IOC lists belong in intel sets, not in query text.
MAX_QUERY_CHARS = 64 * 1024
#: Deepest expression nesting accepted (``((((x))))``, ``not not not x`` …).
MAX_DEPTH = 64

STAGE_KEYWORDS = (
    "where",
    "filter",
    "search",
    "project",
    "project-away",
    "project-rename",
    "extend",
    "summarize",
    "top",
    "sort",
    "order",
    "take",
    "limit",
    "distinct",
    "count",
    "join",
)

# Friendly names for the terminals a parse error says were expected.
_TERMINAL_NAMES = {
    "NAME": "a field name",
    "QUOTED_NAME": "a field name",
    "FIELD_PATTERN": "a field name pattern",
    "SIDE_FIELD": "$left.<field>",
    "CMP_OP": "a comparison (==, !=, <, >, <=, >=, =~, !~)",
    "STR_OP": "a string operator (has, contains, startswith …)",
    "IN_OP": "in / !in / has_any",
    "BETWEEN_OP": "between",
    "MATCHES_REGEX": "matches regex",
    "STRING": "a string",
    "VERBATIM": "a string",
    "INT": "a number",
    "REAL": "a number",
    "TIMESPAN": "a timespan (5m, 1h …)",
    "DATETIME": "datetime(…)",
    "SORT_DIR": "asc / desc",
    "NULLS_POS": "first / last",
    "$END": "the end of the query",
}


_lock = threading.Lock()
_parser: Lark | None = None


def _get_parser() -> Lark:
    global _parser
    with _lock:
        if _parser is None:
            grammar = resources.files("heron.query").joinpath("grammar.lark").read_text("utf-8")
            _parser = Lark(
                grammar,
                parser="lalr",
                lexer="contextual",
                transformer=TreeBuilder(),
                maybe_placeholders=False,
            )
        return _parser


def parse(text: str) -> ast.Query:
    """The syntax tree of ``text``; raises ``QueryError`` (with a caret) if it is not valid."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryLimitError(
            f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}",
            hint="put long lists of indicators in an intel set, or split the hunt",
        )
    if not text.strip() or all(
        not line.strip() or line.strip().startswith("//") for line in text.splitlines()
    ):
        raise QuerySyntaxError("the query is empty", hint="start with a table: events | take 10")
    parser = _get_parser()
    try:
        tree = parser.parse(text)
    except QueryError as exc:
        raise exc.at(text) from None
    except UnexpectedInput as exc:
        raise _syntax_error(parser, text, exc) from None
    if not isinstance(tree, ast.Query):  # pragma: no cover - grammar invariant
        raise QuerySyntaxError("not a query", query=text)
    _check_depth(tree, text)
    return ast.Query(tree.lets, tree.pipeline, text)


def _check_depth(query: ast.Query, text: str) -> None:
    # Iterative on purpose: the tree may be arbitrarily deep before this check.
    stack: list[tuple[Any, int]] = [(let.value, 1) for let in query.lets]
    stack.append((query.pipeline, 1))
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise QueryLimitError(
                f"the query nests deeper than {MAX_DEPTH} levels",
                query=text,
                span=getattr(node, "span", None),
                hint="flatten the expression, or use a let for the inner part",
            )
        for child in _children(node):
            stack.append((child, depth + 1))


_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: Any) -> list[Any]:
    kind = type(node)
    names = _NODE_FIELDS.get(kind)
    if names is None:
        names = tuple(n for n in getattr(kind, "__slots__", ()) if not n.endswith("span"))
        _NODE_FIELDS[kind] = names
    out: list[Any] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, tuple):
            for item in value:
                if isinstance(item, tuple):
                    out.extend(item)
                elif not isinstance(item, str | int | float):
                    out.append(item)
        elif value is not None and not isinstance(value, str | int | float | ast.LitKind):
            out.append(value)
    return out


def _describe(parser: Lark, names: set[str]) -> list[str]:
    out: dict[str, None] = {}
    for name in sorted(names):
        if name in _TERMINAL_NAMES:
            out[_TERMINAL_NAMES[name]] = None
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            out[name.lower()] = None
            continue
        value = pattern.value
        out[f"'{value}'" if pattern.type == "str" else name.lower()] = None
    return list(out)


def _syntax_error(parser: Lark, text: str, exc: UnexpectedInput) -> QueryError:
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    expected: set[str] = set()
    found = ""
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.accepts or exc.expected)
        tok = exc.token
        if tok.type == "$END":
            pos = len(text.rstrip())
        else:
            found = str(tok)
            pos = tok.start_pos if tok.start_pos is not None else pos
    elif isinstance(exc, UnexpectedCharacters):
        expected = set(exc.allowed or ())
        found = re.match(r"\S+|\s", text[pos:]).group(0) if pos < len(text) else ""  # type: ignore[union-attr]
    elif isinstance(exc, UnexpectedEOF):
        expected = set(exc.expected)
        pos = len(text.rstrip())
    names = _describe(parser, expected)
    keywords = [n.strip("'") for n in names if n.strip("'") in STAGE_KEYWORDS]
    hint: str | None = None
    word = re.match(r"[A-Za-z_-]+", found)
    if keywords and word:
        close = difflib.get_close_matches(word.group(0), keywords, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean '{close[0]}'?"
    if keywords and hint is None:
        hint = "a stage is one of: " + ", ".join(keywords)
    message = f"unexpected '{found[:40]}'" if found else "the query ends too early"
    if expected and not keywords:
        shown = names[:8]
        message += "; expected " + ", ".join(shown) + (" …" if len(names) > 8 else "")
    end = pos + max(1, len(found))
    return QuerySyntaxError(message, query=text, span=Span(pos, end), hint=hint)
