"""The built-in rule pack: loads clean, is well described, and passes its own tests."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from heron.detect.engine import build_detection_engine
from heron.detect.sigma.load import load_rules
from heron.rules import builtin_rule_paths, builtin_test_paths
from heron.rules.testing import load_test_file, run_rule_test
from heron.web.queries import ATTACK_TACTICS

TACTICS = frozenset(ATTACK_TACTICS)


def _documents() -> list[tuple[Path, dict[str, object]]]:
    out = []
    for path in builtin_rule_paths():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            out.append((path, doc))
    return out


def test_pack_loads_without_errors_or_warnings() -> None:
    loaded = load_rules(builtin_rule_paths())
    assert loaded.errors == []
    assert loaded.warnings == []
    assert len(loaded.rules) >= 20 and len(loaded.correlations) >= 8


def test_pack_builds_a_detection_engine(tmp_path: Path) -> None:
    engine = build_detection_engine(None, tmp_path)
    assert engine.correlation is not None
    assert len(engine.correlation.rules) == len(load_rules(builtin_rule_paths()).correlations)


@pytest.mark.parametrize(
    ("path", "doc"), _documents(), ids=lambda v: v.get("name") if isinstance(v, dict) else ""
)
def test_rule_is_fully_described(path: Path, doc: dict[str, object]) -> None:
    assert uuid.UUID(str(doc["id"])).version == 4
    for key in ("title", "name", "description", "level", "author", "date", "falsepositives"):
        assert doc.get(key), f"{path.name}: {doc.get('title')} lacks {key}"
    tags = doc["tags"]
    assert isinstance(tags, list)
    assert any(re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", t) for t in tags)
    assert any(t.removeprefix("attack.") in TACTICS for t in tags)
    assert ("correlation" in doc) != ("logsource" in doc)


def _tests() -> list[object]:
    return [
        pytest.param(test, id=f"{test.path.stem}: {test.name}")
        for path in builtin_test_paths()
        for test in load_test_file(path)
    ]


@pytest.mark.parametrize("test", _tests())
def test_builtin_rule_test_passes(test: object) -> None:
    outcome = run_rule_test(test)  # type: ignore[arg-type]
    assert outcome.passed, outcome.failures


def test_every_builtin_rule_is_tested_firing() -> None:
    """Each rule appears in some test that expects it to fire."""
    loaded = load_rules(builtin_rule_paths())
    names = {r.id: {r.id, r.title, r.name} for r in [*loaded.rules, *loaded.correlations]}
    firing: set[str] = set()
    for path in builtin_test_paths():
        for test in load_test_file(path):
            for exp in test.expect:
                if exp.count or exp.events:
                    firing |= {rid for rid, known in names.items() if exp.rule in known}
    assert set(names) - firing == set()
