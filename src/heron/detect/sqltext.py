"""SQL fragments with their parameters, and how a field's value is read from the store.

Rule values and field names never reach SQL as text: values are ``?`` parameters, core
columns are quoted identifiers, other fields are JSON paths passed as parameters. A
field may hold a scalar or a list; ``FieldSource`` knows which SQL reads each form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN, FieldKind
from heron.store.base import json_path, quote_ident

__all__ = [
    "FALSE",
    "TRUE",
    "FieldSource",
    "Param",
    "Sql",
    "all_of",
    "any_of",
    "column_source",
    "expr_source",
    "join",
    "json_type_of",
    "json_value",
    "negate",
    "sql",
    "with_json_fields",
]


@dataclass(frozen=True, slots=True)
class Sql:
    """SQL text and its positional parameters, in order."""

    text: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Param:
    """A value to pass as a ``?`` parameter."""

    value: Any


#: Prefix of the columns that hold fields extracted from ``extra`` for one query.
JSON_PREFIX = "__j:"
_TYPE_PREFIX = "__t:"
_TEXT_PREFIX = "__s:"
_ALL_JSON = "__heron_json"

TRUE = Sql("TRUE")
FALSE = Sql("FALSE")


def sql(template: str, *args: Sql | Param) -> Sql:
    """Fill ``{}`` slots in order: ``Sql`` inserts its text, ``Param`` a ``?``."""
    pieces = template.split("{}")
    if len(pieces) != len(args) + 1:
        raise ValueError(f"template has {len(pieces) - 1} slots, got {len(args)} arguments")
    text = [pieces[0]]
    params: list[Any] = []
    for arg, piece in zip(args, pieces[1:], strict=True):
        if isinstance(arg, Param):
            text.append("?")
            params.append(arg.value)
        else:
            text.append(arg.text)
            params.extend(arg.params)
        text.append(piece)
    return Sql("".join(text), tuple(params))


def join(parts: Sequence[Sql], sep: str) -> Sql:
    return Sql(sep.join(p.text for p in parts), tuple(v for p in parts for v in p.params))


def all_of(parts: Sequence[Sql]) -> Sql:
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else sql("({})", join(parts, " AND "))


def any_of(parts: Sequence[Sql]) -> Sql:
    if not parts:
        return FALSE
    return parts[0] if len(parts) == 1 else sql("({})", join(parts, " OR "))


def negate(part: Sql) -> Sql:
    return sql("(NOT {})", part)


@dataclass(frozen=True, slots=True)
class FieldSource:
    """One place a field's value may come from, as SQL.

    ``present``: the value is there (not absent, not JSON null). ``scalar``: its text
    when it is not a list. ``array``: the texts of a list. ``is_array``: whether this
    row's value is a list (None when the column's type decides it).
    """

    present: Sql
    scalar: Sql | None
    array: Sql | None = None
    is_array: Sql | None = None
    #: An empty list (for ``field: null``).
    empty_array: Sql | None = None

    def any_text(self, test: Callable[[Sql], Sql], var: str = "x") -> Sql:
        """True when the value (or, for a list, one of its texts) passes ``test``."""
        scalar = None if self.scalar is None else sql("coalesce({}, FALSE)", test(self.scalar))
        if self.array is None:
            return scalar if scalar is not None else FALSE
        element = sql(
            f"coalesce(len(list_filter({{}}, lambda {var}: {var} IS NOT NULL AND {{}})) > 0, "
            "FALSE)",
            self.array,
            test(Sql(var)),
        )
        if scalar is None or self.is_array is None:
            return element
        return sql("(CASE WHEN {} THEN {} ELSE {} END)", self.is_array, element, scalar)

    def texts(self) -> Sql:
        """The value as a list of texts (one element for a scalar)."""
        if self.scalar is None:
            return self.array if self.array is not None else Sql("[]")
        if self.array is None or self.is_array is None:
            return sql("[{}]", self.scalar)
        return sql("(CASE WHEN {} THEN {} ELSE [{}] END)", self.is_array, self.array, self.scalar)

    def empty(self) -> Sql:
        """The value is an empty string or an empty list."""
        scalar = None if self.scalar is None else sql("coalesce({} = '', FALSE)", self.scalar)
        if self.empty_array is None:
            return scalar if scalar is not None else FALSE
        if scalar is None or self.is_array is None:
            return self.empty_array
        return sql("(CASE WHEN {} THEN {} ELSE {} END)", self.is_array, self.empty_array, scalar)


def column_source(name: str) -> FieldSource:
    """Where the store keeps field ``name``: a typed column, or a key of ``extra``."""
    kind = CORE_FIELDS.get(name)
    if kind is not None:
        col = Sql(quote_ident(name))
        present = sql("{} IS NOT NULL", col)
        if kind is FieldKind.STRING:
            return FieldSource(present, col)
        if kind is FieldKind.INT:
            return FieldSource(present, sql("CAST({} AS VARCHAR)", col))
        if kind is FieldKind.TIMESTAMP:
            return FieldSource(present, sql("CAST(epoch_ns({}) AS VARCHAR)", col))
        return FieldSource(present, None, col, None, sql("len({}) = 0", col))
    value, json_kind = json_value(name), json_type_of(name)
    return FieldSource(
        present=sql("coalesce({}, 'NULL') <> 'NULL'", json_kind),
        scalar=Sql(quote_ident(_TEXT_PREFIX + name)),
        array=sql("json_extract_string({}, '$[*]')", value),
        is_array=sql("coalesce({} = 'ARRAY', FALSE)", json_kind),
        empty_array=sql("coalesce(json_array_length({}) = 0, FALSE)", value),
    )


def json_value(name: str) -> Sql:
    """The JSON value of a field kept in ``extra`` (SQL NULL when absent).

    It names a column that ``with_json_fields`` adds: a query extracts every field it
    reads from ``extra`` in one pass per row instead of parsing the JSON once per test.
    """
    return Sql(quote_ident(JSON_PREFIX + name))


def json_type_of(name: str) -> Sql:
    """The JSON type of a field kept in ``extra`` (``VARCHAR``, ``ARRAY``, ``NULL`` …)."""
    return Sql(quote_ident(_TYPE_PREFIX + name))


_JSON_COLUMN = re.compile(
    r'"(?:'
    + "|".join(re.escape(p) for p in (JSON_PREFIX, _TYPE_PREFIX, _TEXT_PREFIX))
    + r')((?:[^"]|"")*)"'
)


def with_json_fields(source: str, *parts: Sql) -> Sql:
    """``source`` with a column for every ``extra`` field that ``parts`` read."""
    names = list(
        dict.fromkeys(
            m.group(1).replace('""', '"') for p in parts for m in _JSON_COLUMN.finditer(p.text)
        )
    )
    if not names:
        return Sql(source)
    values = ", ".join(
        f"{_ALL_JSON}[{i}] AS {quote_ident(JSON_PREFIX + name)}" for i, name in enumerate(names, 1)
    )
    derived = ", ".join(
        f"json_type({quote_ident(JSON_PREFIX + n)}) AS {quote_ident(_TYPE_PREFIX + n)}, "
        f"json_extract_string({quote_ident(JSON_PREFIX + n)}, '$') "
        f"AS {quote_ident(_TEXT_PREFIX + n)}"
        for n in names
    )
    return sql(
        f"(SELECT *, {derived} FROM (SELECT *, {values} FROM (SELECT *, "
        f"json_extract({EXTRA_COLUMN}, {{}}::VARCHAR[]) AS {_ALL_JSON} FROM {source})))",
        Param([json_path(n) for n in names]),
    )


def expr_source(text: Sql) -> FieldSource:
    """A computed scalar text (a log-source adapter's field)."""
    return FieldSource(sql("({}) IS NOT NULL", text), text)
