"""SigmaHQ's regression cases: each rule (by id) fires on its EVTX at least as often as expected.

Only the rule files the cases name are loaded, through a cache in a temporary folder.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from heron.detect.sigma.engine import SigmaEngine
from heron.parsers.base import ParseContext
from heron.parsers.windows import WindowsEventParser

CORPORA = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora"
SIGMA = CORPORA / "sigma"
CASES_FILE = SIGMA / "regression_cases.json"


def _cases() -> list[dict[str, Any]]:
    if not CASES_FILE.is_file():
        return []
    cases: list[dict[str, Any]] = json.loads(CASES_FILE.read_text())
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SigmaEngine:
    if not CASES:
        pytest.skip(f"Sigma regression cases not found at {CASES_FILE}")
    pytest.importorskip("evtx")
    files = sorted({SIGMA / case["rule_file"] for case in CASES})
    loaded = SigmaEngine.from_paths(files, tmp_path_factory.mktemp("sigma-cache"))
    assert loaded.errors == []
    return loaded


def _events(path: Path) -> list[dict[str, Any]]:
    import evtx

    parser = WindowsEventParser()
    return [
        parser.parse(rec["data"], ParseContext())
        for rec in evtx.PyEvtxParser(str(path)).records_json()
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["rule_id"] for c in CASES])
def test_regression_case(engine: SigmaEngine, case: dict[str, Any]) -> None:
    events = _events(SIGMA / case["path"])
    fired = Counter(rule.id for _, rule in engine.match_batch(events))
    expected = case["match_count"] or 1
    assert fired[case["rule_id"]] >= expected, (
        f"{case['rule_file']}: fired {fired[case['rule_id']]} times on {len(events)} records, "
        f"expected at least {expected}"
    )
    assert engine.rule_errors == {}
