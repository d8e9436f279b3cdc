"""Alerts from indicator matches: ``threat.enrichments`` → ``Detection``.

The enricher (``heron.enrich.intel``) marks every match; this detector decides which
matches are alerts: those whose indicator says so (``alert``: STIX indicators, MISP
``to_ids``, list loads unless ``--no-alert``) at or above a confidence floor. The level
comes from the indicator's severity if it has one, else from its confidence, and goes
one step up on a high or critical asset (``asset.criticality``): the same indicator
matters more on a domain controller than on a kiosk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.detect.base import Detection
from heron.detect.sigma.fieldmap import entities_of
from heron.model.alert import LEVELS
from heron.model.event import Event

__all__ = ["IntelDetector", "detection_for", "intel_level"]

ENRICHMENTS_FIELD = "threat.enrichments"
_RAISE_ON = frozenset({"high", "critical"})
_LOWER_ON = frozenset({"low"})


def intel_level(entry: Mapping[str, Any], criticality: str | None = None) -> str:
    """The alert level of a match: the indicator's severity or confidence, then the asset."""
    severity = entry.get("heron.indicator.severity")
    if isinstance(severity, str) and severity in LEVELS:
        level = severity
    else:
        score = entry.get("heron.indicator.score")
        if not isinstance(score, int):
            level = "medium"
        elif score < 30:
            level = "low"
        elif score < 70:
            level = "medium"
        else:
            level = "high"
    rank = LEVELS.index(level)
    crit = (criticality or "").lower()
    if crit in _RAISE_ON:
        rank = min(rank + 1, len(LEVELS) - 1)
    elif crit in _LOWER_ON:
        rank = max(rank - 1, 0)
    return LEVELS[rank]


def detection_for(event: Mapping[str, Any], entry: Mapping[str, Any]) -> Detection:
    """The detection of one match of one indicator in one event."""
    sources = entry.get("heron.indicator.sources") or [entry.get("indicator.provider") or "intel"]
    source = str(sources[0])
    value = str(entry.get("heron.indicator.value") or entry.get("matched.atomic") or "")
    criticality = event.get("asset.criticality")
    entities = entities_of(event)
    if isinstance(criticality, str):
        entities["asset.criticality"] = criticality
    tags = ["threat_intel", f"intel.{entry.get('indicator.type', 'unknown')}"]
    extra = entry.get("heron.indicator.tags")
    if isinstance(extra, list):
        tags.extend(str(t) for t in extra)
    stamp = event.get("@timestamp")
    return Detection(
        rule_id=f"intel:{source}",
        rule_name=f"Threat intel match: {value}",
        level=intel_level(entry, criticality if isinstance(criticality, str) else None),
        timestamp=stamp if isinstance(stamp, int) else 0,
        event_ids=(str(event.get("event.id", "")),),
        tags=tuple(dict.fromkeys(tags)),
        entities=entities,
        group={"indicator": value, "matched.field": str(entry.get("matched.field", ""))},
    )


class IntelDetector:
    """Detections for the indicator matches the enricher recorded on each event."""

    def __init__(self, *, min_confidence: int = 0) -> None:
        self.min_confidence = min_confidence

    def wants(self, entry: Mapping[str, Any]) -> bool:
        if not entry.get("heron.indicator.alert"):
            return False
        score = entry.get("heron.indicator.score")
        return not (isinstance(score, int) and score < self.min_confidence)

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        found: list[Detection] = []
        for event in events:
            entries = event.get(ENRICHMENTS_FIELD)
            if not entries or not isinstance(entries, list):
                continue
            for entry in entries:
                if isinstance(entry, dict) and self.wants(entry):
                    found.append(detection_for(event, entry))
        return found
