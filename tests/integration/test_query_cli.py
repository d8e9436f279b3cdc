"""``heron hunt`` and ``heron searches`` through the real command line (click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import heron
from heron.cli.main import main
from heron.errors import HeronError
from heron.query.sample import sample_events, sample_table
from heron.store.duckdb import DuckDBStore


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "heron-data"
    with DuckDBStore(path) as store:
        store.append(sample_table())
    return path


def hunt(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["hunt", "--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_table_output(data_dir: Path) -> None:
    code, out, err = hunt(
        data_dir, "events | where user.name == 'admin' | project @timestamp, user.name, source.ip"
    )
    assert code == 0, err
    assert "┃ @timestamp" in out and "203.0.113.9" in out
    assert "2024-03-01T10:00:50Z" in out
    assert "3 rows" in err


def test_json_lines_with_flat_dotted_keys_and_rfc3339_times(data_dir: Path) -> None:
    code, out, _ = hunt(
        data_dir,
        "--format",
        "json",
        "events | where event.id == 'e001' "
        "| extend lag = event.ingested - @timestamp "
        "| project @timestamp, event.category, user.name, source.port, lag",
    )
    assert code == 0
    (line,) = out.splitlines()
    assert json.loads(line) == {
        "@timestamp": "2024-03-01T10:00:10Z",
        "event.category": ["authentication"],
        "user.name": "root",
        "source.port": 50000,
        "lag": "00:00:02",
    }


def test_csv(data_dir: Path) -> None:
    code, out, _ = hunt(
        data_dir,
        "--format",
        "csv",
        "events | summarize n = count() by host.name "
        "| where isnotempty(host.name) | sort by host.name asc",
    )
    assert code == 0
    assert out.splitlines()[:3] == ["host.name,n", "fw01,6", "web01,10"]


def test_parquet_needs_out_and_keeps_types(data_dir: Path, tmp_path: Path) -> None:
    code, _, err = hunt(data_dir, "--format", "parquet", "events")
    assert code != 0 and "--out" in err
    target = tmp_path / "x.parquet"
    code, _, err = hunt(data_dir, "--format", "parquet", "--out", str(target), "events")
    assert code == 0, err
    table = pq.read_table(target)
    assert table.num_rows == len(sample_events())
    assert str(table.schema.field("@timestamp").type) == "timestamp[ns, tz=UTC]"


def test_limit_and_truncation_note(data_dir: Path) -> None:
    code, out, err = hunt(data_dir, "--limit", "2", "--format", "json", "events")
    assert code == 0
    assert len(out.splitlines()) == 2
    assert "stopped at --limit 2" in err


def test_errors_show_the_caret_and_no_traceback(data_dir: Path) -> None:
    code, out, err = hunt(data_dir, "events | where usr.name == 'root'")
    assert code == 1
    assert "unknown field 'usr.name' — did you mean 'user.name'?" in err
    assert "^^^^^^^^" in err
    assert "Traceback" not in out + err


def test_missing_data_dir(tmp_path: Path) -> None:
    code, _, err = hunt(tmp_path / "nope", "events")
    assert code == 1 and "no Heron data" in err


def test_explain_prints_sql_for_either_dialect(data_dir: Path) -> None:
    code, out, _ = hunt(data_dir, "--explain", "events | where user.name == 'x'")
    assert code == 0
    assert out.strip() == "SELECT * FROM events WHERE \"user.name\" = 'x' LIMIT 10001"
    code, out, _ = hunt(
        data_dir, "--explain", "--dialect", "clickhouse", "events | where Image has 'x'"
    )
    assert code == 0 and "JSONExtractString" in out


def test_query_from_stdin(data_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["hunt", "--data-dir", str(data_dir), "--format", "json", "-"], input="events | count"
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"Count": len(sample_events())}


def test_fields_lists_core_and_extra_names(data_dir: Path) -> None:
    code, out, _ = hunt(data_dir, "--fields", "--format", "json")
    assert code == 0
    fields = {f["name"]: f for f in map(json.loads, out.splitlines())}
    assert fields["user.name"]["where"] == "core"
    assert fields["userIdentity.type"] == {
        "name": "userIdentity.type",
        "type": "dynamic",
        "where": "extra",
        "seen": 4,
    }


def test_saved_searches_round_trip(tmp_path: Path) -> None:
    data_dir = tmp_path / "heron-data"
    with DuckDBStore(data_dir) as store:
        store.append(sample_table())
    query = "events | where event.outcome == 'failure' | summarize n = count() by source.ip"
    code, out, err = hunt(data_dir, "--save", "fails", "--schedule", "5m", "--alert", query)
    assert code == 0, err
    assert "saved search 'fails', every 5m, raises alerts" in out
    code, out, _ = hunt(data_dir, "--save", "bad", "events | wher x")
    assert code == 1
    runner = CliRunner()
    listed = runner.invoke(
        main, ["searches", "list", "--data-dir", str(data_dir), "--format", "json"]
    )
    assert listed.exit_code == 0
    (row,) = map(json.loads, listed.stdout.splitlines())
    assert (row["name"], row["schedule"], row["alert"], row["query"]) == (
        "fails",
        "00:05:00",
        True,
        query,
    )
    code, out, _ = hunt(data_dir, "--saved", "fails", "--format", "json")
    assert code == 0 and {"source.ip": "203.0.113.9", "n": 8} in map(json.loads, out.splitlines())
    gone = runner.invoke(main, ["searches", "delete", "fails", "--data-dir", str(data_dir)])
    assert gone.exit_code == 0
    again = runner.invoke(main, ["searches", "delete", "fails", "--data-dir", str(data_dir)])
    assert again.exit_code == 1 and "no saved search" in again.stderr
    code, _, err = hunt(data_dir, "--saved", "fails")
    assert code == 1 and "no saved search named 'fails'" in err


def test_python_api_returns_arrow_polars_and_pandas(data_dir: Path) -> None:
    table = heron.hunt(
        "events | where event.outcome == 'failure' | summarize n = count() by source.ip",
        data_dir=data_dir,
    )
    assert table.column_names == ["source.ip", "n"]
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    assert frame.filter(pl.col("source.ip") == "203.0.113.9")["n"].to_list() == [8]
    pandas = table.to_pandas()
    assert int(pandas.loc[pandas["source.ip"] == "203.0.113.9", "n"].iloc[0]) == 8
    capped = heron.hunt("events", data_dir=data_dir, limit=3)
    assert capped.num_rows == 3 and capped.schema.metadata[b"heron.truncated"] == b"true"


def test_python_api_on_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(HeronError, match="no Heron data directory"):
        heron.hunt("events", data_dir=tmp_path / "missing")


def test_json_api_shape_for_results_and_errors(data_dir: Path) -> None:
    from heron.query.api import hunt_json

    with DuckDBStore(data_dir, read_only=True) as store:
        ok = hunt_json(store, "events | where event.id == 'e001' | project @timestamp, user.name")
        bad = hunt_json(store, "events | where usr.name == 'x'")
    assert ok["columns"] == [
        {"name": "@timestamp", "type": "timestamp[ns, tz=UTC]"},
        {"name": "user.name", "type": "string"},
    ]
    assert ok["rows"] == [{"@timestamp": "2024-03-01T10:00:10Z", "user.name": "root"}]
    assert ok["truncated"] is False
    err = bad["error"]
    assert (err["kind"], err["line"], err["column"]) == ("UnknownFieldError", 1, 16)
    assert "did you mean 'user.name'" in err["message"]
    assert "^^^^^^^^" in err["text"]
