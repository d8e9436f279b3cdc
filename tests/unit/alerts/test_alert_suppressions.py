"""Suppressions per field value: matching, rule scope, expiry, hits, removal."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.alerts import AlertStore, SuppressionError, SuppressionNotFound, Suppressions
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000
T0 = 1_700_000_000 * S
DAY = 86400 * S


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def det(
    eid: str, *, rule: str = "r1", user: str = "alice", group: dict[str, str] | None = None
) -> Detection:
    return Detection(
        rule,
        f"Rule {rule}",
        "low",
        T0,
        (eid,),
        entities={"user.name": user, "host.name": "web1"},
        group=group or {},
    )


def test_a_suppression_drops_matching_detections_and_counts_hits(store: DuckDBStore) -> None:
    clock = Clock(T0)
    alerts = AlertStore(store, clock=clock)
    sup = alerts.suppressions.add(
        "user.name", "ALICE", reason="pentest account", actor="ann", expires_ns=None
    )
    result = alerts.add([det("e1"), det("e2", user="bob"), det("e3", rule="r2")])
    assert result.suppressed == 2 and result.created == 1
    assert [a.entities["user.name"] for a in alerts.list()] == ["bob"]
    (listed,) = alerts.suppressions.list()
    assert listed.id == sup.id and listed.hits == 2 and listed.last_hit == T0
    assert listed.reason == "pentest account" and listed.actor == "ann"


def test_a_suppression_for_one_rule_leaves_the_others(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=Clock(T0))
    alerts.suppressions.add(
        "user.name", "alice", reason="known", actor="ann", expires_ns=None, rule_id="r1"
    )
    result = alerts.add([det("e1"), det("e2", rule="r2")])
    assert result.suppressed == 1
    assert [a.rule_id for a in alerts.list()] == ["r2"]


def test_group_by_fields_and_rule_ids_match_too(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=Clock(T0))
    alerts.suppressions.add(
        "source.ip", "203.0.113.7", reason="scanner", actor="ann", expires_ns=None
    )
    alerts.suppressions.add("rule.id", "noisy", reason="tuning", actor="ann", expires_ns=None)
    result = alerts.add(
        [
            det("e1", user="u1", group={"source.ip": "203.0.113.7"}),
            det("e2", user="u2", rule="noisy"),
            det("e3", user="u3"),
        ]
    )
    assert result.suppressed == 2
    assert [a.entities["user.name"] for a in alerts.list()] == ["u3"]


def test_expired_suppressions_stop_applying_but_stay_listed(store: DuckDBStore) -> None:
    clock = Clock(T0)
    alerts = AlertStore(store, clock=clock)
    alerts.suppressions.add(
        "user.name", "alice", reason="change window", actor="ann", expires_ns=T0 + DAY
    )
    assert alerts.add([det("e1")]).suppressed == 1
    clock.now = T0 + DAY  # expiry is exclusive: at the expiry time it no longer applies
    assert alerts.add([det("e2")]).suppressed == 0
    assert alerts.suppressions.list() == []
    (expired,) = alerts.suppressions.list(include_expired=True)
    assert expired.hits == 1 and not expired.active(clock.now)


def test_removed_suppressions_stop_applying(store: DuckDBStore) -> None:
    clock = Clock(T0)
    sups = Suppressions(store, clock=clock)
    alerts = AlertStore(store, clock=clock, suppressions=sups)
    sup = sups.add("host.name", "web1", reason="decommissioned", actor="ann", expires_ns=None)
    removed = sups.remove(sup.id, actor="bob")
    assert removed.removed == T0 and removed.removed_by == "bob"
    assert sups.list(include_expired=True) == []
    assert alerts.add([det("e1")]).suppressed == 0
    with pytest.raises(SuppressionNotFound, match=sup.id):
        sups.remove(sup.id, actor="bob")
    with pytest.raises(SuppressionNotFound):
        sups.remove("nope", actor="bob")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("user.name", "alice"), {"reason": " "}, "needs a reason"),
        (("user.name", ""), {"reason": "r"}, "needs a value"),
        (('user"name', "alice"), {"reason": "r"}, "not a field name"),
        (("user.name", "alice"), {"reason": "r", "expires_ns": T0}, "in the past"),
        (("user.name", "alice"), {"reason": "r", "actor": ""}, "needs an actor"),
    ],
)
def test_bad_suppressions_are_refused(
    store: DuckDBStore, args: tuple[str, str], kwargs: dict[str, object], message: str
) -> None:
    sups = Suppressions(store, clock=Clock(T0))
    full: dict[str, object] = {"actor": "ann", "expires_ns": None, **kwargs}
    with pytest.raises(SuppressionError, match=message):
        sups.add(*args, **full)  # type: ignore[arg-type]
    assert sups.list(include_expired=True) == []


def test_suppressed_detections_add_no_entity_risk(store: DuckDBStore) -> None:
    alerts = AlertStore(store, clock=Clock(T0))
    alerts.suppressions.add("user.name", "alice", reason="r", actor="ann", expires_ns=None)
    alerts.add([det("e1")])
    assert alerts.risk.score("user", "alice", at_ns=T0) == 0.0


def test_suppressions_persist(data_dir: Path) -> None:
    with DuckDBStore(data_dir) as s:
        Suppressions(s).add("user.name", "alice", reason="r", actor="ann", expires_ns=None)
    with DuckDBStore(data_dir, read_only=True) as ro:
        (sup,) = Suppressions(ro).list()
        assert (sup.field, sup.value) == ("user.name", "alice")
