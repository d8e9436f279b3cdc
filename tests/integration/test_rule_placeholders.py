"""``heron rules placeholders``: the values rules expand into ``%name%`` (``|expand``),
used by every command that loads rules in the data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heron.detect.rulestate import placeholders_path, rule_placeholders, set_rule_placeholder
from heron.errors import ConfigError

from .ingesting import SSHD, heron

RULE_ID = "44444444-4444-4444-4444-444444444444"
WATCHED = f"""title: Logon Failure For A Watched Account
id: {RULE_ID}
status: test
level: high
logsource:
    product: linux
    service: sshd
detection:
    selection:
        event.outcome: failure
        user.name|expand: '%watched_users%'
    condition: selection
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "watched.yml").write_text(WATCHED)
    return folder


def _log(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(SSHD) + "\n")  # failures for root and oracle, alice's success
    return path


def _alerted_users(data_dir: Path) -> set[str]:
    proc = heron("alerts", "--format", "json", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    return {r["user.name"] for r in rows if r["rule.id"] == RULE_ID}


def test_a_rule_expands_the_values_set_for_its_placeholder(
    tmp_path: Path, rules: Path, data_dir: Path
) -> None:
    ingest = ["ingest", "--year", "2026", "--rules", str(rules)]
    # Without values the rule cannot be run: the load stops and says how to give them.
    proc = heron(*ingest, str(_log(tmp_path, "a.log")), data_dir=data_dir)
    assert proc.returncode != 0
    assert "heron rules placeholders set watched_users VALUE" in proc.stderr
    proc = heron("rules", "lint", str(rules), data_dir=data_dir)
    assert proc.returncode == 1 and "%watched_users% has no values" in proc.stdout

    proc = heron(
        "rules", "placeholders", "set", "watched_users", "root", "svc_*", data_dir=data_dir
    )
    assert proc.returncode == 0, proc.stderr
    assert heron("rules", "lint", str(rules), data_dir=data_dir).returncode == 0
    # In the worker processes too: they load the rules from the same data directory.
    proc = heron(*ingest, "--workers", "1", str(_log(tmp_path, "b.log")), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert _alerted_users(data_dir) == {"root"}

    # Other values: the rule is compiled again (the cache knows the values).
    heron("rules", "placeholders", "set", "watched_users", "oracle", data_dir=data_dir)
    proc = heron(*ingest, str(_log(tmp_path, "c.log")), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert _alerted_users(data_dir) == {"root", "oracle"}
    # A retro-hunt expands them as well (SQL on the stored events of the three loads).
    proc = heron(
        "rules", "backtest", str(rules / "watched.yml"), "--format", "json", data_dir=data_dir
    )
    assert proc.returncode == 0, proc.stderr
    hits = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [h["user.name"] for h in hits] == ["oracle", "oracle"]  # b.log and c.log

    listed = heron("rules", "placeholders", "list", "--format", "json", data_dir=data_dir)
    assert json.loads(listed.stdout) == {"name": "watched_users", "values": ["oracle"]}
    # Checked against the node's rules (--rules): one of them expands it.
    unset = ["rules", "placeholders", "unset", "watched_users", "--actor", "dana"]
    proc = heron(*unset, "--rules", str(rules), data_dir=data_dir)
    assert proc.returncode != 0 and "refused, nothing changed" in proc.stderr
    assert heron("rules", "lint", str(rules), data_dir=data_dir).returncode == 0
    # The built-in pack does not: removed, and the rule no longer loads.
    assert heron(*unset, data_dir=data_dir).returncode == 0
    assert heron("rules", "lint", str(rules), data_dir=data_dir).returncode == 1
    trail = heron("audit", "list", "--format", "json", data_dir=data_dir).stdout
    actions = [(e["actor"], e["action"]) for e in map(json.loads, trail.splitlines())]
    assert actions[-1] == ("dana", "rule.placeholder.unset")
    assert [a for _, a in actions].count("rule.placeholder.set") == 2


def test_placeholder_names_and_a_damaged_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a placeholder name"):
        set_rule_placeholder(tmp_path, "%watched%", ["x"])
    set_rule_placeholder(tmp_path, "admins", ["root"])
    set_rule_placeholder(tmp_path, "dcs", ["DC01$"])
    set_rule_placeholder(tmp_path, "admins", None)
    assert rule_placeholders(tmp_path) == {"dcs": ["DC01$"]}
    placeholders_path(tmp_path).write_text('{"dcs": "DC01$"}')
    with pytest.raises(ConfigError, match="damaged"):
        rule_placeholders(tmp_path)
    proc = heron("rules", "placeholders", "list", data_dir=tmp_path)
    assert proc.returncode != 0 and "damaged" in proc.stderr


def test_a_rule_switched_off_no_longer_stops_the_load(
    tmp_path: Path, rules: Path, data_dir: Path
) -> None:
    (rules / "other.yml").write_text(
        WATCHED.replace(RULE_ID, "55555555-5555-5555-5555-555555555555")
        .replace("user.name|expand: '%watched_users%'", "user.name: root")
        .replace("For A Watched Account", "For Root")
    )
    ingest = ["ingest", "--year", "2026", "--rules", str(rules), str(_log(tmp_path, "a.log"))]
    assert heron(*ingest, data_dir=data_dir).returncode != 0
    switch = ["--rules", str(rules), "--actor", "dana"]
    proc = heron("rules", "disable", "no-such-id", RULE_ID, *switch, data_dir=data_dir)
    assert proc.returncode != 0 and "no rule with id 'no-such-id'" in proc.stderr
    proc = heron("rules", "disable", RULE_ID, *switch, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    # The rest of the set loads and detects; the rule that cannot load is not missed.
    assert heron(*ingest, data_dir=data_dir).returncode == 0
    proc = heron("alerts", "--format", "json", data_dir=data_dir)
    assert {json.loads(line)["rule.name"] for line in proc.stdout.splitlines()} == {
        "Logon Failure For Root"
    }
    trail = heron("audit", "list", "--format", "json", data_dir=data_dir).stdout
    assert [
        (e["actor"], e["action"], e["target"]) for e in map(json.loads, trail.splitlines())
    ] == [("dana", "rule.disable", RULE_ID)]
    # It cannot be switched on while it does not load: the next load would stop.
    proc = heron("rules", "enable", RULE_ID, *switch, data_dir=data_dir)
    assert proc.returncode != 0 and "does not load, so it stays off" in proc.stderr
    assert heron(*ingest, data_dir=data_dir).returncode == 0
