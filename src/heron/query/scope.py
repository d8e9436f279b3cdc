"""Compile-time state: typed SQL values, the fields in scope, and the query-wide context."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from heron.query.dialect import Dialect
from heron.query.errors import QueryError, Span, UnknownFieldError
from heron.query.schema import Catalog, QType

__all__ = [
    "NO_VALUE",
    "Context",
    "LetTable",
    "Scope",
    "Typed",
    "suggest_name",
]

NO_VALUE: Any = object()

# A field name that may be read from the JSON of extra fields: identifier characters,
# dots, @, and a few separators vendor names use. Anything else is rejected.
_FIELD_NAME = re.compile(r"[@A-Za-z0-9_][A-Za-z0-9_@.\-:/ ]{0,255}")


@dataclass(frozen=True, slots=True)
class Typed:
    """A compiled value: its SQL, its type, whether it aggregates, its value if constant."""

    sql: exp.Expr
    type: QType
    aggregate: bool = False
    value: Any = NO_VALUE

    @property
    def constant(self) -> bool:
        return self.value is not NO_VALUE


@dataclass(frozen=True, slots=True)
class LetTable:
    """A tabular ``let``: a common table expression and the shape of its rows."""

    cte: str
    columns: Mapping[str, QType] | None
    json_column: str | None
    text_columns: tuple[str, ...]
    known_names: tuple[str, ...]


def suggest_name(name: str, candidates: tuple[str, ...] | list[str]) -> str | None:
    """The candidate ``name`` is most likely a typo of, if any is close enough."""
    return _suggest(name, tuple(candidates))


@functools.lru_cache(maxsize=4096)
def _suggest(name: str, candidates: tuple[str, ...]) -> str | None:
    lowered = name.lower()
    for candidate in candidates:
        if candidate.lower() == lowered and candidate != name:
            return candidate
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return close[0] if close else None


@dataclass(slots=True)
class Scope:
    """The fields an expression may name: columns of the relation, then the JSON extras."""

    columns: Mapping[str, QType] | None  # None: a relation whose columns are not known
    json_column: str | None = None
    qualifier: str | None = None
    known_names: tuple[str, ...] = ()
    used: set[str] = field(default_factory=set)

    def column(self, name: str) -> exp.Column:
        return exp.column(name, table=self.qualifier, quoted=True)

    def has_column(self, name: str) -> bool:
        return self.columns is None or name in self.columns


@dataclass(slots=True)
class Context:
    """What the whole compilation shares: dialect, clock, lets, CTEs, error positions."""

    dialect: Dialect
    now_ns: int
    query: str
    catalog: Catalog
    lets: dict[str, Typed | LetTable] = field(default_factory=dict)
    ctes: list[tuple[str, exp.Expr]] = field(default_factory=list)
    field_spans: dict[str, Span] = field(default_factory=dict)
    aliases: int = 0

    def error(
        self,
        cls: type[QueryError],
        message: str,
        span: Span | None,
        hint: str | None = None,
    ) -> QueryError:
        return cls(message, query=self.query, span=span, hint=hint)

    def next_alias(self, prefix: str = "_q") -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"

    def resolve_field(self, scope: Scope, name: str, span: Span, *, quoted: bool) -> Typed:
        """A field by name in ``scope``: a column, or a value of the JSON extras."""
        self.field_spans.setdefault(name, span)
        if scope.columns is not None and name in scope.columns:
            scope.used.add(name)
            return Typed(scope.column(name), scope.columns[name])
        if scope.columns is None:
            scope.used.add(name)
            return Typed(scope.column(name), QType.UNKNOWN)
        if scope.json_column is not None and _FIELD_NAME.fullmatch(name):
            close = None if quoted else suggest_name(name, scope.known_names)
            # An unknown dotted name one typo away from a core field is almost always
            # that field mistyped; vendor names (Image, eventName) are never this close.
            if close is not None and ("." in name or close.lower() == name.lower()):
                raise self.error(
                    UnknownFieldError,
                    f"unknown field '{name}' — did you mean '{close}'?",
                    span,
                    hint=f"to read a field really called {name!r} from the event's extra "
                    f"fields, write ['{name}']",
                )
            json = exp.column(scope.json_column, table=scope.qualifier, quoted=True)
            return Typed(self.dialect.json_field(json, name), QType.DYNAMIC)
        close = suggest_name(name, list(scope.columns))
        raise self.error(
            UnknownFieldError,
            f"unknown field '{name}'" + (f" — did you mean '{close}'?" if close else ""),
            span,
            hint=None if close else "fields here: " + ", ".join(list(scope.columns)[:20]),
        )
