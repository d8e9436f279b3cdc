"""The tunables of the alert stage, from code or from a configuration mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heron.errors import ConfigError
from heron.model.alert import LEVELS
from heron.model.timeutil import NS_PER_S, parse_duration

__all__ = ["DEFAULT_DEDUP_WINDOW_NS", "AlertSettings"]

DEFAULT_DEDUP_WINDOW_NS = 3600 * NS_PER_S


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Grouping window, and entity risk half-life, threshold and threshold alert level."""

    dedup_window_ns: int = DEFAULT_DEDUP_WINDOW_NS
    risk_half_life_ns: int = 24 * 3600 * NS_PER_S
    risk_threshold: float = 150.0
    risk_alert_level: str = "high"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, where: str = "alerts") -> AlertSettings:
        """From a config section such as ``{"dedup_window": "1h", "risk_half_life": "24h",
        "risk_threshold": 150, "risk_alert_level": "high"}``; raises ``ConfigError``."""
        known = {"dedup_window", "risk_half_life", "risk_threshold", "risk_alert_level"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown setting {unknown[0]!r} (known: {sorted(known)})")
        base = cls()

        def duration(key: str, default: int) -> int:
            value = data.get(key)
            if value is None:
                return default
            try:
                ns = parse_duration(str(value))
            except ValueError as exc:
                raise ConfigError(f"{where}.{key}: {exc}") from exc
            if ns <= 0:
                raise ConfigError(f"{where}.{key}: must be longer than zero")
            return ns

        threshold = data.get("risk_threshold", base.risk_threshold)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
            raise ConfigError(f"{where}.risk_threshold: must be a positive number")
        level = str(data.get("risk_alert_level", base.risk_alert_level)).lower()
        if level not in LEVELS:
            raise ConfigError(f"{where}.risk_alert_level: use one of {', '.join(LEVELS)}")
        return cls(
            dedup_window_ns=duration("dedup_window", base.dedup_window_ns),
            risk_half_life_ns=duration("risk_half_life", base.risk_half_life_ns),
            risk_threshold=float(threshold),
            risk_alert_level=level,
        )
