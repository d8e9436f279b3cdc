"""The free-text skip index: searches read only candidate time spans, and never miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.model.event import EventBatch
from heron.query.run import execute
from heron.store.duckdb import DuckDBStore
from heron.store.textindex import STATE, TABLE, candidate_spans

T0 = 1_709_251_200_000_000_000  # 2024-03-01
S = 1_000_000_000
DAY = 86_400 * S


def events(day: int, count: int, needle_at: int | None = None) -> EventBatch:
    out = []
    for i in range(count):
        text = f"<134>host{i % 50} app[{i}]: request {i * 7919 % 100000} served in {i % 97} ms"
        if i == needle_at:
            text += " token=Xq9-BEACON-77"
        out.append(
            {
                "@timestamp": T0 + day * DAY + i * S,
                "event.id": f"d{day}-{i}",
                "event.original": text,
                "message": f"request {i}",
            }
        )
    return EventBatch(out)


@pytest.fixture
def store(tmp_path: Path) -> DuckDBStore:
    s = DuckDBStore(tmp_path / "data")
    for day in range(4):
        s.append(events(day, 9000, needle_at=4321 if day == 2 else None))
    return s


def test_a_rare_needle_reads_only_its_span_and_is_found(store: DuckDBStore) -> None:
    spans = candidate_spans(store.connection(), "xq9-beacon-77").spans
    assert spans is not None and len(spans) == 1
    first, last = spans[0]
    assert first <= T0 + 2 * DAY + 4321 * S <= last
    result = execute(store, 'search "XQ9-beacon-77" | project event.id')
    assert result.table.column("event.id").to_pylist() == ["d2-4321"]
    assert "BETWEEN" in result.sql


def test_an_absent_needle_is_answered_without_a_scan(store: DuckDBStore) -> None:
    result = execute(store, 'search "nowhere-to-be-found" | count')
    assert result.table.column("Count").to_pylist() == [0]
    assert "WHERE FALSE" in result.sql


def test_common_text_scans_and_agrees_with_the_index_off(store: DuckDBStore) -> None:
    for needle in ("served in 42 ms", "host7 app", "xq9"):
        with_index = execute(store, f'search "{needle}" | count', limit=None)
        store.connection().execute(f"UPDATE {STATE} SET complete = false")
        without = execute(store, f'search "{needle}" | count', limit=None)
        store.connection().execute(f"UPDATE {STATE} SET complete = true")
        assert "BETWEEN" not in without.sql
        assert with_index.table.to_pylist() == without.table.to_pylist(), needle


def test_short_needles_do_not_use_the_index(store: DuckDBStore) -> None:
    assert candidate_spans(store.connection(), "xq").spans is None


def test_found_after_its_day_moved_to_parquet(store: DuckDBStore) -> None:
    assert store.compact(T0 + 3 * DAY) == 3
    result = execute(store, 'search "xq9-beacon-77" | project event.id')
    assert result.table.column("event.id").to_pylist() == ["d2-4321"]


def test_an_index_started_on_existing_events_is_not_used(tmp_path: Path) -> None:
    s = DuckDBStore(tmp_path / "data")
    s.append(events(0, 100, needle_at=5))
    cur = s.connection()
    cur.execute(f"DROP TABLE {TABLE}")
    cur.execute(f"DROP TABLE {STATE}")
    s.close()
    reopened = DuckDBStore(tmp_path / "data")  # as a store from before the index
    assert candidate_spans(reopened.connection(), "xq9-beacon").spans is None
    result = execute(reopened, 'search "xq9-beacon" | count')
    assert result.table.column("Count").to_pylist() == [1]


def test_a_batch_without_timestamps_turns_the_index_off(store: DuckDBStore) -> None:
    import pyarrow as pa

    store.append(pa.table({"event.id": ["x"], "event.original": ["xq9-beacon-77"]}))
    assert candidate_spans(store.connection(), "xq9-beacon-77").spans is None


# Characters whose lower case is not ASCII lower-casing: DuckDB lower-cases U+0130 and
# the Kelvin sign to ASCII letters, Ä to a two-byte letter, and leaves U+1C89 as it is
# (Arrow's newer Unicode tables would lower-case it to U+1C8A).
UNICODE_NEEDLES = ("i̇stanbul-gate".replace("i̇", "İ"), "ÄRGER-7", "9\u212aelvin", "x\u1c89y-z")


@pytest.mark.parametrize("needle", UNICODE_NEEDLES)
def test_non_ascii_text_is_indexed_as_duckdb_lowers_it(store: DuckDBStore, needle: str) -> None:
    day = 5
    batch = events(day, 3000).events
    batch[1234]["event.original"] += " " + needle
    batch[2345]["message"] = f"user {needle.upper()} logged on"
    store.append(EventBatch(batch))
    (lowered,) = store.connection().execute("SELECT lower(?)", [needle]).fetchall()[0]
    for asked in (needle, lowered, needle.upper()):
        spans = candidate_spans(store.connection(), asked).spans
        assert spans is not None and len(spans) == 1, asked
        result = execute(store, f'search "{asked}" | project event.id')
        found = sorted(result.table.column("event.id").to_pylist())
        assert found == sorted({f"d{day}-1234", f"d{day}-2345"}), (asked, found)
