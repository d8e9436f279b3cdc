"""Prefilter indexes stored with the rule cache: read back for the same rules, never else."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

from sigma_helpers import proc, rule_yaml

from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sigma.indexcache import MAX_INDEX_SETS
from heron.detect.sigma.load import LoadedRules, load_rules
from heron.detect.sigma.match import SigmaMatcher

PROCESS = rule_yaml(
    """
    selection:
        Image|endswith: '\\whoami.exe'
        CommandLine|contains: '/all'
    condition: selection
    """,
    rule_id="00000000-0000-0000-0000-000000000001",
)
KEYWORDS = rule_yaml(
    """
    keywords:
        - 'sekurlsa::'
        - 'gentilkiwi.com'
    condition: keywords
    """,
    logsource="product: windows",
    rule_id="00000000-0000-0000-0000-000000000002",
)
SECURITY = rule_yaml(
    """
    selection:
        EventID: 4720
    condition: selection
    """,
    logsource="product: windows\n    service: security",
    rule_id="00000000-0000-0000-0000-000000000003",
)

EVENTS = [
    proc(Image="C:\\Windows\\System32\\whoami.exe", CommandLine="whoami /all"),
    proc(Image="C:\\Windows\\System32\\whoami.exe", CommandLine="whoami"),
    proc(Image="C:\\t\\m.exe", CommandLine="m.exe SEKURLSA::logonpasswords"),
    {"Channel": "Security", "EventID": 4720, "TargetUserName": "gentilkiwi.com"},
    {"Channel": "Security", "EventID": 4624},
]
EXPECTED = [
    (0, "00000000-0000-0000-0000-000000000001"),
    (2, "00000000-0000-0000-0000-000000000002"),
    (3, "00000000-0000-0000-0000-000000000002"),
    (3, "00000000-0000-0000-0000-000000000003"),
]


def _rules(folder: Path, *texts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yml"):
        old.unlink()
    for n, text in enumerate(texts):
        (folder / f"r{n}.yml").write_text(text)
    return folder


def _matches(matcher: SigmaMatcher) -> list[tuple[int, str]]:
    return sorted((i, rule.id) for i, rule in matcher.match_batch(EVENTS))


def _engine(rules: Path, cache: Path) -> tuple[LoadedRules, SigmaMatcher]:
    loaded = load_rules([rules], cache)
    return loaded, SigmaEngine(loaded).matcher


def test_the_indexes_of_a_rule_set_seen_before_are_read_back(tmp_path: Path) -> None:
    rules = _rules(tmp_path / "rules", PROCESS, KEYWORDS, SECURITY)
    cache = tmp_path / "cache"
    loaded, first = _engine(rules, cache)
    store = loaded.index_store(loaded.rules)
    assert store is not None
    assert _matches(first) == EXPECTED
    # Built on first use and stored: one per group an event was routed to.
    assert (store.hits, store.stored) == (0, len([g for g in first._groups if g._index]))
    loaded, again = _engine(rules, cache)
    store = loaded.index_store(loaded.rules)
    assert store is not None
    assert _matches(again) == EXPECTED
    assert store.hits >= 3 and store.stored == 0  # the keyword index included
    # A worker's copy of the matcher reads them too.
    copy = pickle.loads(pickle.dumps(again))
    assert _matches(copy) == EXPECTED and copy._indexes is not None


def test_rules_other_than_those_loaded_get_no_store(tmp_path: Path) -> None:
    rules = _rules(tmp_path / "rules", PROCESS, KEYWORDS, SECURITY)
    loaded = load_rules([rules], tmp_path / "cache")
    assert loaded.index_store(loaded.rules) is not None
    assert loaded.index_store(loaded.rules[1:]) is None
    assert loaded.index_store(list(reversed(loaded.rules))) is None
    changed = [dataclasses.replace(loaded.rules[0], title="changed"), *loaded.rules[1:]]
    assert loaded.index_store(changed) is None
    # Without a rule cache there is nowhere to keep them.
    uncached = load_rules([rules], None)
    assert uncached.index_store(uncached.rules) is None


def test_a_damaged_stored_index_is_built_again(tmp_path: Path) -> None:
    rules = _rules(tmp_path / "rules", PROCESS, KEYWORDS, SECURITY)
    cache = tmp_path / "cache"
    _engine(rules, cache)[1].prepare()
    stored = list((cache / "indexes").glob("*/*.pickle"))
    assert stored
    for path in stored:
        path.write_bytes(b"garbage")
    loaded, matcher = _engine(rules, cache)
    assert _matches(matcher) == EXPECTED
    store = loaded.index_store(loaded.rules)
    assert store is not None and store.hits == 0 and store.stored > 0


def test_an_edited_rule_is_another_set_and_old_sets_go(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    cache = tmp_path / "cache"
    _rules(rules, PROCESS, KEYWORDS)
    _engine(rules, cache)[1].prepare()
    # The same rule with another value: its own indexes, which find the new value only.
    _rules(rules, PROCESS.replace("/all", "/priv"), KEYWORDS)
    loaded, matcher = _engine(rules, cache)
    store = loaded.index_store(loaded.rules)
    assert store is not None
    events = [
        proc(Image="C:\\Windows\\System32\\whoami.exe", CommandLine="whoami /all"),
        proc(Image="C:\\Windows\\System32\\whoami.exe", CommandLine="whoami /priv"),
    ]
    assert [i for i, _ in matcher.match_batch(events)] == [1]
    assert store.hits == 0
    assert len(list((cache / "indexes").iterdir())) == 2
    for n in range(MAX_INDEX_SETS + 2):
        _rules(rules, PROCESS.replace("/all", f"/x{n}"), KEYWORDS)
        _engine(rules, cache)[1].prepare()
    assert len(list((cache / "indexes").iterdir())) == MAX_INDEX_SETS
