"""The asset inventory (``asset_inventory`` table) and the enricher that adds ``asset.*``.

An asset is a host: names (FQDN and short name), addresses, and what the business
says about it: criticality (low, medium, high, critical), owner, business unit, tags,
environment, location. ECS has no criticality field, so the context goes under
``asset.*`` (docs/adr/0004-enrichment.md). The event's own host is looked up, by
``host.name`` (case-insensitive; ``SRV01`` finds ``srv01.corp.example`` and the other
way round, unless the short name is ambiguous) and then by ``host.ip``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from heron.enrich.records import RecordError, split_list
from heron.enrich.snapshot import (
    SnapshotFollower,
    bump_generation,
    current_generation,
    ensure_generation_table,
    snapshot_generation,
    write_snapshot,
)
from heron.intel.errors import IndicatorError
from heron.intel.indicator import canonical_ip
from heron.model.event import Event
from heron.model.timeutil import now_ns

__all__ = [
    "CRITICALITIES",
    "STORED_TABLES",
    "Asset",
    "AssetEnricher",
    "AssetInventory",
    "ImportSummary",
    "asset_from_record",
]

SNAPSHOT_NAME = "asset_inventory"
CRITICALITIES = ("low", "medium", "high", "critical")
_CRITICALITY_NUMBERS = {"1": "low", "2": "medium", "3": "high", "4": "critical"}
_NAME_KEYS = ("name", "hostname", "host", "host_name", "fqdn")
_IP_KEYS = ("ips", "ip", "ip_address", "ip_addresses", "addresses", "host_ip")
_KNOWN = frozenset(
    [*_NAME_KEYS, *_IP_KEYS, "id", "asset_id", "criticality", "owner", "business_unit", "bu",
     "tags", "environment", "env", "location", "_line"]
)  # fmt: skip
_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("name", pa.string()),
        ("ips", pa.list_(pa.string())),
        ("criticality", pa.string()),
        ("owner", pa.string()),
        ("business_unit", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("environment", pa.string()),
        ("location", pa.string()),
    ]
)


@dataclass(slots=True)
class Asset:
    id: str | None = None
    name: str | None = None
    ips: list[str] = field(default_factory=list)
    criticality: str | None = None
    owner: str | None = None
    business_unit: str | None = None
    tags: list[str] = field(default_factory=list)
    environment: str | None = None
    location: str | None = None

    @property
    def key(self) -> str:
        return self.id or (self.name or "").lower() or (self.ips[0] if self.ips else "")


def _first(record: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, "", []):
            return value
    return None


def asset_from_record(record: dict[str, Any]) -> Asset:
    """An asset from an inventory record; ``RecordError`` says what is wrong with it."""
    if "_error" in record:
        raise RecordError(str(record["_error"]))
    name = _first(record, _NAME_KEYS)
    ips: list[str] = []
    for raw in split_list(_first(record, _IP_KEYS)):
        try:
            _kind, value = canonical_ip(raw)
        except IndicatorError as exc:
            raise RecordError(exc.reason) from None
        if "/" in value:
            raise RecordError(f"an asset address must be one address, not {raw!r}")
        ips.append(value)
    if not name and not ips:
        raise RecordError("an asset needs a name or an address")
    criticality = _first(record, ("criticality",))
    if criticality is not None:
        level = str(criticality).strip().lower()
        level = _CRITICALITY_NUMBERS.get(level, level)
        if level not in CRITICALITIES:
            raise RecordError(
                f"criticality must be one of {', '.join(CRITICALITIES)} (or 1-4), "
                f"got {criticality!r}"
            )
        criticality = level

    def text(*keys: str) -> str | None:
        value = _first(record, keys)
        return str(value).strip() if value is not None else None

    return Asset(
        id=text("id", "asset_id"),
        name=str(name).strip().lower().rstrip(".") if name else None,
        ips=ips,
        criticality=criticality,
        owner=text("owner"),
        business_unit=text("business_unit", "bu"),
        tags=split_list(record.get("tags")),
        environment=text("environment", "env"),
        location=text("location"),
    )


class _Store(Protocol):
    root: Path

    def connection(self) -> duckdb.DuckDBPyConnection: ...


@dataclass(slots=True)
class ImportSummary:
    """What an inventory import did."""

    stored: int = 0
    errors: list[RecordError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


class AssetInventory:
    """Assets in the node's database, and the snapshot the enricher reads."""

    def __init__(self, store: _Store, *, clock: Any = now_ns) -> None:
        self.store = store
        self.data_dir = Path(store.root)
        self.clock = clock
        self._lock = threading.Lock()
        cur = store.connection()
        cur.execute(
            "CREATE TABLE IF NOT EXISTS asset_inventory (key VARCHAR, id VARCHAR, "
            "name VARCHAR, ips VARCHAR[], criticality VARCHAR, owner VARCHAR, "
            "business_unit VARCHAR, tags VARCHAR[], environment VARCHAR, location VARCHAR, "
            "updated TIMESTAMP_NS)"
        )
        ensure_generation_table(cur)
        if snapshot_generation(self.data_dir, SNAPSHOT_NAME) != current_generation(
            cur, SNAPSHOT_NAME
        ):
            self._write_snapshot(cur, current_generation(cur, SNAPSHOT_NAME))

    def import_records(
        self, records: Sequence[dict[str, Any]], *, where: str = "", replace: bool = False
    ) -> ImportSummary:
        """Store the good records in one transaction (all replaced with ``replace``)."""
        summary = ImportSummary()
        assets: dict[str, Asset] = {}
        unknown: set[str] = set()
        for position, record in enumerate(records, 1):
            line = record.get("_line", position)
            try:
                asset = asset_from_record(record)
            except RecordError as exc:
                summary.errors.append(RecordError(exc.reason, where=f"{where}:{line}"))
                continue
            unknown.update(k for k in record if k not in _KNOWN and not k.startswith("_"))
            assets[asset.key] = asset  # a later record of the same asset wins
        summary.ignored_columns = sorted(unknown)
        rows = list(assets.values())
        table = pa.table(
            {
                "key": pa.array([a.key for a in rows], pa.string()),
                **{f.name: pa.array([getattr(a, f.name) for a in rows], f.type) for f in _SCHEMA},
            }
        )
        now = self.clock()
        with self._lock:
            cur = self.store.connection()
            cur.register("_assets_in", table)
            cur.execute("BEGIN TRANSACTION")
            try:
                if replace:
                    cur.execute("DELETE FROM asset_inventory")
                else:
                    cur.execute(
                        "DELETE FROM asset_inventory WHERE key IN (SELECT key FROM _assets_in)"
                    )
                cur.execute(
                    "INSERT INTO asset_inventory SELECT key, id, name, ips, criticality, owner, "
                    "business_unit, tags, environment, location, make_timestamp_ns(?) "
                    "FROM _assets_in",
                    [now],
                )
                generation = bump_generation(cur, SNAPSHOT_NAME)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.unregister("_assets_in")
            self._write_snapshot(cur, generation)
        summary.stored = len(rows)
        return summary

    def all(self) -> pa.Table:
        names = ", ".join(f.name for f in _SCHEMA)
        table = self.store.connection().sql(f"SELECT {names} FROM asset_inventory").to_arrow_table()
        return table.cast(_SCHEMA)

    def _write_snapshot(self, cur: duckdb.DuckDBPyConnection, generation: int) -> None:
        write_snapshot(self.data_dir, SNAPSHOT_NAME, self.all(), generation)


_FIELDS = ("id", "name", "criticality", "owner", "business_unit", "environment", "location")


class AssetEnricher:
    """Adds ``asset.*`` (criticality, owner, business unit …) to events of known hosts."""

    name = "asset"

    def __init__(
        self,
        assets: pa.Table | None = None,
        *,
        data_dir: str | Path | None = None,
        refresh_seconds: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._snapshot = SnapshotFollower(self.data_dir, SNAPSHOT_NAME, refresh_seconds)
        self._by_name: dict[str, dict[str, Any]] = {}
        self._by_short: dict[str, dict[str, Any]] = {}
        self._by_ip: dict[str, dict[str, Any]] = {}
        if assets is not None:
            self._index(assets)
        elif self.data_dir is not None:
            self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> bool:
        found = self._snapshot.newer(force=force)
        if found is None:
            return False
        table, self._snapshot.generation = found
        self._index(table)
        return True

    def _index(self, table: pa.Table) -> None:
        by_name: dict[str, dict[str, Any]] = {}
        by_short: dict[str, dict[str, Any] | None] = {}
        by_ip: dict[str, dict[str, Any]] = {}
        for row in table.to_pylist():
            context = {f"asset.{k}": row[k] for k in _FIELDS if row.get(k)}
            if row.get("tags"):
                context["asset.tags"] = list(row["tags"])
            name = row.get("name")
            if name:
                by_name[name] = context
                short = name.split(".", 1)[0]
                # A short name shared by two assets (web01.eu…, web01.us…) names neither.
                by_short[short] = None if short in by_short else context
            for ip in row.get("ips") or []:
                by_ip[ip] = context
        self._by_name = by_name
        self._by_short = {k: v for k, v in by_short.items() if v is not None}
        self._by_ip = by_ip

    def lookup(self, event: Event) -> dict[str, Any] | None:
        name = event.get("host.name")
        if isinstance(name, str) and name:
            key = name.strip().lower().rstrip(".")
            found = self._by_name.get(key) or self._by_short.get(key.split(".", 1)[0])
            if found is not None:
                return found
        ips = event.get("host.ip")
        for ip in ips if isinstance(ips, list) else [ips]:
            if isinstance(ip, str):
                found = self._by_ip.get(ip)
                if found is not None:
                    return found
        return None

    def enrich(self, events: Sequence[Event]) -> None:
        if self._snapshot.due():
            self.refresh()
        if not (self._by_name or self._by_ip):
            return
        for event in events:
            context = self.lookup(event)
            if context is not None:
                for key, value in context.items():
                    event.setdefault(key, list(value) if isinstance(value, list) else value)


#: Where each kind of record is stored (``heron assets list``, ``GET /api/assets``).
STORED_TABLES = {"hosts": "asset_inventory", "identities": "identities"}


def stored_records(connection: duckdb.DuckDBPyConnection, kind: str) -> list[dict[str, Any]]:
    """The stored hosts or identities, by name, as flat rows (none before any import)."""
    table = STORED_TABLES[kind]
    exists = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()[0][0]
    if not exists:
        return []
    rows = connection.sql(f"SELECT * EXCLUDE (updated) FROM {table} ORDER BY name")
    found: list[dict[str, Any]] = rows.to_arrow_table().to_pylist()
    for row in found:
        row.pop("key", None)
    return found
