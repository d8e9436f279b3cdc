"""Retro-hunts: run rules over stored history through SQL, correlations included.

Each single-event rule becomes one SQL query over the ``events`` relation
(``heron.detect.sql``). Correlation rules then replay the matching events of the rules
they read on a virtual clock (event time, in order, every window closed at the end),
so a new correlation can be tried on last month's data before it is enabled.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from heron.detect.base import Detection
from heron.detect.correlate.engine import CorrelationEngine
from heron.detect.engine import correlation_rules, single_detection
from heron.detect.sigma.ir import CompiledRule, LoadError
from heron.detect.sigma.load import load_rules
from heron.detect.sql import RulePredicate, SqlCompileError, batch_query, rule_predicate
from heron.model.event import Event

__all__ = ["BacktestResult", "SqlMatch", "backtest", "detection_row", "match_rules_sql", "report"]

_FETCH_BATCH = 5000
#: Rules evaluated in one scan: the row's JSON is parsed once for all of them.
RULES_PER_QUERY = 50


class _QueryStore(Protocol):
    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table: ...

    def get_many(self, event_ids: Sequence[str]) -> list[Event]: ...


@dataclass(slots=True)
class BacktestResult:
    """What a retro-hunt found: detections that would have raised alerts, per-rule counts."""

    detections: list[Detection] = field(default_factory=list)
    #: rule id → detections (rules that raise no alert of their own included).
    hits: Counter[str] = field(default_factory=Counter)
    names: dict[str, str] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    rules: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SqlMatch:
    """A stored event a rule matches."""

    rule: CompiledRule
    event_id: str
    timestamp: int


def match_rules_sql(
    store: _QueryStore,
    rules: Sequence[CompiledRule],
    *,
    start: int | None = None,
    end: int | None = None,
    rules_per_query: int = RULES_PER_QUERY,
) -> tuple[list[SqlMatch], list[LoadError]]:
    """Every (rule, stored event) match in ``[start, end)``, and rules SQL cannot run.

    Rules go in groups of ``rules_per_query`` per scan; a group whose query fails is run
    rule by rule, so one bad rule is reported without losing the others.
    """
    compiled: list[tuple[CompiledRule, RulePredicate]] = []
    errors: list[LoadError] = []
    for rule in rules:
        try:
            compiled.append((rule, rule_predicate(rule)))
        except SqlCompileError as exc:
            errors.append(LoadError(rule.filename, rule.id, exc.reason))
    matches: list[SqlMatch] = []
    for i in range(0, len(compiled), max(1, rules_per_query)):
        group = compiled[i : i + max(1, rules_per_query)]
        try:
            matches.extend(_run_group(store, group, start, end))
        except duckdb.Error:
            for one in group:
                try:
                    matches.extend(_run_group(store, [one], start, end))
                except duckdb.Error as exc:
                    errors.append(LoadError(one[0].filename, one[0].id, f"SQL failed: {exc}"))
    return matches, errors


def _run_group(
    store: _QueryStore,
    group: Sequence[tuple[CompiledRule, RulePredicate]],
    start: int | None,
    end: int | None,
) -> list[SqlMatch]:
    query = batch_query([p for _, p in group], start=start, end=end)
    table = store.query(query.text, list(query.params))
    out: list[SqlMatch] = []
    ids = table.column("event.id").to_pylist()
    stamps = table.column("@timestamp").to_pylist()
    hits = table.column("__heron_hits").to_pylist()
    for eid, ts, positions in zip(ids, stamps, hits, strict=True):
        for pos in positions:
            out.append(SqlMatch(group[pos][0], eid, int(ts)))
    return out


def _fetch(store: _QueryStore, ids: Sequence[str]) -> dict[str, Event]:
    out: dict[str, Event] = {}
    for i in range(0, len(ids), _FETCH_BATCH):
        for event in store.get_many(ids[i : i + _FETCH_BATCH]):
            eid = event.get("event.id")
            if isinstance(eid, str):
                out[eid] = event
    return out


def backtest(
    store: _QueryStore,
    rule_paths: Sequence[Path],
    *,
    start: int | None = None,
    end: int | None = None,
    cache_dir: Path | None = None,
    placeholders: Mapping[str, Sequence[str]] | None = None,
) -> BacktestResult:
    """Run the rules under ``rule_paths`` over stored events in ``[start, end)``;
    ``placeholders``: the values ``|expand`` puts in (``heron rules placeholders``)."""
    began = time.perf_counter()
    loaded = load_rules(rule_paths, cache_dir, placeholders=placeholders)
    corr_rules, corr_errors = correlation_rules(loaded.correlations)
    result = BacktestResult(errors=[*loaded.errors, *corr_errors])
    result.rules = len(loaded.rules) + len(corr_rules)
    for rule in loaded.rules:
        result.names[rule.id] = rule.display_name
        result.levels[rule.id] = (rule.level or "medium").lower()
    for corr in corr_rules:
        result.names[corr.id] = corr.title
        result.levels[corr.id] = corr.level
    correlation = CorrelationEngine(corr_rules, lateness_ns=0) if corr_rules else None
    hidden = correlation.hidden_rule_ids if correlation is not None else frozenset()
    matched, errors = match_rules_sql(store, loaded.rules, start=start, end=end)
    result.errors.extend(errors)
    matched.sort(key=lambda m: (m.timestamp, m.event_id, m.rule.id))
    for m in matched:
        result.hits[m.rule.id] += 1
    events = _fetch(store, list(dict.fromkeys(m.event_id for m in matched)))
    base: list[Detection] = []
    for m in matched:
        event = events.get(m.event_id)
        if event is not None:
            base.append(single_detection(m.rule, event))
    result.detections = [d for d in base if d.rule_id not in hidden]
    if correlation is not None:
        feeding = correlation.input_rule_ids
        ordered = sorted(events.values(), key=lambda e: int(e.get("@timestamp") or 0))
        found = correlation.detect(ordered, [d for d in base if d.rule_id in feeding])
        found.extend(correlation.flush(final=True))
        for det in found:
            result.hits[det.rule_id] += 1
        result.detections.extend(d for d in found if d.rule_id not in hidden)
    result.detections.sort(key=lambda d: (d.timestamp, d.rule_id))
    result.seconds = time.perf_counter() - began
    return result


def detection_row(det: Detection) -> dict[str, Any]:
    """A detection as the flat row ``heron rules backtest`` prints (json, csv)."""
    row: dict[str, Any] = {
        "@timestamp": det.timestamp,
        "rule.id": det.rule_id,
        "rule.name": det.rule_name,
        "rule.level": det.level,
        "event.ids": list(det.event_ids),
    }
    row.update(det.entities)
    if det.group:
        row["group"] = dict(det.group)
    return row


def report(result: BacktestResult, limit: int) -> dict[str, Any]:
    """The result as JSON: per-rule hits (first and last in ns, alerts raised), the first
    ``limit`` detections, the load errors; what the command prints, wherever it ran."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    alerts: Counter[str] = Counter()
    for det in result.detections:
        first.setdefault(det.rule_id, det.timestamp)
        last[det.rule_id] = det.timestamp
        alerts[det.rule_id] += 1
    return {
        "rules": result.rules,
        "seconds": result.seconds,
        "errors": [
            {"path": e.path, "rule_id": e.rule_id, "reason": e.reason} for e in result.errors
        ],
        "hits": [
            {
                "rule.name": result.names.get(rid, rid),
                "rule.level": result.levels.get(rid, ""),
                "hits": hits,
                "alerts": alerts.get(rid, 0),
                "first": first.get(rid),
                "last": last.get(rid),
                "rule.id": rid,
            }
            for rid, hits in result.hits.most_common()
            if hits
        ],
        "detections": [detection_row(d) for d in result.detections[:limit]],
        "total": len(result.detections),
    }
