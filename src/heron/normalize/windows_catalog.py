"""What each Windows event means in ECS, per log family and event id.

The meanings live in ``windows_events.yml`` (data, not code): per (family, event id)
``event.action``, ``event.category`` and ``event.type`` (the values Elastic's Windows
and System integrations give), a title for ``message``, an outcome where the id alone
decides it, and the names of the mapping steps that read its fields. ``STEPS`` is the
explicit table of those names. Looking an event up is two dict lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from heron.normalize import powershell as ps
from heron.normalize import sysmon as sm
from heron.normalize import windows_steps as ws

__all__ = [
    "DATASETS",
    "FAMILY_BY_CHANNEL",
    "FAMILY_BY_PROVIDER",
    "POWERSHELL",
    "POWERSHELL_CLASSIC",
    "SECURITY",
    "SPECS",
    "STEPS",
    "SYSMON",
    "SYSMON_LINUX",
    "SYSTEM",
    "EventSpec",
    "load_specs",
]

SECURITY, SYSMON, POWERSHELL, POWERSHELL_CLASSIC, SYSTEM = (
    "security",
    "sysmon",
    "powershell",
    "powershell_classic",
    "system",
)
#: Sysmon for Linux: Sysmon's event ids and fields, on Linux (``Linux-Sysmon/Operational``).
SYSMON_LINUX = "sysmon_linux"

FAMILY_BY_CHANNEL: dict[str, str] = {
    "Security": SECURITY,
    "Microsoft-Windows-Sysmon/Operational": SYSMON,
    "Linux-Sysmon/Operational": SYSMON_LINUX,
    "Microsoft-Windows-PowerShell/Operational": POWERSHELL,
    "PowerShellCore/Operational": POWERSHELL,
    "Windows PowerShell": POWERSHELL_CLASSIC,
    "System": SYSTEM,
}
# For records without a channel (ETW captures) or from a forwarded-events log.
FAMILY_BY_PROVIDER: dict[str, str] = {
    "Microsoft-Windows-Security-Auditing": SECURITY,
    "Microsoft-Windows-Sysmon": SYSMON,
    "Linux-Sysmon": SYSMON_LINUX,
    "Microsoft-Windows-PowerShell": POWERSHELL,
    "PowerShellCore": POWERSHELL,
    "PowerShell": POWERSHELL_CLASSIC,
    "Service Control Manager": SYSTEM,
}
DATASETS: dict[str, str] = {
    SECURITY: "system.security",
    SYSMON: "windows.sysmon_operational",
    POWERSHELL: "windows.powershell_operational",
    POWERSHELL_CLASSIC: "windows.powershell",
    SYSTEM: "system.system",
    SYSMON_LINUX: "sysmon_linux.log",
}

#: Step name (as written in windows_events.yml) → step.
STEPS: dict[str, ws.Step] = {
    "subject_user": ws.subject_user,
    "logon_user": ws.logon_user,
    "target_account": ws.target_account,
    "effective_user": ws.effective_user,
    "group_member": ws.group_member,
    "renamed_account": ws.renamed_account,
    "auth_source": ws.auth_source,
    "logon_details": ws.logon_details,
    "status_outcome": ws.status_outcome,
    "security_process": ws.security_process,
    "object_access": ws.object_access,
    "share_access": ws.share_access,
    "filtering_platform": ws.filtering_platform,
    "service_fields": ws.service_fields,
    "session_fields": ws.session_fields,
    "sysmon_user": sm.sysmon_user,
    "sysmon_process": sm.sysmon_process,
    "sysmon_process_hashes": sm.sysmon_process_hashes,
    "sysmon_process_pe": sm.sysmon_process_pe,
    "sysmon_file_hashes": sm.sysmon_file_hashes,
    "sysmon_source_process": sm.sysmon_source_process,
    "sysmon_file": sm.sysmon_file,
    "sysmon_image_load": sm.sysmon_image_load,
    "sysmon_driver": sm.sysmon_driver,
    "sysmon_raw_access": sm.sysmon_raw_access,
    "sysmon_pipe": sm.sysmon_pipe,
    "sysmon_network": sm.sysmon_network,
    "sysmon_dns": sm.sysmon_dns,
    "sysmon_registry": sm.sysmon_registry,
    "module_logging": ps.module_logging,
    "script_block": ps.script_block,
    "classic_details": ps.classic_details,
}
_OUTCOMES = frozenset({"success", "failure", "unknown"})


@dataclass(frozen=True, slots=True)
class EventSpec:
    """The ECS meaning of one Windows event id in one log family."""

    action: str
    category: tuple[str, ...]
    types: tuple[str, ...]
    title: str
    steps: tuple[ws.Step, ...] = ()
    outcome: str | None = None


def _spec(where: str, entry: Any) -> EventSpec:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a mapping")
    unknown = [name for name in entry.get("steps", []) if name not in STEPS]
    if unknown:
        raise ValueError(f"{where}: unknown steps {unknown}")
    outcome = entry.get("outcome")
    if outcome is not None and outcome not in _OUTCOMES:
        raise ValueError(f"{where}: outcome must be one of {sorted(_OUTCOMES)}")
    return EventSpec(
        action=str(entry["action"]),
        category=tuple(entry["category"]),
        types=tuple(entry["type"]),
        title=str(entry["title"]),
        steps=tuple(STEPS[name] for name in entry.get("steps", [])),
        outcome=outcome,
    )


def load_specs(text: str) -> dict[str, dict[int, EventSpec]]:
    """family → event id → spec, from the YAML text of a catalog."""
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise ValueError("a Windows event catalog is a mapping of families")
    specs: dict[str, dict[int, EventSpec]] = {}
    for family, table in data.items():
        if family not in DATASETS:
            raise ValueError(f"unknown log family {family!r}")
        specs[family] = {int(eid): _spec(f"{family} {eid}", e) for eid, e in table.items()}
    return specs


#: family → event id → spec.
SPECS: dict[str, dict[int, EventSpec]] = load_specs(
    resources.files("heron.normalize").joinpath("windows_events.yml").read_text(encoding="utf-8")
)
SPECS[SYSMON_LINUX] = SPECS[SYSMON]
