"""GeoIP and ASN context from MaxMind-format databases the user supplies, and the
scope of every address (private, loopback, reserved …) with or without one.

ECS names: ``source.geo.country_iso_code``, ``source.geo.city_name``,
``source.geo.location.lat``/``.lon`` (flat, as every Heron field), ``source.as.number``,
``source.as.organization.name``, the same for ``destination``, ``client`` and
``server``. The scope goes to ``<side>.ip_scope`` (not ECS; docs/adr/0004): private,
loopback, link_local, multicast, reserved, public. Private and reserved addresses are
never looked up: a database has nothing true to say about them.

Without a database (none given, missing or unreadable) geo lookup is skipped with one
warning when the enricher is built, never one per event; scopes are still marked.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heron.model.event import Event

__all__ = ["SIDES", "GeoIpEnricher", "ip_scope"]

log = logging.getLogger(__name__)
SIDES = ("source", "destination", "client", "server")
_CACHE_LIMIT = 100_000

# IANA special-purpose IPv4 ranges, disjoint, sorted: (first, last, scope).
_V4_SPECIAL = sorted(
    (
        int(ipaddress.IPv4Network(net).network_address),
        int(ipaddress.IPv4Network(net).broadcast_address),
        scope,
    )
    for net, scope in (
        ("0.0.0.0/8", "reserved"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "private"),  # carrier-grade NAT: shared, not routable
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link_local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "reserved"),  # documentation
        ("192.88.99.0/24", "reserved"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("198.51.100.0/24", "reserved"),  # documentation
        ("203.0.113.0/24", "reserved"),  # documentation
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_V4_STARTS = [first for first, _, _ in _V4_SPECIAL]
_ULA = ipaddress.IPv6Network("fc00::/7")


def _v4_scope(number: int) -> str:
    at = bisect_right(_V4_STARTS, number) - 1
    if at >= 0 and number <= _V4_SPECIAL[at][1]:
        return _V4_SPECIAL[at][2]
    return "public"


def ip_scope(text: str) -> str | None:
    """private, loopback, link_local, multicast, reserved or public; ``None``: not an IP."""
    try:
        return _v4_scope(int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big"))
    except OSError:
        pass
    try:
        address = ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return None
    if address.ipv4_mapped is not None:
        return _v4_scope(int(address.ipv4_mapped))
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if address in _ULA:
        return "private"
    if not address.is_global:
        return "reserved"
    return "public"


def _name(node: Any) -> str | None:
    names = node.get("names") if isinstance(node, dict) else None
    if isinstance(names, dict):
        value = names.get("en") or next(iter(names.values()), None)
        return str(value) if value else None
    return None


def _geo_fields(record: dict[str, Any]) -> dict[str, Any]:
    """ECS geo/as fields (without the side prefix) from a City, Country or ASN record."""
    out: dict[str, Any] = {}
    country = record.get("country") or record.get("registered_country")
    if isinstance(country, dict):
        if country.get("iso_code"):
            out["geo.country_iso_code"] = country["iso_code"]
        if _name(country):
            out["geo.country_name"] = _name(country)
    elif isinstance(record.get("country_code"), str):  # ipinfo-style flat records
        out["geo.country_iso_code"] = record["country_code"]
        if isinstance(country, str):
            out["geo.country_name"] = country
    continent = record.get("continent")
    if isinstance(continent, dict):
        if continent.get("code"):
            out["geo.continent_code"] = continent["code"]
        if _name(continent):
            out["geo.continent_name"] = _name(continent)
    city = _name(record.get("city"))
    if city:
        out["geo.city_name"] = city
    regions = record.get("subdivisions")
    if isinstance(regions, list) and regions and isinstance(regions[0], dict):
        region = regions[0]
        if region.get("iso_code") and out.get("geo.country_iso_code"):
            out["geo.region_iso_code"] = f"{out['geo.country_iso_code']}-{region['iso_code']}"
        if _name(region):
            out["geo.region_name"] = _name(region)
    location = record.get("location")
    if isinstance(location, dict):
        if location.get("latitude") is not None and location.get("longitude") is not None:
            out["geo.location.lat"] = float(location["latitude"])
            out["geo.location.lon"] = float(location["longitude"])
        if location.get("time_zone"):
            out["geo.timezone"] = location["time_zone"]
    postal = record.get("postal")
    if isinstance(postal, dict) and postal.get("code"):
        out["geo.postal_code"] = str(postal["code"])
    number = record.get("autonomous_system_number")
    if number is None and isinstance(record.get("asn"), str):
        text = record["asn"].upper().removeprefix("AS")
        number = int(text) if text.isdigit() else None
    if isinstance(number, int):
        out["as.number"] = number
    org = record.get("autonomous_system_organization") or record.get("as_name")
    if isinstance(org, str) and org:
        out["as.organization.name"] = org
    return out


class GeoIpEnricher:
    """Adds ``<side>.ip_scope`` always, and geo/ASN fields when a database is open."""

    name = "geoip"

    def __init__(self, databases: Sequence[str | Path] = ()) -> None:
        self.readers: list[Any] = []
        self.warning: str | None = None
        if databases:
            # Imported only with a database to read: about 20 ms of a load's start-up
            # imports, and most nodes run without one.
            import maxminddb
        for path in databases:
            try:
                self.readers.append(maxminddb.open_database(str(path)))
            except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
                self._warn(f"cannot read GeoIP database {path}: {exc}")
        if not databases:
            self._warn(
                "no GeoIP database: geo and ASN enrichment skipped (give a MaxMind-format "
                ".mmdb file with HERON_GEOIP_DB or put it in <data-dir>/geoip/)"
            )
        self._scopes: dict[str, str | None] = {}
        self._geo: dict[str, dict[str, Any]] = {}

    def _warn(self, message: str) -> None:
        self.warning = message if self.warning is None else f"{self.warning}; {message}"
        log.warning(message)

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
        self.readers = []

    def lookup(self, ip: str) -> dict[str, Any]:
        """Geo/AS fields (without the side prefix) for a public address; cached."""
        cached = self._geo.get(ip)
        if cached is not None:
            return cached
        found: dict[str, Any] = {}
        for reader in self.readers:
            try:
                record = reader.get(ip)
            except ValueError:
                record = None
            if isinstance(record, dict):
                for key, value in _geo_fields(record).items():
                    found.setdefault(key, value)
        if len(self._geo) >= _CACHE_LIMIT:
            self._geo.clear()
        self._geo[ip] = found
        return found

    def enrich(self, events: Sequence[Event]) -> None:
        scopes = self._scopes
        geo = bool(self.readers)
        for event in events:
            for side in SIDES:
                ip = event.get(side + ".ip")
                if type(ip) is not str:
                    continue
                scope = scopes.get(ip)
                if scope is None:
                    if len(scopes) >= _CACHE_LIMIT:
                        scopes.clear()
                    scope = scopes[ip] = ip_scope(ip) or ""
                if not scope:
                    continue
                event[side + ".ip_scope"] = scope
                if geo and scope == "public":
                    for key, value in self.lookup(ip).items():
                        event.setdefault(f"{side}.{key}", value)
