"""Indicators of compromise and the canonical form of their values.

Every value is put in one canonical form on the way in (``canonical``) and event values
are put in the same form before lookup (``heron.enrich.intel``), so a feed's
``Bücher.Example.`` and an event's ``xn--bcher-kva.example`` are the same key.
"""

from __future__ import annotations

import re
import socket
import string
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import idna

from heron.intel.errors import IndicatorError

__all__ = [
    "DOMAIN",
    "EMAIL",
    "HASH_TYPES",
    "IPV4",
    "IPV6",
    "MD5",
    "SHA1",
    "SHA256",
    "TYPES",
    "URL",
    "Indicator",
    "canonical",
    "canonical_domain",
    "canonical_ip",
    "canonical_url",
    "classify",
    "confidence_label",
    "guess_type",
    "ip_range",
    "make_indicator",
    "resolve_type",
]

IPV4 = "ipv4-addr"
IPV6 = "ipv6-addr"
DOMAIN = "domain-name"
URL = "url"
EMAIL = "email-addr"
MD5 = "md5"
SHA1 = "sha1"
SHA256 = "sha256"
HASH_TYPES = (MD5, SHA1, SHA256)
#: The stored types: STIX cyber-observable names, and hashes by algorithm.
TYPES = (IPV4, IPV6, DOMAIN, URL, EMAIL, MD5, SHA1, SHA256)
_HASH_BY_LENGTH = {32: MD5, 40: SHA1, 64: SHA256}
_AF_INET = socket.AF_INET
_inet_pton = socket.inet_pton
_HEX = frozenset(string.hexdigits.lower())
_HOST_CHARS = frozenset(string.ascii_lowercase + string.digits + "-_.")
_LEVELS = ("informational", "low", "medium", "high", "critical")
# Two or more labels of 1-63 letters, digits, '-' or '_' (our own fixed pattern, linear).
_DOMAIN = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})+")

#: How feeds and files name a type → the stored type (``None``: decide from the value).
TYPE_ALIASES: dict[str, str | None] = {
    "ip": None,
    "ipv4": IPV4,
    "ipv6": IPV6,
    "ipv4-addr": IPV4,
    "ipv6-addr": IPV6,
    "ip-src": None,
    "ip-dst": None,
    "ip_address": None,
    "cidr": None,
    "network": None,
    "netblock": None,
    "domain": DOMAIN,
    "domain-name": DOMAIN,
    "hostname": DOMAIN,
    "host": DOMAIN,
    "fqdn": DOMAIN,
    "url": URL,
    "uri": URL,
    "link": URL,
    "email": EMAIL,
    "email-addr": EMAIL,
    "email-src": EMAIL,
    "email-dst": EMAIL,
    "md5": MD5,
    "sha1": SHA1,
    "sha-1": SHA1,
    "sha256": SHA256,
    "sha-256": SHA256,
    "hash": None,
    "file": None,
    "filehash": None,
}


@dataclass(slots=True)
class Indicator:
    """One indicator: a canonical value of a type, where it came from and how far to trust it.

    Times are nanoseconds since the epoch. ``alert`` says whether a match raises an alert
    (STIX indicators, MISP ``to_ids``) or only enriches the event. ``severity`` is a
    Sigma level that overrides the level derived from ``confidence``.
    """

    type: str
    value: str
    source: str
    confidence: int | None = None
    severity: str | None = None
    alert: bool = True
    first_seen: int | None = None
    last_seen: int | None = None
    expires: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    tlp: str | None = None
    description: str | None = None
    reference: str | None = None


def confidence_label(confidence: int | None) -> str:
    """STIX 2.1 Appendix A: 0-100 → the None/Low/Medium/High scale ECS uses."""
    if confidence is None:
        return "Not Specified"
    if confidence == 0:
        return "None"
    if confidence < 30:
        return "Low"
    if confidence < 70:
        return "Medium"
    return "High"


# -- canonical forms ----------------------------------------------------------------------


def canonical_ip(text: str) -> tuple[str, str]:
    """``(type, value)`` of an address or network: ``10.0.0.0/8``, ``2001:db8::1``.

    Networks are masked to their base address; a /32 (/128) is the address itself; an
    IPv4-mapped IPv6 address is the IPv4 address.
    """
    value = text.strip()
    address, slash, prefix_text = value.partition("/")
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    try:
        packed = socket.inet_pton(socket.AF_INET, address)
        family, bits, kind = socket.AF_INET, 32, IPV4
    except OSError:
        try:
            packed = socket.inet_pton(socket.AF_INET6, address.split("%", 1)[0])
        except OSError:
            raise IndicatorError(f"not an IP address or network: {text!r}") from None
        family, bits, kind = socket.AF_INET6, 128, IPV6
        if packed[:12] == b"\0" * 10 + b"\xff\xff":
            packed, family, bits, kind = packed[12:], socket.AF_INET, 32, IPV4
            if slash:
                prefix_text = str(int(prefix_text) - 96) if prefix_text.isdigit() else "x"
    if not slash:
        return kind, socket.inet_ntop(family, packed)
    if not prefix_text.isdigit() or not 0 <= int(prefix_text) <= bits:
        raise IndicatorError(f"bad prefix length in {text!r} (0..{bits})")
    prefix = int(prefix_text)
    if prefix == 0:
        raise IndicatorError(f"{text!r} covers every address; refusing a /0 indicator")
    number = int.from_bytes(packed, "big")
    number &= ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)
    base = socket.inet_ntop(family, number.to_bytes(bits // 8, "big"))
    return kind, base if prefix == bits else f"{base}/{prefix}"


def ip_range(value: str) -> tuple[int, int, int]:
    """``(version, first, last)`` as integers for a canonical address or network."""
    address, _, prefix_text = value.partition("/")
    if ":" in address:
        version, family, bits = 6, socket.AF_INET6, 128
    else:
        version, family, bits = 4, socket.AF_INET, 32
    first = int.from_bytes(socket.inet_pton(family, address), "big")
    size = 1 << (bits - int(prefix_text)) if prefix_text else 1
    return version, first, first + size - 1


def canonical_domain(text: str) -> str:
    """Lower-case, without a trailing dot or leading ``*.``, IDN labels as punycode."""
    name = text.strip().lower().rstrip(".")
    if name.startswith("*."):
        name = name[2:]
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise IndicatorError(f"not a valid internationalized domain {text!r}: {exc}") from None
    # One C call for the common case; the slow checks below only say what is wrong.
    if len(name) <= 253 and _DOMAIN.fullmatch(name) and not name.rpartition(".")[2].isdigit():
        return name
    if not name or len(name) > 253 or not _HOST_CHARS.issuperset(name):
        raise IndicatorError(f"not a domain name: {text!r}")
    labels = name.split(".")
    if "" in labels or len(max(labels, key=len)) > 63:
        raise IndicatorError(f"not a domain name (empty or over-long label): {text!r}")
    if labels[-1].isdigit():
        raise IndicatorError(f"not a domain name nor a valid IP address: {text!r}")
    raise IndicatorError(
        f"{text!r} is a single label: as an indicator it would match every name under it"
    )


def url_host(netloc: str) -> tuple[str, str]:
    """``(host, port)`` from a URL's authority, without user info; host lower-cased."""
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        return host.lower(), rest.lstrip(":")
    host, _, port = hostport.partition(":")
    return host.lower(), port


_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}


def canonical_url(text: str) -> str:
    """Scheme and host lower-cased (host as punycode), default port and fragment removed.

    A URL without a scheme is taken as ``http://``. Path and query keep their case: web
    servers commonly treat them as case-sensitive.
    """
    raw = text.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise IndicatorError(f"not a URL: {text!r} ({exc})") from None
    scheme = parts.scheme.lower()
    host, port = url_host(parts.netloc)
    if not host:
        raise IndicatorError(f"URL without a host: {text!r}")
    if ":" in host:
        try:
            host = "[" + canonical_ip(host)[1] + "]"
        except IndicatorError:
            raise IndicatorError(f"URL with a bad IPv6 host: {text!r}") from None
    elif host[0].isdigit():
        try:
            host = canonical_ip(host)[1]
        except IndicatorError:
            host = _lenient_host(host, text)
    else:
        host = _lenient_host(host, text)
    if port and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{host}{path}{query}"


def _lenient_host(host: str, text: str) -> str:
    try:
        return canonical_domain(host)
    except IndicatorError:
        # Intranet single-label hosts are legitimate in URLs (http://wpad/wpad.dat).
        if host.isascii() and _HOST_CHARS.issuperset(host) and "." not in host:
            return host
        raise IndicatorError(f"URL with a bad host: {text!r}") from None


def canonical_hash(text: str, expected: str | None = None) -> tuple[str, str]:
    """``(md5|sha1|sha256, lower-case hex)``; other lengths are refused."""
    value = text.strip().lower()
    kind = _HASH_BY_LENGTH.get(len(value))
    if kind is None or not _HEX.issuperset(value):
        raise IndicatorError(f"not an MD5, SHA-1 or SHA-256 hex digest: {text!r}")
    if expected is not None and expected != kind:
        raise IndicatorError(f"{text!r} has the length of {kind}, not {expected}")
    return kind, value


def canonical_email(text: str) -> str:
    value = text.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or " " in local:
        raise IndicatorError(f"not an email address: {text!r}")
    return f"{local}@{canonical_domain(domain)}"


def guess_type(text: str) -> str:
    """The type a bare value most likely is (for plain lists and untyped columns)."""
    value = text.strip()
    lowered = value.lower()
    if len(value) in _HASH_BY_LENGTH and _HEX.issuperset(lowered):
        return _HASH_BY_LENGTH[len(value)]
    head = value.split("/", 1)[0]
    if head and (head[0].isdigit() or ":" in head or head.startswith("[")):
        try:
            return canonical_ip(value)[0]
        except IndicatorError:
            pass
    if "://" in value or "/" in value:
        return URL
    if "@" in value:
        return EMAIL
    return DOMAIN


def classify(text: str) -> tuple[str, str]:
    """``(type, canonical value)`` of a bare value, in one pass (plain lists, untyped cells).

    Ordered by cost and by how often each form appears in feeds: a plain list of a
    million values spends most of its load time here.
    """
    value = text.strip()
    if not value:
        raise IndicatorError("empty value")
    first = value[0]
    if first.isdigit():
        try:  # a dotted quad that inet_pton accepts is already canonical
            _inet_pton(_AF_INET, value)
            return IPV4, value
        except OSError:
            pass
    if len(value) in _HASH_BY_LENGTH:
        lowered = value.lower()
        if _HEX.issuperset(lowered):
            return _HASH_BY_LENGTH[len(value)], lowered
    head = value.split("/", 1)[0]
    if head.replace(".", "").isdigit() or first == "[" or (":" in head and "://" not in value):
        try:  # an IPv4 network, an IPv6 address or network (raising costs: ask only these)
            return canonical_ip(value)
        except IndicatorError:
            pass
    if "/" in value:
        return URL, canonical_url(value)
    if "@" in value:
        return EMAIL, canonical_email(value)
    return DOMAIN, canonical_domain(value)


def resolve_type(hint: str | None, value: str) -> str:
    """A stored type from a feed's type name (``None``/unknown alias: from the value)."""
    if hint is None or not hint.strip():
        return guess_type(value)
    name = hint.strip().lower()
    if name in TYPE_ALIASES:
        mapped = TYPE_ALIASES[name]
        return mapped if mapped is not None else guess_type(value)
    raise IndicatorError(f"unknown indicator type {hint!r}")


def canonical(kind: str, text: str) -> tuple[str, str]:
    """``(type, canonical value)``; the type may change (an IPv4-mapped IPv6, a hash)."""
    if not isinstance(text, str) or not text.strip():
        raise IndicatorError(f"empty {kind} value")
    if kind in (IPV4, IPV6):
        found, value = canonical_ip(text)
        if found != kind:
            raise IndicatorError(f"{text!r} is not an {kind}")
        return found, value
    if kind == DOMAIN:
        return kind, canonical_domain(text)
    if kind == URL:
        return kind, canonical_url(text)
    if kind == EMAIL:
        return kind, canonical_email(text)
    if kind in HASH_TYPES:
        return canonical_hash(text, kind)
    raise IndicatorError(f"unknown indicator type {kind!r}")


def make_indicator(
    type_hint: str | None,
    value: str,
    source: str,
    *,
    confidence: int | None = None,
    severity: str | None = None,
    alert: bool = True,
    first_seen: int | None = None,
    last_seen: int | None = None,
    expires: int | None = None,
    tags: tuple[str, ...] = (),
    tlp: str | None = None,
    description: str | None = None,
    reference: str | None = None,
) -> Indicator:
    """A checked indicator with a canonical value; raises ``IndicatorError``."""
    if not isinstance(value, str):
        raise IndicatorError(f"indicator value must be text, got {value!r}")
    if type_hint is None or TYPE_ALIASES.get(type_hint.strip().lower(), "") is None:
        kind, canon = classify(value)
    else:
        kind, canon = canonical(resolve_type(type_hint, value), value)
    if confidence is not None and not 0 <= confidence <= 100:
        raise IndicatorError(f"confidence must be 0..100, got {confidence}")
    if severity is not None:
        severity = severity.strip().lower()
        if severity not in _LEVELS:
            raise IndicatorError(f"severity must be one of {', '.join(_LEVELS)}, got {severity!r}")
    return Indicator(
        kind,
        canon,
        source,
        confidence,
        severity,
        alert,
        first_seen,
        last_seen,
        expires,
        tags,
        tlp.lower() if tlp else None,
        description,
        reference,
    )
