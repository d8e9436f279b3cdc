"""The detection stage: single-event rules, then correlations, with state in the data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.detect.engine import build_detection_engine
from heron.errors import ConfigError
from heron.model.timeutil import parse_timestamp
from heron.rules import builtin_test_paths
from heron.rules.testing import load_test_file

BRUTE = "Brute Force Followed By Admin Logon (Windows)"


def _stream() -> list[dict[str, object]]:
    """The built-in Windows brute-force test stream, with event ids."""
    path = next(p for p in builtin_test_paths() if p.name.startswith("authentication"))
    test = load_test_file(path)[0]
    return [dict(e) for e in test.events]


def test_generate_false_inputs_raise_no_alerts_of_their_own(tmp_path: Path) -> None:
    engine = build_detection_engine(None, tmp_path)
    found = engine.detect(_stream()) + engine.flush()
    names = sorted(d.rule_name for d in found)
    assert names == [BRUTE, "Failed Logon Burst From One Source"]
    brute = next(d for d in found if d.rule_name == BRUTE)
    assert brute.group == {"source.ip": "203.0.113.50"}
    assert brute.entities["user.name"] == "Administrator"
    assert len(brute.event_ids) == 7


def test_match_then_correlate_is_detect(tmp_path: Path) -> None:
    events = _stream()
    one = build_detection_engine(None, tmp_path / "a", persist=False)
    two = build_detection_engine(None, tmp_path / "b", persist=False)
    whole = one.detect(events) + one.flush()
    matched = two.match(events)
    assert {d.rule_name for d in matched} >= {"Failed Logon (Windows)"}
    # A worker sends back only the events its detections name, and the batch's newest time.
    named = {i for d in matched for i in d.event_ids}
    newest = max(int(e["@timestamp"]) for e in events)  # type: ignore[call-overload]
    split = two.correlate([e for e in events if e["event.id"] in named], matched, newest=newest)
    split += two.flush()
    assert sorted(d.rule_id for d in split) == sorted(d.rule_id for d in whole)


def test_windows_survive_a_restart_through_the_data_dir(tmp_path: Path) -> None:
    events = _stream()
    first = build_detection_engine(None, tmp_path)
    assert first.detect(events[:4]) == []
    assert (tmp_path / "state" / "correlation.sqlite").exists()
    second = build_detection_engine(None, tmp_path)
    found = second.detect(events[4:]) + second.flush()
    assert BRUTE in {d.rule_name for d in found}


def test_events_behind_the_lateness_bound_are_counted(tmp_path: Path) -> None:
    engine = build_detection_engine(None, tmp_path, persist=False)
    events = _stream()
    ahead = dict(events[0], **{"event.id": "ahead"})
    ahead["@timestamp"] = parse_timestamp("2026-03-02T12:00:00Z")
    engine.detect([ahead])
    assert engine.detect(events) == []
    assert engine.correlation is not None
    assert engine.correlation.stats().late > 0


def test_a_rule_that_cannot_load_stops_the_engine(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("title: broken\nlogsource: {product: windows}\ndetection: {}\n")
    with pytest.raises(ConfigError, match="failed to load"):
        build_detection_engine([bad], tmp_path)


def test_unrunnable_correlation_is_a_load_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "title: base\nname: base\nid: 5b0f3a3e-3c1f-4f3e-9a55-2d6f7b1c0e01\n"
        "logsource: {product: windows, service: security}\n"
        "detection: {s: {EventID: 1}, condition: s}\n---\n"
        "title: sum\nid: 5b0f3a3e-3c1f-4f3e-9a55-2d6f7b1c0e02\n"
        "correlation: {type: value_sum, rules: [base], timespan: 1m, "
        "condition: {gt: 3, field: Size}}\n"
    )
    with pytest.raises(ConfigError, match="not supported"):
        build_detection_engine([rules], tmp_path)
