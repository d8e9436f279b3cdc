"""The hunting language: Kusto-style pipes, parsed with Lark, compiled to SQL by sqlglot.

``parse`` gives the syntax tree, ``compile_query`` the SQL for a dialect (DuckDB or
ClickHouse), ``run`` / ``execute`` run a hunt on a store. Submodules are imported on
use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heron.query.compile import CompiledQuery, compile_query
    from heron.query.errors import QueryError
    from heron.query.parse import parse
    from heron.query.run import Cancel, HuntResult, execute, run

__all__ = [
    "Cancel",
    "CompiledQuery",
    "HuntResult",
    "QueryError",
    "compile_query",
    "execute",
    "parse",
    "run",
]

_WHERE = {
    "Cancel": "heron.query.run",
    "CompiledQuery": "heron.query.compile",
    "HuntResult": "heron.query.run",
    "QueryError": "heron.query.errors",
    "compile_query": "heron.query.compile",
    "execute": "heron.query.run",
    "parse": "heron.query.parse",
    "run": "heron.query.run",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'heron.query' has no attribute {name!r}")
