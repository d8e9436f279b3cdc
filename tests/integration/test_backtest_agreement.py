"""The streaming matcher and the SQL retro-hunt find the same (rule, event) pairs.

EVTX-ATTACK-SAMPLES records are parsed and normalized as ingest does and stored; the
SigmaHQ Windows rules then run both ways: ``SigmaEngine.match_batch`` on the events in
memory, ``match_rules_sql`` on the store. Every rule that fires on the corpus is
compared, plus a fixed sample of the rules that do not (all 2,407 agree as well, in
about three minutes: ``HERON_BACKTEST_ALL_RULES=1``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sigma.load import load_rules
from heron.model.event import EventBatch
from heron.normalize import normalize
from heron.parsers.base import ParseContext
from heron.parsers.windows import WindowsEventParser
from heron.rules.backtest import match_rules_sql
from heron.sources.evtx import iter_evtx_records
from heron.store.duckdb import DuckDBStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(corpora: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    root = corpora / "evtx" / "EVTX-ATTACK-SAMPLES"
    rules_dir = corpora / "sigma" / "rules" / "windows"
    if not root.is_dir() or not rules_dir.is_dir():
        pytest.skip(f"EVTX-ATTACK-SAMPLES or SigmaHQ rules missing under {corpora}")
    parser, ctx = WindowsEventParser(), ParseContext()
    events: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*.evtx")):
        for record, _error in iter_evtx_records(path):
            if record is None:
                continue
            event = parser.parse(record, ctx)
            normalize(event)
            event["event.id"] = f"e{len(events):05d}"
            events.append(event)
    store = DuckDBStore(tmp_path_factory.mktemp("agreement") / "data")
    store.append(EventBatch(events))
    engine = SigmaEngine(load_rules([rules_dir], tmp_path_factory.mktemp("rule-cache")))
    yield events, store, engine
    store.close()


def test_streaming_and_sql_paths_agree(corpus: tuple[Any, ...]) -> None:
    events, store, engine = corpus
    assert len(events) > 8000 and len(engine.rules) > 2000
    streamed = {(rule.id, events[i]["event.id"]) for i, rule in engine.match_batch(events)}
    firing = {rule_id for rule_id, _ in streamed}
    if os.environ.get("HERON_BACKTEST_ALL_RULES"):
        chosen = list(engine.rules)
    else:
        quiet = [r for r in engine.rules if r.id not in firing]
        chosen = [r for r in engine.rules if r.id in firing] + quiet[::40]
    ids = {r.id for r in chosen}
    matches, errors = match_rules_sql(store, chosen)
    assert errors == []
    found = {(m.rule.id, m.event_id) for m in matches}
    expected = {pair for pair in streamed if pair[0] in ids}
    print(
        f"\nagreement: {len(chosen)} rules ({len(firing)} firing), "
        f"{len(expected)} streamed pairs, {len(found)} SQL pairs, "
        f"{len(expected & found)} in common"
    )
    assert sorted(found - expected) == []
    assert sorted(expected - found) == []
    assert len(firing) > 300 and len(expected) > 1000
