"""Adapters: Windows Security events read with Sysmon's field names.

A Sigma ``process_creation`` rule is written against Sysmon event 1; pySigma's
windows-audit pipeline also runs it on Security 4688 by renaming fields
(``NewProcessName`` → ``Image`` …), and the registry categories on 4657
(``ObjectName`` + ``ObjectValueName`` → ``TargetObject`` …). A route names its adapter
(``logsource.py``); the matcher reads the event through it. ``heron.detect.sql_adapters``
writes the same renaming in SQL for retro-hunts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "ADAPTERS",
    "IDENTITY",
    "INTEGRITY_LEVELS",
    "REGISTRY_OPERATIONS",
    "REGISTRY_ROOTS",
    "Adapter",
]

Adapter = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]

#: Identity adapter: the event is read as it is.
IDENTITY = ""

INTEGRITY_LEVELS = {
    "S-1-16-0": "Untrusted",
    "S-1-16-4096": "Low",
    "S-1-16-8192": "Medium",
    "S-1-16-8448": "Medium Plus",
    "S-1-16-12288": "High",
    "S-1-16-16384": "System",
    "S-1-16-20480": "Protected Process",
}


def _hex_int(value: Any) -> Any:
    if isinstance(value, str) and value[:2].lower() == "0x":
        try:
            return int(value, 16)
        except ValueError:
            return value
    return value


def _security_4688(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """4688 as Sysmon process creation: NewProcessName → Image and so on."""
    view = dict(event)
    if "NewProcessName" in event:
        view.setdefault("Image", event["NewProcessName"])
    if "ParentProcessName" in event:
        view.setdefault("ParentImage", event["ParentProcessName"])
    if "SubjectLogonId" in event:
        view.setdefault("LogonId", event["SubjectLogonId"])
    user, domain = event.get("SubjectUserName"), event.get("SubjectDomainName")
    if "User" not in event and isinstance(user, str):
        view["User"] = f"{domain}\\{user}" if isinstance(domain, str) and domain else user
    # 4688's ProcessId is the creator's: Sysmon calls that ParentProcessId.
    if "NewProcessId" in event:
        view["ParentProcessId"] = _hex_int(event.get("ProcessId"))
        view["ProcessId"] = _hex_int(event["NewProcessId"])
    label = event.get("MandatoryLabel")
    if isinstance(label, str) and label in INTEGRITY_LEVELS:
        view.setdefault("IntegrityLevel", INTEGRITY_LEVELS[label])
    return view


REGISTRY_ROOTS = (("\\registry\\machine", "HKLM"), ("\\registry\\user", "HKU"))
REGISTRY_OPERATIONS = {
    "set": frozenset({"%%1905", "existing registry value modified"}),
    "add": frozenset({"%%1904", "new registry value created"}),
    "delete": frozenset({"%%1906", "registry value deleted"}),
}


def _security_4657(operations: frozenset[str] | None) -> Adapter:
    """4657 as Sysmon registry events: ObjectName+ObjectValueName → TargetObject …"""

    def adapt(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
        op = event.get("OperationType")
        if operations is not None and (not isinstance(op, str) or op.lower() not in operations):
            return None
        view = dict(event)
        if "ProcessName" in event:
            view.setdefault("Image", event["ProcessName"])
        key = event.get("ObjectName")
        if isinstance(key, str):
            for prefix, root in REGISTRY_ROOTS:
                if key.lower().startswith(prefix):
                    key = root + key[len(prefix) :]
                    break
            value_name = event.get("ObjectValueName")
            if isinstance(value_name, str) and value_name:
                key = f"{key}\\{value_name}"
            view.setdefault("TargetObject", key)
        if "NewValue" in event:
            view.setdefault("Details", event["NewValue"])
        if "SubjectLogonId" in event:
            view.setdefault("LogonId", event["SubjectLogonId"])
        return view

    return adapt


def _identity(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return event


#: Adapter name → function (names are what routes and caches hold).
ADAPTERS: dict[str, Adapter] = {
    IDENTITY: _identity,
    "security_4688": _security_4688,
    "security_4657": _security_4657(REGISTRY_OPERATIONS["set"] | REGISTRY_OPERATIONS["add"]),
    "security_4657_set": _security_4657(REGISTRY_OPERATIONS["set"]),
    "security_4657_add": _security_4657(REGISTRY_OPERATIONS["add"]),
    "security_4657_delete": _security_4657(REGISTRY_OPERATIONS["delete"]),
}
