"""Identities (``identities`` table) and the enricher that resolves user aliases.

One person appears as ``CORP\\alice``, ``alice@corp.example`` (UPN or mail) and
``alice``. An identity lists its canonical name, email, full name, roles and aliases;
every spelling resolves to it, case-insensitively. A bare name shared by two
identities resolves to neither. On a match the event gets the canonical ``user.name``
(the spelling it had is kept in ``related.user``), ``user.email``, ``user.full_name``,
``user.roles`` and ``user.id`` if it had none (a Windows SID already there stays);
``user.target.*`` is resolved the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from heron.enrich.asset import ImportSummary
from heron.enrich.records import RecordError, split_list
from heron.enrich.snapshot import (
    SnapshotFollower,
    bump_generation,
    current_generation,
    ensure_generation_table,
    snapshot_generation,
    write_snapshot,
)
from heron.model.event import Event
from heron.model.timeutil import now_ns

__all__ = ["Identity", "IdentityDirectory", "IdentityEnricher", "identity_from_record"]

SNAPSHOT_NAME = "identities"
_KNOWN = frozenset(
    {"id", "user_id", "name", "user", "username", "user_name", "email", "mail", "upn",
     "full_name", "display_name", "displayname", "aliases", "alias", "roles", "role",
     "groups", "domain", "_line"}
)  # fmt: skip
_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("name", pa.string()),
        ("email", pa.string()),
        ("full_name", pa.string()),
        ("roles", pa.list_(pa.string())),
        ("aliases", pa.list_(pa.string())),
    ]
)


@dataclass(slots=True)
class Identity:
    name: str
    id: str | None = None
    email: str | None = None
    full_name: str | None = None
    roles: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


def identity_from_record(record: dict[str, Any]) -> Identity:
    """An identity from a directory record; ``RecordError`` says what is wrong."""
    if "_error" in record:
        raise RecordError(str(record["_error"]))

    def text(*keys: str) -> str | None:
        for key in keys:
            value = record.get(key)
            if value not in (None, "", []):
                return str(value).strip()
        return None

    email = text("email", "mail")
    name = text("name", "user", "username", "user_name") or (email.split("@")[0] if email else None)
    if not name:
        raise RecordError("an identity needs a name (or an email)")
    aliases = split_list(record.get("aliases") or record.get("alias"))
    upn = text("upn")
    if upn:
        aliases.append(upn)
    domain = text("domain")
    if domain:
        aliases.append(f"{domain}\\{name}")
    if email and "@" not in email:
        raise RecordError(f"not an email address: {email!r}")
    return Identity(
        name=name,
        id=text("id", "user_id"),
        email=email.lower() if email else None,
        full_name=text("full_name", "display_name", "displayname"),
        roles=split_list(record.get("roles") or record.get("role") or record.get("groups")),
        aliases=list(dict.fromkeys(a for a in aliases if a)),
    )


class IdentityDirectory:
    """Identities in the node's database, and the snapshot the enricher reads."""

    def __init__(self, store: Any, *, clock: Any = now_ns) -> None:
        self.store = store
        self.data_dir = Path(store.root)
        self.clock = clock
        self._lock = threading.Lock()
        cur = store.connection()
        cur.execute(
            "CREATE TABLE IF NOT EXISTS identities (id VARCHAR, name VARCHAR, email VARCHAR, "
            "full_name VARCHAR, roles VARCHAR[], aliases VARCHAR[], updated TIMESTAMP_NS)"
        )
        ensure_generation_table(cur)
        generation = current_generation(cur, SNAPSHOT_NAME)
        if snapshot_generation(self.data_dir, SNAPSHOT_NAME) != generation:
            self._write_snapshot(cur, generation)

    def import_records(
        self, records: Sequence[dict[str, Any]], *, where: str = "", replace: bool = False
    ) -> ImportSummary:
        """Store the good records in one transaction (keyed by lower-cased canonical name)."""
        summary = ImportSummary()
        found: dict[str, Identity] = {}
        unknown: set[str] = set()
        for position, record in enumerate(records, 1):
            line = record.get("_line", position)
            try:
                identity = identity_from_record(record)
            except RecordError as exc:
                summary.errors.append(RecordError(exc.reason, where=f"{where}:{line}"))
                continue
            unknown.update(k for k in record if k not in _KNOWN and not k.startswith("_"))
            found[identity.name.lower()] = identity
        summary.ignored_columns = sorted(unknown)
        rows = list(found.values())
        table = pa.table(
            {f.name: pa.array([getattr(i, f.name) for i in rows], f.type) for f in _SCHEMA}
        )
        now = self.clock()
        with self._lock:
            cur = self.store.connection()
            cur.register("_identities_in", table)
            cur.execute("BEGIN TRANSACTION")
            try:
                if replace:
                    cur.execute("DELETE FROM identities")
                else:
                    cur.execute(
                        "DELETE FROM identities WHERE lower(name) IN "
                        "(SELECT lower(name) FROM _identities_in)"
                    )
                cur.execute(
                    "INSERT INTO identities SELECT id, name, email, full_name, roles, aliases, "
                    "make_timestamp_ns(?) FROM _identities_in",
                    [now],
                )
                generation = bump_generation(cur, SNAPSHOT_NAME)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.unregister("_identities_in")
            self._write_snapshot(cur, generation)
        summary.stored = len(rows)
        return summary

    def all(self) -> pa.Table:
        names = ", ".join(f.name for f in _SCHEMA)
        return self.store.connection().sql(f"SELECT {names} FROM identities").to_arrow_table()

    def _write_snapshot(self, cur: duckdb.DuckDBPyConnection, generation: int) -> None:
        write_snapshot(self.data_dir, SNAPSHOT_NAME, self.all().cast(_SCHEMA), generation)


def _claim(index: dict[str, dict[str, Any] | None], key: str, row: dict[str, Any]) -> None:
    """Record that ``key`` names ``row``; a key two identities claim names neither."""
    if key not in index:
        index[key] = row
    elif index[key] is not row:
        index[key] = None


def _spellings(identity: dict[str, Any]) -> list[str]:
    names = [identity["name"], *(identity.get("aliases") or [])]
    if identity.get("email"):
        names.append(identity["email"])
    return [n.strip().lower() for n in names if n and n.strip()]


class IdentityEnricher:
    """Resolves ``user.name`` (and ``user.target.name``) aliases to one identity."""

    name = "identity"

    def __init__(
        self,
        identities: pa.Table | None = None,
        *,
        data_dir: str | Path | None = None,
        refresh_seconds: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._snapshot = SnapshotFollower(self.data_dir, SNAPSHOT_NAME, refresh_seconds)
        self._index: dict[str, dict[str, Any]] = {}
        if identities is not None:
            self._build(identities)
        elif self.data_dir is not None:
            self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> bool:
        found = self._snapshot.newer(force=force)
        if found is None:
            return False
        table, self._snapshot.generation = found
        self._build(table)
        return True

    def _build(self, table: pa.Table) -> None:
        explicit: dict[str, dict[str, Any] | None] = {}
        derived: dict[str, dict[str, Any] | None] = {}
        for row in table.to_pylist():
            for key in _spellings(row):
                _claim(explicit, key, row)
                # DOMAIN\user and user@domain also answer to the bare user, if no one
                # else does (an explicit spelling always wins over a derived one).
                if "\\" in key:
                    _claim(derived, key.rsplit("\\", 1)[1], row)
                elif "@" in key:
                    _claim(derived, key.split("@", 1)[0], row)
        index = {k: v for k, v in derived.items() if v is not None and k not in explicit}
        index.update((k, v) for k, v in explicit.items() if v is not None)
        self._index = index

    def resolve(self, name: str, domain: str | None = None) -> dict[str, Any] | None:
        """The identity a user name (and domain) spells, or ``None``."""
        text = name.strip().lower()
        if not text:
            return None
        index = self._index
        if domain:
            found = index.get(f"{domain.strip().lower()}\\{text}")
            if found is not None:
                return found
        found = index.get(text)
        if found is not None:
            return found
        if "\\" in text:
            return index.get(text.rsplit("\\", 1)[1])
        return None

    def _apply(self, event: Event, prefix: str, identity: dict[str, Any], seen: str) -> None:
        canonical = identity["name"]
        if seen != canonical:
            related = event.get("related.user")
            names = list(related) if isinstance(related, list) else []
            for value in (seen, canonical):
                if value not in names:
                    names.append(value)
            event["related.user"] = names
            event[f"{prefix}.name"] = canonical
        if identity.get("id") and not event.get(f"{prefix}.id"):
            event[f"{prefix}.id"] = identity["id"]
        if identity.get("email"):
            event[f"{prefix}.email"] = identity["email"]
        if identity.get("full_name"):
            event[f"{prefix}.full_name"] = identity["full_name"]
        if identity.get("roles"):
            event[f"{prefix}.roles"] = list(identity["roles"])

    def enrich(self, events: Sequence[Event]) -> None:
        if self._snapshot.due():
            self.refresh()
        if not self._index:
            return
        for event in events:
            for prefix in ("user", "user.target"):
                name = event.get(f"{prefix}.name")
                if not isinstance(name, str):
                    continue
                domain = event.get(f"{prefix}.domain")
                identity = self.resolve(name, domain if isinstance(domain, str) else None)
                if identity is not None:
                    self._apply(event, prefix, identity, name)
