"""Heron: an open-source SIEM."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

__version__ = "0.1.0"

__all__ = ["__version__", "hunt"]


def hunt(
    query: str,
    data_dir: str | Path | None = None,
    *,
    limit: int | None = 1_000_000,
    timeout: float | None = 60.0,
) -> pa.Table:
    """Run a hunt (the Kusto-style query language) and return an Arrow table.

    ``heron.hunt('events | where event.outcome == "failure" | take 100')``; see
    ``heron.query.api.hunt``. Imported lazily so ``import heron`` stays cheap.
    """
    from heron.query.api import hunt as _hunt

    return _hunt(query, data_dir, limit=limit, timeout=timeout)
