"""The alert queue: filters, paging and sort orders of ``list`` and ``count_matching``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from heron.alerts import AlertFilterError, AlertStore, EntityRisk
from heron.alerts.filters import AlertFilter, list_statement
from heron.alerts.schema import select_list
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000
T0 = 1_700_000_000 * S


def det(
    ts: int, rule: str, level: str, group: dict[str, str] | None = None, **ents: str
) -> Detection:
    fields = {k.replace("_", "."): v for k, v in ents.items()}
    return Detection(
        rule, f"Rule {rule}", level, ts, (f"e-{rule}",), entities=fields, group=group or {}
    )


@pytest.fixture(scope="module")
def alerts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertStore]:
    # One store for the module: these tests only read it.
    store = DuckDBStore(tmp_path_factory.mktemp("queue") / "heron-data")
    a = AlertStore(store, clock=lambda: T0, risk=EntityRisk(store, threshold=1e9))
    a.add(
        [
            det(T0, "brute", "high", user_name="Alice", source_ip="203.0.113.5"),
            det(T0 + 10 * S, "spray", "medium", group={"source.ip": "198.51.100.7"}),
            det(T0 + 20 * S, "ps", "critical", host_name="ws01", TargetUserName="svc_sql"),
            det(T0 + 30 * S, "dns", "low", destination_ip="203.0.113.5"),
        ]
    )
    ids = {x.rule_id: x.id for x in a.list()}
    a.update([ids["brute"]], actor="lead", assignee="ann")
    a.update([ids["dns"]], actor="ann", status="closed", disposition="benign")
    a.update([ids["ps"]], actor="ann", status="acknowledged")
    yield a
    store.close()


def rules(found: list[Any]) -> list[str]:
    return [a.rule_id for a in found]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["dns", "ps", "spray", "brute"]),
        ({"assignee": "ann"}, ["brute"]),
        ({"unassigned": True}, ["dns", "ps", "spray"]),
        ({"status": "new"}, ["spray", "brute"]),
        ({"status": ["new", "acknowledged"]}, ["ps", "spray", "brute"]),
        ({"levels": ["high", "LOW"]}, ["dns", "brute"]),
        ({"min_level": "high"}, ["ps", "brute"]),
        ({"entity": ("user.name", "alice")}, ["brute"]),
        ({"entity": ("user", "ALICE")}, ["brute"]),
        ({"entity": ("ip", "203.0.113.5")}, ["dns", "brute"]),
        ({"entity": ("source.ip", "198.51.100.7")}, ["spray"]),  # a group-by value
        ({"entity": ("TargetUserName", "svc_sql")}, ["ps"]),  # in `entities` only
        ({"text": "SPRAY"}, ["spray"]),
        ({"text": "ws0"}, ["ps"]),
        ({"text": "user"}, []),  # entity values, not their field names
        ({"since": T0 + 15 * S}, ["dns", "ps"]),
        ({"until": T0 + 15 * S}, ["spray", "brute"]),
        ({"since": T0 + 5 * S, "until": T0 + 25 * S}, ["ps", "spray"]),
        ({"rule_id": "ps", "status": "acknowledged"}, ["ps"]),
    ],
)
def test_filters_and_their_counts(
    alerts: AlertStore, filters: dict[str, Any], expected: list[str]
) -> None:
    assert rules(alerts.list(**filters)) == expected
    assert alerts.count_matching(**filters) == len(expected)


def test_orders_and_pages(alerts: AlertStore) -> None:
    assert rules(alerts.list(order="risk_score")) == ["ps", "brute", "spray", "dns"]
    assert rules(alerts.list(order="first_seen")) == ["dns", "ps", "spray", "brute"]
    assert rules(alerts.list(limit=2, offset=1)) == ["ps", "spray"]
    assert rules(alerts.list(limit=2, offset=4)) == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"order": "random"}, "unknown order"),
        ({"levels": ["severe"]}, "unknown level"),
        ({"min_level": "severe"}, "unknown level"),
        ({"status": "open"}, "unknown status"),
        ({"entity": ('user"name', "x")}, "not an entity field"),
        ({"entity": ("user.name", "x" * 600)}, "longer than 512"),
        ({"text": "x" * 600}, "longer than 512"),
    ],
)
def test_bad_filters_are_refused(alerts: AlertStore, filters: dict[str, Any], message: str) -> None:
    with pytest.raises(AlertFilterError, match=message):
        alerts.list(**filters)


def test_a_page_of_10k_alerts_is_a_top_n_query(store: DuckDBStore) -> None:
    a = AlertStore(store, clock=lambda: T0, risk=EntityRisk(store, threshold=1e9))
    a.add([det(T0 + i * S, f"r{i}", "high", user_name=f"u{i}") for i in range(10_000)])
    assert a.count_matching(status="new") == 10_000
    page = a.list(limit=50, status="new")
    assert len(page) == 50 and page[0].rule_id == "r9999"
    # Top-N over the narrow (id, last_seen) columns keeps 50 rows while scanning, then
    # only those 50 rows are read in full: the table is never sorted whole.
    where, params = AlertFilter(status="new").where()
    sql, page_params = list_statement(select_list(), where, order="last_seen", limit=50, offset=0)
    plan = "\n".join(
        str(r[1])
        for r in store.connection().execute("EXPLAIN " + sql, [*params, *page_params]).fetchall()
    )
    assert ("Top N" in plan or "TOP_N" in plan) and "Top: 50" in plan, plan
