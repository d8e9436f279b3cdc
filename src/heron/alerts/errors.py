"""Errors of the alert lifecycle: each names the alerts or the suppression concerned."""

from __future__ import annotations

from collections.abc import Sequence

from heron.errors import HeronError

__all__ = [
    "AlertError",
    "AlertFilterError",
    "AlertNotFound",
    "AlertUpdateError",
    "SuppressionError",
    "SuppressionNotFound",
]


class AlertError(HeronError):
    """Base of the errors raised by ``heron.alerts``."""


class AlertNotFound(AlertError, LookupError):
    """No alert has these ids; ``alert_ids`` lists the missing ones."""

    def __init__(self, alert_ids: Sequence[str]) -> None:
        self.alert_ids = list(alert_ids)
        shown = ", ".join(self.alert_ids[:5])
        more = f" and {len(self.alert_ids) - 5} more" if len(self.alert_ids) > 5 else ""
        noun = "alert" if len(self.alert_ids) == 1 else "alerts"
        super().__init__(f"no such {noun}: {shown}{more}")


class AlertUpdateError(AlertError, ValueError):
    """An update asked for something the lifecycle does not allow; nothing was changed.

    ``alert_id`` is the alert the request failed on (None when the request itself is
    wrong whatever the alert).
    """

    def __init__(self, message: str, *, alert_id: str | None = None) -> None:
        self.alert_id = alert_id
        self.reason = message
        where = f"alert {alert_id}: " if alert_id else ""
        super().__init__(f"{where}{message}")


class AlertFilterError(AlertError, ValueError):
    """A filter of ``AlertStore.list`` / ``count_matching`` has a value it cannot use."""


class SuppressionError(AlertError, ValueError):
    """A suppression cannot be added or removed as asked."""


class SuppressionNotFound(SuppressionError, LookupError):
    """No live suppression has this id."""

    def __init__(self, suppression_id: str) -> None:
        self.suppression_id = suppression_id
        super().__init__(f"no such suppression: {suppression_id}")
