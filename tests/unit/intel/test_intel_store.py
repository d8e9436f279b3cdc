"""The IOC store: one transaction per load, merges on (type, value), expiry, snapshots."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from heron.enrich.snapshot import read_snapshot, snapshot_generation
from heron.intel.indicator import Indicator, make_indicator
from heron.intel.store import LOAD_SCHEMA, SNAPSHOT_NAME, IntelStore, indicators_to_arrow
from heron.model.timeutil import NS_PER_S
from heron.store.duckdb import DuckDBStore

T0 = 1_780_000_000 * NS_PER_S
DAY = 86400 * NS_PER_S


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
def store(data_dir: Path) -> DuckDBStore:
    with DuckDBStore(data_dir) as opened:
        yield opened


def _rows(intel: IntelStore) -> dict[tuple[str, str], dict[str, object]]:
    return {(r["type"], r["value"]): r for r in intel.list(limit=1000, include_expired=True)}


def test_load_merges_sources_and_times(store: DuckDBStore) -> None:
    intel = IntelStore(store, clock=Clock())
    first = intel.load(
        [
            make_indicator(None, "198.51.100.7", "feodo", confidence=60, first_seen=T0 - DAY,
                           last_seen=T0 - DAY, tags=("c2",)),
            make_indicator(None, "evil.example", "feodo"),
        ]
    )  # fmt: skip
    assert (first.added, first.updated) == (2, 0)
    assert first.new.num_rows == 2
    second = intel.load(
        [
            make_indicator(None, "198.51.100.7", "abuse", confidence=90, first_seen=T0,
                           last_seen=T0, tags=("botnet",), expires=T0 + DAY),
            make_indicator(None, "203.0.113.0/24", "abuse"),
        ]
    )  # fmt: skip
    assert (second.added, second.updated) == (1, 1)
    assert second.new.column("value").to_pylist() == ["203.0.113.0/24"]
    row = _rows(intel)[("ipv4-addr", "198.51.100.7")]
    assert sorted(row["sources"]) == ["abuse", "feodo"]  # type: ignore[arg-type]
    assert sorted(row["tags"]) == ["botnet", "c2"]  # type: ignore[arg-type]
    assert (row["first_seen"], row["last_seen"]) == (T0 - DAY, T0)
    # The newest load speaks for the attributes.
    assert (row["confidence"], row["expires"]) == (90, T0 + DAY)


def test_duplicates_within_one_call_become_one_row(store: DuckDBStore) -> None:
    intel = IntelStore(store, clock=Clock())
    summary = intel.load(
        [
            make_indicator(None, "198.51.100.7", "a", confidence=10),
            make_indicator("ip", "198.51.100.7", "b", confidence=70),
        ]
    )
    assert (summary.received, summary.added) == (2, 1)
    row = _rows(intel)[("ipv4-addr", "198.51.100.7")]
    assert sorted(row["sources"]) == ["a", "b"]  # type: ignore[arg-type]
    assert row["confidence"] == 70  # the later row


def test_a_failing_load_changes_nothing(store: DuckDBStore, data_dir: Path) -> None:
    intel = IntelStore(store, clock=Clock())
    intel.load([make_indicator(None, "evil.example", "a")])
    generation = snapshot_generation(data_dir, SNAPSHOT_NAME)
    good = indicators_to_arrow([make_indicator(None, "198.51.100.7", "b")])
    # A row without a value violates the table's NOT NULL: the whole call must roll back.
    bad = pa.table({name: [None] for name in LOAD_SCHEMA.names}, schema=LOAD_SCHEMA)
    bad = bad.set_column(0, "type", pa.array(["ipv4-addr"]))
    with pytest.raises(Exception, match="NOT NULL"):
        intel.load(pa.concat_tables([good, bad]))
    assert set(_rows(intel)) == {("domain-name", "evil.example")}
    assert snapshot_generation(data_dir, SNAPSHOT_NAME) == generation


def test_expiry_and_snapshot(store: DuckDBStore, data_dir: Path) -> None:
    clock = Clock()
    intel = IntelStore(store, clock=clock)
    intel.load(
        [
            make_indicator(None, "198.51.100.7", "a", expires=T0 + DAY),
            make_indicator(None, "evil.example", "a"),
        ]
    )
    snapshot = read_snapshot(data_dir, SNAPSHOT_NAME)
    assert snapshot is not None and snapshot[0].num_rows == 2
    clock.now = T0 + 2 * DAY
    assert intel.count(include_expired=False) == 1
    assert [r["value"] for r in intel.list()] == ["evil.example"]
    assert intel.expire() == 1
    assert intel.count() == 1
    table, generation = read_snapshot(data_dir, SNAPSHOT_NAME)  # type: ignore[misc]
    assert table.column("value").to_pylist() == ["evil.example"]
    assert generation == snapshot_generation(data_dir, SNAPSHOT_NAME)
    assert intel.expire() == 0


def test_revoked_indicators_expire(store: DuckDBStore) -> None:
    intel = IntelStore(store, clock=Clock())
    intel.load([make_indicator(None, "evil.example", "a")])
    summary = intel.load([], revoked=[Indicator("domain-name", "evil.example", "a")])
    assert summary.revoked == 1
    assert intel.count(include_expired=False) == 0


def test_a_lost_snapshot_is_rewritten_at_open(data_dir: Path) -> None:
    with DuckDBStore(data_dir) as store:
        IntelStore(store).load([make_indicator(None, "evil.example", "a")])
    (data_dir / "context" / f"{SNAPSHOT_NAME}.arrow").unlink()
    with DuckDBStore(data_dir) as store:
        IntelStore(store)
    found = read_snapshot(data_dir, SNAPSHOT_NAME)
    assert found is not None and found[0].column("value").to_pylist() == ["evil.example"]


def test_filters_of_list(store: DuckDBStore) -> None:
    intel = IntelStore(store, clock=Clock())
    intel.load(
        [
            make_indicator(None, "198.51.100.7", "a"),
            make_indicator(None, "evil.example", "b"),
            make_indicator(None, "www.evil.example", "b"),
        ]
    )
    assert [r["value"] for r in intel.list(type="ipv4-addr")] == ["198.51.100.7"]
    assert sorted(r["value"] for r in intel.list(source="b")) == [
        "evil.example",
        "www.evil.example",
    ]
    assert [r["value"] for r in intel.list(value="www.*")] == ["www.evil.example"]
