"""Old days move to Parquet in COPYs of bounded size (one big COPY ran out of memory)."""

from __future__ import annotations

from heron.store.duckdb import _day_batches


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
