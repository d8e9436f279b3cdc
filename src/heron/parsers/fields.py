"""Small value conversions shared by the vendor parsers: ports, addresses, protocols, outcomes.

Vendor records spell the same things many ways (``"443"``, ``"-"``, ``"[::1]:443"``,
protocol ``6``/``"tcp"``/``"TCP"``); these helpers turn them into the ECS types once, so
every parser fills ``source.port`` with an int and ``network.transport`` with lowercase
IANA names the same way.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from heron.model.event import Event

__all__ = [
    "EMPTY",
    "IANA_PROTOCOLS",
    "as_int",
    "is_ip",
    "put",
    "put_int",
    "split_host_port",
    "transport",
    "unmap_ip",
]

#: Values vendors write for "no value".
EMPTY = frozenset({"", "-", "(empty)", "N/A", "n/a", "null", "None"})

#: IANA protocol number → ECS ``network.transport`` name (the ones seen in practice).
IANA_PROTOCOLS: dict[str, str] = {
    "1": "icmp",
    "2": "igmp",
    "6": "tcp",
    "17": "udp",
    "41": "ipv6",
    "47": "gre",
    "50": "esp",
    "51": "ah",
    "58": "ipv6-icmp",
    "89": "ospf",
    "103": "pim",
    "112": "vrrp",
    "132": "sctp",
}
_INT64 = 2**63


def as_int(value: Any) -> int | None:
    """``value`` as an int if it is one written in decimal digits (or already an int)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _INT64 else None
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in ("-", "+") else text
        if digits.isdigit() and digits.isascii() and len(digits) <= 18:
            return int(text)
    return None


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address (a zone index ``%eth0`` allowed)."""
    if not text or len(text) > 64:
        return False
    if ":" not in text:
        # Dotted quads are most of what logs hold: checked without ``ipaddress``.
        parts = text.split(".")
        return len(parts) == 4 and all(
            p.isdigit()
            and p.isascii()
            and len(p) <= 3
            and int(p) <= 255
            and (len(p) == 1 or p[0] != "0")
            for p in parts
        )
    return _is_ipv6(text)


@lru_cache(maxsize=4096)
def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.partition("%")[0])
    except ValueError:
        return False
    return True


def unmap_ip(text: str) -> str:
    """``::ffff:1.2.3.4`` → ``1.2.3.4``: the IPv4 client a dual-stack socket reports."""
    if text[:7].lower() == "::ffff:" and "." in text:
        rest = text[7:]
        if is_ip(rest):
            return rest
    return text


def split_host_port(text: str) -> tuple[str, int | None]:
    """``1.2.3.4:80``, ``[2001:db8::1]:443``, ``2001:db8::1`` or ``host`` → (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = as_int(rest[1:]) if rest.startswith(":") else None
        return host, port
    if text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = as_int(port_text)
        if port is not None:
            return host, port
    return text, None


def transport(value: Any) -> str | None:
    """ECS ``network.transport`` (lowercase name) from a protocol number or name."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text or text in EMPTY:
        return None
    return IANA_PROTOCOLS.get(text, text)


def put(event: Event, name: str, value: Any) -> None:
    """Set ``name`` unless ``value`` is missing or one of the vendors' empty markers."""
    if value is None:
        return
    if isinstance(value, str) and value in EMPTY:
        return
    event[name] = value


def put_int(event: Event, name: str, value: Any) -> None:
    """Set ``name`` to ``value`` as an int, if it is one."""
    number = as_int(value)
    if number is not None:
        event[name] = number
