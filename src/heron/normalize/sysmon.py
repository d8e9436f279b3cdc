"""Mapping steps for Sysmon (Microsoft-Windows-Sysmon/Operational), event ids 1-29.

Field choices follow Elastic's Sysmon pipeline (``process.*`` from ``Image``,
``file.path`` from ``TargetFilename`` / ``ImageLoaded``, ``registry.*`` from
``TargetObject``, hashes lower-cased, the all-zero hash skipped), except that the
hashes of a deleted or blocked file (23, 26-29) describe ``file.hash``, not the
process.
"""

from __future__ import annotations

from typing import Any

from heron.model.event import Event
from heron.normalize.windows_steps import add_related, as_int, as_ip, basename, set_account, text

__all__ = [
    "sysmon_dns",
    "sysmon_driver",
    "sysmon_file",
    "sysmon_file_hashes",
    "sysmon_image_load",
    "sysmon_network",
    "sysmon_pipe",
    "sysmon_process",
    "sysmon_process_hashes",
    "sysmon_process_pe",
    "sysmon_raw_access",
    "sysmon_registry",
    "sysmon_source_process",
    "sysmon_user",
]

_HASH_NAMES = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "IMPHASH": "imphash",
    "SHA384": "sha384",
    "SHA512": "sha512",
}
_PE_FIELDS = (
    ("OriginalFileName", "original_file_name"),
    ("Company", "company"),
    ("Description", "description"),
    ("FileVersion", "file_version"),
    ("Product", "product"),
)
_HIVES = {
    "HKEY_CLASSES_ROOT": "HKCR",
    "HKCR": "HKCR",
    "HKEY_CURRENT_CONFIG": "HKCC",
    "HKCC": "HKCC",
    "HKEY_CURRENT_USER": "HKCU",
    "HKCU": "HKCU",
    "HKEY_LOCAL_MACHINE": "HKLM",
    "HKLM": "HKLM",
    "HKEY_USERS": "HKU",
    "HKU": "HKU",
}


def _hashes(raw: Event) -> dict[str, str]:
    """``SHA1=..,MD5=..,SHA256=..,IMPHASH=..`` as {algorithm: lower-case hex}."""
    value = raw.get("Hashes", raw.get("Hash"))
    if not isinstance(value, str) or "=" not in value:
        return {}
    found: dict[str, str] = {}
    for part in value.split(","):
        algorithm, _, digest = part.partition("=")
        name = _HASH_NAMES.get(algorithm.strip().upper())
        digest = digest.strip().lower()
        if name is not None and digest and digest.strip("0"):
            found[name] = digest
    return found


def _put_hashes(ecs: Event, prefix: str, hashes: dict[str, str]) -> None:
    for name, digest in hashes.items():
        key = f"{prefix}.pe.imphash" if name == "imphash" else f"{prefix}.hash.{name}"
        ecs[key] = digest
        add_related(ecs, "related.hash", digest)


def _path_parts(ecs: Event, prefix: str, path: str) -> None:
    ecs[prefix + ".path"] = path
    name = basename(path)
    ecs[prefix + ".name"] = name
    cut = max(path.rfind("\\"), path.rfind("/"))
    if cut > 0:
        ecs[prefix + ".directory"] = path[:cut]
    dot = name.rfind(".")
    if dot > 0:
        ecs[prefix + ".extension"] = name[dot + 1 :]


def _executable(ecs: Event, prefix: str, value: Any) -> None:
    path = text(value)
    if path is not None:
        ecs[prefix + ".executable"] = path
        ecs[prefix + ".name"] = basename(path)


def sysmon_user(raw: Event, ecs: Event) -> None:
    """``User`` (``DOMAIN\\name``) as ``user.domain`` / ``user.name``."""
    set_account(ecs, raw.get("User"))


def sysmon_process(raw: Event, ecs: Event) -> None:
    """The acting process (``Image``, ``ProcessId``) and, for 1, its parent and details."""
    _executable(ecs, "process", raw.get("Image"))
    pid = as_int(raw.get("ProcessId"))
    if pid is not None:
        ecs["process.pid"] = pid
    guid = text(raw.get("ProcessGuid"))
    if guid is not None:
        ecs["process.entity_id"] = guid
    command_line = text(raw.get("CommandLine"))
    if command_line is not None:
        ecs["process.command_line"] = command_line
    directory = text(raw.get("CurrentDirectory"))
    if directory is not None:
        ecs["process.working_directory"] = directory
    _executable(ecs, "process.parent", raw.get("ParentImage"))
    parent_pid = as_int(raw.get("ParentProcessId"))
    if parent_pid is not None:
        ecs["process.parent.pid"] = parent_pid
    parent_command = text(raw.get("ParentCommandLine"))
    if parent_command is not None:
        ecs["process.parent.command_line"] = parent_command
    parent_guid = text(raw.get("ParentProcessGuid"))
    if parent_guid is not None:
        ecs["process.parent.entity_id"] = parent_guid


def _pe(raw: Event, ecs: Event, prefix: str) -> None:
    for raw_key, name in _PE_FIELDS:
        value = text(raw.get(raw_key))
        if value is not None:
            ecs[f"{prefix}.pe.{name}"] = value


def sysmon_process_pe(raw: Event, ecs: Event) -> None:
    """1: the version resource of the process image as ``process.pe.*``."""
    _pe(raw, ecs, "process")


def sysmon_process_hashes(raw: Event, ecs: Event) -> None:
    _put_hashes(ecs, "process", _hashes(raw))


def sysmon_file_hashes(raw: Event, ecs: Event) -> None:
    _put_hashes(ecs, "file", _hashes(raw))


def sysmon_source_process(raw: Event, ecs: Event) -> None:
    """8 and 10: the process acting on another one is ``process.*``."""
    _executable(ecs, "process", raw.get("SourceImage"))
    pid = as_int(raw.get("SourceProcessId"))
    if pid is not None:
        ecs["process.pid"] = pid
    thread = as_int(raw.get("SourceThreadId"))
    if thread is not None:
        ecs["process.thread.id"] = thread
    guid = text(raw.get("SourceProcessGuid", raw.get("SourceProcessGUID")))
    if guid is not None:
        ecs["process.entity_id"] = guid
    if "User" not in raw:  # Sysmon 13+ names the acting account SourceUser
        set_account(ecs, raw.get("SourceUser"))


def sysmon_file(raw: Event, ecs: Event) -> None:
    """2, 11, 15, 23, 26-29: ``TargetFilename`` as ``file.*``."""
    path = text(raw.get("TargetFilename"))
    if path is not None:
        _path_parts(ecs, "file", path)


def sysmon_image_load(raw: Event, ecs: Event) -> None:
    """7: the module loaded, as ``file.*`` and ``dll.*``."""
    path = text(raw.get("ImageLoaded"))
    hashes = _hashes(raw)
    if path is not None:
        _path_parts(ecs, "file", path)
        ecs["dll.path"] = path
        ecs["dll.name"] = basename(path)
    _put_hashes(ecs, "file", hashes)
    for name, digest in hashes.items():
        ecs[f"dll.pe.{name}" if name == "imphash" else f"dll.hash.{name}"] = digest
    _pe(raw, ecs, "file")
    status = text(raw.get("SignatureStatus"))
    if status is not None:
        ecs["file.code_signature.status"] = status


def sysmon_driver(raw: Event, ecs: Event) -> None:
    """6: the driver file."""
    path = text(raw.get("ImageLoaded"))
    if path is not None:
        _path_parts(ecs, "file", path)
    _put_hashes(ecs, "file", _hashes(raw))
    signature = text(raw.get("Signature"))
    if signature is not None:
        ecs["file.code_signature.subject_name"] = signature


def sysmon_raw_access(raw: Event, ecs: Event) -> None:
    """9: the device read directly."""
    device = text(raw.get("Device"))
    if device is not None:
        ecs["file.path"] = device


def sysmon_pipe(raw: Event, ecs: Event) -> None:
    """17, 18: the named pipe."""
    pipe = text(raw.get("PipeName"))
    if pipe is not None:
        ecs["file.name"] = pipe


def sysmon_network(raw: Event, ecs: Event) -> None:
    """3: the connection's two ends, transport and direction."""
    for raw_key, side in (("SourceIp", "source"), ("DestinationIp", "destination")):
        ip = as_ip(raw.get(raw_key))
        if ip is not None:
            ecs[side + ".ip"] = ip
            add_related(ecs, "related.ip", ip)
    for raw_key, ecs_key in (
        ("SourcePort", "source.port"),
        ("DestinationPort", "destination.port"),
    ):
        port = as_int(raw.get(raw_key))
        if port is not None and 0 <= port <= 65535:
            ecs[ecs_key] = port
    for raw_key, ecs_key in (
        ("SourceHostname", "source.domain"),
        ("DestinationHostname", "destination.domain"),
    ):
        host = text(raw.get(raw_key))
        if host is not None:
            ecs[ecs_key] = host
    protocol = text(raw.get("Protocol"))
    if protocol is not None:
        ecs["network.transport"] = protocol.lower()
    initiated = raw.get("Initiated")
    if initiated in (True, "true", "True"):
        ecs["network.direction"] = "egress"
    elif initiated in (False, "false", "False"):
        ecs["network.direction"] = "ingress"


def sysmon_dns(raw: Event, ecs: Event) -> None:
    """22: the name asked and the addresses answered."""
    name = text(raw.get("QueryName"))
    if name is not None:
        ecs["dns.question.name"] = name
    ecs["network.protocol"] = "dns"
    results = raw.get("QueryResults")
    if isinstance(results, str) and results:
        resolved = []
        for answer in results.split(";"):
            ip = as_ip(answer)
            if ip is not None and ip not in resolved:
                resolved.append(ip)
                add_related(ecs, "related.ip", ip)
        if resolved:
            ecs["dns.resolved_ip"] = resolved


def sysmon_registry(raw: Event, ecs: Event) -> None:
    """12-14: the key or value as ``registry.*``."""
    path = text(raw.get("TargetObject"))
    if path is None:
        return
    ecs["registry.path"] = path
    parts = path.split("\\")
    hive = _HIVES.get(parts[0].upper())
    if hive is not None:
        ecs["registry.hive"] = hive
        if len(parts) > 1:
            ecs["registry.key"] = "\\".join(parts[1:])
    ecs["registry.value"] = parts[-1]
    details = text(raw.get("Details"))
    if details is not None:
        ecs["registry.data.strings"] = [details]
