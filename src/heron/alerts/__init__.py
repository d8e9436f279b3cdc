"""Heron alerts: storage and grouping, the triage lifecycle, suppressions, entity risk."""

from __future__ import annotations

from heron.alerts.errors import (
    AlertError,
    AlertFilterError,
    AlertNotFound,
    AlertUpdateError,
    SuppressionError,
    SuppressionNotFound,
)
from heron.alerts.lifecycle import UNSET, Unset
from heron.alerts.risk import RISK_RULE_ID, EntityRisk, EntityScore
from heron.alerts.settings import AlertSettings
from heron.alerts.store import AddResult, AlertStore
from heron.alerts.suppress import Suppression, Suppressions
from heron.model.alert import ALERT_STATUSES, DISPOSITIONS, Alert, AlertChange

__all__ = [
    "ALERT_STATUSES",
    "DISPOSITIONS",
    "RISK_RULE_ID",
    "UNSET",
    "AddResult",
    "Alert",
    "AlertChange",
    "AlertError",
    "AlertFilterError",
    "AlertNotFound",
    "AlertSettings",
    "AlertStore",
    "AlertUpdateError",
    "EntityRisk",
    "EntityScore",
    "Suppression",
    "SuppressionError",
    "SuppressionNotFound",
    "Suppressions",
    "Unset",
]
