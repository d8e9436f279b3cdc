"""Precision and recall of stored alerts against a simulation's labels.

Definitions (also in docs/reference/simulate.md):

* A labelled event is found in the store by its marker: the stored events whose
  ``event.original`` contains the marker text.
* An alert is a **true positive** when any of its ``event.ids`` is a labelled event of
  any chain; otherwise it is a **benign** alert (a false positive for scoring).
* Precision = true-positive alerts / all alerts (overall and per rule).
* A chain step is **covered** when at least one of its labelled events is in the
  ``event.ids`` of at least one alert; a chain's **recall** is covered steps / steps.
* Benign alerts per day = benign alerts / simulated days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from heron.alerts.store import AlertStore
from heron.model.alert import Alert
from heron.simulate.config import SimulationError
from heron.simulate.output import LABELS_FORMAT

__all__ = ["Score", "load_labels", "score_alerts", "score_data_dir"]


@dataclass(slots=True)
class RuleScore:
    rule_id: str
    rule_name: str
    level: str
    alerts: int = 0
    true_positives: int = 0
    chains: set[str] = field(default_factory=set)

    @property
    def precision(self) -> float:
        return self.true_positives / self.alerts if self.alerts else 0.0


@dataclass(slots=True)
class ChainScore:
    chain_id: str
    name: str
    steps: list[str]
    covered: list[str]
    missing_events: int
    alerts: int
    rules: list[str]

    @property
    def recall(self) -> float:
        return len(self.covered) / len(self.steps) if self.steps else 0.0


@dataclass(slots=True)
class Score:
    days: int
    alerts: int
    true_positives: int
    labelled_events: int
    found_events: int
    chains: list[ChainScore]
    rules: list[RuleScore]

    @property
    def precision(self) -> float:
        return self.true_positives / self.alerts if self.alerts else 0.0

    @property
    def benign_alerts(self) -> int:
        return self.alerts - self.true_positives

    @property
    def benign_per_day(self) -> float:
        return self.benign_alerts / self.days if self.days else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "alerts": self.alerts,
            "true_positive_alerts": self.true_positives,
            "benign_alerts": self.benign_alerts,
            "benign_alerts_per_day": round(self.benign_per_day, 3),
            "precision": round(self.precision, 4),
            "labelled_events": self.labelled_events,
            "labelled_events_found": self.found_events,
            "chains": [
                {
                    "id": c.chain_id,
                    "name": c.name,
                    "recall": round(c.recall, 4),
                    "steps": c.steps,
                    "covered_steps": c.covered,
                    "missed_steps": [s for s in c.steps if s not in c.covered],
                    "labelled_events_not_found": c.missing_events,
                    "alerts": c.alerts,
                    "rules": c.rules,
                }
                for c in self.chains
            ],
            "rules": [
                {
                    "rule_id": r.rule_id,
                    "rule_name": r.rule_name,
                    "level": r.level,
                    "alerts": r.alerts,
                    "true_positives": r.true_positives,
                    "benign": r.alerts - r.true_positives,
                    "precision": round(r.precision, 4),
                    "chains": sorted(r.chains),
                }
                for r in self.rules
            ],
        }


def load_labels(path: Path) -> dict[str, Any]:
    """A labels.json, checked for its format."""
    try:
        labels = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SimulationError(f"cannot read {path}: {exc.strerror}", parameter="labels") from exc
    except orjson.JSONDecodeError as exc:
        raise SimulationError(f"{path} is not JSON: {exc}", parameter="labels") from exc
    if not isinstance(labels, dict) or labels.get("format") != LABELS_FORMAT:
        raise SimulationError(f"{path} is not a {LABELS_FORMAT} file", parameter="labels")
    return labels


def resolve_markers(store: Any, markers: list[str]) -> dict[str, list[str]]:
    """Stored event ids of each marker (events whose ``event.original`` contains it)."""
    if not markers:
        return {}
    table = store.query(
        'SELECT m.marker AS marker, e."event.id" AS id FROM events e '
        'JOIN (SELECT unnest(?) AS marker) m ON contains(e."event.original", m.marker)',
        [markers],
    )
    found: dict[str, list[str]] = defaultdict(list)
    for marker, event_id in zip(
        table.column("marker").to_pylist(), table.column("id").to_pylist(), strict=True
    ):
        found[marker].append(event_id)
    return found


def score_alerts(labels: dict[str, Any], alerts: list[Alert], found: dict[str, list[str]]) -> Score:
    """Score ``alerts`` against ``labels`` given each marker's stored event ids."""
    step_of: dict[str, tuple[str, str]] = {}  # event id → (chain, step)
    labelled = found_events = 0
    missing: dict[str, int] = defaultdict(int)
    for chain in labels["chains"]:
        for step in chain["steps"]:
            for event in step["events"]:
                labelled += 1
                ids = found.get(event["marker"], [])
                if not ids:
                    missing[chain["id"]] += 1
                found_events += bool(ids)
                for event_id in ids:
                    step_of[event_id] = (chain["id"], step["name"])
    covered: dict[str, set[str]] = defaultdict(set)
    chain_alerts: dict[str, int] = defaultdict(int)
    chain_rules: dict[str, set[str]] = defaultdict(set)
    rules: dict[str, RuleScore] = {}
    tp = 0
    for alert in alerts:
        rule = rules.setdefault(
            alert.rule_id, RuleScore(alert.rule_id, alert.rule_name, alert.rule_level)
        )
        rule.alerts += 1
        hits = {step_of[i] for i in alert.event_ids if i in step_of}
        if not hits:
            continue
        tp += 1
        rule.true_positives += 1
        for chain_id, step in hits:
            covered[chain_id].add(step)
            chain_rules[chain_id].add(alert.rule_name)
            rule.chains.add(chain_id)
        for chain_id in {h[0] for h in hits}:
            chain_alerts[chain_id] += 1
    chains = [
        ChainScore(
            c["id"],
            c["name"],
            [s["name"] for s in c["steps"]],
            [s["name"] for s in c["steps"] if s["name"] in covered[c["id"]]],
            missing[c["id"]],
            chain_alerts[c["id"]],
            sorted(chain_rules[c["id"]]),
        )
        for c in labels["chains"]
    ]
    ordered = sorted(rules.values(), key=lambda r: (-r.alerts, r.rule_name))
    return Score(int(labels["days"]), len(alerts), tp, labelled, found_events, chains, ordered)


def label_markers(labels: dict[str, Any]) -> list[str]:
    """Every marker of the labelled events, once, sorted."""
    return sorted({e["marker"] for c in labels["chains"] for s in c["steps"] for e in s["events"]})


def score_data_dir(data_dir: Path, labels_path: Path) -> Score:
    """Score the alerts stored in ``data_dir`` against ``labels_path``."""
    from heron.store.duckdb import DuckDBStore

    labels = load_labels(labels_path)
    if not data_dir.exists():
        raise SimulationError(f"no Heron data in {data_dir}", parameter="data-dir")
    markers = label_markers(labels)
    with DuckDBStore(str(data_dir), read_only=True) as store:
        found = resolve_markers(store, markers)
        alerts = AlertStore(store).list(limit=1_000_000)
    return score_alerts(labels, alerts, found)
