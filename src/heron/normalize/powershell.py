"""Mapping steps for PowerShell events.

Two channels: ``Microsoft-Windows-PowerShell/Operational`` (4103 module logging with its
``ContextInfo`` block, 4104 script block logging, 4105/4106) and the classic
``Windows PowerShell`` log (400/403 engine, 600 provider, 800 pipeline), whose details
arrive as one ``key=value`` text in the unnamed ``Data`` list. Field names follow
Elastic's PowerShell pipelines.
"""

from __future__ import annotations

from typing import Any

from heron.model.event import Event
from heron.normalize.windows_steps import as_int, set_account, text

__all__ = ["classic_details", "module_logging", "script_block"]

# Detail keys (spaces removed) → ECS names, shared by ContextInfo and classic Data.
_DETAILS = {
    "HostApplication": "process.command_line",
    "HostID": "process.entity_id",
    "HostId": "process.entity_id",
    "HostName": "process.title",
    "HostVersion": "powershell.process.executable_version",
    "EngineVersion": "powershell.engine.version",
    "RunspaceID": "powershell.runspace_id",
    "RunspaceId": "powershell.runspace_id",
    "PipelineID": "powershell.pipeline_id",
    "PipelineId": "powershell.pipeline_id",
    "CommandName": "powershell.command.name",
    "CommandType": "powershell.command.type",
    "CommandPath": "powershell.command.path",
    "CommandLine": "powershell.command.value",
    "ScriptName": "file.path",
    "ShellID": "powershell.id",
    "NewEngineState": "powershell.engine.new_state",
    "PreviousEngineState": "powershell.engine.previous_state",
    "ProviderName": "powershell.provider.name",
    "NewProviderState": "powershell.provider.new_state",
}
_USER_KEYS = ("User", "UserId")


def _details(block: str) -> dict[str, str]:
    """``key=value`` (classic) or ``Key Name = value`` (ContextInfo) lines as a dict."""
    found: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        name = key.replace(" ", "").strip()
        if name and name.isalnum():
            found[name] = value.strip()
    return found


def _apply(details: dict[str, str], ecs: Event) -> None:
    for key, value in details.items():
        target = _DETAILS.get(key)
        if target is not None and value:
            ecs[target] = value
    sequence = as_int(details.get("SequenceNumber"))
    if sequence is not None:
        ecs["event.sequence"] = sequence
    for key in _USER_KEYS:
        if text(details.get(key)) is not None:
            set_account(ecs, details[key])
            break


def module_logging(raw: Event, ecs: Event) -> None:
    """4103: the ``ContextInfo`` block (host application, user, command)."""
    context = raw.get("ContextInfo")
    if isinstance(context, str):
        _apply(_details(context), ecs)


def script_block(raw: Event, ecs: Event) -> None:
    """4104-4106: the script block text, its id and the script path."""
    body = raw.get("ScriptBlockText")
    if isinstance(body, str) and body:
        ecs["powershell.file.script_block_text"] = body
    block_id = text(raw.get("ScriptBlockId"))
    if block_id is not None:
        ecs["powershell.file.script_block_id"] = block_id
    runspace = text(raw.get("RunspaceId"))
    if runspace is not None:
        ecs["powershell.runspace_id"] = runspace
    path = text(raw.get("Path"))
    if path is not None:
        ecs["file.path"] = path
    for raw_key, ecs_key in (
        ("MessageNumber", "powershell.sequence"),
        ("MessageTotal", "powershell.total"),
    ):
        number = as_int(raw.get(raw_key))
        if number is not None:
            ecs[ecs_key] = number


def _classic_blocks(raw: Event) -> list[str]:
    data: Any = raw.get("Data")
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, str)]
    # Winlogbeat renders unnamed Data as param1, param2, param3.
    return [v for k in ("param1", "param2", "param3") if isinstance(v := raw.get(k), str)]


def classic_details(raw: Event, ecs: Event) -> None:
    """400/403/600/800: the ``key=value`` details block of the classic log."""
    for block in _classic_blocks(raw):
        if "HostName=" in block or "EngineVersion=" in block or "HostApplication=" in block:
            _apply(_details(block), ecs)
            return
