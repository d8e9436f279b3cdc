"""The syntax tree of a hunt: a source, then pipe stages; expressions inside stages.

Nodes are plain frozen dataclasses that carry their ``Span`` in the query text, so the
compiler can point a caret at the field, function or value it rejects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from heron.query.errors import Span

__all__ = [
    "Assign",
    "Between",
    "Binary",
    "BoolOp",
    "Call",
    "Count",
    "Distinct",
    "Expr",
    "Extend",
    "FieldRef",
    "InList",
    "Join",
    "JoinKey",
    "Let",
    "ListLit",
    "LitKind",
    "Literal",
    "Pipeline",
    "Project",
    "ProjectAway",
    "ProjectRename",
    "Query",
    "RegexMatch",
    "Search",
    "Sort",
    "SortKey",
    "Source",
    "Stage",
    "Star",
    "Summarize",
    "Take",
    "Top",
    "Unary",
    "Where",
]


class LitKind(Enum):
    """The type of a literal as written."""

    STRING = "string"
    LONG = "long"
    REAL = "real"
    BOOL = "bool"
    DATETIME = "datetime"  # value: int ns since the epoch
    TIMESPAN = "timespan"  # value: int ns


# -- expressions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool
    kind: LitKind
    span: Span


@dataclass(frozen=True, slots=True)
class ListLit:
    """``dynamic([...])`` or the parenthesised list of ``in``."""

    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field by name; ``quoted`` when written ``['name']`` (no did-you-mean check)."""

    name: str
    span: Span
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Star:
    """``*`` as a function argument (``arg_max(@timestamp, *)``)."""

    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, comparison and string operators (``+``, ``==``, ``has``, ``!contains`` …)."""

    op: str
    left: Expr
    right: Expr
    span: Span
    op_span: Span


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and`` / ``or`` over two or more operands (flat, so long chains stay shallow)."""

    op: str
    operands: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class InList:
    """``x in (…)``, ``!in``, ``in~``, ``!in~``, and ``has_any (…)``."""

    operand: Expr
    items: tuple[Expr, ...]
    op: str
    span: Span
    op_span: Span


@dataclass(frozen=True, slots=True)
class Between:
    operand: Expr
    low: Expr
    high: Expr
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class RegexMatch:
    operand: Expr
    pattern: Expr
    span: Span


Expr = (
    Literal
    | ListLit
    | FieldRef
    | Star
    | Call
    | Unary
    | Binary
    | BoolOp
    | InList
    | Between
    | RegexMatch
)


# -- stages ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    """``name = expr`` or a bare ``expr`` in project / extend / summarize / distinct."""

    name: str | None
    expr: Expr
    span: Span
    name_span: Span | None = None


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: Expr
    descending: bool  # Kusto sorts descending unless told otherwise
    nulls_first: bool | None
    span: Span


@dataclass(frozen=True, slots=True)
class JoinKey:
    left: FieldRef
    right: FieldRef
    span: Span


@dataclass(frozen=True, slots=True)
class Where:
    predicate: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Search:
    """Free text: case-insensitive substring of the raw event."""

    text: Literal
    span: Span


@dataclass(frozen=True, slots=True)
class Project:
    items: tuple[Assign, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ProjectAway:
    names: tuple[FieldRef, ...]  # may hold * wildcards
    span: Span


@dataclass(frozen=True, slots=True)
class ProjectRename:
    pairs: tuple[tuple[FieldRef, FieldRef], ...]  # (new, old)
    span: Span


@dataclass(frozen=True, slots=True)
class Extend:
    items: tuple[Assign, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Summarize:
    aggregates: tuple[Assign, ...]
    by: tuple[Assign, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Sort:
    keys: tuple[SortKey, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Top:
    count: Expr
    keys: tuple[SortKey, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Take:
    count: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Distinct:
    items: tuple[Assign, ...]  # empty: distinct *
    span: Span


@dataclass(frozen=True, slots=True)
class Count:
    span: Span


@dataclass(frozen=True, slots=True)
class Join:
    kind: str
    right: Pipeline
    keys: tuple[JoinKey, ...]
    span: Span
    kind_span: Span | None = None


Stage = (
    Where
    | Search
    | Project
    | ProjectAway
    | ProjectRename
    | Extend
    | Summarize
    | Sort
    | Top
    | Take
    | Distinct
    | Count
    | Join
)


# -- whole queries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """The relation a pipeline starts from: ``events``, ``alerts`` or a tabular ``let``."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Pipeline:
    source: Source
    stages: tuple[Stage, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Let:
    """``let name = value;``: a constant expression or a tabular sub-query."""

    name: str
    value: Expr | Pipeline
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Query:
    lets: tuple[Let, ...]
    pipeline: Pipeline
    text: str = field(default="", compare=False)
