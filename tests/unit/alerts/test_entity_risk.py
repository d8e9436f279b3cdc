"""Entity risk: accumulation per entity, exponential decay, one alert per threshold crossing."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.alerts import RISK_RULE_ID, AlertStore, EntityRisk
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000
H = 3600 * S
T0 = 1_700_000_000 * S


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def det(ts: int, eid: str, *, level: str = "low", rule: str = "r1", **entities: str) -> Detection:
    fields = {k.replace("_", ".").replace("gen.ai", "gen_ai"): v for k, v in entities.items()}
    return Detection(rule, f"Rule {rule}", level, ts, (eid,), entities=fields)


def make(store: DuckDBStore, clock: Clock, **kwargs: float) -> AlertStore:
    return AlertStore(store, clock=clock, risk=EntityRisk(store, clock=clock, **kwargs))  # type: ignore[arg-type]


def test_every_alert_adds_its_risk_to_each_entity(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    alerts.add(
        [
            det(T0, "e1", rule="a", user_name="alice", host_name="web1"),
            det(T0, "e2", rule="b", level="medium", user_name="alice", source_ip="10.0.0.9"),
            # The same address as source and destination is one entity, counted once.
            det(T0, "e3", rule="c", source_ip="10.0.0.9", destination_ip="10.0.0.9"),
        ]
    )
    risk = alerts.risk
    assert risk.score("user", "alice", at_ns=T0) == pytest.approx(21 + 47)
    assert risk.score("host", "web1", at_ns=T0) == pytest.approx(21)
    assert risk.score("ip", "10.0.0.9", at_ns=T0) == pytest.approx(47 + 21)
    assert risk.score("user", "nobody", at_ns=T0) == 0.0
    alice = risk.get("user", "alice", at_ns=T0)
    assert alice is not None and alice.alerts == 2
    assert (alice.first_seen, alice.last_seen) == (T0, T0)


def test_risk_halves_every_half_life(store: DuckDBStore) -> None:
    clock = Clock(T0)
    alerts = make(store, clock, half_life_ns=24 * H)
    alerts.add([det(T0, "e1", level="high", user_name="alice")])  # 73
    risk = alerts.risk
    assert risk.score("user", "alice", at_ns=T0 + 24 * H) == pytest.approx(73 / 2)
    assert risk.score("user", "alice", at_ns=T0 + 72 * H) == pytest.approx(73 / 8)
    clock.now = T0 + 48 * H  # the default time is the clock's now
    assert risk.score("user", "alice") == pytest.approx(73 / 4)
    # A new alert adds to what is left, not to the original score.
    alerts.add([det(T0 + 48 * H, "e2", level="high", rule="r2", user_name="alice")])
    assert risk.score("user", "alice") == pytest.approx(73 / 4 + 73)
    # A time before the last alert never inflates the score.
    assert risk.score("user", "alice", at_ns=T0) == pytest.approx(73 / 4 + 73)


def test_a_late_alert_adds_its_decayed_share(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0), half_life_ns=24 * H)
    alerts.add([det(T0 + 24 * H, "e1", level="high", user_name="alice")])
    alerts.add([det(T0, "e2", level="high", rule="r2", user_name="alice")])
    assert alerts.risk.score("user", "alice", at_ns=T0 + 24 * H) == pytest.approx(73 + 73 / 2)
    got = alerts.risk.get("user", "alice", at_ns=T0 + 24 * H)
    assert got is not None and got.first_seen == T0 and got.last_seen == T0 + 24 * H


def test_crossing_the_threshold_raises_one_alert(store: DuckDBStore) -> None:
    clock = Clock(T0)
    alerts = make(store, clock, threshold=150.0, half_life_ns=24 * H)
    rules = ("a", "b", "c", "d")
    first = alerts.add([det(T0, f"e{r}", level="high", rule=r, user_name="alice") for r in rules])
    assert first.created == 4 and first.risk_alerts == 1
    (raised,) = alerts.list(rule_id=RISK_RULE_ID)
    assert raised.rule_name == "Entity risk above threshold" and raised.rule_level == "high"
    assert raised.entities == {"user.name": "alice"}
    assert raised.group == {"entity.kind": "user", "entity.value": "alice", "risk.score": "219"}
    assert raised.event_ids == ["ec"] and raised.id in first.alert_ids
    # Still above: more alerts raise nothing more.
    assert (
        alerts.add([det(T0 + H, "e5", level="high", rule="e", user_name="alice")]).risk_alerts == 0
    )
    # Days later the score has decayed below the threshold; crossing again raises again.
    later = T0 + 10 * 24 * H
    again = alerts.add(
        [det(later, f"f{r}", level="high", rule=r, user_name="alice") for r in rules]
    )
    assert again.risk_alerts == 1
    assert len(alerts.list(rule_id=RISK_RULE_ID)) == 2


def test_threshold_alerts_add_no_risk_and_grouped_repeats_add_none(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0), threshold=100.0)
    alerts.add([det(T0, "e1", level="critical", rule="a", host_name="db1")])  # 99
    result = alerts.add([det(T0 + S, "e2", level="critical", rule="a", host_name="db1")])
    assert result.grouped == 1 and result.risk_alerts == 0  # a repeat, not a new alert
    assert alerts.risk.score("host", "db1", at_ns=T0) == pytest.approx(99)
    alerts.add([det(T0, "e3", level="low", rule="b", host_name="db1")])
    assert len(alerts.list(rule_id=RISK_RULE_ID)) == 1
    assert alerts.risk.score("host", "db1", at_ns=T0) == pytest.approx(99 + 21)


def test_top_entities(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0), threshold=1e9)
    alerts.add(
        [
            det(T0, "e1", rule="a", level="critical", user_name="alice", host_name="web1"),
            det(T0, "e2", rule="b", level="low", user_name="bob", gen_ai_agent_name="helper"),
            det(T0, "e3", rule="c", level="medium", user_name="bob"),
        ]
    )
    top = alerts.risk.top(at_ns=T0)
    assert [(e.kind, e.value, round(e.score)) for e in top] == [
        ("host", "web1", 99),
        ("user", "alice", 99),
        ("user", "bob", 68),
        ("agent", "helper", 21),
    ]
    users = alerts.risk.top("user", limit=1, at_ns=T0)
    assert [(e.value, e.alerts) for e in users] == [("alice", 1)]
    assert alerts.risk.top("agent", at_ns=T0)[0].to_row()["risk"] == 21.0
    with pytest.raises(ValueError, match="unknown entity kind"):
        alerts.risk.top("planet")


def test_bad_settings_and_a_read_only_store_without_the_table(data_dir: Path) -> None:
    with DuckDBStore(data_dir) as s:
        with pytest.raises(ValueError, match="half-life"):
            EntityRisk(s, half_life_ns=0)
        s.connection().execute("DROP TABLE IF EXISTS entity_risk")
    with DuckDBStore(data_dir, read_only=True) as ro:
        risk = EntityRisk(ro)
        assert risk.top() == [] and risk.score("user", "x") == 0.0


def test_closing_as_not_a_threat_takes_the_risk_back(store: DuckDBStore) -> None:
    clock = Clock(T0)
    alerts = make(store, clock, threshold=1e9, half_life_ns=24 * H)
    alerts.add(
        [
            det(T0, "e1", level="high", rule="a", user_name="alice"),
            det(T0 + 24 * H, "e2", level="medium", rule="b", user_name="alice"),
        ]
    )
    first = next(a for a in alerts.list() if a.rule_id == "a")
    at = T0 + 24 * H
    assert alerts.risk.score("user", "alice", at_ns=at) == pytest.approx(73 / 2 + 47)
    alerts.update([first.id], actor="ann", status="closed", disposition="false_positive")
    assert alerts.risk.score("user", "alice", at_ns=at) == pytest.approx(47)
    # benign after false positive: still not a threat, nothing more taken back
    alerts.update([first.id], actor="ann", disposition="benign")
    assert alerts.risk.score("user", "alice", at_ns=at) == pytest.approx(47)
    alerts.update([first.id], actor="ann", status="acknowledged")  # reopened: given back
    assert alerts.risk.score("user", "alice", at_ns=at) == pytest.approx(73 / 2 + 47)
    alerts.update([first.id], actor="ann", status="closed", disposition="true_positive")
    assert alerts.risk.score("user", "alice", at_ns=at) == pytest.approx(73 / 2 + 47)
    got = alerts.risk.get("user", "alice", at_ns=at)
    assert got is not None and got.alerts == 2
