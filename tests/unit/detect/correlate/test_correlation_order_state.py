"""Arrival order, late matches and restarts must not change what correlations find."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from corr_helpers import T0, Match, S, rule, run, summary

from heron.detect.base import Detection
from heron.detect.correlate import spill, window
from heron.detect.correlate.engine import CorrelationEngine
from heron.detect.correlate.rules import CorrelationRule
from heron.detect.correlate.spill import SPILL_PREFIX
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


@pytest.mark.parametrize("step", [10_000, 7])
@pytest.mark.parametrize("final", [True, False])
def test_a_hold_past_its_limit_spills_to_disk_and_finds_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int, final: bool
) -> None:
    # A small merge step prunes idle groups (and closes ended windows) between merged
    # matches, as a long load does; the result must not change.
    monkeypatch.setattr(window, "MERGE_STEP", step)
    matches = stream(3)
    expected = summary(
        run(CorrelationEngine(rules(), lateness_ns=LATENESS), [matches], final=final)
    )
    state = CorrelationStateFile.in_data_dir(tmp_path)
    held = CorrelationEngine(rules(), lateness_ns=LATENESS, state_file=state)
    held.hold, held.hold_limit = True, 50
    found: list[Detection] = []
    for batch in _files_one_after_another(matches):
        for i in range(0, len(batch), 40):
            part = batch[i : i + 40]
            found.extend(held.detect([m.event for m in part], [m.detection for m in part]))
    assert found == []
    runs = list(state.path.parent.glob(f"{SPILL_PREFIX}*/*.jsonl"))
    assert runs, "nothing was written to disk"
    assert held.stats().pending <= 50 + 40
    found.extend(held.flush(final=final))
    assert summary(found) == expected
    stats = held.stats()
    assert stats.late == 0 and stats.spilled >= len(matches) - 90
    assert not list(state.path.parent.glob(f"{SPILL_PREFIX}*"))


def test_a_hold_ended_early_continues_as_a_stream_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    matches = stream(4)
    expected = summary(in_order(matches))
    state = CorrelationStateFile.in_data_dir(tmp_path)
    engine = CorrelationEngine(rules(), lateness_ns=LATENESS, state_file=state)
    engine.hold, engine.hold_limit = True, 20
    found: list[Detection] = []
    batches = [matches[i : i + 25] for i in range(0, len(matches), 25)]
    for batch in batches[:6]:
        found.extend(engine.detect([m.event for m in batch], [m.detection for m in batch]))
    assert engine.stats().spilled > 0
    engine.hold = False  # the runs are merged at the next batch, not only at a flush
    # One match: the spilled ones of its last lateness stay pending after the merge.
    one = batches[6][:1]
    found.extend(engine.detect([m.event for m in one], [m.detection for m in one]))
    assert engine.stats().pending > 1
    del engine  # a restart: only the saved state remains
    engine = CorrelationEngine(rules(), lateness_ns=LATENESS, state_file=state)
    found.extend(run(engine, [batches[6][1:], *batches[7:]]))
    assert summary(found) == expected
    assert engine.stats().late == 0


def test_many_runs_of_one_rule_are_merged_into_few_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "MAX_RUNS", 3)
    matches = stream(5)
    expected = summary(in_order(matches))
    held = CorrelationEngine(rules(), lateness_ns=LATENESS)  # no state: the system temp
    held.hold, held.hold_limit = True, 5
    for i in range(0, len(matches), 10):
        part = matches[i : i + 10]
        held.detect([m.event for m in part], [m.detection for m in part])
    folder = held._spilled.folder
    assert folder is not None and len(list(folder.iterdir())) <= 3 * len(held.windows)
    assert summary(held.flush(final=True)) == expected
    assert not folder.exists()


def test_runs_left_by_a_crashed_load_are_removed(tmp_path: Path) -> None:
    state = CorrelationStateFile.in_data_dir(tmp_path)
    state.path.parent.mkdir(parents=True, exist_ok=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = state.path.parent / f"{SPILL_PREFIX}{dead.pid}-abc"
    left.mkdir()
    (left / "1.jsonl").write_text("[]\n")
    mine = state.path.parent / f"{SPILL_PREFIX}{os.getpid()}-def"
    mine.mkdir()
    CorrelationEngine(rules(), state_file=state)
    assert not left.exists() and mine.exists()


@pytest.mark.parametrize("tracked", [100_000, 0])
def test_state_survives_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracked: int
) -> None:
    # With no removal tracked, every save rewrites all groups instead of deleting some.
    monkeypatch.setattr(window, "MAX_TRACKED_REMOVALS", tracked)
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


def test_a_group_made_and_gone_between_two_saves_is_nothing_to_delete() -> None:
    changes = window.WindowChanges()
    changes.create(("10.0.0.1",))
    changes.remove(("10.0.0.1",))
    assert not changes.removed and not changes.dirty
    # A group the saved state holds (not made since the save) is deleted there ...
    changes.remove(("10.0.0.2",))
    assert changes.removed == {("10.0.0.2",)}
    # ... also when it was made again, and went again, before the next save.
    changes.create(("10.0.0.2",))
    assert changes.dirty == {("10.0.0.2",)} and not changes.removed
    changes.remove(("10.0.0.2",))
    assert changes.removed == {("10.0.0.2",)} and not changes.dirty


@pytest.mark.parametrize("saved_first", [False, True])
def test_a_held_flush_saves_exactly_the_live_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, saved_first: bool
) -> None:
    # Pruning every few merged matches makes groups go and come back within the flush:
    # the saved rows must still be the groups alive after it, those saved before included.
    monkeypatch.setattr(window, "MERGE_STEP", 7)
    matches = stream(5)
    state = CorrelationStateFile.in_data_dir(tmp_path)
    engine = CorrelationEngine(rules(), lateness_ns=LATENESS, state_file=state)
    if saved_first:  # groups in the saved state before the held load
        first, matches = matches[:60], matches[60:]
        engine.detect([m.event for m in first], [m.detection for m in first])
        engine.flush()
    engine.hold, engine.hold_limit = True, 50
    for batch in _files_one_after_another(matches):
        engine.detect([m.event for m in batch], [m.detection for m in batch])
    engine.flush()
    state.close()
    with sqlite3.connect(state.path) as db:
        saved = set(db.execute("SELECT corr, grp FROM groups").fetchall())
    live = {
        (rid, orjson.dumps(list(group)).decode())
        for rid, w in engine.windows.items()
        for group in w.groups
    }
    assert saved == live and live
