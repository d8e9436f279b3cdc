"""Field names: Sigma's vendor names → ECS names, used when the vendor field is absent.

Sigma rules name fields as the source logs them (Sysmon ``Image``, CloudTrail
``eventName``). Events keep those names, so matching reads them first; an event that
only carries the ECS form (from a shipper that already normalized it, or from a
source whose parser maps straight to ECS) is still matched through this table.
``ENTITY_FIELDS`` says which fields name the entities of a detection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ECS_FALLBACK", "ENTITY_FIELDS", "entities_of"]

#: Sigma (vendor) field name → the ECS field read when the vendor field is absent.
ECS_FALLBACK: dict[str, str] = {
    # Windows / Sysmon process events
    "Image": "process.executable",
    "CommandLine": "process.command_line",
    "ParentImage": "process.parent.executable",
    "ParentCommandLine": "process.parent.command_line",
    "OriginalFileName": "process.pe.original_file_name",
    "Description": "process.pe.description",
    "Product": "process.pe.product",
    "Company": "process.pe.company",
    "ProcessId": "process.pid",
    "ParentProcessId": "process.parent.pid",
    "CurrentDirectory": "process.working_directory",
    "ProcessGuid": "process.entity_id",
    "ParentProcessGuid": "process.parent.entity_id",
    "User": "user.name",
    "LogonId": "winlog.logon.id",
    "IntegrityLevel": "winlog.event_data.IntegrityLevel",
    # network
    "SourceIp": "source.ip",
    "SourcePort": "source.port",
    "SourceHostname": "source.domain",
    "DestinationIp": "destination.ip",
    "DestinationPort": "destination.port",
    "DestinationHostname": "destination.domain",
    "Protocol": "network.transport",
    "Initiated": "network.direction",
    # DNS, files, registry, modules
    "QueryName": "dns.question.name",
    "TargetFilename": "file.path",
    "TargetObject": "registry.path",
    "Details": "registry.data.strings",
    "ImageLoaded": "dll.path",
    # Windows event metadata
    "EventID": "event.code",
    "Channel": "winlog.channel",
    "Provider_Name": "winlog.provider_name",
    "Computer": "host.name",
    "ComputerName": "host.name",
    "SubjectUserName": "user.name",
    "SubjectDomainName": "user.domain",
    "TargetUserName": "user.target.name",
    "IpAddress": "source.ip",
    "IpPort": "source.port",
    "WorkstationName": "source.domain",
    "LogonType": "winlog.logon.type",
    "ServiceName": "service.name",
    # AWS CloudTrail
    "eventName": "event.action",
    "eventSource": "event.provider",
    "sourceIPAddress": "source.ip",
    "userAgent": "user_agent.original",
    "awsRegion": "cloud.region",
    "recipientAccountId": "cloud.account.id",
    # web server / proxy (W3C names SigmaHQ uses)
    "c-ip": "source.ip",
    "c-uri": "url.original",
    "c-uri-query": "url.query",
    "c-uri-extension": "url.extension",
    "c-useragent": "user_agent.original",
    "cs-method": "http.request.method",
    "cs-host": "url.domain",
    "cs-referrer": "http.request.referrer",
    "cs-uri-query": "url.query",
    "cs-uri-stem": "url.path",
    "cs-user-agent": "user_agent.original",
    "sc-status": "http.response.status_code",
    "r-dns": "url.domain",
    "dst_ip": "destination.ip",
    "src_ip": "source.ip",
    "dst_port": "destination.port",
    "src_port": "source.port",
    # Linux (auditd, syslog)
    "exe": "process.executable",
    "comm": "process.name",
    "pid": "process.pid",
    "ppid": "process.parent.pid",
    "uid": "user.id",
    "hostname": "host.name",
    "query": "dns.question.name",
}

#: Entity field (ECS name) → vendor fields that hold it, read in order when absent.
ENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "user.name": ("User", "TargetUserName", "SubjectUserName", "userIdentity.userName"),
    "host.name": ("Computer", "ComputerName", "hostname"),
    "host.ip": (),
    "source.ip": ("SourceIp", "IpAddress", "sourceIPAddress", "c-ip", "src_ip"),
    "destination.ip": ("DestinationIp", "dst_ip"),
    "process.executable": ("Image", "NewProcessName", "exe"),
    "file.path": ("TargetFilename",),
    "dns.question.name": ("QueryName",),
    "url.original": ("c-uri",),
    "cloud.account.id": ("recipientAccountId",),
}


_ENTITY_LOOKUPS = tuple((name, (name, *vendor)) for name, vendor in ENTITY_FIELDS.items())
_ENTITY_KEYS = frozenset(key for _, keys in _ENTITY_LOOKUPS for key in keys)


def _text(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def entities_of(event: Mapping[str, Any]) -> dict[str, str]:
    """The entity fields present in an event: ECS name first, then its vendor names."""
    out: dict[str, str] = {}
    # Most events hold two or three of the thirty names: find those in one pass over
    # the event's keys instead of looking each name up (this runs once per detection).
    present = _ENTITY_KEYS.intersection(event)
    if not present:
        return out
    for name, keys in _ENTITY_LOOKUPS:
        for key in keys:
            if key in present:
                value = event[key]
                text = value if type(value) is str and value else _text(value)
                if text is not None:
                    out[name] = text
                    break
    return out
