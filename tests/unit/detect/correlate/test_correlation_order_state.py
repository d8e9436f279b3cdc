"""Arrival order, late matches and restarts must not change what correlations find."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from corr_helpers import T0, Match, S, rule, run, summary

from heron.detect.base import Detection
from heron.detect.correlate.engine import CorrelationEngine
from heron.detect.correlate.rules import CorrelationRule
from heron.detect.correlate.state import CorrelationStateError, CorrelationStateFile

LATENESS = 120 * S


def rules() -> list[CorrelationRule]:
    return [
        rule("burst", "event_count", ["fail"], 600, {"gt": 5}, ["source.ip"]),
        rule("bf", "temporal_ordered", ["burst", "ok"], 600, None, ["source.ip"]),
        rule(
            "spray", "value_count", ["fail"], 300, {"gte": 4, "field": "user.name"}, ["source.ip"]
        ),
        rule("pair", "temporal", ["fail", "ok"], 30, None, ["user.name"]),
        rule("quiet", "event_count", ["ok"], 120, {"lte": 1}, ["source.ip"]),
    ]


def stream(seed: int) -> list[Match]:
    """A day-like mix: bursts, sprays, stray failures and successes from a few addresses."""
    rng = random.Random(seed)
    ips = [f"10.0.{seed % 7}.{i}" for i in range(6)]
    users = ["admin", "alice", "bob", "carol", "dave"]
    out: list[Match] = []
    t = T0
    for i in range(400):
        t += rng.choice([0, 1, 2, 5, 10, 30]) * S  # equal timestamps happen
        kind = "ok" if rng.random() < 0.15 else "fail"
        fields: dict[str, str] = {"source__ip": rng.choice(ips)}
        if rng.random() < 0.9:
            fields["user__name"] = rng.choice(users)
        out.append(Match(kind, t, f"e{i:04d}", **fields))
    return out


def in_order(matches: list[Match]) -> list[Detection]:
    return run(CorrelationEngine(rules(), lateness_ns=LATENESS), [matches])


def shuffled_batches(matches: list[Match], rng: random.Random) -> list[list[Match]]:
    # Each event is delayed by up to the lateness bound: arrival order changes, but no
    # event arrives after one more than the bound newer than itself.
    arrival = sorted(matches, key=lambda m: m.event["@timestamp"] + rng.randint(0, LATENESS))
    batches: list[list[Match]] = []
    i = 0
    while i < len(arrival):
        n = rng.randint(1, 25)
        batches.append(arrival[i : i + n])
        i += n
    return batches


@pytest.mark.parametrize("seed", range(8))
def test_out_of_order_within_bound_gives_the_in_order_result(seed: int) -> None:
    matches = stream(seed)
    expected = summary(in_order(matches))
    assert {d[0] for d in expected} >= {"burst", "spray", "pair"}  # the stream exercises them
    engine = CorrelationEngine(rules(), lateness_ns=LATENESS)
    got = run(engine, shuffled_batches(matches, random.Random(seed + 100)))
    assert engine.stats().late == 0
    assert summary(got) == expected


def test_matches_behind_the_frontier_are_counted_late_and_dropped() -> None:
    burst = rule("burst", "event_count", ["fail"], 600, {"gt": 2}, ["source.ip"])
    engine = CorrelationEngine([burst], lateness_ns=60 * S)
    first = [Match("fail", T0 + i * S, f"a{i}", source__ip="1.2.3.4") for i in range(2)]
    ahead = [Match("fail", T0 + 1000 * S, "ahead", source__ip="5.6.7.8")]
    engine.detect([m.event for m in first + ahead], [m.detection for m in first + ahead])
    # 1000 s ahead moved the frontier to T0 + 940 s: this one comes too late.
    late = Match("fail", T0 + 3 * S, "late", source__ip="1.2.3.4")
    assert engine.detect([late.event], [late.detection]) == []
    within = Match("fail", T0 + 950 * S, "within", source__ip="5.6.7.8")
    engine.detect([within.event], [within.detection])
    stats = engine.stats()
    assert stats.late == 1 and stats.late_by_rule == {"burst": 1}
    assert engine.flush(final=True) == []


def _files_one_after_another(matches: list[Match]) -> list[list[Match]]:
    # Two "files" that each span the whole stream, read one after the other.
    return [matches[0::2], matches[1::2]]


def test_a_held_bulk_load_finds_what_one_ordered_stream_finds(tmp_path: Path) -> None:
    matches = stream(3)
    expected = summary(in_order(matches))
    streaming = CorrelationEngine(rules(), lateness_ns=LATENESS)
    assert summary(run(streaming, _files_one_after_another(matches))) != expected
    assert streaming.stats().late > 0
    state = CorrelationStateFile(tmp_path / "state.sqlite")
    held = CorrelationEngine(rules(), lateness_ns=LATENESS, state_file=state)
    held.hold = True
    assert summary(run(held, _files_one_after_another(matches))) == expected
    assert held.stats().late == 0


def test_a_hold_past_its_limit_moves_on_as_a_stream() -> None:
    matches = stream(3)
    held = CorrelationEngine(rules(), lateness_ns=LATENESS)
    held.hold, held.hold_limit = True, 50
    run(held, _files_one_after_another(matches))
    assert held.stats().late > 0  # the second file came behind the released frontier


def test_state_survives_a_restart(tmp_path: Path) -> None:
    matches = stream(3)
    batches = shuffled_batches(matches, random.Random(7))
    expected = summary(in_order(matches))
    state = CorrelationStateFile.in_data_dir(tmp_path)
    found: list[Detection] = []
    half = len(batches) // 2
    first = CorrelationEngine(rules(), lateness_ns=LATENESS, state_file=state)
    for batch in batches[:half]:
        found.extend(first.detect([m.event for m in batch], [m.detection for m in batch]))
    assert state.path.exists() and state.path.parent.name == "state"
    del first  # the process ends; only the file remains
    second = CorrelationEngine(rules(), lateness_ns=LATENESS, state_file=state)
    assert second.stats().pending + second.stats().groups > 0
    found.extend(run(second, batches[half:]))
    assert summary(found) == expected


def test_restart_with_a_changed_rule_drops_its_state(tmp_path: Path) -> None:
    state = CorrelationStateFile.in_data_dir(tmp_path)
    before = rule("burst", "event_count", ["fail"], 600, {"gt": 2}, ["source.ip"])
    engine = CorrelationEngine([before], state_file=state)
    batch = [Match("fail", T0 + i * S, f"a{i}", source__ip="1.2.3.4") for i in range(2)]
    engine.detect([m.event for m in batch], [m.detection for m in batch])
    after = rule("burst", "event_count", ["fail"], 600, {"gt": 1}, ["source.ip"])
    reloaded = CorrelationEngine([after], state_file=state)
    assert reloaded.stats().pending == 0 and reloaded.stats().groups == 0
    unchanged = CorrelationEngine([before], state_file=state)
    assert unchanged.stats().pending == 2


def test_unreadable_state_is_a_typed_error(tmp_path: Path) -> None:
    state = CorrelationStateFile.in_data_dir(tmp_path)
    state.path.parent.mkdir(parents=True)
    state.path.write_text("{not json")
    with pytest.raises(CorrelationStateError, match=r"correlation\.sqlite"):
        CorrelationEngine(rules(), state_file=state)


def test_saves_keep_one_row_per_live_group(tmp_path: Path) -> None:
    state = CorrelationStateFile.in_data_dir(tmp_path)
    engine = CorrelationEngine(rules(), lateness_ns=0, state_file=state)
    for i in range(50):
        m = Match("fail", T0 + i * 100 * S, f"x{i}", source__ip=f"10.0.0.{i % 3}", user__name="u")
        engine.detect([m.event], [m.detection])
    state.close()
    with sqlite3.connect(state.path) as db:
        saved = dict(db.execute("SELECT corr, count(*) FROM groups GROUP BY corr").fetchall())
        pending = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    live = {rid: len(w.groups) for rid, w in engine.windows.items() if w.groups}
    assert saved == live
    # The newest match waits (lateness 0: a match at the watermark may still have peers).
    assert pending == sum(len(w.pending) for w in engine.windows.values()) > 0
