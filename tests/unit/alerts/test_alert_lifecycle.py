"""Triage: new → acknowledged → closed with a disposition, reopening, assignment, history."""

from __future__ import annotations

import pytest

from heron.alerts import (
    UNSET,
    AlertNotFound,
    AlertSettings,
    AlertStore,
    AlertUpdateError,
    EntityRisk,
)
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000
T0 = 1_700_000_000 * S


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def det(ts: int, eid: str, *, rule: str = "r1", user: str = "alice") -> Detection:
    return Detection(rule, f"Rule {rule}", "medium", ts, (eid,), entities={"user.name": user})


def make(store: DuckDBStore, clock: Clock, **kwargs: int) -> AlertStore:
    # A threshold no test reaches: these tests count alerts, not entity risk.
    return AlertStore(store, clock=clock, risk=EntityRisk(store, threshold=1e9), **kwargs)


def three(alerts: AlertStore) -> list[str]:
    alerts.add([det(T0, "a", user="u1"), det(T0, "b", user="u2"), det(T0, "c", user="u3")])
    return sorted(a.id for a in alerts.list())


def test_acknowledge_then_close_with_a_disposition(store: DuckDBStore) -> None:
    clock = Clock(T0 + 100 * S)
    alerts = make(store, clock)
    alerts.add([det(T0, "e1")])
    (alert,) = alerts.list()
    (acked,) = alerts.update([alert.id], actor="ann", status="acknowledged")
    assert acked.status == "acknowledged" and acked.acknowledged_at == T0 + 100 * S
    clock.now += 60 * S
    (closed,) = alerts.update(
        [alert.id],
        actor="bob",
        status="closed",
        disposition="false_positive",
        comment="backup job",
    )
    assert closed.status == "closed" and closed.disposition == "false_positive"
    assert closed.closed_at == T0 + 160 * S and closed.acknowledged_at == T0 + 100 * S
    assert alerts.get(alert.id) == closed
    history = alerts.history(alert.id)
    assert [(h.actor, h.time) for h in history] == [("ann", T0 + 100 * S), ("bob", T0 + 160 * S)]
    assert history[0].changes == {"status": ("new", "acknowledged")}
    assert history[1].changes == {
        "status": ("acknowledged", "closed"),
        "disposition": (None, "false_positive"),
    }
    assert history[1].comment == "backup job" and history[0].comment is None


def test_closing_needs_a_disposition(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    alerts.add([det(T0, "e1")])
    (alert,) = alerts.list()
    with pytest.raises(AlertUpdateError, match="closing needs a disposition") as info:
        alerts.update([alert.id], actor="ann", status="closed")
    assert info.value.alert_id == alert.id
    assert alerts.get(alert.id) == alert and alerts.history(alert.id) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "done"}, "unknown status 'done'"),
        ({"status": "closed", "disposition": "maybe"}, "unknown disposition 'maybe'"),
        ({"status": "acknowledged", "disposition": "benign"}, "only set when closing"),
        ({}, "nothing to update"),
        ({"comment": "   "}, "nothing to update"),
        ({"assignee": ""}, "the assignee must not be empty"),
        ({"comment": "x" * 10_001}, "longer than 10000"),
    ],
)
def test_malformed_requests_are_refused(
    store: DuckDBStore, kwargs: dict[str, str], message: str
) -> None:
    alerts = make(store, Clock(T0))
    alerts.add([det(T0, "e1")])
    (alert,) = alerts.list()
    with pytest.raises(AlertUpdateError, match=message):
        alerts.update([alert.id], actor="ann", **kwargs)
    assert alerts.get(alert.id) == alert


def test_a_disposition_alone_only_on_a_closed_alert(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    alerts.add([det(T0, "e1")])
    (alert,) = alerts.list()
    with pytest.raises(AlertUpdateError, match="the alert is new; a disposition"):
        alerts.update([alert.id], actor="ann", disposition="benign")
    alerts.update([alert.id], actor="ann", status="closed", disposition="benign")
    (changed,) = alerts.update([alert.id], actor="ann", disposition="true_positive")
    assert changed.status == "closed" and changed.disposition == "true_positive"
    assert alerts.history(alert.id)[-1].changes == {"disposition": ("benign", "true_positive")}


def test_an_empty_actor_is_refused(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    alerts.add([det(T0, "e1")])
    with pytest.raises(AlertUpdateError, match="the actor must not be empty"):
        alerts.update([alerts.list()[0].id], actor=" ", status="acknowledged")


def test_reopening_clears_the_disposition(store: DuckDBStore) -> None:
    clock = Clock(T0)
    alerts = make(store, clock)
    alerts.add([det(T0, "e1")])
    (alert,) = alerts.list()
    alerts.update([alert.id], actor="ann", status="closed", disposition="benign")
    clock.now += S
    (reopened,) = alerts.update([alert.id], actor="bob", status="acknowledged", comment="again")
    assert reopened.status == "acknowledged"
    assert reopened.disposition is None and reopened.closed_at is None
    assert alerts.history(alert.id)[-1].changes == {
        "status": ("closed", "acknowledged"),
        "disposition": ("benign", None),
    }


def test_assign_unassign_and_leave_alone(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    alerts.add([det(T0, "e1")])
    (alert,) = alerts.list()
    assert alerts.update([alert.id], actor="lead", assignee=" ann ")[0].assignee == "ann"
    kept = alerts.update([alert.id], actor="ann", assignee=UNSET, status="acknowledged")
    assert kept[0].assignee == "ann"
    assert alerts.update([alert.id], actor="ann", assignee=None)[0].assignee is None
    assert [h.changes.get("assignee") for h in alerts.history(alert.id)] == [
        (None, "ann"),
        None,
        ("ann", None),
    ]


def test_a_comment_alone_is_history_not_a_change(store: DuckDBStore) -> None:
    clock = Clock(T0)
    alerts = make(store, clock)
    alerts.add([det(T0, "e1")])
    (alert,) = alerts.list()
    clock.now += S
    (same,) = alerts.update([alert.id], actor="ann", comment="looking")
    assert same.updated == alert.updated and same.status == "new"
    (entry,) = alerts.history(alert.id)
    assert entry.changes == {} and entry.comment == "looking"
    assert entry.to_row()["changes"] == {}


def test_bulk_update_changes_every_alert_at_once(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    ids = three(alerts)
    updated = alerts.update([*ids, ids[0]], actor="ann", status="acknowledged", assignee="ann")
    assert [a.id for a in updated] == ids
    assert all(a.status == "acknowledged" and a.assignee == "ann" for a in alerts.list())
    assert all(len(alerts.history(i)) == 1 for i in ids)


def test_bulk_update_with_an_unknown_id_changes_nothing(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    ids = three(alerts)
    before = alerts.list()
    with pytest.raises(AlertNotFound, match="no such alert: nope") as info:
        alerts.update([ids[0], "nope", ids[1]], actor="ann", status="acknowledged")
    assert info.value.alert_ids == ["nope"]
    assert alerts.list() == before
    assert all(alerts.history(i) == [] for i in ids)


def test_bulk_update_refused_by_one_alert_changes_nothing(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    ids = three(alerts)
    alerts.update([ids[0]], actor="ann", status="closed", disposition="benign")
    before = alerts.list()
    # Fine for the closed alert, not for the two open ones: all or nothing.
    with pytest.raises(AlertUpdateError, match="a disposition is only set when closing"):
        alerts.update(ids, actor="ann", disposition="true_positive", comment="all bad")
    assert alerts.list() == before
    assert len(alerts.history(ids[0])) == 1


def test_unknown_alert_history_and_empty_update(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    with pytest.raises(AlertNotFound):
        alerts.history("nope")
    assert alerts.update([], actor="ann", status="acknowledged") == []


def test_a_repeat_of_a_closed_alert_starts_a_new_alert(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0))
    alerts.add([det(T0, "e1")])
    (first,) = alerts.list()
    alerts.update([first.id], actor="ann", status="closed", disposition="true_positive")
    result = alerts.add([det(T0 + S, "e2")])
    assert result.created == 1 and result.grouped == 0
    closed = alerts.get(first.id)
    assert closed is not None and closed.status == "closed" and closed.count == 1
    (new,) = alerts.list(status="new")
    assert new.event_ids == ["e2"] and new.dedup_key == first.dedup_key
    # An acknowledged alert still groups repeats.
    alerts.update([new.id], actor="ann", status="acknowledged")
    assert alerts.add([det(T0 + 2 * S, "e3")]).grouped == 1


def test_the_grouping_window_is_configurable(store: DuckDBStore) -> None:
    alerts = make(store, Clock(T0), dedup_window_ns=60 * S)
    alerts.add([det(T0, "e1"), det(T0 + 50 * S, "e2"), det(T0 + 200 * S, "e3")])
    assert sorted(a.count for a in alerts.list()) == [1, 2]
    configured = AlertStore.from_settings(
        store, AlertSettings.from_mapping({"dedup_window": "10m"}), clock=Clock(T0)
    )
    assert configured.dedup_window_ns == 600 * S
