"""``heron rules backtest``: built-in rules, correlations included, over a stored history."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from heron.cli.main import main
from heron.model.event import EventBatch
from heron.normalize import normalize
from heron.rules import BUILTIN_DIR, builtin_test_paths
from heron.rules.testing import load_test_file
from heron.store.duckdb import DuckDBStore


@pytest.fixture
def history(data_dir: Path) -> Path:
    """Every event of the built-in rule tests, stored as ingest would store them."""
    events = []
    for path in builtin_test_paths():
        for test in load_test_file(path):
            for event in test.events:
                copy = dict(event)
                normalize(copy)
                copy["event.id"] = f"{path.stem}-{len(events)}"
                events.append(copy)
    with DuckDBStore(data_dir) as store:
        store.append(EventBatch(events))
    return data_dir


def _backtest(data_dir: Path, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        main,
        [
            "rules",
            "backtest",
            str(BUILTIN_DIR / "authentication.yml"),
            "--since",
            "2026-01-01",
            "--until",
            "2027-01-01",
            "--data-dir",
            str(data_dir),
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_backtest_finds_correlations_in_history(history: Path) -> None:
    rows = _backtest(history, "--format", "json")
    names = [r["rule.name"] for r in rows]
    assert names.count("Brute Force Followed By Admin Logon (Windows)") == 1
    assert names.count("Brute Force Followed By Admin Logon (Linux SSH)") == 1
    assert names.count("Password Spraying From One Source") == 1
    # Rules that only feed correlations raise nothing of their own.
    assert "Failed Logon (Windows)" not in names
    brute = next(
        r for r in rows if r["rule.name"] == "Brute Force Followed By Admin Logon (Windows)"
    )
    assert len(brute["event.ids"]) == 7
    assert brute["group"] == {"source.ip": "203.0.113.50"}
    assert isinstance(brute["@timestamp"], str) and brute["@timestamp"].startswith("2026-03-02")


def test_backtest_window_excludes_older_events(history: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "rules",
            "backtest",
            str(BUILTIN_DIR / "authentication.yml"),
            "--since",
            "2026-04-01",
            "--until",
            "2027-01-01",
            "--data-dir",
            str(history),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0 and result.stdout.strip() == ""


def test_backtest_table_and_alerts(history: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "rules",
            "backtest",
            str(BUILTIN_DIR / "authentication.yml"),
            "--since",
            "2026-01-01",
            "--until",
            "2027-01-01",
            "--data-dir",
            str(history),
            "--alert",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "8 detections" in result.stdout and "9 rules, 9 with hits, 0 errors" in result.stdout
    alerts = CliRunner().invoke(main, ["alerts", "--format", "json", "--data-dir", str(history)])
    rows = [orjson.loads(line) for line in alerts.stdout.splitlines()]
    assert {
        "Brute Force Followed By Admin Logon (Windows)",
        "Password Spraying From One Source",
    } <= {r["rule.name"] for r in rows}
