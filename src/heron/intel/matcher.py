"""Looking values up among indicators in constant time, whatever their number.

- addresses: a dict of exact canonical addresses, and for networks one sorted list of
  range starts per IP version, searched with ``bisect`` (a single C call); each range
  knows its innermost network and each network its enclosing one, so all networks
  holding an address are found without scanning;
- domains: the name and each of its parent domains looked up in a dict
  (``a.b.evil.com`` → ``a.b.evil.com``, ``b.evil.com``, ``evil.com``, ``com``);
- URLs, hashes, email addresses: dicts of canonical values.

Event values are put in the indicators' canonical form first (lower case, punycode,
compressed IPv6), and lookups are cached: logs repeat the same few addresses and names.
"""

from __future__ import annotations

import socket
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from heron.intel.errors import IndicatorError
from heron.intel.indicator import (
    DOMAIN,
    EMAIL,
    HASH_TYPES,
    IPV4,
    IPV6,
    URL,
    canonical_domain,
    canonical_url,
    confidence_label,
    ip_range,
    url_host,
)
from heron.model.timeutil import format_ns

__all__ = ["KINDS", "IntelMatcher", "Kind"]

Kind = str
#: What a field holds, as the matcher looks it up.
KINDS: tuple[Kind, ...] = ("ip", "domain", "url", "hash", "email")
_CACHE_LIMIT = 100_000
_NO_HITS: tuple[int, ...] = ()
_AF_INET, _AF_INET6 = socket.AF_INET, socket.AF_INET6
_inet_pton, _inet_ntop = socket.inet_pton, socket.inet_ntop
_MAPPED_PREFIX = b"\0" * 10 + b"\xff\xff"
_ECS_TYPE = {
    IPV4: "ipv4-addr",
    IPV6: "ipv6-addr",
    DOMAIN: "domain-name",
    URL: "url",
    EMAIL: "email-addr",
    "md5": "file",
    "sha1": "file",
    "sha256": "file",
}
_TLP = {"white": "WHITE", "clear": "CLEAR", "green": "GREEN", "amber": "AMBER", "red": "RED"}


class _Ranges:
    """Networks of one IP version: the innermost network at each point, by bisection."""

    def __init__(self, networks: list[tuple[int, int, int]]) -> None:
        networks.sort(key=lambda n: (n[0], -n[1]))
        starts: list[int] = []
        owners: list[int] = []
        self.parent: dict[int, int] = {}
        open_: list[tuple[int, int]] = []  # (last, index), enclosing networks, innermost last
        for first, last, index in networks:
            while open_ and open_[-1][0] < first:
                end, _ = open_.pop()
                starts.append(end + 1)
                owners.append(open_[-1][1] if open_ else -1)
            if open_:  # networks nest or are disjoint: this one lies inside the top
                self.parent[index] = open_[-1][1]
            starts.append(first)
            owners.append(index)
            open_.append((last, index))
        while open_:
            end, _ = open_.pop()
            starts.append(end + 1)
            owners.append(open_[-1][1] if open_ else -1)
        self.starts = starts
        self.owners = owners

    def find(self, number: int) -> tuple[int, ...]:
        at = bisect_right(self.starts, number) - 1
        if at < 0:
            return _NO_HITS
        owner: int = self.owners[at]
        if owner < 0:
            return _NO_HITS
        found = [owner]
        parent = self.parent.get(owner)
        while parent is not None:
            found.append(parent)
            parent = self.parent.get(parent)
        return tuple(found)


class IntelMatcher:
    """Indicators (a table of ``heron.intel.store.INDICATOR_SCHEMA``) ready for lookups.

    ``lookup(kind, value)`` gives the row numbers of the indicators a value matches;
    ``record(row)`` the ECS ``threat.enrichments`` entry of a row (without ``matched.*``).
    """

    def __init__(self, table: pa.Table) -> None:
        # Times as int ns: Arrow hands timestamps to Python as datetimes (microseconds).
        for name in ("first_seen", "last_seen", "expires"):
            at = table.schema.get_field_index(name)
            if at >= 0 and pa.types.is_timestamp(table.schema.field(at).type):
                table = table.set_column(at, name, table.column(at).cast(pa.int64()))
        self.table = table
        self._columns = {name: table.column(name) for name in table.column_names}
        self.size: int = table.num_rows
        self._exact_ip: dict[str, int] = {}
        self._v4: _Ranges | None = None
        self._v6: _Ranges | None = None
        self._domains: dict[str, int] = {}
        self._urls: dict[str, int] = {}
        self._hashes: dict[str, int] = {}
        self._emails: dict[str, int] = {}
        self._records: dict[int, tuple[dict[str, Any], int | None]] = {}
        self._caches: dict[Kind, dict[str, tuple[int, ...]]] = {k: {} for k in KINDS}
        if self.size:
            self._build()
        self.kinds: frozenset[Kind] = frozenset(
            kind
            for kind, present in (
                ("ip", self._exact_ip or self._v4 or self._v6),
                ("domain", self._domains),
                ("url", self._urls or self._domains or self._exact_ip or self._v4 or self._v6),
                ("hash", self._hashes),
                ("email", self._emails),
            )
            if present
        )

    def __len__(self) -> int:
        return self.size

    # -- building -----------------------------------------------------------------

    def _rows_of(self, *types: str) -> tuple[list[str], list[int]]:
        kinds = self.table.column("type")
        mask = pc.is_in(kinds, value_set=pa.array(types, pa.string()))
        rows = pc.indices_nonzero(mask)
        values = pc.take(self.table.column("value"), rows)
        return values.to_pylist(), rows.to_pylist()

    def _build(self) -> None:
        values, rows = self._rows_of(IPV4, IPV6)
        networks: dict[int, list[tuple[int, int, int]]] = {4: [], 6: []}
        for value, row in zip(values, rows, strict=True):
            if "/" in value:
                version, first, last = ip_range(value)
                networks[version].append((first, last, row))
            else:
                self._exact_ip[value] = row
        if networks[4]:
            self._v4 = _Ranges(networks[4])
        if networks[6]:
            self._v6 = _Ranges(networks[6])
        values, rows = self._rows_of(DOMAIN)
        self._domains = dict(zip(values, rows, strict=True))
        values, rows = self._rows_of(URL)
        self._urls = {_url_key(v): r for v, r in zip(values, rows, strict=True)}
        values, rows = self._rows_of(*HASH_TYPES)
        self._hashes = dict(zip(values, rows, strict=True))
        values, rows = self._rows_of(EMAIL)
        self._emails = dict(zip(values, rows, strict=True))

    # -- lookups ------------------------------------------------------------------

    def lookup(self, kind: Kind, value: str) -> tuple[int, ...]:
        """Rows of the indicators ``value`` (a field's value of ``kind``) matches."""
        cache = self._caches[kind]
        hits = cache.get(value)
        if hits is not None:
            return hits
        if kind == "ip":
            hits = self._ip(value)
        elif kind == "domain":
            hits = self._domain(value)
        elif kind == "url":
            hits = self._url(value)
        elif kind == "hash":
            row = self._hashes.get(value.strip().lower())
            hits = (row,) if row is not None else _NO_HITS
        elif kind == "email":
            row = self._emails.get(value.strip().lower())
            hits = (row,) if row is not None else _NO_HITS
        else:
            raise ValueError(f"unknown kind {kind!r}")
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[value] = hits
        return hits

    def _ip(self, value: str) -> tuple[int, ...]:
        row = self._exact_ip.get(value)
        if row is not None and self._v4 is None and self._v6 is None:
            return (row,)
        try:
            packed = _inet_pton(_AF_INET, value)
            family = _AF_INET
        except OSError:
            try:
                packed = _inet_pton(_AF_INET6, value.strip("[]").split("%", 1)[0])
            except OSError:
                return _NO_HITS
            family = _AF_INET6
            if packed[:12] == _MAPPED_PREFIX:
                packed, family = packed[12:], _AF_INET
            if row is None:
                row = self._exact_ip.get(_inet_ntop(family, packed))
        found = (row,) if row is not None else _NO_HITS
        ranges = self._v4 if family == _AF_INET else self._v6
        if ranges is not None:
            found = found + ranges.find(int.from_bytes(packed, "big"))
        return found

    def _domain(self, value: str) -> tuple[int, ...]:
        if not self._domains:
            return _NO_HITS
        name = value.strip().lower().rstrip(".")
        if not name.isascii():
            try:
                name = canonical_domain(name)
            except IndicatorError:
                return _NO_HITS
        get = self._domains.get
        found: list[int] = []
        while True:
            row = get(name)
            if row is not None:
                found.append(row)
            dot = name.find(".")
            if dot < 0:
                break
            name = name[dot + 1 :]
        return tuple(found) if found else _NO_HITS

    def _url(self, value: str) -> tuple[int, ...]:
        raw = value.strip()
        if not raw or raw.startswith("/"):  # a path alone (a web server's request line)
            return _NO_HITS
        try:
            canon = canonical_url(raw)
        except IndicatorError:
            return _NO_HITS
        found: tuple[int, ...] = _NO_HITS
        row = self._urls.get(_url_key(canon))
        if row is not None:
            found = (row,)
        # The host of a URL is checked against domain and address indicators too.
        host = url_host(canon.split("://", 1)[1].split("/", 1)[0])[0]
        if host:
            if host[0].isdigit() or ":" in host:
                found = found + self.lookup("ip", host)
            else:
                found = found + self.lookup("domain", host)
        return found

    # -- what a match says --------------------------------------------------------

    def record(self, row: int) -> tuple[dict[str, Any], int | None]:
        """The enrichment entry of a row (cached) and its expiry in ns (``None``: never)."""
        cached = self._records.get(row)
        if cached is not None:
            return cached
        # Column by column: ~7x faster than slicing one row out of the table.
        data = {name: column[row].as_py() for name, column in self._columns.items()}
        cached = (_enrichment(data), _ns(data.get("expires")))
        self._records[row] = cached
        return cached

    def active_hits(self, rows: Iterable[int], now: int) -> list[dict[str, Any]]:
        """Enrichment entries of the rows whose indicator has not expired at ``now``."""
        out = []
        for row in rows:
            entry, expires = self.record(row)
            if expires is None or expires > now:
                out.append(entry)
        return out


def _url_key(canonical: str) -> str:
    # http and https URLs of the same host and path are the same resource to a feed.
    return canonical.split("://", 1)[1]


def _ns(value: Any) -> int | None:
    return int(value) if value is not None else None


def _enrichment(data: dict[str, Any]) -> dict[str, Any]:
    kind = str(data["type"])
    value = str(data["value"])
    sources = sorted(data.get("sources") or [])
    entry: dict[str, Any] = {"indicator.type": _ECS_TYPE.get(kind, kind)}
    if kind in (IPV4, IPV6):
        entry["indicator.ip"] = value
    elif kind == DOMAIN:
        entry["indicator.url.domain"] = value
    elif kind == URL:
        entry["indicator.url.full"] = value
    elif kind == EMAIL:
        entry["indicator.email.address"] = value
    else:
        entry[f"indicator.file.hash.{kind}"] = value
    entry["indicator.provider"] = ", ".join(sources)
    entry["indicator.confidence"] = confidence_label(data.get("confidence"))
    for name in ("first_seen", "last_seen"):
        stamp = _ns(data.get(name))
        if stamp is not None:
            entry[f"indicator.{name}"] = format_ns(stamp)
    tlp = data.get("tlp")
    if tlp:
        entry["indicator.marking.tlp"] = _TLP.get(str(tlp).lower(), str(tlp).upper())
    for name in ("description", "reference"):
        if data.get(name):
            entry[f"indicator.{name}"] = data[name]
    # What Heron itself needs to decide on an alert, kept apart from ECS names.
    entry["heron.indicator.value"] = value
    entry["heron.indicator.sources"] = sources
    if data.get("confidence") is not None:
        entry["heron.indicator.score"] = int(data["confidence"])
    entry["heron.indicator.alert"] = bool(data.get("alert"))
    if data.get("severity"):
        entry["heron.indicator.severity"] = data["severity"]
    if data.get("tags"):
        entry["heron.indicator.tags"] = list(data["tags"])
    return entry
