"""Normalization: raw vendor fields → ECS, one mapping per source family.

``normalize`` picks the mapping from what the parser set: ``event.module`` ``windows``
(EVTX, Winlogbeat, Wazuh Windows) and ``aws`` (CloudTrail) have their own; other events
that name a process (syslog, auditd) go to the Linux mapping; anything else passes
through unchanged. A mapping that fails on an unexpected value never stops the event:
the event is kept as parsed and ``error.message`` says what went wrong.
"""

from __future__ import annotations

from collections.abc import Callable

from heron.model.event import Event
from heron.normalize.aws import normalize_cloudtrail
from heron.normalize.linux import normalize_linux
from heron.normalize.windows import normalize_windows

__all__ = ["normalize"]

Mapping = Callable[[Event], None]

#: event.module → its mapping.
MAPPINGS: dict[str, Mapping] = {
    "windows": normalize_windows,
    "sysmon_linux": normalize_windows,  # Sysmon's events and fields, as XML in syslog
    "aws": normalize_cloudtrail,
}


def normalize(event: Event) -> Event:
    """The event with ECS fields added in place (also returned)."""
    module = event.get("event.module")
    mapping = MAPPINGS.get(module) if isinstance(module, str) else None
    if mapping is not None:
        # These mappings write nothing until they have computed every field.
        try:
            mapping(event)
        except Exception as exc:
            event["error.message"] = _reason(module, exc)
        return event
    if event.get("process.name") is not None:
        # The Linux mapping writes as it goes: keep a copy to put back on failure.
        before = dict(event)
        try:
            normalize_linux(event)
        except Exception as exc:
            event.clear()
            event.update(before)
            event["error.message"] = _reason("linux", exc)
    return event


def _reason(mapping: object, exc: Exception) -> str:
    return f"normalization ({mapping}) failed: {type(exc).__name__}: {exc}"
