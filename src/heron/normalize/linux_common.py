"""Shared pieces of the Linux syslog normalizers: ECS categories and small setters."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from socket import AF_INET, inet_pton

from heron.model.event import Event

__all__ = [
    "AUTH",
    "IAM",
    "NETWORK",
    "PROCESS",
    "SESSION",
    "finish",
    "is_ip",
    "mark",
    "set_source",
]

AUTH, IAM, NETWORK, PROCESS, SESSION = "authentication", "iam", "network", "process", "session"


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address (brackets and zone ids refused)."""
    # inet_pton takes exactly the dotted quads ipaddress takes, at a tenth of the cost;
    # client addresses rarely repeat, so a cache alone does not help.
    try:
        inet_pton(AF_INET, text)
    except (OSError, ValueError):
        return _is_ip(text)
    return True


@lru_cache(maxsize=4096)
def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def mark(
    event: Event,
    category: list[str],
    kind: list[str],
    action: str | None,
    outcome: str | None,
) -> None:
    """Set ``event.category``, ``event.type`` and, when given, action and outcome."""
    event["event.category"] = category
    event["event.type"] = kind
    if action is not None:
        event["event.action"] = action
    if outcome is not None:
        event["event.outcome"] = outcome


def set_source(event: Event, address: str, port: str | None = None) -> None:
    """``source.ip`` for an address (``source.domain`` for a host name) and ``source.port``."""
    if not address or address in ("?", "-", "UNKNOWN"):
        return
    event["source.address"] = address
    if is_ip(address):
        event["source.ip"] = address
    else:
        event.setdefault("source.domain", address)
    if port and port.isascii() and port.isdigit() and len(port) <= 5:
        event["source.port"] = int(port)


def finish(event: Event, dataset: str) -> None:
    """The fields every recognised Linux event gets: kind, module, dataset, related.*."""
    event["event.kind"] = "event"
    event["event.module"] = "system"
    event["event.dataset"] = dataset
    users = [
        event[key]
        for key in ("user.name", "user.effective.name", "user.target.name")
        if isinstance(event.get(key), str) and event[key]
    ]
    if users:
        event["related.user"] = list(dict.fromkeys(users))
    ip = event.get("source.ip")
    if isinstance(ip, str):
        event["related.ip"] = [ip]
    host = event.get("host.name")
    if isinstance(host, str) and host:
        event["related.hosts"] = [host]
