"""Threat-intelligence matching at ingest: ECS ``threat.enrichments`` on matching events.

Every event's address, domain, URL, hash and email fields are looked up among the
loaded indicators (``heron.intel.matcher``: constant time per value, however many
indicators there are). A match appends one entry per indicator to the event's
``threat.enrichments`` list, naming the indicator, its provider and the field that
matched. Whether a match becomes an alert is ``heron.intel.detect.IntelDetector``'s
decision, made from these entries.

The matcher is built from the indicator snapshot in the data directory, and rebuilt
when a load or expiry has written a newer one (checked every ``refresh_seconds``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from heron.enrich.snapshot import SnapshotFollower
from heron.intel.matcher import IntelMatcher, Kind
from heron.intel.store import INDICATOR_SCHEMA, SNAPSHOT_NAME
from heron.model.event import Event
from heron.model.timeutil import now_ns

__all__ = [
    "ENRICHMENTS_FIELD",
    "FIELD_KINDS",
    "FieldPlan",
    "IntelEnricher",
    "match_event",
    "plan_for",
]

ENRICHMENTS_FIELD = "threat.enrichments"
MATCH_TYPE = "indicator_match_rule"

#: The fields looked up, and what they hold. ``host.name`` is not among them: it names
#: the host that reported the event, not a party to it.
FIELD_KINDS: tuple[tuple[str, Kind], ...] = (
    ("source.ip", "ip"),
    ("destination.ip", "ip"),
    ("client.ip", "ip"),
    ("server.ip", "ip"),
    ("source.nat.ip", "ip"),
    ("destination.nat.ip", "ip"),
    ("dns.resolved_ip", "ip"),
    ("dns.question.name", "domain"),
    ("url.domain", "domain"),
    ("destination.domain", "domain"),
    ("source.domain", "domain"),
    ("server.domain", "domain"),
    ("tls.client.server_name", "domain"),
    ("url.original", "url"),
    ("url.full", "url"),
    ("file.hash.md5", "hash"),
    ("file.hash.sha1", "hash"),
    ("file.hash.sha256", "hash"),
    ("process.hash.md5", "hash"),
    ("process.hash.sha1", "hash"),
    ("process.hash.sha256", "hash"),
    ("dll.hash.md5", "hash"),
    ("dll.hash.sha1", "hash"),
    ("dll.hash.sha256", "hash"),
    ("email.from.address", "email"),
    ("email.sender.address", "email"),
    ("email.reply_to.address", "email"),
    ("email.to.address", "email"),
    # Vendor names, for events no mapping has turned into ECS (Sysmon, CloudTrail).
    ("SourceIp", "ip"),
    ("DestinationIp", "ip"),
    ("sourceIPAddress", "ip"),
    ("QueryName", "domain"),
    ("DestinationHostname", "domain"),
    ("Hashes", "hashes"),
)
_HASH_NAMES = frozenset({"MD5", "SHA1", "SHA256"})


def _sysmon_hashes(value: str) -> list[str]:
    """The MD5/SHA1/SHA256 digests of a Sysmon ``Hashes`` value (``SHA1=…,MD5=…``)."""
    out = []
    for part in value.split(","):
        name, _, digest = part.partition("=")
        if name.strip().upper() in _HASH_NAMES and digest:
            out.append(digest.strip())
    return out


class FieldPlan:
    """Which fields to look up, as a set: one C-level intersection per event finds the
    few present (a loop of ``get`` over every field costs 2-3x more)."""

    def __init__(self, fields: Sequence[tuple[str, Kind]]) -> None:
        self.fields = tuple(fields)
        self.names = frozenset(name for name, _ in self.fields)
        self.kinds = dict(self.fields)
        self.rank = {name: at for at, (name, _) in enumerate(self.fields)}


def match_event(
    matcher: IntelMatcher,
    event: Event,
    plan: FieldPlan,
    now: int,
) -> list[dict[str, Any]]:
    """The enrichment entries for one event (one per indicator, first matching field)."""
    present = plan.names.intersection(event)
    if not present:
        return []
    names = sorted(present, key=plan.rank.__getitem__) if len(present) > 1 else present
    lookup = matcher.lookup
    seen: dict[int, tuple[str, str]] | None = None
    for name in names:
        value = event[name]
        kind = plan.kinds[name]
        if type(value) is str:
            if kind == "hashes":
                for digest in _sysmon_hashes(value):
                    for row in lookup("hash", digest):
                        seen = seen or {}
                        seen.setdefault(row, (name, digest))
                continue
            rows = lookup(kind, value)
            if rows:
                seen = seen or {}
                for row in rows:
                    seen.setdefault(row, (name, value))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    for row in lookup(kind if kind != "hashes" else "hash", item):
                        seen = seen or {}
                        seen.setdefault(row, (name, item))
    if seen is None:
        return []
    entries = []
    for row, (name, value) in seen.items():
        entry, expires = matcher.record(row)
        if expires is not None and expires <= now:
            continue
        hit = dict(entry)
        hit["matched.atomic"] = value
        hit["matched.field"] = name
        hit["matched.type"] = MATCH_TYPE
        entries.append(hit)
    return entries


def plan_for(matcher: IntelMatcher) -> FieldPlan:
    """The fields of kinds some indicator can match: no hash indicators, no hash look-ups."""
    kinds = set(matcher.kinds)
    if "hash" in kinds:
        kinds.add("hashes")
    return FieldPlan([(name, kind) for name, kind in FIELD_KINDS if kind in kinds])


class IntelEnricher:
    """Adds ``threat.enrichments`` to events whose fields match a loaded indicator."""

    name = "intel"

    def __init__(
        self,
        matcher: IntelMatcher | None = None,
        *,
        data_dir: str | Path | None = None,
        refresh_seconds: float = 30.0,
        clock: Any = now_ns,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.clock = clock
        self.build_seconds = 0.0
        self._snapshot = SnapshotFollower(self.data_dir, SNAPSHOT_NAME, refresh_seconds)
        # Not Schema.empty_table(): it imports pandas (0.3-0.4 s) for an empty table.
        empty = pa.Table.from_batches([], schema=INDICATOR_SCHEMA)
        self.matcher = matcher or IntelMatcher(empty)
        self._fields = self._fields_for(self.matcher)
        if matcher is None and self.data_dir is not None:
            self.refresh(force=True)

    @classmethod
    def from_data_dir(cls, data_dir: str | Path, *, refresh_seconds: float = 30.0) -> IntelEnricher:
        """An enricher over the data directory's indicator snapshot (empty if none yet)."""
        return cls(data_dir=data_dir, refresh_seconds=refresh_seconds)

    @property
    def generation(self) -> int | None:
        """The snapshot generation the matcher was built from."""
        return self._snapshot.generation

    @staticmethod
    def _fields_for(matcher: IntelMatcher) -> FieldPlan:
        return plan_for(matcher)

    def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the matcher if the snapshot changed; returns whether it did."""
        found = self._snapshot.newer(force=force)
        if found is None:
            return False
        table, generation = found
        started = time.perf_counter()
        matcher = IntelMatcher(table)
        self.build_seconds = time.perf_counter() - started
        self.matcher, self._snapshot.generation = matcher, generation
        self._fields = self._fields_for(matcher)
        return True

    def enrich(self, events: Sequence[Event]) -> None:
        if self._snapshot.due():
            self.refresh()
        matcher = self.matcher
        if not matcher.size:
            return
        now = self.clock()
        fields = self._fields
        for event in events:
            entries = match_event(matcher, event, fields, now)
            if entries:
                previous = event.get(ENRICHMENTS_FIELD)
                if isinstance(previous, list):
                    entries = previous + entries
                event[ENRICHMENTS_FIELD] = entries
