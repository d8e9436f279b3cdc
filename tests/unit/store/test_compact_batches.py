"""Old days move to Parquet in COPYs of bounded size (one big COPY ran out of memory),
sorted by time when a day fills more than one row group."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heron.model.event import EventBatch
from heron.model.timeutil import NS_PER_S, parse_timestamp
from heron.store.duckdb import DuckDBStore, _day_batches


def test_consecutive_days_are_grouped_up_to_the_bound() -> None:
    days = [("2020-01-01", 50), ("2020-01-02", 60), ("2020-01-05", 10), ("2020-01-06", 90)]
    assert _day_batches(days, 120) == [("2020-01-01", "2020-01-05"), ("2020-01-06", "2020-01-06")]


def test_a_day_over_the_bound_goes_alone() -> None:
    days = [("2020-01-01", 10), ("2020-01-02", 500), ("2020-01-03", 10)]
    assert _day_batches(days, 100) == [
        ("2020-01-01", "2020-01-01"),
        ("2020-01-02", "2020-01-02"),
        ("2020-01-03", "2020-01-03"),
    ]


def test_everything_fits_in_one() -> None:
    assert _day_batches([("2020-01-01", 1), ("2020-01-09", 1)], 100) == [
        ("2020-01-01", "2020-01-09")
    ]


def _day_in_reverse(tmp_path: Path) -> tuple[DuckDBStore, list[int]]:
    store = DuckDBStore(tmp_path / "data")
    start = parse_timestamp("2024-03-01T00:00:00Z")
    stamps = [start + i * 60 * NS_PER_S for i in range(50)]
    events = [{"@timestamp": ts, "message": f"m{i}"} for i, ts in enumerate(reversed(stamps))]
    store.append(EventBatch(events))
    return store, stamps


def _parquet_stamps(tmp_path: Path) -> list[int]:
    (path,) = (tmp_path / "data" / "parquet").rglob("*.parquet")
    column = pq.read_table(path, columns=["@timestamp"]).column(0)
    return [int(v) for v in column.cast(pa.int64()).to_pylist()]


@pytest.mark.parametrize("sort_above", [10, 1000])
def test_a_day_over_one_row_group_is_written_sorted_by_time(
    tmp_path: Path, sort_above: int
) -> None:
    store, stamps = _day_in_reverse(tmp_path)
    try:
        assert store.compact(stamps[-1] + 2 * 86400 * NS_PER_S, sort_above=sort_above) == 1
        assert store.stats().events == 50
    finally:
        store.close()
    written = _parquet_stamps(tmp_path)
    # Over the bound: sorted. Under it (one row group whatever the order): all there.
    assert written == stamps if sort_above < 50 else sorted(written) == stamps
