"""The event model: flat ECS-shaped events, batches and their Arrow form."""

from __future__ import annotations

from heron.model.event import Event, EventBatch, new_event_ids, validate_event
from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN, arrow_schema

__all__ = [
    "CORE_FIELDS",
    "EXTRA_COLUMN",
    "Event",
    "EventBatch",
    "arrow_schema",
    "new_event_ids",
    "validate_event",
]
