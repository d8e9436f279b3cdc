"""What the matcher's shortcuts must not change: lazy predicates, the keyword probes
(``in`` for a few literals, one RE2 pattern for more), the two-slot prefilter, file
discovery order and the cached rule form."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from sigma_helpers import SYSMON, compile_text, proc, rule_yaml

from heron.detect.sigma.ir import (
    And,
    CompiledRule,
    Leaf,
    LogSource,
    Not,
    RegexTest,
    StringTest,
)
from heron.detect.sigma.load import find_rule_files
from heron.detect.sigma.match import SigmaMatcher

PROC = LogSource("windows", "process_creation")


def _rules() -> list[CompiledRule]:
    text = "\n---\n".join(
        [
            rule_yaml(
                "sel:\n    Image|endswith: '\\\\whoami.exe'\ncondition: sel",
                rule_id="00000000-0000-0000-0000-00000000000a",
            ),
            rule_yaml(
                "keywords:\n    - 'sekurlsa::'\n    - '31337'\ncondition: keywords",
                logsource="product: windows",
                rule_id="00000000-0000-0000-0000-00000000000b",
            ),
            rule_yaml(
                "a:\n    CommandLine|contains: ' -enc '\n"
                "b:\n    ParentImage|endswith: '\\\\excel.exe'\n"
                "condition: a and b",
                rule_id="00000000-0000-0000-0000-00000000000c",
            ),
            rule_yaml(
                "keywords:\n    - 'lsadump::'\n    - 'vault::'\n    - 'x.y(z)'\n"
                "    - 'true'\n    - 'privilege::debug'\ncondition: keywords",
                logsource="product: windows",
                rule_id="00000000-0000-0000-0000-00000000000d",
            ),
        ]
    )
    entry = compile_text(text)
    assert not entry.errors, entry.errors
    return entry.rules


EVENTS = [
    proc(Image="C:\\Windows\\System32\\whoami.exe"),
    proc(Image="C:\\x\\a.exe", CommandLine="mimikatz SEKURLSA::logonpasswords"),
    proc(Image="C:\\x\\a.exe", Port=31337),
    proc(Image="C:\\x\\a.exe", CommandLine="p -enc AAA", ParentImage="C:\\o\\EXCEL.EXE"),
    proc(Image="C:\\x\\a.exe", CommandLine="p -enc AAA", ParentImage="C:\\o\\word.exe"),
    proc(Image="C:\\x\\a.exe", CommandLine="p", ParentImage="C:\\o\\excel.exe"),
    proc(Image="C:\\x\\a.exe", Data=["x", "y sekurlsa:: z"]),
    # Bookkeeping fields are never searched by keywords.
    {"Channel": SYSMON, "EventID": 1, "event.id": "sekurlsa::", "@timestamp": 31337},
    # More than three literals: one RE2 probe, its metacharacters escaped.
    proc(Image="C:\\x\\a.exe", CommandLine="run X.Y(Z) now"),
    proc(Image="C:\\x\\a.exe", CommandLine="run xay(z) now"),
    proc(Image="C:\\x\\a.exe", Elevated=True),
    proc(Image="C:\\x\\a.exe", Data=["a", "PRIVILEGE::Debug"]),
]
EXPECTED = [
    (0, "00000000-0000-0000-0000-00000000000a"),
    (1, "00000000-0000-0000-0000-00000000000b"),
    (2, "00000000-0000-0000-0000-00000000000b"),
    (3, "00000000-0000-0000-0000-00000000000c"),
    (6, "00000000-0000-0000-0000-00000000000b"),
    (8, "00000000-0000-0000-0000-00000000000d"),
    (10, "00000000-0000-0000-0000-00000000000d"),
    (11, "00000000-0000-0000-0000-00000000000d"),
]


@pytest.mark.parametrize("checked", [False, True])
def test_indexed_lazy_and_eager_agree_with_brute_force(checked: bool) -> None:
    m = SigmaMatcher(_rules(), checked)
    for _ in range(2):  # the second pass runs on warm value memos
        found = [(i, r.id) for i, r in m.match_batch(EVENTS)]
        assert found == EXPECTED
    assert [(i, r.id) for i, r in m.match_batch_unindexed(EVENTS)] == EXPECTED
    assert not m.rule_errors and not m.build_errors


def test_lazy_predicate_that_cannot_be_built_is_counted_not_fatal() -> None:
    bad = CompiledRule(
        id="bad",
        title="lookbehind RE2 rejects",
        condition=And(
            (Leaf("Image", StringTest((0, "a.exe"))), Leaf("Image", RegexTest("(?<=x)a")))
        ),
        logsource=PROC,
        filename="x.yml",
    )
    eager = SigmaMatcher([bad, *_rules()])
    assert [r.id for r, _ in eager.build_errors] == ["bad"]
    lazy = SigmaMatcher([bad, *_rules()], checked=True)
    found = [(i, r.id) for i, r in lazy.match_batch(EVENTS)]
    assert found == EXPECTED
    assert lazy.rule_errors["bad"].count == 10  # every event whose Image ends in a.exe
    assert "RE2" in lazy.rule_errors["bad"].last_reason


def test_matcher_copy_keeps_lazy_building() -> None:
    m = SigmaMatcher(_rules(), checked=True)
    copy = pickle.loads(pickle.dumps(m))
    assert copy._checked
    assert [(i, r.id) for i, r in copy.match_batch(EVENTS)] == EXPECTED


def test_compiled_rules_pickle_round_trip() -> None:
    rule = CompiledRule(
        id="i",
        title="t",
        condition=And(
            (Leaf("a", StringTest(("x", 0), True)), Not(Leaf(None, RegexTest("b", "i"))))
        ),
        logsource=LogSource("windows", None, "security"),
        filename="f.yml",
        tags=("attack.t1003",),
        output=False,
    )
    assert pickle.loads(pickle.dumps(rule, protocol=pickle.HIGHEST_PROTOCOL)) == rule


def test_rule_files_sorted_like_paths_without_tests_and_through_links(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    for rel in ["b/z.yml", "a-c.yml", "a/b.yaml", "a/tests/t.yml", "a/x.txt", "A.YML"]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    elsewhere = tmp_path / "other.yml"
    elsewhere.write_text("x")
    os.symlink(elsewhere, root / "link.yml")
    os.symlink(root / "b", root / "linked_dir")  # folder links are not followed
    files, missing = find_rule_files([root, root / "b" / "z.yml"])
    assert not missing
    expected = sorted(
        [root / "A.YML", root / "a" / "b.yaml", root / "a-c.yml", root / "b" / "z.yml"]
    )
    # Sorted as paths (part by part: "a/b.yaml" before "a-c.yml"), links resolved.
    listed = sorted([*expected, root / "link.yml"])
    assert files == [elsewhere.resolve() if p.name == "link.yml" else p.resolve() for p in listed]
