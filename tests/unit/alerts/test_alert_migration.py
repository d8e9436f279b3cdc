"""Data directories written before the lifecycle columns existed keep working."""

from __future__ import annotations

from pathlib import Path

from heron.alerts import AlertStore
from heron.alerts.schema import ALERT_COLUMNS, existing_columns
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000
T0 = 1_700_000_000 * S

# The ``alerts`` table as the first release created it (no lifecycle columns).
OLD_COLUMNS = (
    '"alert.id" VARCHAR PRIMARY KEY, "@timestamp" TIMESTAMP_NS, "rule.id" VARCHAR, '
    '"rule.name" VARCHAR, "rule.level" VARCHAR, "rule.tags" VARCHAR[], "event.ids" VARCHAR[], '
    '"user.name" VARCHAR, "host.name" VARCHAR, "source.ip" VARCHAR, "destination.ip" VARCHAR, '
    '"gen_ai.agent.name" VARCHAR, entities VARCHAR, "group" VARCHAR, status VARCHAR, '
    "disposition VARCHAR, assignee VARCHAR, risk_score INTEGER, count BIGINT, "
    "first_seen TIMESTAMP_NS, last_seen TIMESTAMP_NS, dedup_key VARCHAR, "
    "created TIMESTAMP_NS, updated TIMESTAMP_NS"
)


def _old_data_dir(data_dir: Path) -> None:
    with DuckDBStore(data_dir) as s:
        cur = s.connection()
        cur.execute(f"CREATE TABLE alerts ({OLD_COLUMNS})")
        cur.execute("CREATE INDEX alerts_dedup ON alerts (dedup_key)")
        ts = f"make_timestamp_ns({T0})"
        cur.execute(
            f"INSERT INTO alerts VALUES ('a1', {ts}, 'r1', 'Rule one', 'high', ['t'], ['e1'], "
            "'alice', NULL, NULL, NULL, NULL, '{\"user.name\":\"alice\"}', '{}', 'new', NULL, "
            f"NULL, 73, 1, {ts}, {ts}, 'k1', {ts}, {ts})"
        )


def test_a_read_only_open_reads_an_old_table(data_dir: Path) -> None:
    _old_data_dir(data_dir)
    with DuckDBStore(data_dir, read_only=True) as ro:
        alerts = AlertStore(ro)
        (alert,) = alerts.list()
        assert alert.id == "a1" and alert.acknowledged_at is None and alert.closed_at is None
        assert alerts.history("a1") == []
        assert "closed_at" not in existing_columns(ro.connection(), "alerts")


def test_opening_for_writing_adds_the_new_columns(data_dir: Path) -> None:
    _old_data_dir(data_dir)
    with DuckDBStore(data_dir) as s:
        alerts = AlertStore(s, clock=lambda: T0 + S)
        assert existing_columns(s.connection(), "alerts") == set(ALERT_COLUMNS)
        (alert,) = alerts.list()
        assert alert.rule_name == "Rule one" and alert.entities == {"user.name": "alice"}
        (closed,) = alerts.update(["a1"], actor="ann", status="closed", disposition="benign")
        assert closed.closed_at == T0 + S
    with DuckDBStore(data_dir) as s:  # a second open migrates nothing and loses nothing
        alerts = AlertStore(s)
        got = alerts.get("a1")
        assert got is not None and got.status == "closed" and got.closed_at == T0 + S
        assert [h.actor for h in alerts.history("a1")] == ["ann"]
