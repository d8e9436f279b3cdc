"""Errors of the hunting language: each points at its place in the query with a caret."""

from __future__ import annotations

from dataclasses import dataclass

from heron.errors import HeronError

__all__ = [
    "QueryCancelledError",
    "QueryError",
    "QueryExecutionError",
    "QueryLimitError",
    "QuerySyntaxError",
    "QueryTimeoutError",
    "QueryTypeError",
    "Span",
    "UnknownFieldError",
    "UnknownFunctionError",
]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of the query is: character offsets ``start`` (inclusive) to ``end``."""

    start: int
    end: int

    def join(self, other: Span | None) -> Span:
        """The span covering both."""
        if other is None:
            return self
        return Span(min(self.start, other.start), max(self.end, other.end))


class QueryError(HeronError):
    """A query that cannot be parsed, compiled or run; ``str()`` shows the caret."""

    def __init__(
        self,
        message: str,
        *,
        query: str = "",
        span: Span | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.query = query
        self.span = span
        self.hint = hint
        super().__init__(self.render())

    @property
    def line(self) -> int | None:
        """1-based line of the error in the query."""
        if self.span is None:
            return None
        return self.query.count("\n", 0, self.span.start) + 1

    @property
    def column(self) -> int | None:
        """1-based column of the error in its line."""
        if self.span is None:
            return None
        return self.span.start - (self.query.rfind("\n", 0, self.span.start) + 1) + 1

    def at(self, query: str) -> QueryError:
        """This error, bound to the query text it came from (for the caret)."""
        if not self.query:
            self.query = query
            self.args = (self.render(),)
        return self

    def render(self) -> str:
        """The message, the query line with a caret under the place, and the hint."""
        text = self.message
        if self.span is not None and self.query:
            start = min(self.span.start, len(self.query))
            line_start = self.query.rfind("\n", 0, start) + 1
            line_end = self.query.find("\n", start)
            if line_end < 0:
                line_end = len(self.query)
            line = self.query[line_start:line_end]
            col = start - line_start
            width = max(1, min(self.span.end, line_end) - start)
            # Long lines (a 100 KB query) are cut around the place, so the caret stays useful.
            if len(line) > 120:
                cut = max(0, col - 60)
                line = ("…" if cut else "") + line[cut : cut + 120] + "…"
                col = col - cut + (1 if cut else 0)
            width = max(1, min(width, len(line) - col))
            where = f" (line {self.line}, column {self.column})"
            text = f"{text}{where}\n  {line}\n  {' ' * col}{'^' * width}"
        if self.hint:
            text = f"{text}\n{self.hint}"
        return text


class QuerySyntaxError(QueryError):
    """The text does not follow the grammar."""


class UnknownFieldError(QueryError):
    """A field name that is not in the relation (or is a likely typo of a core field)."""


class UnknownFunctionError(QueryError):
    """A function the language does not have."""


class QueryTypeError(QueryError):
    """Values of types that do not fit together (a string compared with a number …)."""


class QueryLimitError(QueryError):
    """The query is too long, too deeply nested, or asks for too much."""


class QueryExecutionError(QueryError):
    """The store could not run the compiled query."""


class QueryTimeoutError(QueryExecutionError):
    """The query ran longer than its timeout and was interrupted."""


class QueryCancelledError(QueryExecutionError):
    """The query was cancelled while it ran."""
