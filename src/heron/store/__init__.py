"""Event storage: the ``Store`` protocol and its implementations."""

from __future__ import annotations

from heron.store.base import Partition, SearchQuery, Store, StoreStats, field_sql

__all__ = ["Partition", "SearchQuery", "Store", "StoreStats", "field_sql", "open_store"]


def open_store(data_dir: str, *, read_only: bool = False) -> Store:
    """The default store (DuckDB) in ``data_dir``."""
    from heron.store.duckdb import DuckDBStore

    return DuckDBStore(data_dir, read_only=read_only)
