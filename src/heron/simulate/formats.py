"""Native wire shapes of each simulated source, one function a format.

Each returns the record's text and its marker: a substring only that record holds
(a record id, event id or span id with its key, or the whole line for text formats),
which Heron keeps in ``event.original`` and labels use to find the stored event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from heron.simulate.company import Host

__all__ = [
    "asa_line",
    "auditd_line",
    "cef_line",
    "cloudtrail_record",
    "iso_ms",
    "iso_us",
    "json_line",
    "syslog_line",
    "web_access_line",
    "winlogbeat_event",
]

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
        microsecond=(ns % 1_000_000_000) // 1000
    )


def iso_ms(ns: int) -> str:
    """``2026-03-02T10:00:00.123Z``."""
    return _dt(ns).strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ns // 1_000_000) % 1000:03d}Z"


def iso_us(ns: int) -> str:
    """``2026-03-02T10:00:00.123456+00:00`` (rsyslog's high-precision file format)."""
    return _dt(ns).isoformat(timespec="microseconds")


def json_line(doc: dict[str, Any]) -> str:
    return orjson.dumps(doc).decode("utf-8")


def winlogbeat_event(
    host: Host,
    ns: int,
    event_id: int,
    channel: str,
    provider: str,
    data: dict[str, str],
    *,
    user_data: bool = False,
) -> tuple[str, str]:
    """A Windows event as Winlogbeat 8 ships it (``winlog.*``), and its marker."""
    record_id = host.record_id
    host.record_id += 1
    doc = {
        "@timestamp": iso_ms(ns),
        "agent": {"type": "winlogbeat", "version": "8.17.0", "name": host.name},
        "ecs": {"version": "8.0.0"},
        "event": {"code": str(event_id), "kind": "event", "provider": provider},
        "host": {"name": host.fqdn},
        "winlog": {
            "channel": channel,
            "computer_name": host.fqdn,
            "event_id": event_id,
            "provider_name": provider,
            "record_id": record_id,
            ("user_data" if user_data else "event_data"): data,
        },
    }
    return json_line(doc), f'"record_id":{record_id},'


def syslog_line(ns: int, host: str, program: str, pid: int | None, message: str) -> str:
    """An rsyslog file line (RFC 3339 time to the microsecond, no PRI)."""
    tag = f"{program}[{pid}]" if pid is not None else program
    return f"{iso_us(ns)} {host} {tag}: {message}"


def auditd_line(host: Host, ns: int, kind: str, body: str) -> tuple[str, str]:
    """An audit.log line with ``node=`` (name_format = hostname); marker is its serial."""
    serial = host.audit_serial
    host.audit_serial += 1
    stamp = f"{ns // 1_000_000_000}.{(ns // 1_000_000) % 1000:03d}:{serial}"
    text = f"node={host.name} type={kind} msg=audit({stamp}): {body}"
    return text, text


def _rfc5424(ns: int, pri: int, host: str, message: str) -> str:
    return f"<{pri}>1 {iso_us(ns)} {host} - - - - {message}"


def asa_line(ns: int, firewall: str, severity: int, message_id: str, text: str) -> str:
    """A Cisco ASA message behind an RFC 5424 header (facility local4)."""
    return _rfc5424(ns, 20 * 8 + severity, firewall, f"%ASA-{severity}-{message_id}: {text}")


def _cef_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("=", "\\=")


def cef_line(
    ns: int, firewall: str, signature: str, name: str, severity: int, ext: dict[str, object]
) -> str:
    """A FortiGate traffic record in CEF behind an RFC 5424 header (facility local0)."""
    extension = " ".join(f"{k}={_cef_escape(str(v))}" for k, v in ext.items())
    head = f"CEF:0|Fortinet|FortiGate|7.2.8|{signature}|{name}|{severity}|"
    return _rfc5424(ns, 16 * 8 + 6, firewall, f"{head}rt={ns // 1_000_000} {extension}")


def web_access_line(
    ns: int, client: str, user: str, method: str, path: str, status: int, size: int,
    referer: str, agent: str,
) -> str:  # fmt: skip
    """An Apache/nginx combined log line."""
    t = _dt(ns)
    stamp = f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"
    return (
        f'{client} - {user} [{stamp}] "{method} {path} HTTP/1.1" {status} {size} '
        f'"{referer}" "{agent}"'
    )


def cloudtrail_record(record: dict[str, Any]) -> tuple[str, str]:
    """One CloudTrail record (the file wraps them in ``{"Records": [...]}``)."""
    return json_line(record), str(record["eventID"])
