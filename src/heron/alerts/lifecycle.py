"""The alert lifecycle: which updates are allowed and what each changes.

``new → acknowledged → closed`` with a disposition; any status may be set again later
(a closed alert reopens to ``new`` or ``acknowledged`` and loses its disposition).
Closing needs a disposition; a disposition alone is only accepted on an alert that is
(or is being) closed. A request is checked against every alert before anything is
written, so a bulk update either applies to all its alerts or to none.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from heron.alerts.errors import AlertUpdateError
from heron.model.alert import ALERT_STATUSES, DISPOSITIONS, Alert

__all__ = ["MAX_COMMENT_CHARS", "MAX_NAME_CHARS", "UNSET", "Unset", "UpdateRequest"]

#: Longest comment kept in the history (a triage note, not a document).
MAX_COMMENT_CHARS = 10_000
#: Longest actor or assignee name.
MAX_NAME_CHARS = 256

Change = tuple[str | None, str | None]


class Unset(enum.Enum):
    """The type of ``UNSET``: "leave this field as it is" (None means "clear it")."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


def _name(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise AlertUpdateError(f"{what} must not be empty")
    if len(text) > MAX_NAME_CHARS:
        raise AlertUpdateError(f"{what} is longer than {MAX_NAME_CHARS} characters")
    if any(ord(c) < 32 for c in text):
        raise AlertUpdateError(f"{what} must not contain control characters")
    return text


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """One update asked of one or more alerts, checked on construction (``checked``)."""

    actor: str
    status: str | None = None
    disposition: str | None = None
    assignee: str | Unset | None = UNSET
    comment: str | None = None

    def checked(self) -> UpdateRequest:
        """This request with names trimmed; raises ``AlertUpdateError`` when it is malformed."""
        actor = _name(self.actor, "the actor")
        if self.status is not None and self.status not in ALERT_STATUSES:
            raise AlertUpdateError(
                f"unknown status {self.status!r} (use one of: {', '.join(ALERT_STATUSES)})"
            )
        if self.disposition is not None and self.disposition not in DISPOSITIONS:
            raise AlertUpdateError(
                f"unknown disposition {self.disposition!r} (use one of: {', '.join(DISPOSITIONS)})"
            )
        if self.status is not None and self.status != "closed" and self.disposition is not None:
            raise AlertUpdateError(
                f"a disposition is only set when closing, not with status {self.status!r}"
            )
        assignee: str | Unset | None = self.assignee
        if isinstance(assignee, str):
            assignee = _name(assignee, "the assignee")
        comment = self.comment
        if comment is not None:
            comment = comment.strip() or None
            if comment is not None and len(comment) > MAX_COMMENT_CHARS:
                raise AlertUpdateError(f"the comment is longer than {MAX_COMMENT_CHARS} characters")
        if (
            self.status is None
            and self.disposition is None
            and assignee is UNSET
            and comment is None
        ):
            raise AlertUpdateError(
                "nothing to update: give a status, a disposition, an assignee or a comment"
            )
        return UpdateRequest(actor, self.status, self.disposition, assignee, comment)

    def apply(self, alert: Alert, now: int) -> dict[str, Change]:
        """Apply to ``alert`` in place; returns ``{field: (before, after)}`` of what changed."""
        changes: dict[str, Change] = {}
        before_status = alert.status
        status = self.status if self.status is not None else before_status
        disposition = alert.disposition if before_status == "closed" else None
        if status == "closed":
            disposition = self.disposition or disposition
            if disposition is None:
                raise AlertUpdateError(
                    "closing needs a disposition (" + ", ".join(DISPOSITIONS) + ")",
                    alert_id=alert.id,
                )
        elif self.disposition is not None:
            raise AlertUpdateError(
                f"the alert is {before_status}; a disposition is only set when closing it",
                alert_id=alert.id,
            )
        else:
            disposition = None
        if status != before_status:
            changes["status"] = (before_status, status)
            alert.status = status
            if before_status == "new" and alert.acknowledged_at is None:
                alert.acknowledged_at = now  # the first response, for time-to-acknowledge
            alert.closed_at = now if status == "closed" else None
        if disposition != alert.disposition:
            changes["disposition"] = (alert.disposition, disposition)
            alert.disposition = disposition
        if not isinstance(self.assignee, Unset) and self.assignee != alert.assignee:
            changes["assignee"] = (alert.assignee, self.assignee)
            alert.assignee = self.assignee
        if changes:
            alert.updated = now
        return changes
