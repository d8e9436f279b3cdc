"""What an enricher is: it adds context fields to every event of a batch, in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from heron.model.event import Event

__all__ = ["Enricher"]


class Enricher(Protocol):
    """Adds fields (``threat.enrichments``, ``source.geo.*``, ``host.*`` context …)."""

    name: str

    def enrich(self, events: Sequence[Event]) -> None:
        """Add context to each event in place; never drop or reorder events."""
        ...
