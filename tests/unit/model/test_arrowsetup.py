"""pyarrow must not import pandas when Heron turns events into Arrow (0.2 s a process)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_HAS_PANDAS = importlib.util.find_spec("pandas") is not None


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


@pytest.mark.skipif(not _HAS_PANDAS, reason="pandas is not installed: nothing to keep out")
def test_event_batches_become_arrow_without_loading_pandas() -> None:
    out = _run(
        """
        import sys
        from heron.model import EventBatch
        table = EventBatch([{"@timestamp": 1, "message": "x", "event.category": ["a"]}]).to_arrow()
        print(table.num_rows, "pandas" in sys.modules)
        """
    )
    assert out == "1 False"


@pytest.mark.skipif(not _HAS_PANDAS, reason="pandas is not installed")
def test_pandas_still_works_when_asked_for() -> None:
    out = _run(
        """
        import pyarrow as pa
        from heron.model import EventBatch
        table = EventBatch([{"@timestamp": 1, "message": "x"}]).to_arrow()
        frame = table.to_pandas()
        import pandas as pd
        series = pa.array(pd.Series([1, 2]))  # pandas input recognised again
        print(type(frame).__name__, series.to_pylist())
        """
    )
    assert out == "DataFrame [1, 2]"


@pytest.mark.skipif(not _HAS_PANDAS, reason="pandas is not installed: nothing to keep out")
def test_dead_letters_are_stored_without_loading_pandas(tmp_path: Path) -> None:
    # pyarrow imports pandas whenever it infers the type of a Python list.
    out = _run(
        f"""
        import sys
        from heron.model.deadletter import DeadLetter
        from heron.store.duckdb import DuckDBStore
        with DuckDBStore({str(tmp_path)!r}) as store:
            store.add_dead_letters([DeadLetter.of("f.log", "bad", "raw line", "line 1", 1)])
            print(len(store.dead_letters()), "pandas" in sys.modules)
        """
    )
    assert out == "1 False"
