"""The Sigma detector: Detection objects, odd events, failures counted per rule, literals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import re2
from sigma_helpers import SYSMON, proc, rule_yaml

from heron.detect.base import Detector
from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sigma.index import rule_slots
from heron.detect.sigma.ir import And, Leaf, Not, Or, RegexTest, StringTest
from heron.detect.sigma.literals import required_literals

WHOAMI = rule_yaml(
    """
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
    """,
    rule_id="77777777-7777-7777-7777-777777777777",
    title="Whoami Run",
).replace("status: test\n", "status: test\ntags:\n    - attack.t1033\n")


def engine_for(tmp_path: Path, *texts: str) -> SigmaEngine:
    for i, text in enumerate(texts):
        (tmp_path / f"r{i}.yml").write_text(text)
    return SigmaEngine.from_paths([tmp_path])


def test_engine_is_a_detector_and_builds_detections(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, WHOAMI)
    detector: Detector = engine
    events = [
        proc(
            Image="C:\\Windows\\System32\\whoami.exe",
            Computer="WS01",
            User="CORP\\bob",
            **{"event.id": "e1", "@timestamp": 1_700_000_000_000_000_000},
        ),
        proc(Image="C:\\notepad.exe", **{"event.id": "e2", "@timestamp": 1}),
    ]
    (found,) = detector.detect(events)
    assert found.rule_id == "77777777-7777-7777-7777-777777777777"
    assert found.rule_name == "Whoami Run"
    assert found.level == "high"
    assert found.timestamp == 1_700_000_000_000_000_000
    assert found.event_ids == ("e1",)
    assert found.tags == ("attack.t1033",)
    assert found.entities == {
        "user.name": "CORP\\bob",
        "host.name": "WS01",
        "process.executable": "C:\\Windows\\System32\\whoami.exe",
    }
    assert engine.rules[0].title == "Whoami Run"
    assert engine.correlations == [] and engine.errors == []


def test_odd_events_never_stop_the_batch(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, WHOAMI)
    events: list[Any] = [
        None,
        "not a mapping",
        {"Channel": SYSMON, "EventID": 1, "Image": 12345},
        {"Channel": SYSMON, "EventID": 1, "Image": ["C:\\a.exe", "C:\\whoami.exe"]},
        {"Channel": SYSMON, "EventID": 1, "Image": {"nested": "C:\\whoami.exe"}},
        {"Channel": ["odd"], "EventID": 1},
        {"Channel": SYSMON, "EventID": "1", "Image": "C:\\whoami.exe"},
        {"Channel": SYSMON, "EventID": 1, "Image": b"C:\\whoami.exe"},
    ]
    matched = [i for i, _ in engine.match_batch(events)]
    assert matched == [3, 6, 7]
    assert engine.event_errors == 3  # None, the string, the unhashable channel


def test_failing_predicate_is_counted_against_its_rule(tmp_path: Path) -> None:
    class Exploding(dict[str, Any]):
        """Reads Image once (the prefilter), then fails (the rule's own case-kept read)."""

        reads = 0

        def get(self, key: str, default: Any = None) -> Any:
            if key == "Image":
                self.reads += 1
                if self.reads > 1:
                    raise RuntimeError("broken field access")
            return super().get(key, default)

    cased = WHOAMI.replace("Image|endswith", "Image|cased|endswith")
    engine = engine_for(tmp_path, cased)
    events = [Exploding(proc(Image="C:\\whoami.exe")), proc(Image="C:\\whoami.exe")]
    assert [i for i, _ in engine.match_batch(events)] == [1]
    stats = engine.rule_errors["77777777-7777-7777-7777-777777777777"]
    assert stats.count >= 1 and "broken field access" in stats.last_reason


def test_errors_of_unloadable_rules_are_listed(tmp_path: Path) -> None:
    bad = WHOAMI.replace(
        "77777777-7777-7777-7777-777777777777", "88888888-8888-8888-8888-888888888888"
    ).replace("Image|endswith", "Image|bogus")
    engine = engine_for(tmp_path, WHOAMI, bad)
    assert len(engine.rules) == 1
    assert [e.rule_id for e in engine.errors] == ["88888888-8888-8888-8888-888888888888"]


def test_rules_feeding_silent_correlations_match_but_do_not_alert(tmp_path: Path) -> None:
    corr = """title: Repeated whoami
id: 99999999-9999-9999-9999-999999999999
correlation:
    type: event_count
    rules:
        - 77777777-7777-7777-7777-777777777777
    group-by:
        - Computer
    timespan: 1h
    condition:
        gte: 2
"""
    engine = engine_for(tmp_path, WHOAMI, corr)
    events = [proc(Image="C:\\whoami.exe", **{"event.id": "x", "@timestamp": 5})]
    assert len(engine.match_batch(events)) == 1
    assert engine.detect(events) == []
    assert engine.correlations[0].rule_ids == ("77777777-7777-7777-7777-777777777777",)


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        ("invoke-mimikatz", {"invoke-mimikatz"}),
        ("(?i)net\\s+user\\s+/addx", {"/addx"}),
        ("abc|defg", {"abc", "defg"}),
        ("ab?cdef", {"cdef"}),
        ("ab*cd", {"cd"}),
        ("x{0,3}yz", {"yz"}),
        ("x{2}yz", {"yz"}),
        ("[a-z]+\\.exe", {".exe"}),
        ("(foo|bar)baz", {"baz"}),
        ("\\\\[a-z]{1,32}\\.", {"\\"}),
        ('[^"]+', None),
        ("(a|b)", None),
        ("\\Qa.b\\E", None),
    ],
)
def test_required_literals_of_regexes(pattern: str, literals: set[str] | None) -> None:
    found = required_literals(pattern)
    assert (set(found) if found is not None else None) == literals


@pytest.mark.parametrize(
    "pattern",
    [
        "invoke-[a-z]+",
        "(?i)net\\s+user\\s+",
        "abc|de?f|g{0,2}hi",
        "\\\\[a-z]{1,32}\\.[a-z]{1,6}\\.",
    ],
)
@pytest.mark.parametrize(
    "text",
    ["x Invoke-Expression", "NET   USER  bob", "dfhi", "c:\\abc.def.", "nothing", "abcx", "gghi"],
)
def test_required_literals_are_necessary(pattern: str, text: str) -> None:
    # Whenever the regex matches, one of its literals is in the (lowercased) text.
    literals = required_literals(pattern)
    assert literals is not None
    if re2.compile(pattern).search(text) is not None:
        assert any(lit in text.lower() for lit in literals)


def test_prefilter_uses_two_rare_conjuncts() -> None:
    node = And(
        (
            Leaf("Image", StringTest((0, "\\rundll32.exe"))),
            Leaf("CommandLine", StringTest((0, "javascript:", 0))),
            Not(Leaf("ParentImage", StringTest(("c:\\windows\\",)))),
            Leaf("CommandLine", RegexTest("[a-z]{3}")),
        )
    )
    slots = rule_slots(node)
    assert len(slots) == 2
    fields = {next(iter(s))[0] for s in slots}
    assert fields == {"Image", "CommandLine"}


def test_prefilter_keeps_both_halves_of_an_or_of_ands() -> None:
    # (Image has A and CommandLine has B) or CommandLine has C: a candidate needs A or
    # C, and B or C. An event with A alone (the common half) is not one.
    from heron.detect.sigma.index import GroupIndex
    from heron.detect.sigma.view import EventView

    a = Leaf("Image", StringTest((0, "\\windows\\", 0)))
    b = Leaf("CommandLine", StringTest((0, "\\..\\system32\\", 0)))
    c = Leaf("CommandLine", StringTest((0, ".exe\\..\\", 0)))
    node = And((Or((And((a, b)), c)), Not(Leaf("User", StringTest(("svc",))))))
    slots = rule_slots(node)
    assert [sorted(t[2] for t in s) for s in slots] == [
        sorted(["\\..\\system32\\", ".exe\\..\\"]),
        sorted(["\\windows\\", ".exe\\..\\"]),
    ]
    index = GroupIndex([slots])
    cases = {
        ("C:\\Windows\\cmd.exe", "cmd /c dir"): False,
        ("C:\\Windows\\cmd.exe", "x \\..\\System32\\y"): True,
        ("D:\\tools\\cmd.exe", "x \\..\\System32\\y"): False,
        ("D:\\tools\\a.exe", "a.EXE\\..\\b"): True,
    }
    for (image, command_line), wanted in cases.items():
        view = EventView({"Image": image, "CommandLine": command_line})
        assert (index.candidates(view) == [0]) is wanted, (image, command_line)


def test_engine_pickles_for_worker_processes(tmp_path: Path) -> None:
    import pickle

    engine = engine_for(tmp_path, WHOAMI)
    copy = pickle.loads(pickle.dumps(engine))
    events = [proc(Image="C:\\whoami.exe"), proc(Image="C:\\other.exe")]
    assert [(i, r.id) for i, r in copy.match_batch(events)] == [
        (i, r.id) for i, r in engine.match_batch(events)
    ]
    assert copy.errors == engine.errors


def test_memoized_rules_tell_numbers_booleans_and_text_apart() -> None:
    from heron.detect.sigma.decide import compile_predicate, memoized, referenced_fields
    from heron.detect.sigma.ir import ExistsTest, NumberTest, Or
    from heron.detect.sigma.view import EventView

    node = Or(
        (
            Leaf("Port", RegexTest("^1$")),
            Leaf("Port", StringTest(("1.0",))),
            Leaf("Port", NumberTest(7)),
        )
    )
    fields = referenced_fields(node)
    assert fields == ("Port",)
    pred = memoized(compile_predicate(node), fields)
    views = [EventView({"Port": v}) for v in ("1", 1, True, 1.0, "1", 7, "7", None, ["1"])]
    assert [pred(v) for v in views] == [True, True, False, True, True, True, True, False, True]

    # Two and three fields read: the same answers, whichever field holds the odd value.
    for extra in (("Host",), ("Host", "User")):
        wide = And((node, *(Leaf(f, ExistsTest(True)) for f in extra)))
        pred = memoized(compile_predicate(wide), referenced_fields(wide) or ())
        for values in (("1", 1, True, 1.0, "1", 7, "7", None, ["1"]),):
            got = [pred(EventView({"Port": v, **{f: "h" for f in extra}})) for v in values]
            assert got == [True, True, False, True, True, True, True, False, True]
        odd = [pred(EventView({"Port": "1", **{f: v for f in extra}})) for v in ("h", 1, None, "h")]
        assert odd == [True, True, False, True]


def test_a_memo_that_never_hits_is_paused_then_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from heron.detect.sigma import decide
    from heron.detect.sigma.view import EventView

    monkeypatch.setattr(decide, "_MEMO_TRIAL", 8)
    monkeypatch.setattr(decide, "_MEMO_PAUSE", 5)
    calls: list[object] = []

    def pred(view: EventView) -> bool:
        calls.append(view.get("CommandLine"))
        return "x" in str(view.get("CommandLine"))

    for fields in (("CommandLine",), ("CommandLine", "Image")):
        calls.clear()
        memo = decide.memoized(pred, fields)
        same = EventView({"CommandLine": "run x", "Image": "a"})
        assert memo(same) and memo(same)
        assert len(calls) == 1  # remembered
        for n in range(6):  # unique values: the trial ends with 1 hit in 8 lookups
            assert not memo(EventView({"CommandLine": f"run {n}", "Image": "a"}))
        calls.clear()
        for _ in range(5):  # paused: every decision is made afresh, same answers
            assert memo(same)
        assert len(calls) == 5
        calls.clear()
        assert memo(same) and memo(same)  # tried again: remembered
        assert len(calls) == 1
