"""The Store conformance suite: every store implementation must pass all of it.

Add a store by adding a factory to ``STORES``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from heron.model.deadletter import DeadLetter
from heron.model.event import Event, EventBatch
from heron.model.timeutil import NS_PER_S, parse_timestamp
from heron.store.base import SearchQuery, Store
from heron.store.duckdb import DuckDBStore

STORES: dict[str, Callable[[Path], Store]] = {
    "duckdb": lambda path: DuckDBStore(path),
}

DAY = 86400 * NS_PER_S
T0 = parse_timestamp("2024-03-01T00:00:00Z")


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = STORES[request.param](tmp_path / "data")
    yield s
    s.close()


def make_events(n: int, start: int = T0, step: int = 3600 * NS_PER_S) -> list[Event]:
    users = ["alice", "bob", "Carol"]
    return [
        {
            "@timestamp": start + i * step + 123,  # nanoseconds kept
            "event.id": f"e{i:05d}",
            "event.category": ["authentication"] if i % 2 == 0 else ["process"],
            "event.outcome": "failure" if i % 3 == 0 else "success",
            "user.name": users[i % 3],
            "source.ip": f"10.0.0.{i % 7}",
            "source.port": 1000 + i,
            "Image": f"C:\\Windows\\tool{i % 4}.exe",
            "nested.vendor.field": i,
            "event.original": f"raw line {i} from host-{i % 5} needle{i % 11}",
        }
        for i in range(n)
    ]


def ids(events: list[Event]) -> list[str]:
    return [e["event.id"] for e in events]


def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)


def test_append_and_fetch_round_trips_every_field(store: Store) -> None:
    events = make_events(5)
    assert store.append(EventBatch(events)) == 5
    got = store.get("e00003")
    assert got == events[3]
    assert got is not None and got["@timestamp"] % 1000 == 123
    assert store.get("missing") is None
    assert sorted(ids(store.get_many(["e00001", "e00004", "zzz"]))) == ["e00001", "e00004"]


def test_search_newest_first_with_limit(store: Store) -> None:
    store.append(EventBatch(make_events(30)))
    found = store.search(SearchQuery(limit=4))
    assert ids(found) == ["e00029", "e00028", "e00027", "e00026"]
    assert store.search(SearchQuery(limit=0)) == []


def test_time_range_is_start_inclusive_end_exclusive(store: Store) -> None:
    events = make_events(10)
    store.append(EventBatch(events))
    start, end = events[2]["@timestamp"], events[5]["@timestamp"]
    found = store.search(SearchQuery(start=start, end=end, limit=100))
    assert sorted(ids(found)) == ["e00002", "e00003", "e00004"]


def test_field_filters(store: Store) -> None:
    store.append(EventBatch(make_events(21)))

    def count(**filters: str) -> int:
        return len(store.search(SearchQuery(filters=filters, limit=1000)))

    assert count(**{"user.name": "carol"}) == 7  # case-insensitive
    assert count(**{"user.name": "car*"}) == 7
    assert count(**{"source.port": "1005"}) == 1
    assert count(**{"event.category": "process"}) == 10
    assert count(**{"Image": "*tool1.exe"}) == 5  # a vendor field from the JSON column
    assert count(**{"nested.vendor.field": "7"}) == 1
    assert count(**{"user.name": "alice", "event.outcome": "failure"}) == 7
    assert count(**{"user.name": "nobody"}) == 0
    assert count(**{"user.name": "a_ice"}) == 0  # _ and % are literal, not wildcards


def test_free_text_needs_every_word(store: Store) -> None:
    store.append(EventBatch(make_events(50)))
    found = store.search(SearchQuery(text="NEEDLE3 host-1", limit=100))
    assert found and all(
        "needle3 " in e["event.original"] + " " and "host-1" in e["event.original"] for e in found
    )
    assert store.search(SearchQuery(text="100%", limit=10)) == []


def test_aggregate_by_field_and_time_bin(store: Store) -> None:
    store.append(EventBatch(make_events(48)))  # two days, hourly
    by_user = store.aggregate(["user.name"])
    assert {r["user.name"]: r["count"] for r in by_user} == {"alice": 16, "bob": 16, "Carol": 16}
    daily = store.aggregate(["event.outcome"], interval=DAY)
    assert sum(r["count"] for r in daily) == 48
    assert {r["@timestamp"] for r in daily} == {T0, T0 + DAY}
    filtered = store.aggregate(["Image"], SearchQuery(filters={"user.name": "bob"}))
    assert sum(r["count"] for r in filtered) == 16


def test_compaction_moves_days_without_changing_results(store: Store) -> None:
    events = make_events(72)  # three days
    store.append(EventBatch(events))
    before = store.search(SearchQuery(limit=1000))
    moved = store.compact(T0 + 2 * DAY)
    assert moved == 2
    stats = store.stats()
    assert {(p.day, p.location) for p in stats.partitions} == {
        ("2024-03-01", "parquet"),
        ("2024-03-02", "parquet"),
        ("2024-03-03", "hot"),
    }
    assert store.search(SearchQuery(limit=1000)) == before
    assert store.get("e00001") == events[1]


def test_drop_before_deletes_whole_days(store: Store) -> None:
    store.append(EventBatch(make_events(72)))
    store.compact(T0 + DAY)
    dropped = store.drop_before(T0 + DAY + 5 * 3600 * NS_PER_S)  # mid-day: keeps that day
    assert dropped == 24
    stats = store.stats()
    assert stats.events == 48
    assert stats.first is not None and stats.first >= T0 + DAY


def test_stats(store: Store) -> None:
    events = make_events(3)
    store.append(EventBatch(events))
    stats = store.stats()
    assert stats.events == 3
    assert stats.first == events[0]["@timestamp"]
    assert stats.last == events[2]["@timestamp"]


def test_dead_letters_round_trip(store: Store) -> None:
    store.add_dead_letters(
        [
            DeadLetter.of("f.log", "bad PRI", "<999>x", "line 3", T0),
            DeadLetter.of("g", "r", b"\xff"),
        ]
    )
    letters = store.dead_letters()
    assert {d.reason for d in letters} == {"bad PRI", "r"}
    assert store.stats().dead_letters == 2


def test_reads_while_ingesting(store: Store) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                store.search(SearchQuery(text="needle1", limit=10))
                store.aggregate(["user.name"])
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for k in range(20):
        batch = make_events(50, start=T0 + k * DAY)
        for e in batch:
            e["event.id"] = f"{k}-{e['event.id']}"
        store.append(EventBatch(batch))
    done.set()
    thread.join()
    assert not errors
    assert store.stats().events == 1000


def test_data_survives_reopen(tmp_path: Path) -> None:
    for name, factory in STORES.items():
        path = tmp_path / name
        first = factory(path)
        first.append(EventBatch(make_events(10)))
        first.compact(T0 + DAY)
        first.close()
        second = factory(path)
        assert second.stats().events == 10, name
        second.close()
