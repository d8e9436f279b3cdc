"""Each Sigma correlation type on hand-made streams, including window borders."""

from __future__ import annotations

import pytest
from corr_helpers import T0, Match, S, rule, run, spec, summary

from heron.detect.correlate.engine import CorrelationEngine
from heron.detect.correlate.rules import CorrelationRule, CorrelationRuleError


def failures(ip: str, start: int, count: int, step: int = 10 * S, prefix: str = "f") -> list[Match]:
    return [
        Match("fail", start + i * step, f"{prefix}{ip}-{i}", source__ip=ip, user__name="bob")
        for i in range(count)
    ]


def burst_rule(**kw: object) -> CorrelationRule:
    return rule("burst", "event_count", ["fail"], 600, {"gt": 5}, ["source.ip"], **kw)


def test_event_count_fires_above_threshold_per_group() -> None:
    engine = CorrelationEngine([burst_rule()])
    stream = failures("10.0.0.1", T0, 6) + failures("10.0.0.2", T0, 5)
    found = run(engine, [stream])
    assert len(found) == 1
    d = found[0]
    assert d.rule_id == "burst"
    assert d.group == {"source.ip": "10.0.0.1"}
    assert sorted(d.event_ids) == sorted(m.event["event.id"] for m in stream[:6])
    assert d.timestamp == T0 + 50 * S  # the sixth failure completes it
    assert d.entities["source.ip"] == "10.0.0.1"
    assert d.entities["user.name"] == "bob"


def test_event_count_starts_afresh_after_firing() -> None:
    engine = CorrelationEngine([burst_rule()])
    found = run(engine, [failures("10.0.0.1", T0, 13)])
    assert [len(d.event_ids) for d in found] == [6, 6]


def test_window_border_is_inclusive() -> None:
    pair = rule("pair", "event_count", ["fail"], 10, {"gte": 2}, ["source.ip"])
    at_edge = [
        Match("fail", T0, "a", source__ip="1.1.1.1"),
        Match("fail", T0 + 10 * S, "b", source__ip="1.1.1.1"),
    ]
    past_edge = [
        Match("fail", T0, "c", source__ip="2.2.2.2"),
        Match("fail", T0 + 10 * S + 1, "d", source__ip="2.2.2.2"),
    ]
    found = run(CorrelationEngine([pair]), [at_edge + past_edge])
    assert summary(found) == [("pair", T0 + 10 * S, ("a", "b"), (("source.ip", "1.1.1.1"),))]


def test_sliding_window_drops_old_events() -> None:
    # 5 failures 10 s apart, then 5 more from 10 min + 1 ns: never 6 within 10 minutes.
    engine = CorrelationEngine([burst_rule()])
    stream = failures("10.0.0.1", T0, 5, prefix="a") + failures(
        "10.0.0.1", T0 + 600 * S + 1, 5, prefix="b"
    )
    assert run(engine, [stream]) == []
    # ...but from exactly 10 minutes on, the first later one sees all five early ones.
    engine = CorrelationEngine([burst_rule()])
    stream = failures("10.0.0.1", T0, 5, prefix="a") + failures(
        "10.0.0.1", T0 + 600 * S, 5, prefix="b"
    )
    found = run(engine, [stream])
    assert len(found) == 1 and len(found[0].event_ids) == 6


@pytest.mark.parametrize("missing", [None, "", "-"])
def test_event_without_group_by_value_does_not_contribute(missing: str | None) -> None:
    engine = CorrelationEngine([burst_rule()])
    stream = failures("10.0.0.1", T0, 5)
    extra = Match("fail", T0 + 55 * S, "nogroup", user__name="bob")
    if missing is not None:
        extra.event["source.ip"] = missing
    assert run(engine, [[*stream, extra]]) == []
    assert engine.stats().ungrouped == 1


def test_group_by_reads_vendor_twin_of_ecs_field() -> None:
    # Group by source.ip; a raw Windows event carries the address only as IpAddress.
    engine = CorrelationEngine([burst_rule()])
    stream = [Match("fail", T0 + i * S, f"w{i}", IpAddress="192.0.2.7") for i in range(6)]
    found = run(engine, [stream])
    assert [d.group for d in found] == [{"source.ip": "192.0.2.7"}]


def test_no_group_by_counts_everything_together() -> None:
    total = rule("total", "event_count", ["fail"], 60, {"gte": 3})
    stream = [Match("fail", T0 + i * S, f"e{i}", source__ip=f"10.0.0.{i}") for i in range(3)]
    found = run(CorrelationEngine([total]), [stream])
    assert len(found) == 1 and found[0].group == {}


def test_value_count_counts_distinct_values() -> None:
    spray = rule(
        "spray", "value_count", ["fail"], 600, {"gte": 3, "field": "user.name"}, ["source.ip"]
    )
    stream = [
        Match("fail", T0, "1", source__ip="9.9.9.9", user__name="alice"),
        Match("fail", T0 + 1 * S, "2", source__ip="9.9.9.9", user__name="alice"),
        Match("fail", T0 + 2 * S, "3", source__ip="9.9.9.9", user__name="bob"),
        Match("fail", T0 + 3 * S, "4", source__ip="9.9.9.9"),  # no user: not counted
        Match("fail", T0 + 4 * S, "5", source__ip="8.8.8.8", user__name="carol"),
        Match("fail", T0 + 5 * S, "6", source__ip="9.9.9.9", user__name="carol"),
    ]
    found = run(CorrelationEngine([spray]), [stream])
    assert summary(found) == [
        ("spray", T0 + 5 * S, ("1", "2", "3", "6"), (("source.ip", "9.9.9.9"),))
    ]
    assert "user.name" not in found[0].entities  # users differ


def test_temporal_needs_every_rule_in_window_in_any_order() -> None:
    both = rule("both", "temporal", ["a", "b"], 60, None, ["host.name"])
    stream = [
        Match("b", T0, "b1", host__name="h1"),
        Match("a", T0 + 60 * S, "a1", host__name="h1"),  # exactly at the border: together
        Match("a", T0, "a2", host__name="h2"),
        Match("b", T0 + 61 * S, "b2", host__name="h2"),  # one second too late
        Match("a", T0, "a3", host__name="h3"),
        Match("a", T0 + 1 * S, "a4", host__name="h3"),  # the same rule twice is not enough
    ]
    found = run(CorrelationEngine([both]), [stream])
    assert summary(found) == [("both", T0 + 60 * S, ("a1", "b1"), (("host.name", "h1"),))]


def test_temporal_extended_condition() -> None:
    either = rule("either", "temporal", ["a", "b", "c"], 60, {"expression": "a and (b or c)"})
    stream = [Match("c", T0, "c1"), Match("a", T0 + S, "a1"), Match("b", T0 + 500 * S, "b1")]
    found = run(CorrelationEngine([either]), [stream])
    assert summary(found) == [("either", T0 + S, ("a1", "c1"), ())]


def test_temporal_ordered_needs_the_order() -> None:
    seq = rule("seq", "temporal_ordered", ["a", "b"], 60, None, ["user.name"])
    stream = [
        Match("a", T0, "a1", user__name="u1"),
        Match("b", T0 + 30 * S, "b1", user__name="u1"),
        Match("b", T0, "b2", user__name="u2"),
        Match("a", T0 + 30 * S, "a2", user__name="u2"),  # wrong order
        Match("a", T0, "a3", user__name="u3"),
        Match("b", T0 + 60 * S, "b3", user__name="u3"),  # at the border
        Match("a", T0, "a4", user__name="u4"),
        Match("b", T0 + 60 * S + 1, "b4", user__name="u4"),  # past it
    ]
    found = run(CorrelationEngine([seq]), [stream])
    assert summary(found) == [
        ("seq", T0 + 30 * S, ("a1", "b1"), (("user.name", "u1"),)),
        ("seq", T0 + 60 * S, ("a3", "b3"), (("user.name", "u3"),)),
    ]


def test_temporal_ordered_uses_the_latest_start() -> None:
    seq = rule("seq", "temporal_ordered", ["a", "b", "c"], 60, None)
    stream = [
        Match("a", T0, "a1"),
        Match("b", T0 + 10 * S, "b1"),
        Match("a", T0 + 50 * S, "a2"),
        Match("b", T0 + 55 * S, "b2"),
        Match("c", T0 + 100 * S, "c1"),  # too late for a1, in time for a2
    ]
    found = run(CorrelationEngine([seq]), [stream])
    assert summary(found) == [("seq", T0 + 100 * S, ("a2", "b2", "c1"), ())]


def test_chained_correlation_brute_force_then_success() -> None:
    burst = burst_rule()
    chain = rule("bruteforce", "temporal_ordered", ["burst", "admin_ok"], 600, None, ["source.ip"])
    stream = [
        *failures("203.0.113.9", T0, 6),
        Match("admin_ok", T0 + 70 * S, "ok1", source__ip="203.0.113.9", user__name="admin"),
        # a success from another address, and one before any burst
        Match("admin_ok", T0 + 70 * S, "ok2", source__ip="198.51.100.1", user__name="admin"),
    ]
    engine = CorrelationEngine([chain, burst])  # any order: children are run first
    found = run(engine, [stream])
    by_rule = {d.rule_id: d for d in found}
    assert set(by_rule) == {"burst", "bruteforce"}
    bf = by_rule["bruteforce"]
    assert bf.group == {"source.ip": "203.0.113.9"}
    assert len(bf.event_ids) == 7 and "ok1" in bf.event_ids
    assert bf.timestamp == T0 + 70 * S
    assert engine.hidden_rule_ids == frozenset({"fail", "burst", "admin_ok"})


def test_success_before_the_burst_is_not_brute_force() -> None:
    burst = burst_rule()
    chain = rule("bf", "temporal_ordered", ["burst", "admin_ok"], 600, None, ["source.ip"])
    stream = [
        Match("admin_ok", T0, "ok", source__ip="203.0.113.9"),
        *failures("203.0.113.9", T0 + S, 6),
    ]
    found = run(CorrelationEngine([burst, chain]), [stream])
    assert [d.rule_id for d in found] == ["burst"]


def test_count_below_threshold_is_decided_when_the_window_closes() -> None:
    few = rule("few", "event_count", ["hb"], 60, {"lt": 3}, ["host.name"])
    stream = [
        Match("hb", T0, "h1-1", host__name="h1"),
        Match("hb", T0 + 20 * S, "h1-2", host__name="h1"),
        Match("hb", T0, "h2-1", host__name="h2"),
        Match("hb", T0 + 30 * S, "h2-2", host__name="h2"),
        Match("hb", T0 + 60 * S, "h2-3", host__name="h2"),  # at the border: in the window
        Match("hb", T0 + 200 * S, "late-window", host__name="h3"),
    ]
    engine = CorrelationEngine([few], lateness_ns=0)
    found = run(engine, [stream], final=False)
    # h3's window is still open (it could get more events), so no decision yet.
    assert summary(found) == [("few", T0 + 60 * S, ("h1-1", "h1-2"), (("host.name", "h1"),))]
    assert summary(engine.flush(final=True)) == [
        ("few", T0 + 260 * S, ("late-window",), (("host.name", "h3"),))
    ]


def test_aliases_map_group_by_per_rule() -> None:
    paired = rule(
        "paired",
        "temporal",
        ["conn", "login"],
        60,
        None,
        ["ip"],
        aliases={"ip": {"conn": "destination.ip", "login": "source.ip"}},
    )
    stream = [
        Match("conn", T0, "c1", destination__ip="10.1.1.1"),
        Match("login", T0 + S, "l1", source__ip="10.1.1.1"),
    ]
    found = run(CorrelationEngine([paired]), [stream])
    assert summary(found) == [("paired", T0 + S, ("c1", "l1"), (("ip", "10.1.1.1"),))]


@pytest.mark.parametrize(
    ("type_", "condition", "message"),
    [
        ("value_count", {"gt": 3}, "condition.field"),
        ("event_count", {}, "exactly one"),
        ("temporal", {"lt": 2}, "use gt, gte or eq"),
        ("temporal_ordered", {"gte": 1}, "whole sequence"),
        ("value_sum", {"gt": 1, "field": "x"}, "not supported"),
        ("event_count", {"expression": "a or b"}, "only supported for temporal"),
    ],
)
def test_rules_the_engine_cannot_run_are_errors(
    type_: str, condition: dict[str, object], message: str
) -> None:
    with pytest.raises(CorrelationRuleError, match=message):
        CorrelationRule.from_spec(spec("bad", type_, ["a", "b"], 60, condition))


def test_cycle_is_an_error() -> None:
    a = rule("a", "event_count", ["b"], 60, {"gt": 1})
    b = rule("b", "event_count", ["a"], 60, {"gt": 1})
    with pytest.raises(CorrelationRuleError, match="cycle"):
        CorrelationEngine([a, b])
