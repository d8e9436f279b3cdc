"""Sigma correlation rules over event-time sliding windows, with state that survives restarts."""

from __future__ import annotations

from heron.detect.correlate.engine import DEFAULT_LATENESS_NS, CorrelationEngine, CorrelationStats
from heron.detect.correlate.rules import CorrelationRule, CorrelationRuleError, CorrelationType
from heron.detect.correlate.state import CorrelationStateFile

__all__ = [
    "DEFAULT_LATENESS_NS",
    "CorrelationEngine",
    "CorrelationRule",
    "CorrelationRuleError",
    "CorrelationStateFile",
    "CorrelationStats",
    "CorrelationType",
]
