"""Detections become alerts in the store's database; repeats group into open alerts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.alerts.risk import RISK_RULE_ID, EntityRisk
from heron.alerts.store import AlertStore
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000
T0 = 1_700_000_000 * S
NOW = 1_800_000_000 * S


def det(
    ts: int,
    eid: str,
    *,
    rule: str = "r1",
    level: str = "high",
    user: str = "alice",
    group: dict[str, str] | None = None,
) -> Detection:
    return Detection(
        rule_id=rule,
        rule_name=f"Rule {rule}",
        level=level,
        timestamp=ts,
        event_ids=(eid,),
        tags=("attack.t1110", "attack.credential-access"),
        entities={"user.name": user, "host.name": "web1"},
        group=group or {},
    )


@pytest.fixture
def store(data_dir: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(data_dir)
    yield s
    s.close()


def test_detection_becomes_an_alert(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=lambda: NOW)
    result = alerts.add([det(T0, "e1")])
    assert result.created == 1 and result.grouped == 0
    (alert,) = alerts.list()
    assert alert.rule_id == "r1" and alert.rule_name == "Rule r1" and alert.rule_level == "high"
    assert alert.event_ids == ["e1"] and alert.timestamp == T0
    assert alert.entities == {"user.name": "alice", "host.name": "web1"}
    assert alert.status == "new" and alert.risk_score == 73 and alert.count == 1
    assert alert.created == NOW
    assert alerts.get(alert.id) == alert


def test_repeats_within_the_window_group(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=lambda: NOW)
    alerts.add([det(T0, "e1"), det(T0 + 60 * S, "e2")])
    alerts.add([det(T0 + 120 * S, "e3"), det(T0 + 120 * S, "e3")])
    (alert,) = alerts.list()
    assert alert.count == 4
    assert alert.event_ids == ["e1", "e2", "e3"]
    assert (alert.first_seen, alert.last_seen) == (T0, T0 + 120 * S)


def test_other_entities_rules_or_times_make_new_alerts(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=lambda: NOW)
    alerts.add(
        [
            det(T0, "e1"),
            det(T0, "e2", user="bob"),
            det(T0, "e3", rule="r2"),
            det(T0 + 3601 * S, "e4"),  # past the one-hour window after e1
            det(T0, "e5", group={"source.ip": "1.2.3.4"}),
        ]
    )
    rule_alerts = [a for a in alerts.list() if a.rule_id != RISK_RULE_ID]
    assert len(rule_alerts) == 5
    # Four high alerts about alice and five about web1 cross the entity risk threshold.
    risk = alerts.list(rule_id=RISK_RULE_ID)
    assert sorted(a.group["entity.kind"] for a in risk) == ["host", "user"]


def test_a_correlation_groups_by_its_group_by_values_not_its_entities(
    store: DuckDBStore,
) -> None:
    # One scanner guessing user names: each firing's events agree on another user.
    alerts = AlertStore(store, clock=lambda: NOW)
    scanner = {"source.ip": "198.51.100.7"}
    alerts.add([det(T0, "e1", group=scanner), det(T0 + 60 * S, "e2", user="bob", group=scanner)])
    alerts.add([det(T0, "e3", group={"source.ip": "198.51.100.8"})])
    by_group = {a.group["source.ip"]: a for a in alerts.list(rule_id="r1")}
    assert by_group["198.51.100.7"].count == 2 and by_group["198.51.100.8"].count == 1


def test_closed_alerts_are_not_reopened(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=lambda: NOW)
    alerts.add([det(T0, "e1")])
    store.connection().execute("UPDATE alerts SET status = 'closed'")
    alerts.add([det(T0 + S, "e2")])
    assert sorted(a.status for a in alerts.list()) == ["closed", "new"]


def test_event_ids_are_bounded_but_count_is_not(store: DuckDBStore) -> None:
    alerts = AlertStore(store, max_event_ids=3, clock=lambda: NOW)
    alerts.add([det(T0 + i * S, f"e{i}") for i in range(10)])
    (alert,) = alerts.list()
    assert alert.count == 10 and alert.event_ids == ["e0", "e1", "e2"]


def test_filters(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=lambda: NOW, risk=EntityRisk(store, threshold=1e9))
    alerts.add(
        [
            det(T0, "a", rule="low1", level="low"),
            det(T0, "b", rule="med1", level="medium"),
            det(T0 + 10 * S, "c", rule="crit", level="critical"),
        ]
    )
    assert [a.rule_id for a in alerts.list(min_level="medium")] == ["crit", "med1"]
    assert [a.rule_id for a in alerts.list(rule_id="low1")] == ["low1"]
    assert [a.rule_id for a in alerts.list(since=T0 + 5 * S)] == ["crit"]
    assert len(alerts.list(limit=1)) == 1


def test_alerts_are_queryable_with_sql_beside_events(store: DuckDBStore) -> None:
    AlertStore(store, clock=lambda: NOW).add([det(T0, "e1"), det(T0, "e2", user="bob")])
    table = store.query(
        'SELECT "rule.id", "user.name", "event.ids", "@timestamp" FROM alerts '
        'WHERE "rule.level" = ? ORDER BY "user.name"',
        ["high"],
    )
    rows = table.to_pylist()
    assert [r["user.name"] for r in rows] == ["alice", "bob"]
    assert rows[0]["event.ids"] == ["e1"]


def test_read_only_store_without_alerts_table(data_dir: Path) -> None:
    DuckDBStore(data_dir).close()
    with DuckDBStore(data_dir, read_only=True) as ro:
        alerts = AlertStore(ro)
        assert alerts.list() == [] and alerts.count() == 0 and alerts.get("x") is None


def test_alerts_survive_reopening(data_dir: Path) -> None:
    with DuckDBStore(data_dir) as s:
        AlertStore(s, clock=lambda: NOW).add([det(T0, "e1")])
    with DuckDBStore(data_dir) as s:
        alerts = AlertStore(s, clock=lambda: NOW)
        alerts.add([det(T0 + S, "e2")])
        (alert,) = alerts.list()
        assert alert.count == 2 and alert.event_ids == ["e1", "e2"]
