"""``heron rules lint`` and ``heron rules list`` on small hand-written rule folders."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from heron.cli.main import main

GOOD = """title: Whoami
id: 11111111-1111-1111-1111-111111111111
status: test
level: high
tags:
    - attack.t1033
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\\\whoami.exe'
    condition: selection
"""

GOOD_ID = "11111111-1111-1111-1111-111111111111"
BAD_REGEX = GOOD.replace(GOOD_ID, "22222222-2222-2222-2222-222222222222").replace(
    "Image|endswith: '\\\\whoami.exe'", r"CommandLine|re: '(a)\1'"
)
BAD_MODIFIER = GOOD.replace(GOOD_ID, "33333333-3333-3333-3333-333333333333").replace(
    "Image|endswith", "Image|nope"
)


def _folder(tmp_path: Path, **files: str) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in files.items():
        (rules / f"{name}.yml").write_text(text)
    return rules


def test_lint_clean_folder_exits_zero(tmp_path: Path) -> None:
    rules = _folder(tmp_path, good=GOOD)
    result = CliRunner().invoke(
        main, ["rules", "lint", str(rules), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    assert "1 rules and 0 correlations OK, 0 errors" in result.output


def test_lint_names_every_broken_rule_and_exits_one(tmp_path: Path) -> None:
    rules = _folder(tmp_path, good=GOOD, regex=BAD_REGEX, modifier=BAD_MODIFIER, broken="a: [")
    result = CliRunner().invoke(
        main, ["rules", "lint", str(rules), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    out = result.output
    assert "[22222222-2222-2222-2222-222222222222]" in out and "invalid" in out.lower()
    assert "[33333333-3333-3333-3333-333333333333]" in out and "nope" in out
    assert "broken.yml" in out and "YAML" in out
    assert "3 errors" in out


def test_lint_json_and_strict_warnings(tmp_path: Path) -> None:
    unroutable = GOOD.replace("category: process_creation", "category: file_access")
    rules = _folder(tmp_path, odd=unroutable)
    args = ["rules", "lint", str(rules), "--data-dir", str(tmp_path / "d"), "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    (row,) = [orjson.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert row["severity"] == "warning" and row["rule.id"].startswith("1111")
    assert CliRunner().invoke(main, [*args, "--strict"]).exit_code == 1


def test_list_formats(tmp_path: Path) -> None:
    rules = _folder(tmp_path, good=GOOD)
    base = ["rules", "list", "--rules", str(rules), "--data-dir", str(tmp_path / "d")]
    as_json = CliRunner().invoke(main, [*base, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    (row,) = [orjson.loads(line) for line in as_json.output.splitlines()]
    assert row["id"] == "11111111-1111-1111-1111-111111111111"
    assert row["level"] == "high"
    assert row["logsource.category"] == "process_creation"
    assert row["tags"] == ["attack.t1033"]
    assert row["enabled"] is True
    as_csv = CliRunner().invoke(main, [*base, "--format", "csv"])
    assert as_csv.output.splitlines()[0] == "id,title,level,status,logsource,tags,filename,enabled"
    table = CliRunner().invoke(main, base)
    assert "Whoami" in table.output
    # The second run reads the cache the first one wrote.
    assert any((tmp_path / "d" / "cache" / "rules").rglob("*.pickle"))
    # Switched off, and a rule uploaded through the API: listed as the node runs them.
    off = CliRunner().invoke(main, ["rules", "disable", GOOD_ID, *base[2:]])
    assert off.exit_code == 0, off.output
    uploads = tmp_path / "d" / "rules"
    uploads.mkdir()
    (uploads / "uploaded.yml").write_text(BAD_MODIFIER.replace("Image|nope", "Image"))
    as_json = CliRunner().invoke(main, [*base, "--format", "json"])
    found = {r["id"]: r["enabled"] for r in map(orjson.loads, as_json.output.splitlines())}
    assert found == {GOOD_ID: False, "33333333-3333-3333-3333-333333333333": True}


def test_lint_reports_correlations_the_engine_cannot_run(tmp_path: Path) -> None:
    named = GOOD.replace("status: test\n", "status: test\nname: whoami_rule\n")
    corr = """title: Odd correlation
id: 44444444-4444-4444-4444-444444444444
correlation:
    type: value_sum
    rules:
        - whoami_rule
    group-by:
        - Computer
    timespan: 5m
    condition:
        gte: 3
        field: ProcessId
"""
    rules = _folder(tmp_path, good=named, corr=corr)
    result = CliRunner().invoke(
        main, ["rules", "lint", str(rules), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert "[44444444-4444-4444-4444-444444444444]" in result.output


def test_lint_skips_rule_test_folders(tmp_path: Path) -> None:
    from heron.rules import builtin_rule_paths

    folder = builtin_rule_paths()[0].parent
    assert (folder / "tests").is_dir()  # `heron rules test` files live beside the rules
    result = CliRunner().invoke(
        main, ["rules", "lint", str(folder), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
