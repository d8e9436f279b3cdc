"""``heron simulate``: files, a time-ordered replay into a data dir, and the score."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from heron.cli.main import main


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "load",
    [
        ("simulate", "replay"),  # merged in event time, as a live node would receive them
        ("ingest",),  # one file after another: correlations run when the input ends
    ],
)
def test_files_load_and_score_detect_every_chain(tmp_path: Path, load: tuple[str, ...]) -> None:
    out, data = tmp_path / "sim", tmp_path / "data"
    printed = run("simulate", "--days", "4", "--seed", "3", "--users", "6", "--hosts", "6",
                  "--scale", "0.15", "--out", str(out))  # fmt: skip
    assert "labels.json" in printed
    assert (out / "windows-winlogbeat.ndjson").stat().st_size > 0
    loaded = run(*load, "--data-dir", str(data), str(out))
    if load == ("ingest",):
        assert "0 failed" in loaded and "labels, not telemetry: skipped" in loaded
    score = orjson.loads(
        run(
            "simulate",
            "score",
            "--data-dir",
            str(data),
            str(out / "labels.json"),
            "--format",
            "json",
        )
    )
    assert score["labelled_events_found"] == score["labelled_events"] > 50
    recalls = {c["id"]: c["recall"] for c in score["chains"]}
    assert recalls == {
        "ssh-bruteforce": 1.0,
        "phishing-to-exfiltration": 1.0,
        "leaked-cloud-key": 1.0,
        "agent-prompt-injection": 1.0,
    }
    assert score["benign_alerts_per_day"] < 20
    table = run("simulate", "score", "--data-dir", str(data), str(out / "labels.json"))
    assert "recall" in table and "precision" in table


def test_bad_parameters_are_clear_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    for args, words in (
        (["--days", "-3"], "days: must be at least 1"),
        (["--hosts", "0"], "hosts: must be between 1"),
        (["--scale", "0"], "scale: must be above 0"),
    ):
        result = runner.invoke(main, ["simulate", *args, "--out", str(tmp_path / "x")])
        assert result.exit_code != 0
        assert words in result.output
    result = runner.invoke(main, ["simulate"])
    assert result.exit_code != 0 and "--out" in result.output
    (tmp_path / "bad.json").write_text("{}")
    result = runner.invoke(
        main, ["simulate", "score", "--data-dir", str(tmp_path), str(tmp_path / "bad.json")]
    )
    assert result.exit_code != 0 and "heron-simulate-labels/1" in result.output


def test_same_seed_same_bytes_across_processes(tmp_path: Path) -> None:
    """Nothing depends on hash randomization or the clock: two processes, one output."""
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-m", "heron.cli", "simulate", "--days", "2", "--seed", "11",
             "--users", "6", "--hosts", "6", "--scale", "0.2", "--out", str(out)],
            check=True, capture_output=True, env=env, timeout=120,
        )  # fmt: skip
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir()) and "labels.json" in names
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
