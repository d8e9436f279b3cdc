"""``heron rules test``: test files, the virtual clock, pass/fail and the exit code."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from heron.cli.rules_test import rules_test
from heron.rules.testing import load_test_file, run_rule_test

RULES = """
title: Failed logon
name: failed
id: 9a0e4c43-58d4-4fd4-8a0c-9f55e2fa0d01
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
level: low
---
title: Three failures
name: three_failures
id: 9a0e4c43-58d4-4fd4-8a0c-9f55e2fa0d02
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 1m
  condition: {gte: 3}
level: medium
"""


def _event(ts: str, ip: str = "10.0.0.1") -> str:
    return f'{{"@timestamp": "{ts}", EventID: 4625, Channel: Security, IpAddress: {ip}}}'


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "rules.yml").write_text(RULES)
    path = tmp_path / "case.yml"
    path.write_text(body)
    return path


def test_correlation_on_old_data_runs_on_event_time(tmp_path: Path) -> None:
    # Events from 2001: the virtual clock knows no "now".
    path = _write(
        tmp_path,
        f"""
name: old burst
rule: rules.yml
events:
  - {_event("2001-05-01T00:00:00Z")}
  - {_event("2001-05-01T00:00:30Z")}
  - {_event("2001-05-01T00:01:00Z")}
  - {_event("2001-05-01T00:01:00Z", "10.0.0.2")}
expect:
  - {{rule: Three failures, count: 1, events: [0, 1, 2]}}
  - {{rule: failed, count: 4}}
""",
    )
    (test,) = load_test_file(path)
    outcome = run_rule_test(test)
    assert outcome.passed, outcome.failures


def test_events_in_any_order_in_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""
rule: rules.yml
events:
  - {_event("2001-05-01T00:01:00Z")}
  - {_event("2001-05-01T00:00:00Z")}
  - {_event("2001-05-01T00:00:30Z")}
expect:
  - {{rule: three_failures, count: 1, events: [0, 1, 2]}}
""",
    )
    (test,) = load_test_file(path)
    assert run_rule_test(test).passed


def test_events_file_in_json_lines(tmp_path: Path) -> None:
    lines = [
        {"@timestamp": 1_000_000_000_000_000_000 + i, "EventID": 4625, "Channel": "Security"}
        for i in range(3)
    ]
    (tmp_path / "events.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in lines))
    path = _write(
        tmp_path,
        "rule: rules.yml\nevents_file: events.jsonl\nexpect:\n  - {rule: failed, count: 3}\n",
    )
    (test,) = load_test_file(path)
    assert run_rule_test(test).passed


def test_cli_reports_failures_and_exits_1(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""
name: good
rule: rules.yml
events: [{_event("2001-05-01T00:00:00Z")}]
expect: [{{rule: failed, count: 1}}]
---
name: wrong count
rule: rules.yml
events: [{_event("2001-05-01T00:00:00Z")}]
expect: [{{rule: failed, count: 2}}, {{rule: no such rule, count: 0}}]
""",
    )
    result = CliRunner().invoke(rules_test, [str(path)])
    assert result.exit_code == 1
    assert "PASS  good" in result.output
    assert "FAIL  wrong count" in result.output
    assert "expected 2 detections, got 1" in result.output
    assert "'no such rule': no such rule" in result.output
    assert result.output.strip().endswith("1 passed, 1 failed")


def test_cli_json_and_success_exit(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"rule: rules.yml\nevents: [{_event('2001-05-01T00:00:00Z')}]\n"
        "expect: [{rule: failed, events: [0]}]\n",
    )
    result = CliRunner().invoke(rules_test, ["--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    row = orjson.loads(result.output.splitlines()[0])
    assert row["passed"] is True and row["failures"] == []


def test_broken_test_file_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path, "rule: rules.yml\nexpect: [{rule: failed, count: 1}]\n")
    result = CliRunner().invoke(rules_test, [str(path)])
    assert result.exit_code == 1
    assert "no events" in result.output


def test_a_rule_pack_folder_runs_its_tests_and_skips_its_rules(tmp_path: Path) -> None:
    from heron.rules import builtin_rule_paths

    pack = builtin_rule_paths()[0].parent
    result = CliRunner().invoke(rules_test, [str(pack)])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output and " passed, 0 failed" in result.output


def test_a_test_gives_the_values_its_rules_expand(tmp_path: Path) -> None:
    (tmp_path / "watched.yml").write_text(
        "title: Watched account\nid: 9a0e4c43-58d4-4fd4-8a0c-9f55e2fa0d03\n"
        "logsource: {product: windows, service: security}\n"
        "detection:\n  selection:\n    EventID: 4625\n"
        "    TargetUserName|expand: '%watched%'\n  condition: selection\n"
    )
    body = """
name: watched
rule: watched.yml
placeholders:
  watched: [admin, "svc_*"]
events:
  - {EventID: 4625, Channel: Security, TargetUserName: svc_backup}
  - {EventID: 4625, Channel: Security, TargetUserName: alice}
expect:
  - {rule: Watched account, events: [0]}
"""
    (tmp_path / "case.yml").write_text(body)
    (test,) = load_test_file(tmp_path / "case.yml")
    assert run_rule_test(test).passed
    # Without them the rule cannot load, and the test says so instead of passing.
    (tmp_path / "bare.yml").write_text(
        body.replace('placeholders:\n  watched: [admin, "svc_*"]\n', "")
    )
    result = CliRunner().invoke(rules_test, [str(tmp_path / "bare.yml")])
    assert result.exit_code == 1 and "%watched% has no values" in result.output
