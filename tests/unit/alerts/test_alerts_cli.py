"""``heron alerts``: listing stored alerts as a table, JSON lines or CSV."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from heron.alerts.store import AlertStore
from heron.cli.main import main
from heron.detect.base import Detection
from heron.model.timeutil import now_ns
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000


def _seed(data_dir: Path) -> None:
    t = now_ns()
    with DuckDBStore(data_dir) as store:
        AlertStore(store).add(
            [
                Detection("r-low", "Low rule", "low", t - 86400 * 10 * S, ("e1",)),
                Detection(
                    "r-high",
                    "High rule",
                    "high",
                    t - 60 * S,
                    ("e2", "e3"),
                    tags=("attack.t1110",),
                    entities={"source.ip": "203.0.113.5"},
                    group={"source.ip": "203.0.113.5"},
                ),
            ]
        )


def _run(*args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["alerts", *args])
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.output.splitlines()]


def test_json_lines_carry_the_stable_fields(data_dir: Path) -> None:
    _seed(data_dir)
    rows = _run("--format", "json", "--data-dir", str(data_dir))
    assert [r["rule.id"] for r in rows] == ["r-high", "r-low"]
    high = rows[0]
    assert high["rule.name"] == "High rule" and high["rule.level"] == "high"
    assert high["event.ids"] == ["e2", "e3"]
    assert isinstance(high["@timestamp"], str) and high["@timestamp"].endswith("Z")
    assert high["source.ip"] == "203.0.113.5" and high["group"] == {"source.ip": "203.0.113.5"}
    assert high["status"] == "new" and high["count"] == 1 and high["risk_score"] == 73


def test_filters(data_dir: Path) -> None:
    _seed(data_dir)
    dd = ["--format", "json", "--data-dir", str(data_dir)]
    assert [r["rule.id"] for r in _run(*dd, "--level", "medium")] == ["r-high"]
    assert [r["rule.id"] for r in _run(*dd, "--rule", "r-low")] == ["r-low"]
    assert [r["rule.id"] for r in _run(*dd, "--since", "7d")] == ["r-high"]
    assert len(_run(*dd, "--limit", "1")) == 1


def test_table_and_csv(data_dir: Path) -> None:
    _seed(data_dir)
    table = CliRunner().invoke(main, ["alerts", "--data-dir", str(data_dir)])
    assert table.exit_code == 0 and "2 alerts" in table.output and "High" in table.output
    csv_out = CliRunner().invoke(main, ["alerts", "--format", "csv", "--data-dir", str(data_dir)])
    assert csv_out.exit_code == 0
    header = csv_out.output.splitlines()[0].split(",")
    assert header[:4] == ["alert.id", "@timestamp", "rule.id", "rule.name"]


def test_no_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["alerts", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code != 0 and "no Heron data" in result.output


def test_data_dir_without_alerts_lists_nothing(data_dir: Path) -> None:
    DuckDBStore(data_dir).close()
    assert _run("--format", "json", "--data-dir", str(data_dir)) == []
