"""Sigma log sources → which events a rule applies to, and how it sees their fields.

Routing is decided per event *signature*, not per event: a Windows event's signature
is ``(channel, event id)``; any other event's is a handful of ECS fields
(``event.module``, ``event.dataset``, ``cloud.provider``, ``process.name``,
``host.os.type``, ``event.category``/``event.type``) plus a vendor marker found by key
presence. The matcher memoizes signature → rule groups, so routing costs one dict
lookup per event.

Windows follows pySigma's own pipelines: categories map to Sysmon event ids
(pySigma-pipeline-sysmon), ``process_creation`` also to Security 4688 and the registry
categories to Security 4657 with their fields renamed to Sysmon's (the windows-audit
pipeline, ``adapters.py``), ``ps_*`` categories to the PowerShell channels, and services to channels
(``sigma.pipelines.common.windows_logsource_mapping``). Other products are matched by
the conventions Heron's parsers follow: ``event.module`` is the product (``aws``,
``azure``, ``okta``, ``zeek`` …), ``event.dataset`` is ``<module>.<service>``, syslog
programs are in ``process.name``; categories map to ECS ``event.category`` and
``event.type`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heron.detect.sigma.adapters import IDENTITY
from heron.detect.sigma.ir import LogSource

__all__ = [
    "Route",
    "Signature",
    "route_for",
    "routing_warning",
    "signature",
    "windows_categories",
]

Signature = tuple[Any, ...]

SYSMON = "Microsoft-Windows-Sysmon/Operational"
LINUX_SYSMON = "Linux-Sysmon/Operational"
SECURITY = "Security"
POWERSHELL = ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational")
POWERSHELL_CLASSIC = "Windows PowerShell"

#: Sigma category → Sysmon event ids (pySigma-pipeline-sysmon, plus 26 for file_delete:
#: FileDeleteDetected carries the same fields as FileDelete).
SYSMON_EVENTS: dict[str, tuple[int, ...]] = {
    "process_creation": (1,),
    "file_change": (2,),
    "network_connection": (3,),
    "sysmon_status": (4, 16),
    "process_termination": (5,),
    "driver_load": (6,),
    "image_load": (7,),
    "create_remote_thread": (8,),
    "raw_access_thread": (9,),
    "process_access": (10,),
    "file_event": (11,),
    "registry_add": (12,),
    "registry_delete": (12,),
    "registry_set": (13,),
    "registry_rename": (14,),
    "registry_event": (12, 13, 14),
    "create_stream_hash": (15,),
    "pipe_created": (17, 18),
    "wmi_event": (19, 20, 21),
    "dns_query": (22,),
    "file_delete": (23, 26),
    "clipboard_capture": (24,),
    "process_tampering": (25,),
    "file_delete_detected": (26,),
    "file_block_executable": (27,),
    "file_block_shredding": (28,),
    "file_executable_detected": (29,),
    "sysmon_error": (255,),
}


@dataclass(frozen=True, slots=True)
class _WinRoute:
    channels: frozenset[str]
    event_ids: frozenset[int] | None  # None: any event id
    adapter: str = IDENTITY


def _sysmon(category: str) -> _WinRoute:
    return _WinRoute(frozenset({SYSMON}), frozenset(SYSMON_EVENTS[category]))


#: Windows category → where its events come from (beyond Sysmon's table).
WINDOWS_CATEGORY_ROUTES: dict[str, tuple[_WinRoute, ...]] = {
    category: (_sysmon(category),) for category in SYSMON_EVENTS
}
WINDOWS_CATEGORY_ROUTES["process_creation"] += (
    _WinRoute(frozenset({SECURITY}), frozenset({4688}), "security_4688"),
)
WINDOWS_CATEGORY_ROUTES["registry_event"] += (
    _WinRoute(frozenset({SECURITY}), frozenset({4657}), "security_4657"),
)
WINDOWS_CATEGORY_ROUTES["registry_set"] += (
    _WinRoute(frozenset({SECURITY}), frozenset({4657}), "security_4657_set"),
)
WINDOWS_CATEGORY_ROUTES["registry_add"] += (
    _WinRoute(frozenset({SECURITY}), frozenset({4657}), "security_4657_add"),
)
WINDOWS_CATEGORY_ROUTES["registry_delete"] += (
    _WinRoute(frozenset({SECURITY}), frozenset({4657}), "security_4657_delete"),
)
WINDOWS_CATEGORY_ROUTES.update(
    {
        "ps_script": (_WinRoute(frozenset(POWERSHELL), frozenset({4104})),),
        "ps_module": (_WinRoute(frozenset(POWERSHELL), frozenset({4103})),),
        "ps_classic_start": (_WinRoute(frozenset({POWERSHELL_CLASSIC}), frozenset({400})),),
        "ps_classic_provider_start": (
            _WinRoute(frozenset({POWERSHELL_CLASSIC}), frozenset({600})),
        ),
        "ps_classic_script": (_WinRoute(frozenset({POWERSHELL_CLASSIC}), frozenset({800})),),
    }
)


#: pySigma's Windows service → channels table (``sigma.pipelines.common``
#: ``windows_logsource_mapping``, pySigma 2.0), written out: importing pySigma's
#: pipelines costs a noticeable part of start-up. A unit test keeps the two in step.
PYSIGMA_SERVICE_CHANNELS: dict[str, tuple[str, ...]] = {
    "application": ("Application",),
    "application-experience": (
        "Microsoft-Windows-Application-Experience/Program-Telemetry",
        "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant",
    ),
    "applocker": (
        "Microsoft-Windows-AppLocker/MSI and Script",
        "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "Microsoft-Windows-AppLocker/Packaged app-Execution",
    ),
    "appmodel-runtime": ("Microsoft-Windows-AppModel-Runtime/Admin",),
    "appxdeployment-server": ("Microsoft-Windows-AppXDeploymentServer/Operational",),
    "appxpackaging-om": ("Microsoft-Windows-AppxPackaging/Operational",),
    "bitlocker": ("Microsoft-Windows-BitLocker/BitLocker Management",),
    "bits-client": ("Microsoft-Windows-Bits-Client/Operational",),
    "capi2": ("Microsoft-Windows-CAPI2/Operational",),
    "certificateservicesclient-lifecycle-system": (
        "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
    ),
    "codeintegrity-operational": ("Microsoft-Windows-CodeIntegrity/Operational",),
    "dhcp": ("Microsoft-Windows-DHCP-Server/Operational",),
    "diagnosis-scripted": ("Microsoft-Windows-Diagnosis-Scripted/Operational",),
    "dns-client": ("Microsoft-Windows-DNS Client Events/Operational",),
    "dns-server": ("DNS Server",),
    "dns-server-analytic": ("Microsoft-Windows-DNS-Server/Analytical",),
    "dns-server-audit": ("Microsoft-Windows-DNS-Server/Audit",),
    "driver-framework": ("Microsoft-Windows-DriverFrameworks-UserMode/Operational",),
    "firewall-as": ("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",),
    "hyper-v-worker": ("Microsoft-Windows-Hyper-V-Worker",),
    "iis-configuration": ("Microsoft-IIS-Configuration/Operational",),
    "kernel-event-tracing": ("Microsoft-Windows-Kernel-EventTracing",),
    "kernel-shimengine": (
        "Microsoft-Windows-Kernel-ShimEngine/Operational",
        "Microsoft-Windows-Kernel-ShimEngine/Diagnostic",
    ),
    "ldap": ("Microsoft-Windows-LDAP-Client/Debug",),
    "ldap_debug": ("Microsoft-Windows-LDAP-Client/Debug",),
    "lsa-server": ("Microsoft-Windows-LSA/Operational",),
    "microsoft-servicebus-client": (
        "Microsoft-ServiceBus-Client/Operational",
        "Microsoft-ServiceBus-Client/Admin",
    ),
    "msexchange-management": ("MSExchange Management",),
    "ntfs": ("Microsoft-Windows-Ntfs/Operational",),
    "ntlm": ("Microsoft-Windows-NTLM/Operational",),
    "openssh": ("OpenSSH/Operational",),
    "powershell": (
        "Microsoft-Windows-PowerShell/Operational",
        "PowerShellCore/Operational",
    ),
    "powershell-classic": ("Windows PowerShell",),
    "printservice-admin": ("Microsoft-Windows-PrintService/Admin",),
    "printservice-operational": ("Microsoft-Windows-PrintService/Operational",),
    "security": ("Security",),
    "security-mitigations": (
        "Microsoft-Windows-Security-Mitigations/Kernel Mode",
        "Microsoft-Windows-Security-Mitigations/User Mode",
    ),
    "sense": ("Microsoft-Windows-SENSE/Operational",),
    "servicebus-client": (
        "Microsoft-ServiceBus-Client/Operational",
        "Microsoft-ServiceBus-Client/Admin",
    ),
    "shell-core": ("Microsoft-Windows-Shell-Core/Operational",),
    "smbclient-security": ("Microsoft-Windows-SmbClient/Security",),
    "sysmon": ("Microsoft-Windows-Sysmon/Operational",),
    "system": ("System",),
    "taskscheduler": ("Microsoft-Windows-TaskScheduler/Operational",),
    "terminalservices-localsessionmanager": (
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    ),
    "vhdmp": ("Microsoft-Windows-VHDMP/Operational",),
    "windefend": ("Microsoft-Windows-Windows Defender/Operational",),
    "wmi": ("Microsoft-Windows-WMI-Activity/Operational",),
}

#: Windows service → channels (pySigma's table, plus services SigmaHQ uses it lacks).
WINDOWS_SERVICE_CHANNELS: dict[str, frozenset[str]] = {
    service: frozenset(channels) for service, channels in PYSIGMA_SERVICE_CHANNELS.items()
}
WINDOWS_SERVICE_CHANNELS.update(
    {
        "smbclient-connectivity": frozenset({"Microsoft-Windows-SmbClient/Connectivity"}),
        "smbserver-connectivity": frozenset({"Microsoft-Windows-SMBServer/Connectivity"}),
        "smbserver-security": frozenset({"Microsoft-Windows-SMBServer/Security"}),
        "dns-server-audit": frozenset({"Microsoft-Windows-DNS-Server/Audit"}),
        "powershell": frozenset(POWERSHELL),
        "sysmon": frozenset({SYSMON}),
    }
)


def _channel_key(channel: str) -> str:
    """``Microsoft-Windows-SmbClient/Connectivity`` → ``smbclient-connectivity``."""
    key = channel.lower()
    key = key.removeprefix("microsoft-windows-")
    return key.replace("/", "-").replace(" ", "-")


# --- ECS categories -------------------------------------------------------------------

#: Sigma category → (ECS event.category values, ECS event.type values or None for any).
ECS_CATEGORIES: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    "process_creation": (frozenset({"process"}), frozenset({"start"})),
    "process_termination": (frozenset({"process"}), frozenset({"end"})),
    "network_connection": (frozenset({"network"}), frozenset({"connection", "start"})),
    "file_event": (frozenset({"file"}), frozenset({"creation"})),
    "file_change": (frozenset({"file"}), frozenset({"change"})),
    "file_rename": (frozenset({"file"}), frozenset({"change"})),
    "file_delete": (frozenset({"file"}), frozenset({"deletion"})),
    "file_access": (frozenset({"file"}), frozenset({"access"})),
    "registry_add": (frozenset({"registry"}), frozenset({"creation"})),
    "registry_set": (frozenset({"registry"}), frozenset({"change"})),
    "registry_delete": (frozenset({"registry"}), frozenset({"deletion"})),
    "registry_event": (frozenset({"registry"}), None),
    "image_load": (frozenset({"library"}), None),
    "driver_load": (frozenset({"driver"}), None),
    "webserver": (frozenset({"web"}), None),
    "antivirus": (frozenset({"malware", "intrusion_detection"}), None),
    "database": (frozenset({"database"}), None),
    "authentication": (frozenset({"authentication"}), None),
}

#: Categories recognised by the dataset or module name (ECS has no category for them).
HINT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "proxy": ("proxy", "squid", "zscaler", "bluecoat"),
    "firewall": ("firewall", "pfsense", "iptables", "fortigate", "paloalto", "asa", "netfilter"),
    "dns": ("dns",),
    "dns_query": ("dns",),
}

#: Product → event.module values (beyond the product name itself).
PRODUCT_MODULES: dict[str, frozenset[str]] = {
    "windows": frozenset({"windows", "winlog", "sysmon"}),
    "linux": frozenset({"linux", "auditd", "system", "syslog", "sysmon_linux"}),
    "macos": frozenset({"macos", "darwin", "esf", "unified_log"}),
    "aws": frozenset({"aws", "cloudtrail"}),
    "azure": frozenset({"azure", "entra", "entra_id"}),
    "gcp": frozenset({"gcp", "google_workspace"}),
    "m365": frozenset({"m365", "o365", "microsoft365", "office365"}),
    "okta": frozenset({"okta"}),
}

#: Vendor records recognised by their own keys when no parser named the module.
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("aws", ("eventSource", "eventName", "awsRegion")),
    ("gcp", ("protoPayload.methodName",)),
    ("okta", ("eventType", "actor.alternateId")),
    ("m365", ("Workload", "Operation")),
    ("azure", ("operationName", "resourceId")),
)

_MARKER_KEYS = tuple((name, keys[0], keys[1:]) for name, keys in _MARKERS)

#: (product, service) → process names (syslog programs) whose lines it covers.
PROGRAMS: dict[tuple[str, str], frozenset[str]] = {
    ("linux", "sshd"): frozenset({"sshd"}),
    ("linux", "sudo"): frozenset({"sudo"}),
    ("linux", "su"): frozenset({"su"}),
    ("linux", "cron"): frozenset({"cron", "crond", "CRON", "anacron"}),
    ("linux", "vsftpd"): frozenset({"vsftpd"}),
    ("linux", "clamav"): frozenset({"clamd", "freshclam", "clamav", "clamscan"}),
    ("linux", "guacamole"): frozenset({"guacd", "guacamole"}),
    ("linux", "auth"): frozenset(
        {
            "sshd",
            "sudo",
            "su",
            "login",
            "passwd",
            "useradd",
            "userdel",
            "usermod",
            "groupadd",
            "groupdel",
            "chpasswd",
            "chage",
            "systemd-logind",
            "polkitd",
            "gdm-password",
        }
    ),
}


def _text(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


#: ``event.category``/``event.type`` values seen → their sets; a few dozen in practice.
_SETS: dict[Any, frozenset[str]] = {}
_MAX_SETS = 4096
_EMPTY_SET: frozenset[str] = frozenset()


def _set(value: Any) -> frozenset[str]:
    if value is None:
        return _EMPTY_SET
    cls = value.__class__
    if cls is list or cls is tuple:
        try:
            key: Any = tuple(value)
            found = _SETS.get(key)
        except TypeError:  # an unhashable item: nothing to remember it by
            return frozenset(v.lower() for v in value if isinstance(v, str))
    elif cls is str:
        key = value
        found = _SETS.get(key)
    else:
        return _set_of(value)
    if found is None:
        found = _set_of(value)
        if len(_SETS) >= _MAX_SETS:
            _SETS.clear()
        _SETS[key] = found
    return found


def _set_of(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value.lower()})
    if isinstance(value, (list, tuple)):
        return frozenset(v.lower() for v in value if isinstance(v, str))
    return _EMPTY_SET


def _event_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def signature(event: Mapping[str, Any]) -> Signature:
    """What routing depends on, as a hashable tuple."""
    channel = event.get("Channel")
    if channel is not None:
        eid = event.get("EventID")
        if eid.__class__ is int:  # the common case: an EVTX record
            return ("w", channel, eid)
    else:
        channel = event.get("winlog.channel")
    module = _text(event.get("event.module"))
    if channel is not None or module == "windows":
        eid = event.get("EventID")
        if eid is None:
            eid = event.get("winlog.event_id")
            if eid is None:
                eid = event.get("event.code")
        return ("w", channel, _event_id(eid))
    marker = None
    for name, first, rest in _MARKER_KEYS:
        # The first key alone rules out nearly every event, without a generator.
        if first in event and all(k in event for k in rest):
            marker = name
            break
    auditd_type = event.get("type") if module == "auditd" or marker == "auditd" else None
    return (
        "o",
        module,
        _text(event.get("event.dataset")),
        _text(event.get("cloud.provider")),
        event.get("process.name") if isinstance(event.get("process.name"), str) else None,
        _text(event.get("host.os.type")) or _text(event.get("host.os.platform")),
        marker,
        _set(event.get("event.category")),
        _set(event.get("event.type")),
        auditd_type if isinstance(auditd_type, str) else None,
    )


@dataclass(frozen=True, slots=True)
class Route:
    """A rule group applies to an event, read through ``adapter``."""

    adapter: str = IDENTITY


#: Routes are immutable: one object per adapter, not one per routing question.
_PLAIN_ROUTE = Route()
_ADAPTED_ROUTES: dict[str, Route] = {}


def _adapted(adapter: str) -> Route:
    route = _ADAPTED_ROUTES.get(adapter)
    if route is None:
        route = _ADAPTED_ROUTES[adapter] = Route(adapter)
    return route


def _windows_route(ls: LogSource, channel: Any, eid: int | None) -> Route | None:
    if channel == LINUX_SYSMON:
        return None
    accepted: Route | None = _PLAIN_ROUTE
    if ls.category is not None:
        accepted = None
        for route in WINDOWS_CATEGORY_ROUTES.get(ls.category, ()):
            if channel in route.channels and (route.event_ids is None or eid in route.event_ids):
                accepted = _adapted(route.adapter)
                break
        if accepted is None:
            return None
    if ls.service is not None:
        channels = WINDOWS_SERVICE_CHANNELS.get(ls.service)
        if channels is not None:
            if channel not in channels:
                return None
        elif not isinstance(channel, str) or _channel_key(channel) != ls.service:
            return None
    return accepted


def _ecs_category(category: str, sig: Signature) -> bool:
    module, dataset = sig[1] or "", sig[2] or ""
    cats, types = sig[7], sig[8]
    spec = ECS_CATEGORIES.get(category)
    if spec is not None:
        want_cats, want_types = spec
        if cats & want_cats and (want_types is None or types & want_types):
            return True
    hints = HINT_CATEGORIES.get(category)
    if hints is not None and any(h in module or h in dataset for h in hints):
        return True
    if category == "process_creation" and sig[9] == "EXECVE":
        return True
    # Categories that only name a kind of application (``application``) add nothing.
    return category == "application"


def _product(product: str, sig: Signature) -> bool:
    module, provider, os_type, marker = sig[1], sig[3], sig[5], sig[6]
    modules = PRODUCT_MODULES.get(product, frozenset()) | {product}
    if module in modules or provider == product or marker == product:
        return True
    if product in ("linux", "macos", "windows") and os_type is not None:
        return os_type == product or (product == "macos" and os_type == "darwin")
    dataset = sig[2]
    return dataset is not None and dataset.startswith(product + ".")


#: SigmaHQ's ``service: apache`` rules read Apache's error log (``apache.error``);
#: access logs are ``category: webserver``.
APACHE_ERROR_SERVICE = "apache"


def _service(product: str | None, service: str, sig: Signature) -> bool:
    module, dataset, program = sig[1], sig[2], sig[4]
    if product is not None:
        programs = PROGRAMS.get((product, service))
        if programs is not None and program in programs:
            return True
    if product == "linux":
        if service == "auditd":
            return module == "auditd" or (dataset or "").startswith("auditd")
        if service == "syslog":
            return module in ("system", "syslog", "linux") or dataset in ("system.syslog", "syslog")
        if service == "auth":
            return dataset in ("system.auth", "auth", "linux.auth")
    if product == "aws" and service == "cloudtrail" and sig[6] == "aws":
        return True
    if product == "m365":
        # One Management Activity feed (m365.audit) carries every workload; the rules
        # name theirs (Workload, eventSource) in their own detection.
        return True
    if (
        service == APACHE_ERROR_SERVICE
        and product in (None, "apache")
        and dataset == "apache.error"
    ):
        return True
    if dataset is not None:
        names = {service, f"{product}.{service}", f"{module}.{service}"}
        if dataset in names:
            return True
    return bool(program == service)


def windows_categories(sig: Signature) -> frozenset[str] | None:
    """For a Windows signature, the categories its events can be routed to: a log
    source with another category never applies (``route_for`` says None). None when
    that is not known this way (not a Windows signature, or a Linux Sysmon one)."""
    if sig[0] != "w" or sig[1] == LINUX_SYSMON:
        return None
    channel, eid = sig[1], sig[2]
    return frozenset(
        category
        for category, routes in WINDOWS_CATEGORY_ROUTES.items()
        if any(
            channel in route.channels and (route.event_ids is None or eid in route.event_ids)
            for route in routes
        )
    )


def route_for(ls: LogSource, sig: Signature) -> Route | None:
    """How a rule with log source ``ls`` applies to events of signature ``sig``, if at all."""
    if sig[0] == "w":
        channel, eid = sig[1], sig[2]
        if channel == LINUX_SYSMON:
            if ls.product not in (None, "linux") or ls.service not in (None, "sysmon"):
                return None
            if ls.category is None:
                return _PLAIN_ROUTE if ls.product == "linux" else None
            eids = SYSMON_EVENTS.get(ls.category)
            return _PLAIN_ROUTE if eids is not None and eid in eids else None
        if ls.product != "windows":
            return None
        return _windows_route(ls, channel, eid)
    if ls.product is not None and not _product(ls.product, sig):
        return None
    if ls.product is None and ls.category is None and ls.service is None:
        return None
    if ls.service is not None and not _service(ls.product, ls.service, sig):
        return None
    if ls.category is not None and not _ecs_category(ls.category, sig):
        return None
    return _PLAIN_ROUTE


def routing_warning(ls: LogSource) -> str | None:
    """Why a log source may never see events (for ``heron rules lint``), if it may not."""
    if ls.product == "windows":
        if ls.category is not None and ls.category not in WINDOWS_CATEGORY_ROUTES:
            if ls.category in ECS_CATEGORIES:
                return (
                    f"windows category {ls.category!r} has no event-log channel; "
                    "it matches only ECS events (event.category/event.type)"
                )
            return f"windows category {ls.category!r} is not routed to any event"
        if ls.service is not None and ls.service not in WINDOWS_SERVICE_CHANNELS:
            return (
                f"windows service {ls.service!r} has no known channel; it matches channels "
                f"named Microsoft-Windows-{ls.service.replace('-', '/')} (case-insensitive)"
            )
    return None
