"""The persistent IOC store: the ``intel_indicators`` table of the node's database.

One row per ``(type, value)``. A load is one transaction: every indicator of the call is
stored or none is. Loading a known indicator again merges it: sources and tags are
unioned, ``first_seen`` keeps the earliest and ``last_seen`` the latest time, and the
other attributes (confidence, severity, alert, expiry, TLP, description) come from the
newest load, the latest word on that indicator. After each commit the active
indicators are written as a snapshot file the matcher is built from
(``heron.enrich.snapshot``).
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from heron.enrich.snapshot import (
    bump_generation,
    current_generation,
    ensure_generation_table,
    snapshot_generation,
    write_snapshot,
)
from heron.errors import StoreError
from heron.intel.indicator import Indicator
from heron.model.timeutil import now_ns

__all__ = [
    "INDICATOR_SCHEMA",
    "LOAD_SCHEMA",
    "SNAPSHOT_NAME",
    "TAG_SEPARATOR",
    "IntelStore",
    "LoadSummary",
    "indicators_to_arrow",
    "stored_form",
]

SNAPSHOT_NAME = "intel_indicators"

_TS = pa.timestamp("ns")
#: The columns of an indicator, as handed to the store and as the matcher reads them.
INDICATOR_SCHEMA = pa.schema(
    [
        pa.field("type", pa.string()),
        pa.field("value", pa.string()),
        pa.field("sources", pa.list_(pa.string())),
        pa.field("confidence", pa.int32()),
        pa.field("severity", pa.string()),
        pa.field("alert", pa.bool_()),
        pa.field("first_seen", _TS),
        pa.field("last_seen", _TS),
        pa.field("expires", _TS),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("tlp", pa.string()),
        pa.field("description", pa.string()),
        pa.field("reference", pa.string()),
    ]
)
_COLUMNS = [f.name for f in INDICATOR_SCHEMA]
_DUCK_TYPES = {
    "type": "VARCHAR NOT NULL",
    "value": "VARCHAR NOT NULL",
    "sources": "VARCHAR[]",
    "confidence": "INTEGER",
    "severity": "VARCHAR",
    "alert": "BOOLEAN",
    "first_seen": "TIMESTAMP_NS",
    "last_seen": "TIMESTAMP_NS",
    "expires": "TIMESTAMP_NS",
    "tags": "VARCHAR[]",
    "tlp": "VARCHAR",
    "description": "VARCHAR",
    "reference": "VARCHAR",
}


class _Store(Protocol):
    root: Path

    def connection(self) -> duckdb.DuckDBPyConnection: ...


@dataclass(slots=True)
class LoadSummary:
    """What one load did; ``new`` holds the indicators that were not known before."""

    received: int = 0
    added: int = 0
    updated: int = 0
    revoked: int = 0
    new: pa.Table = field(default_factory=INDICATOR_SCHEMA.empty_table)


#: What ``IntelStore.load`` takes: one source a row, tags joined by U+001F, times in int ns.
LOAD_SCHEMA = pa.schema(
    [
        pa.field("type", pa.string()),
        pa.field("value", pa.string()),
        pa.field("source", pa.string()),
        pa.field("confidence", pa.int32()),
        pa.field("severity", pa.string()),
        pa.field("alert", pa.bool_()),
        pa.field("first_seen", pa.int64()),
        pa.field("last_seen", pa.int64()),
        pa.field("expires", pa.int64()),
        pa.field("tags", pa.string()),
        pa.field("tlp", pa.string()),
        pa.field("description", pa.string()),
        pa.field("reference", pa.string()),
    ]
)
TAG_SEPARATOR = "\x1f"  # tags of one indicator, joined (split again in SQL)


def indicators_to_arrow(indicators: Sequence[Indicator]) -> pa.Table:
    """Indicators as a table of ``LOAD_SCHEMA``.

    Flat columns only: building Arrow lists from a million Python lists costs seconds,
    joined strings split in SQL cost milliseconds.
    """
    columns: dict[str, list[Any]] = {
        "type": [i.type for i in indicators],
        "value": [i.value for i in indicators],
        "source": [i.source for i in indicators],
        "confidence": [i.confidence for i in indicators],
        "severity": [i.severity for i in indicators],
        "alert": [i.alert for i in indicators],
        "first_seen": [i.first_seen for i in indicators],
        "last_seen": [i.last_seen for i in indicators],
        "expires": [i.expires for i in indicators],
        "tags": [TAG_SEPARATOR.join(i.tags) if i.tags else None for i in indicators],
        "tlp": [i.tlp for i in indicators],
        "description": [i.description for i in indicators],
        "reference": [i.reference for i in indicators],
    }
    arrays = [pa.array(columns[f.name], type=f.type) for f in LOAD_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=LOAD_SCHEMA)


_BATCH_UNIQUE = (
    "SELECT type, value, [source] AS sources, confidence, severity, alert, "
    "make_timestamp_ns(first_seen) AS first_seen, make_timestamp_ns(last_seen) AS last_seen, "
    "make_timestamp_ns(expires) AS expires, "
    "coalesce(string_split(tags, chr(31)), []) AS tags, tlp, description, reference "
    "FROM _intel_in"
)
# The same (type, value) more than once in one call: one row, later rows speak last.
_BATCH_GROUPED = (
    "SELECT type, value, list_distinct(list(source)) AS sources, "
    "arg_max(confidence, ord) AS confidence, arg_max(severity, ord) AS severity, "
    "arg_max(alert, ord) AS alert, make_timestamp_ns(min(first_seen)) AS first_seen, "
    "make_timestamp_ns(max(last_seen)) AS last_seen, "
    "make_timestamp_ns(arg_max(expires, ord)) AS expires, "
    "coalesce(list_distinct(string_split(string_agg(tags, chr(31)), chr(31))), []) AS tags, "
    "arg_max(tlp, ord) AS tlp, arg_max(description, ord) AS description, "
    "arg_max(reference, ord) AS reference "
    "FROM (SELECT *, row_number() OVER () AS ord FROM _intel_repeats) GROUP BY type, value"
)


def stored_form(indicators: Sequence[Indicator]) -> pa.Table:
    """Indicators as a table of ``INDICATOR_SCHEMA`` without a database (for matchers)."""
    table = indicators_to_arrow(indicators)
    n = table.num_rows
    offsets = pa.array(range(n + 1), pa.int32())
    sources = pa.ListArray.from_arrays(offsets, table.column("source").combine_chunks())
    tags = pc.split_pattern(table.column("tags").combine_chunks(), TAG_SEPARATOR)
    tags = pc.if_else(pc.is_null(tags), pa.scalar([], pa.list_(pa.string())), tags)
    columns = {
        "sources": sources,
        "tags": tags,
        **{name: table.column(name).cast(_TS) for name in ("first_seen", "last_seen", "expires")},
    }
    arrays = [
        columns.get(f.name, table.column(f.name) if f.name in table.column_names else None)
        for f in INDICATOR_SCHEMA
    ]
    return pa.Table.from_arrays(arrays, schema=INDICATOR_SCHEMA)


def _split_repeats(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The rows whose ``(type, value)`` occurs once, and the rows of repeated keys.

    Grouping a million rows in SQL costs seconds; finding the few repeats with Arrow's
    hash aggregation costs a fraction, and only those rows are then grouped.
    """
    if table.num_rows < 2 or pc.count_distinct(table.column("value")).as_py() == table.num_rows:
        return table, table.slice(0, 0)  # the common case, in one hash pass
    counts = table.group_by(["type", "value"]).aggregate([("type", "count")])
    repeated = counts.filter(pc.greater(counts.column("type_count"), 1))
    if repeated.num_rows == 0:
        return table, table.slice(0, 0)
    sep = "\x00"
    keys = pc.binary_join_element_wise(table.column("type"), table.column("value"), sep)
    wanted = pc.binary_join_element_wise(repeated.column("type"), repeated.column("value"), sep)
    mask = pc.is_in(keys, value_set=wanted)
    return table.filter(pc.invert(mask)), table.filter(mask)


def _select_columns(prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c}" for c in _COLUMNS)


class IntelStore:
    """Indicators in the node's DuckDB database, plus the snapshot the matcher reads."""

    def __init__(self, store: _Store, *, clock: Any = now_ns, read_only: bool = False) -> None:
        self.store = store
        self.data_dir = Path(store.root)
        self.clock = clock
        self._lock = threading.Lock()
        cur = store.connection()
        if read_only:
            return
        columns = ", ".join(f"{name} {kind}" for name, kind in _DUCK_TYPES.items())
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS intel_indicators ({columns}, "
            "created TIMESTAMP_NS, updated TIMESTAMP_NS)"
        )
        ensure_generation_table(cur)
        self.ensure_snapshot()

    # -- writing --------------------------------------------------------------------

    def load(
        self,
        indicators: Sequence[Indicator] | pa.Table,
        *,
        revoked: Sequence[Indicator] = (),
        collect_new: bool = True,
    ) -> LoadSummary:
        """Store indicators (or a ``LOAD_SCHEMA`` table) in one transaction, all or none.

        ``revoked`` indicators (withdrawn by their feed) expire now if they are stored.
        With ``collect_new`` the summary holds the indicators that were not known before
        (for retro-matching); without, only their number.
        """
        table = (
            indicators.cast(LOAD_SCHEMA)
            if isinstance(indicators, pa.Table)
            else indicators_to_arrow(indicators)
        )
        summary = LoadSummary(received=table.num_rows)
        if table.num_rows == 0 and not revoked:
            return summary
        now = self.clock()
        once, repeats = _split_repeats(table)
        batch_sql = _BATCH_UNIQUE
        if repeats.num_rows:
            batch_sql += " UNION ALL " + _BATCH_GROUPED
        with self._lock:
            cur = self.store.connection()
            cur.register("_intel_in", once)
            cur.register("_intel_repeats", repeats)
            cur.execute("BEGIN TRANSACTION")
            try:
                # A view, not a temporary table: a million rows materialized under the
                # store's memory limit spill to disk and cost seconds.
                cur.execute(f"CREATE OR REPLACE TEMP VIEW _intel_batch AS {batch_sql}")
                cur.execute(
                    "UPDATE intel_indicators AS t SET "
                    # Most reloads bring nothing new to these lists: skip the set union.
                    "sources = CASE WHEN list_has_all(t.sources, b.sources) THEN t.sources "
                    "ELSE list_distinct(list_concat(t.sources, b.sources)) END, "
                    "confidence = b.confidence, severity = b.severity, alert = b.alert, "
                    "first_seen = least(t.first_seen, b.first_seen), "
                    "last_seen = greatest(t.last_seen, b.last_seen), expires = b.expires, "
                    "tags = CASE WHEN list_has_all(t.tags, b.tags) THEN t.tags "
                    "ELSE list_distinct(list_concat(t.tags, b.tags)) END, "
                    "tlp = coalesce(b.tlp, t.tlp), "
                    "description = coalesce(b.description, t.description), "
                    "reference = coalesce(b.reference, t.reference), "
                    "updated = make_timestamp_ns(?) "
                    "FROM _intel_batch b WHERE t.type = b.type AND t.value = b.value",
                    [now],
                )
                # ``created`` = this load's clock reading marks the rows it added.
                cur.execute(
                    f"INSERT INTO intel_indicators SELECT {_select_columns('b.')}, "
                    "make_timestamp_ns(?), make_timestamp_ns(?) FROM _intel_batch b "
                    "ANTI JOIN intel_indicators t ON t.type = b.type AND t.value = b.value",
                    [now, now],
                )
                (batch_rows,) = cur.execute("SELECT count(*) FROM _intel_batch").fetchall()[0]
                if revoked:
                    summary.revoked = self._revoke(cur, revoked, now)
                columns = _select_columns() if collect_new else "type"
                new = cur.sql(
                    f"SELECT {columns} FROM intel_indicators WHERE created = make_timestamp_ns(?)",
                    params=[now],
                ).to_arrow_table()
                generation = bump_generation(cur, SNAPSHOT_NAME)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.execute("DROP VIEW IF EXISTS _intel_batch")
                cur.unregister("_intel_in")
                cur.unregister("_intel_repeats")
            self._write_snapshot(cur, generation, now)
        summary.added = new.num_rows
        summary.updated = int(batch_rows) - new.num_rows
        if collect_new:
            summary.new = new.cast(INDICATOR_SCHEMA)
        return summary

    @staticmethod
    def _revoke(cur: duckdb.DuckDBPyConnection, revoked: Sequence[Indicator], now: int) -> int:
        keys = pa.table(
            {"type": [i.type for i in revoked], "value": [i.value for i in revoked]},
            schema=pa.schema([("type", pa.string()), ("value", pa.string())]),
        )
        cur.register("_intel_revoked", keys)
        try:
            (count,) = cur.execute(
                "UPDATE intel_indicators AS t SET expires = make_timestamp_ns(?), "
                "updated = make_timestamp_ns(?) FROM _intel_revoked r "
                "WHERE t.type = r.type AND t.value = r.value "
                "AND (t.expires IS NULL OR t.expires > make_timestamp_ns(?))",
                [now, now, now],
            ).fetchall()[0]
        finally:
            cur.unregister("_intel_revoked")
        return int(count)

    def expire(self, now: int | None = None) -> int:
        """Delete indicators whose expiry has passed; returns how many."""
        when = self.clock() if now is None else now
        with self._lock:
            cur = self.store.connection()
            cur.execute("BEGIN TRANSACTION")
            try:
                (count,) = cur.execute(
                    "SELECT count(*) FROM intel_indicators WHERE expires <= make_timestamp_ns(?)",
                    [when],
                ).fetchall()[0]
                if not count:
                    cur.execute("ROLLBACK")
                    return 0
                cur.execute(
                    "DELETE FROM intel_indicators WHERE expires <= make_timestamp_ns(?)", [when]
                )
                generation = bump_generation(cur, SNAPSHOT_NAME)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._write_snapshot(cur, generation, when)
        return int(count)

    # -- reading --------------------------------------------------------------------

    def active(self, now: int | None = None) -> pa.Table:
        """Indicators not expired at ``now`` (the matcher's input)."""
        when = self.clock() if now is None else now
        table = (
            self.store.connection()
            .sql(
                f"SELECT {_select_columns()} FROM intel_indicators "
                "WHERE expires IS NULL OR expires > make_timestamp_ns(?)",
                params=[when],
            )
            .to_arrow_table()
        )
        return table.cast(INDICATOR_SCHEMA)

    def list(
        self,
        *,
        type: str | None = None,
        source: str | None = None,
        value: str | None = None,
        include_expired: bool = False,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Indicators as rows of flat fields, most recently updated first."""
        clauses: list[str] = []
        params: list[Any] = []
        if type:
            clauses.append("type = ?")
            params.append(type)
        if source:
            clauses.append("list_contains(sources, ?)")
            params.append(source)
        if value:
            clauses.append("value ILIKE ?")
            params.append(value.replace("*", "%"))
        if not include_expired:
            clauses.append("(expires IS NULL OR expires > make_timestamp_ns(?))")
            params.append(self.clock())
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        if not self._exists():
            return []
        times = ("first_seen", "last_seen", "expires", "created", "updated")
        select = ", ".join(
            f"epoch_ns({c}) AS {c}" if c in times else c for c in [*_COLUMNS, "created", "updated"]
        )
        cur = self.store.connection()
        result = cur.execute(
            f"SELECT {select} FROM intel_indicators{where} "
            "ORDER BY updated DESC, type, value LIMIT ?",
            [*params, max(0, limit)],
        )
        names = [d[0] for d in result.description or []]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def _exists(self) -> bool:
        rows = (
            self.store.connection()
            .execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_name = 'intel_indicators'"
            )
            .fetchall()
        )
        return bool(rows and rows[0][0])

    def summary(self) -> builtins.list[dict[str, Any]]:
        """Per source and type: indicators active and expired now (a source's share of an
        indicator several sources sent counts for each)."""
        if not self._exists():
            return []
        rows = self.store.connection().execute(
            "SELECT source, type, count(*) FILTER (WHERE expires IS NULL OR expires > "
            "make_timestamp_ns(?)) AS active, count(*) FILTER (WHERE expires <= "
            "make_timestamp_ns(?)) AS expired FROM (SELECT unnest(sources) AS source, type, "
            "expires FROM intel_indicators) GROUP BY ALL ORDER BY source, type",
            [self.clock(), self.clock()],
        )
        names = ("source", "type", "active", "expired")
        return [dict(zip(names, row, strict=True)) for row in rows.fetchall()]

    def count(self, *, include_expired: bool = True) -> int:
        if not self._exists():
            return 0
        sql = "SELECT count(*) FROM intel_indicators"
        params: list[Any] = []
        if not include_expired:
            sql += " WHERE expires IS NULL OR expires > make_timestamp_ns(?)"
            params.append(self.clock())
        rows = self.store.connection().execute(sql, params).fetchall()
        return int(rows[0][0]) if rows else 0

    # -- the snapshot -----------------------------------------------------------------

    def ensure_snapshot(self) -> None:
        """Rewrite the snapshot if it is missing or older than the committed indicators."""
        cur = self.store.connection()
        generation = current_generation(cur, SNAPSHOT_NAME)
        if snapshot_generation(self.data_dir, SNAPSHOT_NAME) == generation:
            return
        try:
            self._write_snapshot(cur, generation, self.clock())
        except OSError as exc:
            raise StoreError(
                f"cannot write the indicator snapshot in {self.data_dir}: {exc}"
            ) from exc

    def _write_snapshot(self, cur: duckdb.DuckDBPyConnection, generation: int, now: int) -> None:
        write_snapshot(self.data_dir, SNAPSHOT_NAME, self.active(now), generation)
