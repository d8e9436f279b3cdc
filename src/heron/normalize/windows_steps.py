"""Mapping steps for Windows events: each reads raw vendor fields, writes ECS fields.

A step is ``step(raw, ecs)``: ``raw`` is the flat event as parsed (vendor names such as
``TargetUserName``, ``Image``), ``ecs`` collects the ECS fields the normalizer adds.
Steps never raise on odd values: a value that does not fit is left out of ECS (it
stays in ``raw`` under its vendor name). Which steps an event gets is decided by the
catalog (``heron.normalize.windows_catalog``), per channel and event id.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from heron.model.event import Event

__all__ = [
    "LOGON_TYPES",
    "Step",
    "add_related",
    "as_int",
    "as_ip",
    "basename",
    "set_account",
    "split_account",
    "text",
]

Step = Callable[[Event, Event], None]

#: Logon type numbers (4624, 4625, 4634 …) and the names Microsoft gives them.
LOGON_TYPES: dict[int, str] = {
    0: "System",
    2: "Interactive",
    3: "Network",
    4: "Batch",
    5: "Service",
    7: "Unlock",
    8: "NetworkCleartext",
    9: "NewCredentials",
    10: "RemoteInteractive",
    11: "CachedInteractive",
    12: "CachedRemoteInteractive",
    13: "CachedUnlock",
}

# 4625 FailureReason message ids (msobjs.dll).
_FAILURE_REASONS = {
    "%%2304": "An Error occurred during Logon.",
    "%%2305": "The specified user account has expired.",
    "%%2306": "The NetLogon component is not active.",
    "%%2307": "Account locked out.",
    "%%2308": "The user has not been granted the requested logon type at this machine.",
    "%%2309": "The specified account's password has expired.",
    "%%2310": "Account currently disabled.",
    "%%2311": "Account logon time restriction violation.",
    "%%2312": "User not allowed to logon at this computer.",
    "%%2313": "Unknown user name or bad password.",
}
# NTSTATUS codes of failed logons (4625 Status/SubStatus, 4776 Status).
_LOGON_STATUS = {
    "0xc0000064": "User logon with misspelled or bad user account",
    "0xc000006a": "User logon with misspelled or bad password",
    "0xc000006d": "Bad user name or authentication information",
    "0xc000006e": "Unknown user name or bad password",
    "0xc000006f": "User logon outside authorized hours",
    "0xc0000070": "User logon from unauthorized workstation",
    "0xc0000071": "User logon with expired password",
    "0xc0000072": "User logon to account disabled by administrator",
    "0xc0000133": "Clocks between DC and other computer too far out of sync",
    "0xc000015b": "The user has not been granted the requested logon type at this machine",
    "0xc0000193": "User logon with expired account",
    "0xc0000224": "User is required to change password at next logon",
    "0xc0000234": "User logon with account locked",
    "0xc0000413": "The machine is protected by an authentication firewall",
}
_IP_PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "47": "gre"}
_EMPTY = frozenset({"", "-", "(NULL)", "NULL"})


# --- value helpers -----------------------------------------------------------------


def text(value: Any) -> str | None:
    """A non-empty string value, or None for absent, empty and the ``-`` placeholder."""
    if isinstance(value, str):
        return None if value in _EMPTY else value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def as_int(value: Any) -> int | None:
    """An int from an int, decimal text or ``0x`` hex text (Windows process ids)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, str):
        body = value.strip()
        try:
            if body[:2] in ("0x", "0X"):
                number = int(body, 16)
            elif body.isdigit() and body.isascii():
                number = int(body)
            else:
                return None
        except ValueError:
            return None
        return number if number < 2**63 else None
    return None


def _port(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and 0 <= number <= 65535 else None


@lru_cache(maxsize=8192)
def _checked_ip(candidate: str) -> str | None:
    body = candidate.strip().strip("[]")
    if body.lower().startswith("::ffff:") and "." in body:
        body = body[7:]
    try:
        ipaddress.ip_address(body)
    except ValueError:
        return None
    return body


def as_ip(value: Any) -> str | None:
    """An IP address text (IPv4-mapped IPv6 unwrapped), or None for ``-`` and non-IPs."""
    candidate = text(value)
    return None if candidate is None else _checked_ip(candidate)


def basename(path: str) -> str:
    """The last part of a Windows or POSIX path."""
    cut = max(path.rfind("\\"), path.rfind("/"))
    return path[cut + 1 :] if cut >= 0 else path


def add_related(ecs: Event, key: str, value: str | None) -> None:
    """Append ``value`` to the ``related.*`` list ``key`` once."""
    if value is None:
        return
    values = ecs.get(key)
    if values is None:
        ecs[key] = [value]
    elif value not in values:
        values.append(value)


def _put(ecs: Event, key: str, value: Any) -> None:
    if value is not None:
        ecs[key] = value


def _set_user(ecs: Event, prefix: str, name: Any, domain: Any, sid: Any) -> None:
    """``<prefix>.name/domain/id``; a ``user@domain`` name keeps its user part."""
    user = text(name)
    if user is not None:
        if "@" in user:
            user = user.split("@", 1)[0] or user
        ecs[prefix + ".name"] = user
        add_related(ecs, "related.user", user)
    _put(ecs, prefix + ".domain", text(domain))
    _put(ecs, prefix + ".id", text(sid))


def split_account(value: Any) -> tuple[str | None, str | None]:
    """``DOMAIN\\name`` → (domain, name); a bare name has no domain.

    Extra backslashes after the first are dropped: Wazuh writes ``DOMAIN\\\\name``.
    """
    account = text(value)
    if account is None:
        return None, None
    domain, sep, name = account.partition("\\")
    if not sep:
        return None, account
    return (domain or None), (name.lstrip("\\") or None)


def set_account(ecs: Event, value: Any) -> None:
    """``user.domain`` / ``user.name`` from a ``DOMAIN\\name`` value."""
    domain, name = split_account(value)
    if name is not None:
        ecs["user.name"] = name
        add_related(ecs, "related.user", name)
    if domain is not None:
        ecs["user.domain"] = domain


def _set_executable(ecs: Event, prefix: str, value: Any) -> None:
    path = text(value)
    if path is not None:
        ecs[prefix + ".executable"] = path
        ecs[prefix + ".name"] = basename(path)


# --- Security channel ----------------------------------------------------------------


def subject_user(raw: Event, ecs: Event) -> None:
    """The account that did the thing (Subject*) as ``user.*``."""
    _set_user(
        ecs,
        "user",
        raw.get("SubjectUserName"),
        raw.get("SubjectDomainName"),
        raw.get("SubjectUserSid"),
    )
    _put(ecs, "winlog.logon.id", text(raw.get("SubjectLogonId")))


def logon_user(raw: Event, ecs: Event) -> None:
    """The account logged on (Target*) as ``user.*``, or as ``user.target.*`` if taken."""
    prefix = "user.target" if "user.name" in ecs else "user"
    sid = raw.get("TargetUserSid", raw.get("TargetSid"))
    _set_user(ecs, prefix, raw.get("TargetUserName"), raw.get("TargetDomainName"), sid)
    logon_id = text(raw.get("TargetLogonId"))
    if logon_id is not None:
        ecs["winlog.logon.id"] = logon_id


def target_account(raw: Event, ecs: Event) -> None:
    """The account acted on (Target*) as ``user.target.*`` (4720, 4722, 4724 …)."""
    _set_user(
        ecs,
        "user.target",
        raw.get("TargetUserName"),
        raw.get("TargetDomainName"),
        raw.get("TargetSid", raw.get("TargetUserSid")),
    )


def effective_user(raw: Event, ecs: Event) -> None:
    """The account whose credentials were used (4648, 4688) as ``user.effective.*``."""
    _set_user(
        ecs,
        "user.effective",
        raw.get("TargetUserName"),
        raw.get("TargetDomainName"),
        raw.get("TargetUserSid"),
    )


def group_member(raw: Event, ecs: Event) -> None:
    """Group membership changes: the member as ``user.target.*``, the group as ``group.*``."""
    member = text(raw.get("MemberName"))
    if member is not None:
        parts = member.split(",")
        name = parts[0]
        if name[:3].upper() == "CN=":
            name = name[3:]
        ecs["user.target.name"] = name
        add_related(ecs, "related.user", name)
        # The first DC= part names the domain (Elastic takes the fourth part, which is
        # only right for a member directly under CN=Users).
        for part in parts[1:]:
            if part[:3].upper() == "DC=":
                ecs["user.target.domain"] = part[3:]
                break
    _put(ecs, "user.target.id", text(raw.get("MemberSid")))
    _put(ecs, "group.name", text(raw.get("TargetUserName")))
    domain = text(raw.get("TargetDomainName"))
    _put(ecs, "group.domain", None if domain is None else domain.replace("DC=", ""))
    _put(ecs, "group.id", text(raw.get("TargetSid")))


def renamed_account(raw: Event, ecs: Event) -> None:
    """4781: the old name as ``user.target.name``, the new one as ``user.changes.name``."""
    old, new = text(raw.get("OldTargetUserName")), text(raw.get("NewTargetUserName"))
    _put(ecs, "user.target.name", old)
    _put(ecs, "user.changes.name", new)
    add_related(ecs, "related.user", old)
    add_related(ecs, "related.user", new)


def auth_source(raw: Event, ecs: Event) -> None:
    """Where an authentication came from, and the process that asked for it."""
    ip = as_ip(raw.get("IpAddress"))
    if ip is not None:
        ecs["source.ip"] = ip
    _put(ecs, "source.port", _port(raw.get("IpPort")))
    workstation = text(raw.get("WorkstationName", raw.get("Workstation")))
    _put(ecs, "source.domain", workstation)
    _set_executable(ecs, "process", raw.get("ProcessName"))
    _put(ecs, "process.pid", as_int(raw.get("ProcessId")))


def logon_details(raw: Event, ecs: Event) -> None:
    """Logon type name and, for failures, the reasons in words."""
    kind = as_int(raw.get("LogonType"))
    if kind is not None and kind in LOGON_TYPES:
        ecs["winlog.logon.type"] = LOGON_TYPES[kind]
    reason = raw.get("FailureReason")
    if isinstance(reason, str):
        _put(ecs, "winlog.logon.failure.reason", _FAILURE_REASONS.get(reason))
    status = raw.get("Status")
    if isinstance(status, str):
        _put(ecs, "winlog.logon.failure.status", _LOGON_STATUS.get(status.lower()))
    sub_status = raw.get("SubStatus")
    if isinstance(sub_status, str):
        _put(ecs, "winlog.logon.failure.sub_status", _LOGON_STATUS.get(sub_status.lower()))


def status_outcome(raw: Event, ecs: Event) -> None:
    """Kerberos and NTLM validation events: ``Status`` 0x0 succeeded, any other failed."""
    status = as_int(raw.get("Status"))
    if status is not None:
        ecs["event.outcome"] = "success" if status == 0 else "failure"


def security_process(raw: Event, ecs: Event) -> None:
    """4688/4689: the new (or ending) process, its parent and command line."""
    _set_executable(ecs, "process", raw.get("NewProcessName", raw.get("ProcessName")))
    pid = raw.get("NewProcessId")
    if pid is not None:
        _put(ecs, "process.pid", as_int(pid))
        _put(ecs, "process.parent.pid", as_int(raw.get("ProcessId")))
    else:
        _put(ecs, "process.pid", as_int(raw.get("ProcessId")))
    _set_executable(ecs, "process.parent", raw.get("ParentProcessName"))
    command_line = raw.get("CommandLine")
    if isinstance(command_line, str) and command_line:
        ecs["process.command_line"] = command_line


def object_access(raw: Event, ecs: Event) -> None:
    """4656/4658/4660/4663: the object as ``file.path`` or ``registry.path``."""
    name = text(raw.get("ObjectName"))
    kind = raw.get("ObjectType")
    if name is not None:
        if kind == "Key":
            ecs["registry.path"] = name
            ecs["event.category"] = ["registry"]
        elif kind in ("File", None):
            ecs["file.path"] = name
            ecs["file.name"] = basename(name)
    _set_executable(ecs, "process", raw.get("ProcessName"))
    _put(ecs, "process.pid", as_int(raw.get("ProcessId")))


def share_access(raw: Event, ecs: Event) -> None:
    """5140/5145: who reached which share from where."""
    ip = as_ip(raw.get("IpAddress"))
    if ip is not None:
        ecs["source.ip"] = ip
    _put(ecs, "source.port", _port(raw.get("IpPort")))
    share = text(raw.get("ShareName"))
    target = text(raw.get("RelativeTargetName"))
    if share is not None:
        ecs["file.path"] = share if target is None else f"{share}\\{target}"


def filtering_platform(raw: Event, ecs: Event) -> None:
    """5156/5157/5158: Windows Filtering Platform connections."""
    for raw_key, ecs_key in (("SourceAddress", "source.ip"), ("DestAddress", "destination.ip")):
        ip = as_ip(raw.get(raw_key))
        if ip is not None:
            ecs[ecs_key] = ip
    _put(ecs, "source.port", _port(raw.get("SourcePort")))
    _put(ecs, "destination.port", _port(raw.get("DestPort")))
    protocol = text(raw.get("Protocol"))
    _put(ecs, "network.transport", None if protocol is None else _IP_PROTOCOLS.get(protocol))
    direction = raw.get("Direction")
    if direction == "%%14592":
        ecs["network.direction"] = "ingress"
    elif direction == "%%14593":
        ecs["network.direction"] = "egress"
    _set_executable(ecs, "process", raw.get("Application"))
    _put(ecs, "process.pid", as_int(raw.get("ProcessID", raw.get("ProcessId"))))


def service_fields(raw: Event, ecs: Event) -> None:
    """4697 and System 7045: the service installed."""
    _put(ecs, "service.name", text(raw.get("ServiceName")))
    _put(ecs, "service.type", text(raw.get("ServiceType")))


def session_fields(raw: Event, ecs: Event) -> None:
    """4778/4779: RDP session reconnect and disconnect."""
    _set_user(ecs, "user", raw.get("AccountName"), raw.get("AccountDomain"), None)
    address = raw.get("ClientAddress")
    ip = as_ip("127.0.0.1" if address == "LOCAL" else address)
    if ip is not None:
        ecs["source.ip"] = ip
    _put(ecs, "source.domain", text(raw.get("ClientName")))
    _put(ecs, "winlog.logon.id", text(raw.get("LogonID")))
