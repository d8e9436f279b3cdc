"""A running node follows rule changes made outside its API: the `heron rules` commands
and files copied into <data-dir>/rules/ reach the engine without a restart."""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from heron.cli.main import main

from .api_server import api_server

RULE_ID = "7c4b0a52-1111-4222-8333-444455556666"
TWICE_ID = "8d5c1b63-2222-4333-8444-555566667777"
CANARY = f"""title: File canary
id: {RULE_ID}
status: test
logsource: {{product: apitest}}
detection:
  selection: {{canary|expand: '%canaries%'}}
  condition: selection
level: high
"""
TWICE = f"""title: File canary twice
id: {TWICE_ID}
correlation:
  type: event_count
  rules: [{RULE_ID}]
  group-by: [user.name]
  timespan: 10m
  condition: {{gte: 2}}
level: critical
"""


def _copy_in(data_dir: Path, name: str, text: str) -> None:
    # As an operator should: written aside, then renamed into place.
    folder = data_dir / "rules"
    folder.mkdir(exist_ok=True)
    (folder / f".{name}.part").write_text(text)
    os.replace(folder / f".{name}.part", folder / name)


def _heron(data_dir: Path, *args: str) -> None:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"the running node never {what}")
        time.sleep(0.05)


def test_cli_changes_and_copied_files_reach_the_running_engine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="heron.api.rulebook")
    _heron(tmp_path, "rules", "placeholders", "set", "canaries", "blue")
    with api_server(tmp_path, detect=True, rules_poll_seconds=0.1) as server:
        engine = server.node.detector
        admin = server.client("admin")

        seen = itertools.count()

        def fires(value: str, rule: str = "File canary", times: int = 1) -> bool:
            events = []
            for _ in range(times):
                n = next(seen)  # event time moves on, a second an event
                events.append(
                    {
                        "event.module": "apitest",
                        "canary": value,
                        "user.name": "ann",
                        "@timestamp": (1_700_000_000 + n) * 10**9,
                        "event.id": f"e{n}",
                    }
                )
            found = engine.detect(events) + engine.flush()
            return any(d.rule_name == rule for d in found)

        assert not fires("blue")
        _copy_in(tmp_path, "canary.yml", CANARY)
        _until(lambda: fires("blue"), "loaded the copied rule file")
        listed = {r["id"]: r for r in admin.get("/api/rules").json()["rules"]}
        assert listed[RULE_ID]["uploaded"] is True

        _heron(tmp_path, "rules", "placeholders", "set", "canaries", "red", "gr?y")
        _until(lambda: fires("grey") and not fires("blue"), "expanded the new values")

        _heron(tmp_path, "rules", "disable", RULE_ID)
        _until(lambda: not fires("red"), "switched the rule off")
        assert {r["id"]: r for r in admin.get("/api/rules").json()["rules"]}[RULE_ID][
            "enabled"
        ] is False
        _heron(tmp_path, "rules", "enable", RULE_ID)
        _until(lambda: fires("red"), "switched the rule on")

        # A correlation copied in runs from the next batch, on the rule it counts (which
        # then raises no alert of its own, as Sigma has it).
        assert not fires("red", "File canary twice", times=2)
        _copy_in(tmp_path, "twice.yml", TWICE)
        _until(lambda: fires("red", "File canary twice", times=2), "ran the copied correlation")

        # A broken file is not applied: the node keeps detecting with what it has,
        # and says why, in the log and in the API, until the file is fixed.
        _copy_in(tmp_path, "broken.yml", "title: x\ndetection: {}\n")
        _until(lambda: admin.get("/api/rules").json()["not_applied"] is not None, "refused")
        reason = admin.get("/api/rules").json()["not_applied"]
        assert "broken.yml" in reason and "would not load" in reason
        assert "not applied" in caplog.text and "broken.yml" in caplog.text
        ui, _ = server.login("read-user")
        page = ui.get("/ui/rules").text
        assert "were not applied" in page and "broken.yml would not load" in page
        assert "%canaries%" in page and "<code>gr?y</code>" in page
        assert fires("red", "File canary twice", times=2)
        (tmp_path / "rules" / "broken.yml").unlink()
        _until(lambda: admin.get("/api/rules").json()["not_applied"] is None, "recovered")
        # A rule that does not load, switched on by hand, is refused the same way.
        _heron(tmp_path, "rules", "disable", RULE_ID, TWICE_ID)
        _heron(tmp_path, "rules", "placeholders", "unset", "canaries")

        def listed_error() -> bool:
            rows = {r["id"]: r for r in admin.get("/api/rules").json()["rules"]}
            return rows[RULE_ID]["error"] is not None

        _until(listed_error, "listed the rule that no longer loads")
        (tmp_path / "state" / "rules.json").write_text(f'{{"disabled": ["{TWICE_ID}"]}}')
        _until(lambda: admin.get("/api/rules").json()["not_applied"] is not None, "refused")
        assert "%canaries% has no values" in admin.get("/api/rules").json()["not_applied"]
        _heron(tmp_path, "rules", "placeholders", "set", "canaries", "red")
        _heron(tmp_path, "rules", "enable", TWICE_ID)
        _until(lambda: fires("red", "File canary twice", times=2), "loaded it again")
        assert "were not applied" not in ui.get("/ui/rules").text
        assert fires("red", "File canary twice", times=2)
        # The API's own changes are not read back as changes made outside it, and a
        # file that is not a rule file is no change.
        applied = caplog.text.count("rule files changed")
        assert admin.post(f"/api/rules/{RULE_ID}/disable").status_code == 200
        (tmp_path / "rules" / ".draft.yml.swp").write_text("x")
        time.sleep(0.5)
        assert caplog.text.count("rule files changed") == applied


def test_polling_can_be_switched_off(tmp_path: Path) -> None:
    with api_server(tmp_path, detect=True, rules_poll_seconds=0) as server:
        engine = server.node.detector
        _heron(tmp_path, "rules", "placeholders", "set", "canaries", "blue")
        _copy_in(tmp_path, "canary.yml", CANARY)
        time.sleep(1.0)
        event = {"event.module": "apitest", "canary": "blue", "@timestamp": 1, "event.id": "b"}
        assert engine.detect([event]) == []  # a restart applies it
    with api_server(tmp_path, detect=True, users=False) as server:
        assert len(server.node.detector.detect([event])) == 1


def test_cli_changes_are_checked_against_the_served_rules(tmp_path: Path) -> None:
    # The rules live in a folder of the node's own (heron.yml `rules:`), not in the
    # data directory: without --rules, `heron rules …` checks against what it serves.
    folder = tmp_path / "site-rules"
    folder.mkdir()
    (folder / "canary.yml").write_text(CANARY)
    data_dir = tmp_path / "data"
    _heron(data_dir, "rules", "placeholders", "set", "canaries", "blue")
    with api_server(data_dir, detect=True, rules=[str(folder)], rules_poll_seconds=0.1):
        refused = CliRunner().invoke(
            main, ["rules", "placeholders", "unset", "canaries", "--data-dir", str(data_dir)]
        )
        assert refused.exit_code != 0 and "%canaries% has no values" in refused.output
        _heron(data_dir, "rules", "disable", RULE_ID)  # an id of the served set
        _heron(data_dir, "rules", "placeholders", "unset", "canaries")
    # An explicit --rules still decides: that set has no such rule.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.yml").write_text(CANARY.replace(RULE_ID, TWICE_ID))
    other = CliRunner().invoke(
        main, ["rules", "enable", RULE_ID, "--rules", str(elsewhere), "--data-dir", str(data_dir)]
    )
    assert other.exit_code != 0 and f"no rule with id '{RULE_ID}'" in other.output
