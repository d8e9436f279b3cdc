"""Windows event records → ECS (Security, System, Sysmon, PowerShell).

The raw event is the flat form ``heron.parsers.windows`` gives an EVTX record (and
``heron.parsers.json`` gives Winlogbeat and Wazuh documents): ``EventID``, ``Channel``,
``Provider_Name``, ``Computer`` … and every EventData field under its own name. Those
vendor fields stay untouched (Sigma rules match on them); ECS fields are added beside
them and never replace a field the event already has.

The work per event is table-driven: the channel (or, without one, the provider) names
a log family, and (family, event id) names an ``EventSpec`` with the categorization and
the mapping steps (``heron.normalize.windows_catalog``). Field choices follow Elastic's
Windows and System integrations; where Heron differs it says so in the step's module.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from heron.model.event import Event
from heron.normalize.windows_catalog import (
    DATASETS,
    FAMILY_BY_CHANNEL,
    FAMILY_BY_PROVIDER,
    SPECS,
    EventSpec,
)
from heron.normalize.windows_steps import add_related, as_int, text

__all__ = ["normalize_windows"]

_LOG_LEVELS: dict[Any, str] = {
    0: "information",
    1: "critical",
    2: "error",
    3: "warning",
    4: "information",
    5: "verbose",
}
_LOG_LEVELS.update({str(k): v for k, v in list(_LOG_LEVELS.items())})
_AUDIT_SUCCESS = 0x0020000000000000
_AUDIT_FAILURE = 0x0010000000000000


@lru_cache(maxsize=256)
def _audit_outcome(keywords: str) -> str | None:
    """``success`` / ``failure`` from the audit bits of a ``Keywords`` mask."""
    try:
        mask = int(keywords, 16) if keywords[:2] in ("0x", "0X") else int(keywords)
    except ValueError:
        lowered = keywords.lower()
        if "audit success" in lowered:
            return "success"
        if "audit failure" in lowered:
            return "failure"
        return None
    if mask & _AUDIT_FAILURE:
        return "failure"
    if mask & _AUDIT_SUCCESS:
        return "success"
    return None


def _outcome_from_keywords(keywords: Any) -> str | None:
    if isinstance(keywords, str) and keywords:
        return _audit_outcome(keywords)
    if isinstance(keywords, list):  # Winlogbeat: ["Audit Success"]
        for word in keywords:
            if isinstance(word, str) and word:
                found = _audit_outcome(word)
                if found is not None:
                    return found
    return None


def _family(channel: Any, provider: Any) -> str | None:
    if isinstance(channel, str):
        found = FAMILY_BY_CHANNEL.get(channel)
        if found is not None:
            return found
    if isinstance(provider, str):
        return FAMILY_BY_PROVIDER.get(provider)
    return None


def _event_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return as_int(value)


def normalize_windows(event: Event) -> None:
    """Add ECS fields to a flat Windows event, in place.

    Fields the event already carries (from a shipper that set them) are kept; on an
    unexpected value a step raises before anything is written, so a failed
    normalization leaves the event as parsed.
    """
    ecs: Event = {"event.kind": "event"}
    event_id = _event_id(event.get("EventID"))
    channel = event.get("Channel")
    provider = event.get("Provider_Name")
    if event_id is not None:
        code = str(event_id)
        ecs["event.code"] = code
        ecs["winlog.event_id"] = code
    if isinstance(provider, str) and provider:
        ecs["event.provider"] = provider
        ecs["winlog.provider_name"] = provider
    if isinstance(channel, str) and channel:
        ecs["winlog.channel"] = channel
    computer = text(event.get("Computer"))
    if computer is not None:
        ecs["host.name"] = computer
        ecs["winlog.computer_name"] = computer
    record_id = text(event.get("EventRecordID"))
    if record_id is not None:
        ecs["winlog.record_id"] = record_id
    level = event.get("Level")
    if isinstance(level, int | str):
        name = _LOG_LEVELS.get(level)
        if name is not None:
            ecs["log.level"] = name
    sid = text(event.get("SecurityUserID"))
    if sid is not None:
        ecs["winlog.user.identifier"] = sid
    pid = as_int(event.get("Execution_ProcessID"))
    if pid is not None:
        ecs["winlog.process.pid"] = pid

    family = _family(channel, provider)
    spec: EventSpec | None = None
    if family is not None:
        ecs["event.dataset"] = DATASETS[family]
        if event_id is not None:
            spec = SPECS[family].get(event_id)
    if spec is not None:
        ecs["event.action"] = spec.action
        ecs["event.category"] = list(spec.category)
        ecs["event.type"] = list(spec.types)
        for step in spec.steps:
            step(event, ecs)
        if spec.outcome is not None:
            ecs["event.outcome"] = spec.outcome
    if "event.outcome" not in ecs:
        outcome = _outcome_from_keywords(event.get("Keywords", event.get("winlog.keywords")))
        if outcome is not None:
            ecs["event.outcome"] = outcome
    if sid is not None and "user.id" not in ecs:
        ecs["user.id"] = sid
    for side in ("source.ip", "destination.ip"):
        add_related(ecs, "related.ip", ecs.get(side))
    if spec is not None and "message" not in event:
        ecs["message"] = _message(spec, ecs)
    taken = ecs.keys() & event.keys()
    if taken:
        for key in taken:
            del ecs[key]
    event.update(ecs)


def _message(spec: EventSpec, ecs: Event) -> str:
    """The event's title and the few facts a person scanning a list needs."""
    parts = [spec.title]
    if "authentication" in spec.category:
        # Who, from where and how tell a logon; the process asking is a detail.
        detail = ecs.get("user.target.name")
    else:
        detail = (
            ecs.get("process.command_line")
            or ecs.get("registry.path")
            or ecs.get("file.path")
            or ecs.get("dns.question.name")
            or ecs.get("process.executable")
            or ecs.get("user.target.name")
            or ecs.get("service.name")
        )
    if detail:
        parts.append(f": {_clip(detail)}")
    destination = ecs.get("destination.ip")
    if destination:
        port = ecs.get("destination.port")
        parts.append(f" to {destination}" + (f":{port}" if port is not None else ""))
    user = ecs.get("user.name")
    if user:
        domain = ecs.get("user.domain")
        parts.append(f" by {domain}\\{user}" if domain else f" by {user}")
    source = ecs.get("source.ip")
    if source and not destination:
        parts.append(f" from {source}")
    kind = ecs.get("winlog.logon.type")
    if kind:
        parts.append(f" ({kind})")
    return "".join(parts)


def _clip(value: Any, limit: int = 200) -> str:
    shown = str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
