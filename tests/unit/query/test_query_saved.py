"""Saved searches in the store's database, and scheduled ones that raise detections."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.errors import ConfigError
from heron.query.errors import QueryError
from heron.query.sample import SAMPLE_NOW, sample_table
from heron.query.saved import (
    delete_search,
    get_search,
    list_searches,
    run_due_searches,
    save_search,
)
from heron.store.duckdb import DuckDBStore

MIN = 60 * 1_000_000_000
BURST = (
    "events | where event.outcome == 'failure' and @timestamp > ago(3h) "
    "| summarize failures = count(), users = make_set(user.name) by source.ip, host.name "
    "| where failures >= 3"
)


@pytest.fixture
def store(tmp_path: Path) -> DuckDBStore:
    s = DuckDBStore(tmp_path / "data")
    s.append(sample_table())
    return s


def test_save_list_get_delete(store: DuckDBStore) -> None:
    assert list_searches(store) == []
    assert get_search(store, "x") is None
    saved = save_search(store, "ssh-burst", BURST, now=SAMPLE_NOW, description="guessing")
    assert saved.schedule is None and not saved.alert
    again = save_search(store, "ssh-burst", BURST + " | take 5", now=SAMPLE_NOW + MIN)
    assert again.created == SAMPLE_NOW and again.updated == SAMPLE_NOW + MIN
    save_search(store, "alpha", "events | take 1", now=SAMPLE_NOW)
    assert [s.name for s in list_searches(store)] == ["alpha", "ssh-burst"]
    found = get_search(store, "ssh-burst")
    assert found is not None and found.query.endswith("| take 5")
    assert delete_search(store, "alpha")
    assert not delete_search(store, "alpha")
    assert [s.name for s in list_searches(store)] == ["ssh-burst"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "bad name!"}, ConfigError),
        ({"query": "events | wher x"}, QueryError),
        ({"query": "events | where usr.name == 'x'"}, QueryError),
        ({"schedule": "soon"}, ConfigError),
        ({"schedule": "1s"}, ConfigError),
        ({"alert": True}, ConfigError),
        ({"level": "severe", "schedule": "5m"}, ConfigError),
    ],
)
def test_bad_searches_are_refused(
    store: DuckDBStore, kwargs: dict[str, object], error: type
) -> None:
    args: dict[str, object] = {"name": "s", "query": "events | take 1", **kwargs}
    with pytest.raises(error):
        save_search(store, now=SAMPLE_NOW, **args)  # type: ignore[arg-type]
    assert list_searches(store) == []


def test_scheduled_alerting_search_raises_one_detection_per_row(store: DuckDBStore) -> None:
    save_search(store, "ssh-burst", BURST, now=SAMPLE_NOW, schedule="5m", alert=True, level="high")
    save_search(
        store,
        "quiet",
        "events | where user.name == 'nobody'",
        now=SAMPLE_NOW,
        schedule="5m",
        alert=True,
    )
    save_search(store, "manual", "events | take 1", now=SAMPLE_NOW)
    found = run_due_searches(store, SAMPLE_NOW)
    assert len(found) == 1
    d = found[0]
    assert d.rule_id == "search:ssh-burst" and d.rule_name == "ssh-burst" and d.level == "high"
    assert d.entities == {"source.ip": "203.0.113.9", "host.name": "web01"}
    assert d.group["failures"] == "7"
    assert d.timestamp == SAMPLE_NOW  # a summary row has no @timestamp of its own
    burst = get_search(store, "ssh-burst")
    assert burst is not None and burst.last_run == SAMPLE_NOW and burst.last_rows == 1
    quiet = get_search(store, "quiet")
    assert quiet is not None and quiet.last_rows == 0
    manual = get_search(store, "manual")
    assert manual is not None and manual.last_run is None
    # Not due again until five minutes have passed.
    assert run_due_searches(store, SAMPLE_NOW + MIN) == []
    assert len(run_due_searches(store, SAMPLE_NOW + 5 * MIN)) == 1


def test_rows_with_events_carry_their_ids_and_times(store: DuckDBStore) -> None:
    query = "events | where eventName == 'ConsoleLogin' and ['userIdentity.type'] == 'Root'"
    save_search(store, "root-login", query, now=SAMPLE_NOW, schedule="1h", alert=True)
    found = run_due_searches(store, SAMPLE_NOW)
    assert len(found) == 2
    assert {d.event_ids for d in found} == {("e026",), ("e027",)}
    assert all(d.entities["user.name"] == "root" for d in found)
    assert all(d.timestamp < SAMPLE_NOW for d in found)


def test_a_failing_search_is_recorded_not_raised(store: DuckDBStore) -> None:
    save_search(store, "boom", "alerts | take 1", now=SAMPLE_NOW, schedule="1m", alert=True)
    save_search(store, "ok", BURST, now=SAMPLE_NOW, schedule="1m", alert=True)
    found = run_due_searches(store, SAMPLE_NOW)
    assert [d.rule_id for d in found] == ["search:ok"]
    boom = get_search(store, "boom")
    assert boom is not None and boom.last_error and "alerts" in boom.last_error
    assert boom.last_run == SAMPLE_NOW
