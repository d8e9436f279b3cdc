"""Rule tests can replay real EVTX files: the built-in log-clearing rules on attack samples."""

from __future__ import annotations

from pathlib import Path

from heron.rules import BUILTIN_DIR
from heron.rules.testing import load_test_file, run_rule_test


def test_builtin_rules_fire_on_real_log_clearing(corpora: Path, tmp_path: Path) -> None:
    samples = corpora / "evtx" / "EVTX-ATTACK-SAMPLES" / "Defense Evasion"
    rule = BUILTIN_DIR / "audit_log_cleared.yml"
    case = tmp_path / "cleared.yml"
    case.write_text(
        f"""
name: security log cleared (1102)
rule: {rule}
events_file: "{samples / "DE_1102_security_log_cleared.evtx"}"
expect:
  - {{rule: Security Audit Log Cleared (Windows), count: 1}}
  - {{rule: Event Log Cleared (Windows), count: 0}}
---
name: system log cleared (104)
rule: {rule}
events_file: "{samples / "DE_104_system_log_cleared.evtx"}"
expect:
  - {{rule: Event Log Cleared (Windows), count: 1}}
  - {{rule: Security Audit Log Cleared (Windows), count: 0}}
"""
    )
    for test in load_test_file(case):
        outcome = run_rule_test(test)
        assert outcome.passed, (test.name, outcome.failures)
