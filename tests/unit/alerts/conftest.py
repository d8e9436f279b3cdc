"""A fresh store for the alert tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.store.duckdb import DuckDBStore


@pytest.fixture
def store(data_dir: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(data_dir)
    yield s
    s.close()
