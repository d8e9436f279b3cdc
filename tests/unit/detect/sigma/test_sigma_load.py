"""Loading rule files: errors per rule or file, the content-keyed cache, cross-file work."""

from __future__ import annotations

import shutil
from pathlib import Path

from sigma_helpers import proc, rule_yaml

from heron.detect.sigma.cache import MAX_BUNDLES, RuleCache, entry_key
from heron.detect.sigma.load import compile_file, load_rules
from heron.detect.sigma.match import SigmaMatcher

GOOD = rule_yaml(
    """
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
    """,
    rule_id="11111111-1111-1111-1111-111111111111",
    title="Whoami",
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_syntax_error_is_a_file_error(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yml", "title: x\ndetection: [unclosed\n")
    loaded = load_rules([bad])
    assert not loaded.rules
    assert len(loaded.errors) == 1
    assert loaded.errors[0].path == str(bad.resolve())
    assert loaded.errors[0].rule_id is None
    assert "YAML" in loaded.errors[0].reason


def test_unknown_modifier_names_the_rule(tmp_path: Path) -> None:
    text = rule_yaml(
        """
        selection:
            Image|sideways: 'x'
        condition: selection
        """,
        rule_id="22222222-2222-2222-2222-222222222222",
    )
    loaded = load_rules([write(tmp_path / "r.yml", text)])
    assert [e.rule_id for e in loaded.errors] == ["22222222-2222-2222-2222-222222222222"]
    assert "sideways" in loaded.errors[0].reason


def test_condition_naming_an_undefined_selection(tmp_path: Path) -> None:
    text = rule_yaml(
        """
        selection:
            Image: 'x'
        condition: selection and not filter
        """
    )
    loaded = load_rules([write(tmp_path / "r.yml", text)])
    assert not loaded.rules
    assert "filter" in loaded.errors[0].reason


def test_rule_without_detection_and_empty_logsource(tmp_path: Path) -> None:
    text = "title: no detection\nid: 33333333-3333-3333-3333-333333333333\nlogsource: {}\n"
    loaded = load_rules([write(tmp_path / "r.yml", text)])
    assert not loaded.rules
    assert loaded.errors and loaded.errors[0].rule_id == "33333333-3333-3333-3333-333333333333"


def test_one_bad_rule_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path / "a_good.yml", GOOD)
    write(tmp_path / "b_bad.yml", "::: not yaml :::\n  - [")
    write(tmp_path / "c_binary.yml", "")
    (tmp_path / "d_latin1.yml").write_bytes(b"title: caf\xe9\n")
    loaded = load_rules([tmp_path, tmp_path / "missing.yml"])
    assert [r.title for r in loaded.rules] == ["Whoami"]
    reasons = " | ".join(e.reason for e in loaded.errors)
    assert "no such file" in reasons
    assert "UTF-8" in reasons
    assert loaded.files == 4


def test_rules_carry_their_metadata(tmp_path: Path) -> None:
    text = GOOD.replace(
        "status: test\n",
        "status: test\ndescription: finds whoami\nauthor: someone\n"
        "references:\n    - https://example.org\ntags:\n    - attack.discovery\n"
        "    - attack.t1033\nfalsepositives:\n    - admins\nfields:\n    - CommandLine\n"
        "name: whoami_rule\n",
    )
    rule = load_rules([write(tmp_path / "r.yml", text)]).rules[0]
    assert rule.id == "11111111-1111-1111-1111-111111111111"
    assert rule.name == "whoami_rule"
    assert rule.level == "high"
    assert rule.status == "test"
    assert rule.tags == ("attack.discovery", "attack.t1033")
    assert rule.references == ("https://example.org",)
    assert rule.falsepositives == ("admins",)
    assert rule.fields == ("CommandLine",)
    assert rule.author == "someone"
    assert rule.description == "finds whoami"
    assert rule.logsource.product == "windows" and rule.logsource.category == "process_creation"
    assert rule.filename.endswith("r.yml")


def test_cache_cold_then_warm(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write(rules_dir / "a.yml", GOOD)
    write(rules_dir / "b.yml", "not: [valid")
    cache = tmp_path / "cache"
    cold = load_rules([rules_dir], cache)
    assert (cold.cache_hits, cold.cache_misses) == (0, 2)
    warm = load_rules([rules_dir], cache)
    assert (warm.cache_hits, warm.cache_misses) == (2, 0)
    assert warm.rules == cold.rules
    assert warm.errors == cold.errors  # broken files stay broken, from the cache too
    # A changed file misses; the unchanged one still hits.
    write(rules_dir / "a.yml", GOOD.replace("Whoami", "Whoami v2"))
    again = load_rules([rules_dir], cache)
    assert (again.cache_hits, again.cache_misses) == (1, 1)
    assert again.rules[0].title == "Whoami v2"


def test_corrupt_cache_entry_is_compiled_again(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yml", GOOD)
    cache_dir = tmp_path / "cache"
    load_rules([path], cache_dir)
    key = entry_key(path.read_bytes(), str(path.resolve()))
    entry_file = cache_dir / key[:2] / f"{key}.pickle"
    assert entry_file.exists()
    entry_file.write_bytes(b"garbage")
    shutil.rmtree(cache_dir / "bundles")  # else the rule set's bundle answers first
    assert RuleCache(cache_dir).get(key) is None
    loaded = load_rules([path], cache_dir)
    assert loaded.cache_misses == 1 and len(loaded.rules) == 1


def test_a_rule_set_seen_before_loads_from_one_bundle(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write(rules_dir / "a.yml", GOOD)
    write(rules_dir / "b.yml", GOOD.replace("1111", "2222").replace("Whoami", "Other"))
    cache = tmp_path / "cache"
    cold = load_rules([rules_dir], cache)
    (bundle,) = (cache / "bundles").glob("*.pickle")
    # The bundle alone gives the set: the per-file entries are not read.
    for entry in cache.glob("??/*.pickle"):
        entry.unlink()
    warm = load_rules([rules_dir], cache)
    assert (warm.cache_hits, warm.cache_misses) == (2, 0)
    assert warm.rules == cold.rules
    # A changed file is another set: its entry compiled, the rest from their entries
    # (gone here, so compiled too), and a second bundle written.
    write(rules_dir / "a.yml", GOOD.replace("Whoami", "Whoami v2"))
    again = load_rules([rules_dir], cache)
    assert again.cache_misses == 2 and again.rules[0].title == "Whoami v2"
    assert len(list((cache / "bundles").glob("*.pickle"))) == 2
    # A damaged bundle is passed over, never trusted.
    bundle.write_bytes(b"garbage")
    write(rules_dir / "a.yml", GOOD)
    assert len(load_rules([rules_dir], cache).rules) == 2


def test_bundles_beyond_the_limit_go_oldest_first(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yml", GOOD)
    cache = tmp_path / "cache"
    for n in range(MAX_BUNDLES + 3):
        write(path, GOOD.replace("Whoami", f"Whoami {n}"))
        load_rules([path], cache)
    assert len(list((cache / "bundles").glob("*.pickle"))) == MAX_BUNDLES


def test_unwritable_cache_costs_only_speed(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yml", GOOD)
    blocker = write(tmp_path / "cache", "a file where the cache folder should be")
    loaded = load_rules([path], blocker)
    assert len(loaded.rules) == 1 and not loaded.errors


def test_multi_document_file_with_global_action(tmp_path: Path) -> None:
    text = """action: global
title: Shared
status: test
level: low
logsource:
    product: windows
    category: process_creation
detection:
    condition: selection
---
id: 44444444-4444-4444-4444-444444444441
detection:
    selection:
        Image|endswith: '\\a.exe'
---
id: 44444444-4444-4444-4444-444444444442
detection:
    selection:
        Image|endswith: '\\b.exe'
"""
    loaded = load_rules([write(tmp_path / "multi.yml", text)])
    assert not loaded.errors
    assert [r.id[-1] for r in loaded.rules] == ["1", "2"]
    m = SigmaMatcher(loaded.rules)
    found = m.match_batch([proc(Image="C:\\a.exe"), proc(Image="C:\\b.exe")])
    assert [(i, r.id[-1]) for i, r in found] == [(0, "1"), (1, "2")]


CORRELATION = """title: Many whoami
id: 55555555-5555-5555-5555-555555555555
name: many_whoami
status: test
level: critical
correlation:
    type: event_count
    rules:
        - whoami_rule
    group-by:
        - Computer
    timespan: 5m
    condition:
        gte: 3
"""


def test_correlations_are_returned_separately_and_resolved(tmp_path: Path) -> None:
    rule = GOOD.replace("status: test\n", "status: test\nname: whoami_rule\n")
    write(tmp_path / "a.yml", rule)
    write(tmp_path / "b.yml", CORRELATION)
    loaded = load_rules([tmp_path])
    assert not loaded.errors
    assert len(loaded.rules) == 1
    (corr,) = loaded.correlations
    assert corr.id == "55555555-5555-5555-5555-555555555555"
    assert corr.type == "event_count"
    assert corr.rules == ("whoami_rule",)
    assert corr.rule_ids == ("11111111-1111-1111-1111-111111111111",)
    assert corr.group_by == ("Computer",)
    assert corr.timespan == 300
    assert corr.condition == {"gte": 3}
    assert corr.generate is False
    assert corr.level == "critical"
    # A rule only used by a generate: false correlation raises no alert of its own.
    assert loaded.rules[0].output is False


def test_correlation_with_unknown_rule_is_an_error(tmp_path: Path) -> None:
    loaded = load_rules([write(tmp_path / "b.yml", CORRELATION)])
    assert not loaded.correlations
    assert "whoami_rule" in loaded.errors[0].reason


def test_sigma_filter_is_anded_into_the_rules_it_names(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", GOOD)
    write(
        tmp_path / "f.yml",
        """title: Ignore the admin host
id: 66666666-6666-6666-6666-666666666666
logsource:
    product: windows
    category: process_creation
filter:
    rules:
        - 11111111-1111-1111-1111-111111111111
    selection:
        Computer: 'ADMIN01'
    condition: not selection
""",
    )
    loaded = load_rules([tmp_path])
    assert not loaded.errors, loaded.errors
    m = SigmaMatcher(loaded.rules)
    events = [
        proc(Image="C:\\whoami.exe", Computer="ws01"),
        proc(Image="C:\\whoami.exe", Computer="admin01"),
    ]
    assert [i for i, _ in m.match_batch(events)] == [0]


def test_duplicate_rule_ids_keep_the_first(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", GOOD)
    write(tmp_path / "b.yml", GOOD.replace("Whoami", "Copy"))
    loaded = load_rules([tmp_path])
    assert [r.title for r in loaded.rules] == ["Whoami"]
    assert "duplicate rule id" in loaded.errors[0].reason


def test_rule_without_id_gets_a_stable_one() -> None:
    text = GOOD.replace("id: 11111111-1111-1111-1111-111111111111\n", "")
    entry = compile_file(text.encode(), "/rules/x.yml")
    assert entry.rules[0].id == "/rules/x.yml#0"


def test_unroutable_windows_category_is_a_warning(tmp_path: Path) -> None:
    text = rule_yaml(
        """
        selection:
            FileName|endswith: '.kdbx'
        condition: selection
        """,
        logsource="product: windows\n    category: file_access",
    )
    loaded = load_rules([write(tmp_path / "r.yml", text)])
    assert len(loaded.rules) == 1 and not loaded.errors
    assert "file_access" in loaded.warnings[0].reason


def test_correlation_pysigma_rejects_still_names_its_id(tmp_path: Path) -> None:
    text = CORRELATION.replace("event_count", "value_count")  # value_count needs a field
    loaded = load_rules([write(tmp_path / "c.yml", text)])
    assert [e.rule_id for e in loaded.errors] == ["55555555-5555-5555-5555-555555555555"]
    assert "field" in loaded.errors[0].reason


def test_cached_and_compiled_files_keep_file_order_and_the_collector_runs_after(
    tmp_path: Path,
) -> None:
    import gc

    rules_dir = tmp_path / "rules"
    for n in range(4):
        write(
            rules_dir / f"{n}.yml",
            GOOD.replace("Whoami", f"Rule {n}").replace("11111111-1111", f"1111111{n}-1111"),
        )
    cache = tmp_path / "cache"
    load_rules([rules_dir / "1.yml", rules_dir / "3.yml"], cache)  # half of them cached
    mixed = load_rules([rules_dir], cache)
    assert (mixed.cache_hits, mixed.cache_misses) == (2, 2)
    assert [r.title for r in mixed.rules] == ["Rule 0", "Rule 1", "Rule 2", "Rule 3"]
    assert gc.isenabled()
