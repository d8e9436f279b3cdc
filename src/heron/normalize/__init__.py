"""Normalization: raw vendor fields → ECS. (Dispatch table filled in by the format work.)"""

from __future__ import annotations

from heron.model.event import Event

__all__ = ["normalize"]


def normalize(event: Event) -> Event:
    """The event with ECS fields added in place."""
    return event
