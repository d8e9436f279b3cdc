"""What detection produces and what a detector is, as the pipeline sees it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from heron.model.event import Event

__all__ = ["Detection", "Detector"]


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__,
# three times the cost, and a bulk load builds one per match (twice, with workers).
@dataclass(slots=True)
class Detection:
    """A rule firing: on single events, or (correlation) on a group of them."""

    rule_id: str
    rule_name: str
    level: str  # informational | low | medium | high | critical
    timestamp: int  # ns: the newest matching event's @timestamp
    event_ids: tuple[str, ...]
    tags: tuple[str, ...] = ()
    # Entity fields of the matching events (user.name, host.name, source.ip …).
    entities: dict[str, str] = field(default_factory=dict)
    # For correlations: the group-by values; for single events: empty.
    group: dict[str, str] = field(default_factory=dict)


class Detector(Protocol):
    """Something that looks at each batch of normalized, enriched events."""

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        """Detections for this batch; events already carry ``event.id``."""
        ...
