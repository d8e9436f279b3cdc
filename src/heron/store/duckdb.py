"""The embedded store: DuckDB in a data directory, old days moved to Parquet.

Layout of a data directory::

    heron.duckdb                     hot days (table events_hot), dead letters, manifests
    parquet/day=YYYY-MM-DD/*.parquet  days moved out of the database (zstd)

The ``events`` view unions both, so every reader sees one relation. A Parquet file
becomes visible only when its manifest row commits in the same transaction that deletes
its rows from ``events_hot``; files without a manifest row are leftovers of a crash
and are removed at open. So a crash never loses or duplicates a day.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from heron.errors import DataDirLockedError, StoreError
from heron.model.deadletter import DeadLetter
from heron.model.event import Event, EventBatch, arrow_to_events
from heron.model.schema import CORE_FIELDS, EXTRA_COLUMN, FieldKind
from heron.model.timeutil import NS_PER_S
from heron.store.base import (
    Partition,
    SearchQuery,
    StoreStats,
    field_sql,
    quote_ident,
)
from heron.store.ledger import (
    IngestedFile,
    LedgerEntry,
    earlier_rows,
    ingested_before,
    init_ledger,
    record_ingested,
)
from heron.store.textindex import index_batch, init_index

__all__ = ["BULK_CHECKPOINT_WAL", "CHECKPOINT_WAL", "DuckDBStore", "duckdb_column_type"]

_DAY_NS = 86400 * NS_PER_S
#: Most hot rows one COPY moves to Parquet: a partitioned COPY holds every open day's
#: row group in memory, and a million ~1 KB events in one ran out of 512 MB.
COMPACT_BATCH_ROWS = 200_000
#: Rows of one Parquet row group as DuckDB writes them (its ``ROW_GROUP_SIZE`` default).
PARQUET_ROW_GROUP_ROWS = 122_880
# DuckDB's default buffer pool is 80% of RAM; a SIEM node shares its machine, and an
# ingest of any size must stay within a known footprint.
DEFAULT_MEMORY_LIMIT = "512MB"
#: WAL size that triggers a checkpoint (see ``DuckDBStore.__init__``).
CHECKPOINT_WAL = "128MB"
#: The same for a bulk load (``heron ingest``): most of what it appends to old days
#: moves to Parquet when it ends, and what moves before a checkpoint is never
#: compressed into the database file at all. Storing 300k events of the mixed benchmark
#: corpus took 8.7 CPU-s instead of 13.3 (appending 3.4 instead of 7.8); at 1M events,
#: past the threshold, 256MB, 512MB and 1GB measured the same. A crash replays at most
#: this much WAL at the next start.
BULK_CHECKPOINT_WAL = "1GB"
_TS = quote_ident("@timestamp")

_DUCK_TYPES: dict[FieldKind, str] = {
    FieldKind.TIMESTAMP: "TIMESTAMP_NS",
    FieldKind.STRING: "VARCHAR",
    FieldKind.INT: "BIGINT",
    FieldKind.STRING_LIST: "VARCHAR[]",
}


#: Columns of whole records (``event.original`` and the JSON of vendor fields, ~1-3 KB a
#: row) are stored with zstd instead of DuckDB's own choice (dictionary and FSST): on
#: 1M mixed-corpus events, storing and checkpointing took 6.5 CPU-s instead of 10.6 and
#: the file 155 MB instead of 552, with free-text, JSON and by-id queries as fast.
#: Short columns keep DuckDB's choice (a dictionary answers an equality filter faster).
_ZSTD_COLUMNS = frozenset({"event.original", EXTRA_COLUMN})


def duckdb_column_type(name: str) -> str:
    """The DuckDB type of a stored column."""
    if name == EXTRA_COLUMN:
        return "VARCHAR"
    return _DUCK_TYPES[CORE_FIELDS[name]]


def _naive_timestamps(table: pa.Table) -> pa.Table:
    # DuckDB reads tz-aware Arrow timestamps as TIMESTAMPTZ (microseconds); dropping the
    # zone (values are UTC already) keeps all nine fraction digits in TIMESTAMP_NS.
    for i, fld in enumerate(table.schema):
        if pa.types.is_timestamp(fld.type) and fld.type.tz is not None:
            naive = table.column(i).cast(pa.timestamp("ns"))
            table = table.set_column(i, pa.field(fld.name, pa.timestamp("ns")), naive)
    return table


def _day_of(ns: int) -> str:
    return datetime.fromtimestamp(ns // NS_PER_S, tz=UTC).strftime("%Y-%m-%d")


def _day_start(day: str) -> int:
    dt = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return int(dt.timestamp()) * NS_PER_S


def _day_batches(days: list[tuple[str, int]], most: int) -> list[tuple[str, str]]:
    """Runs of consecutive (day, rows) entries holding at most ``most`` rows each (a
    larger day alone), as (first day, last day)."""
    batches: list[tuple[str, str]] = []
    first, rows = days[0][0], 0
    previous = first
    for day, n in days:
        if rows and rows + n > most:
            batches.append((first, previous))
            first, rows = day, 0
        rows += n
        previous = day
    batches.append((first, previous))
    return batches


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


class DuckDBStore:
    """The DuckDB implementation of ``Store``; safe to use from several threads."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        read_only: bool = False,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        checkpoint_wal: str = CHECKPOINT_WAL,
    ) -> None:
        self.root = Path(data_dir)
        self.read_only = read_only
        if not read_only:
            self.root.mkdir(parents=True, exist_ok=True)
        db_path = self.root / "heron.duckdb"
        if read_only and not db_path.exists():
            raise StoreError(f"no Heron data in {self.root} (nothing ingested yet)")
        try:
            self._con = duckdb.connect(
                str(db_path),
                read_only=read_only,
                # A checkpoint every 16 MiB of WAL (the default) is one per ingest batch:
                # each append then pays a compression pass over partial row groups. Fewer,
                # larger checkpoints cost about a third less CPU per appended event;
                # every commit is still synced to the WAL.
                config={"memory_limit": memory_limit, "checkpoint_threshold": checkpoint_wal},
            )
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise DataDirLockedError(
                    f"the data directory {self.root} is in use by another Heron process "
                    "(a running 'heron serve' or 'heron ingest'); query it through that "
                    "server's API or stop it first"
                ) from exc
            raise StoreError(f"cannot open {db_path}: {exc}") from exc
        self._write_lock = threading.RLock()
        if not read_only:
            self._create_schema()
            self._remove_orphan_files()
            self._refresh_view()

    # -- set-up ---------------------------------------------------------------------

    def _create_schema(self) -> None:
        # A data directory created before zstd keeps its table (DuckDB cannot change a
        # column's compression): its events are stored as they were.
        columns = ", ".join(
            f"{quote_ident(name)} {duckdb_column_type(name)}"
            + (" USING COMPRESSION zstd" if name in _ZSTD_COLUMNS else "")
            for name in [*CORE_FIELDS, EXTRA_COLUMN]
        )
        self._con.execute(f"CREATE TABLE IF NOT EXISTS events_hot ({columns})")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS event_partitions ("
            "day DATE, path VARCHAR PRIMARY KEY, rows BIGINT, bytes BIGINT)"
        )
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS dead_letters ("
            "received TIMESTAMP_NS, source VARCHAR, location VARCHAR, reason VARCHAR, "
            "raw VARCHAR, raw_size BIGINT)"
        )
        # The receive log's highest record stored (``heron.receivelog``), committed with
        # the events it covers.
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS receipts (log VARCHAR PRIMARY KEY, seq BIGINT)"
        )
        init_ledger(self._con)
        init_index(self._con)

    def _parquet_paths(self) -> list[str]:
        rows = self._cursor().execute("SELECT path FROM event_partitions ORDER BY day").fetchall()
        return [str(self.root / row[0]) for row in rows]

    def _remove_orphan_files(self) -> None:
        known = set(self._parquet_paths())
        base = self.root / "parquet"
        if not base.exists():
            return
        for path in base.rglob("*.parquet*"):
            if str(path) not in known:
                path.unlink()
        for staging in base.glob(".staging-*"):
            shutil.rmtree(staging, ignore_errors=True)

    def _refresh_view(self) -> None:
        paths = self._parquet_paths()
        sql = "SELECT * FROM events_hot"
        if paths:
            listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
            sql += (
                f" UNION ALL BY NAME SELECT * FROM read_parquet([{listed}], "
                "union_by_name=true, hive_partitioning=false)"
            )
        with self._write_lock:
            self._con.execute(f"CREATE OR REPLACE VIEW events AS {sql}")

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    # -- writing --------------------------------------------------------------------

    def append(self, batch: EventBatch | pa.Table, *, receipt: int | None = None) -> int:
        """Store a batch in one transaction; ``receipt``: the receive log's highest record
        in it, recorded in the same transaction (so a crash replays exactly the rest)."""
        table = batch.to_arrow() if isinstance(batch, EventBatch) else batch
        if table.num_rows == 0:
            if receipt is not None:
                with self._write_lock:
                    self._record_receipt(self._cursor(), receipt)
            return 0
        table = _naive_timestamps(table)
        with self._write_lock:
            cur = self._cursor()
            cur.register("_heron_batch", table)
            try:
                # The free-text skip index commits with the events it covers.
                cur.execute("BEGIN TRANSACTION")
                try:
                    cur.execute("INSERT INTO events_hot BY NAME SELECT * FROM _heron_batch")
                    index_batch(cur, table)
                    if receipt is not None:
                        self._record_receipt(cur, receipt)
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
            finally:
                cur.unregister("_heron_batch")
        return int(table.num_rows)

    @staticmethod
    def _record_receipt(cur: duckdb.DuckDBPyConnection, seq: int) -> None:
        cur.execute("INSERT OR REPLACE INTO receipts VALUES ('receive', ?)", [seq])

    def receipt(self) -> int:
        """The receive log's highest record stored; 0 before the first."""
        row = self._cursor().execute("SELECT seq FROM receipts WHERE log = 'receive'").fetchone()
        return int(row[0]) if row else 0

    def ingested_before(self, fingerprints: Sequence[str]) -> dict[str, IngestedFile]:
        """Which of these file fingerprints ``heron ingest`` has read before, and when."""
        return ingested_before(self._cursor(), fingerprints)

    def earlier_ingested(
        self, paths: Sequence[str], heads: Sequence[str]
    ) -> list[tuple[IngestedFile, str | None]]:
        """Files ``heron ingest`` has read before at these paths or with these heads."""
        return earlier_rows(self._cursor(), paths, heads)

    def record_ingested(self, files: Sequence[LedgerEntry], at: int) -> None:
        """Note input files read to the end, at ``at`` (ns)."""
        with self._write_lock:
            record_ingested(self._cursor(), files, at)

    def add_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        # One Arrow insert: executemany is row by row, and a damaged file can bring
        # tens of thousands of dead letters at once.
        table = pa.table(
            {
                "received": pa.array([d.received for d in letters], pa.int64()).cast(
                    pa.timestamp("ns")
                ),
                # Typed columns: inferring a list's type makes pyarrow import pandas.
                "source": pa.array([d.source for d in letters], pa.string()),
                "location": pa.array([d.location for d in letters], pa.string()),
                "reason": pa.array([d.reason for d in letters], pa.string()),
                "raw": pa.array([d.raw for d in letters], pa.string()),
                "raw_size": pa.array([d.raw_size for d in letters], pa.int64()),
            }
        )
        with self._write_lock:
            cur = self._cursor()
            cur.register("_heron_dead", table)
            try:
                cur.execute("INSERT INTO dead_letters BY NAME SELECT * FROM _heron_dead")
            finally:
                cur.unregister("_heron_dead")

    def compact(
        self, older_than: int, *, min_rows: int = 0, sort_above: int = PARQUET_ROW_GROUP_ROWS
    ) -> int:
        """Move whole days that ended before ``older_than`` to Parquet, when at least
        ``min_rows`` of their events are in the hot table; returns the days moved.
        ``sort_above``: days with more events are written sorted by time (see
        ``_move_days``)."""
        cutoff = _day_start(_day_of(older_than))
        days = [
            (str(day), int(n))
            for day, n in self._cursor()
            .execute(
                f"SELECT strftime({_TS}, '%Y-%m-%d') AS day, count(*) FROM events_hot "
                f"WHERE {_TS} < make_timestamp_ns(?) GROUP BY day ORDER BY day",
                [cutoff],
            )
            .fetchall()
        ]
        if not days or sum(n for _, n in days) < min_rows:
            return 0
        moved = 0
        rows_of = dict(days)
        for first, last in _day_batches(days, COMPACT_BATCH_ROWS):
            largest = max(n for day, n in rows_of.items() if first <= day <= last)
            # The lock is taken batch by batch: a running node's commits wait for one
            # batch's move at most, not for all old days. Each move takes the days' rows
            # as they are then (late events included).
            with self._write_lock:
                moved += self._move_days(first, last, ordered=largest > sort_above)
                self._refresh_view()
        return moved

    def _move_days(self, first: str, last: str, *, ordered: bool) -> int:
        """One COPY for the days ``first``..``last``; the caller holds the write lock.

        ``ordered``: a day fills more than one Parquet row group, so its rows are sorted
        by time first (each row group's time range is then narrow, and a search skips
        the others). A day in one row group has that range whatever the order, and the
        sort cost a fifth of the move (257k events of 32 days: 1.87-1.91 s → 1.48-1.57 s).

        zstd at level 1, not DuckDB's 3: the same 257k events took 2.01-2.11 CPU-s instead
        of 2.15-2.37 and came out 1% smaller (27.4 MB against 27.7), the pages being short.
        """
        start, end = _day_start(first), _day_start(last) + _DAY_NS
        where = f"{_TS} >= make_timestamp_ns(?) AND {_TS} < make_timestamp_ns(?)"
        cur = self._cursor()
        # Files stay invisible (and are removed as orphans after a crash) until their
        # manifest rows commit with the DELETE.
        staging = self.root / "parquet" / f".staging-{uuid.uuid4().hex}"
        staging.parent.mkdir(parents=True, exist_ok=True)
        quoted = "'" + str(staging).replace("'", "''") + "'"
        cur.execute(
            f"COPY (SELECT *, strftime({_TS}, '%Y-%m-%d') AS day FROM events_hot "
            f"WHERE {where}{f' ORDER BY {_TS}' if ordered else ''}) TO {quoted} (FORMAT parquet, "
            "PARTITION_BY (day), COMPRESSION zstd, COMPRESSION_LEVEL 1, "
            "FILENAME_PATTERN 'part-{uuid}')",
            [start, end],
        )
        manifest: list[tuple[str, str, int, int]] = []
        for written in sorted(staging.rglob("*.parquet")):
            day = written.parent.name.removeprefix("day=")
            rel = Path("parquet") / f"day={day}" / written.name
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            written.rename(self.root / rel)
            count = pq.read_metadata(self.root / rel).num_rows
            manifest.append((day, str(rel), count, (self.root / rel).stat().st_size))
        shutil.rmtree(staging, ignore_errors=True)
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.execute(f"DELETE FROM events_hot WHERE {where}", [start, end])
            cur.executemany(
                "INSERT INTO event_partitions VALUES (CAST(? AS DATE), ?, ?, ?)", manifest
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            for _day, rel_path, _n, _b in manifest:
                (self.root / rel_path).unlink(missing_ok=True)
            raise
        return len({day for day, *_ in manifest})

    def drop_before(self, cutoff: int) -> int:
        cutoff_day_start = _day_start(_day_of(cutoff))
        dropped = 0
        with self._write_lock:
            cur = self._cursor()
            gone = cur.execute(
                "SELECT path, rows FROM event_partitions WHERE day < CAST(? AS DATE)",
                [_day_of(cutoff)],
            ).fetchall()
            cur.execute("BEGIN TRANSACTION")
            try:
                (hot,) = cur.execute(
                    f"SELECT count(*) FROM events_hot WHERE {_TS} < make_timestamp_ns(?)",
                    [cutoff_day_start],
                ).fetchone() or (0,)
                cur.execute(
                    f"DELETE FROM events_hot WHERE {_TS} < make_timestamp_ns(?)",
                    [cutoff_day_start],
                )
                cur.execute(
                    "DELETE FROM event_partitions WHERE day < CAST(? AS DATE)", [_day_of(cutoff)]
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            dropped = int(hot) + sum(int(r[1]) for r in gone)
            self._refresh_view()
        for rel, _rows in gone:
            (self.root / rel).unlink(missing_ok=True)
        return dropped

    # -- reading --------------------------------------------------------------------

    def _where(self, query: SearchQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.start is not None:
            clauses.append(f"{_TS} >= make_timestamp_ns(?)")
            params.append(query.start)
        if query.end is not None:
            clauses.append(f"{_TS} < make_timestamp_ns(?)")
            params.append(query.end)
        for name, value in query.filters.items():
            kind = CORE_FIELDS.get(name)
            if kind is FieldKind.STRING_LIST:
                clauses.append(
                    f"len(list_filter({quote_ident(name)}, lambda x: x ILIKE ? ESCAPE '\\')) > 0"
                )
                params.append(_like_pattern(value))
                continue
            if kind is FieldKind.INT and "*" not in value:
                try:
                    number = int(value)
                except ValueError:
                    raise StoreError(f"field {name!r} holds integers, not {value!r}") from None
                clauses.append(f"{quote_ident(name)} = ?")
                params.append(number)
                continue
            column, column_params = field_sql(name)
            if kind is FieldKind.INT or kind is FieldKind.TIMESTAMP:
                column = f"CAST({column} AS VARCHAR)"
            clauses.append(f"{column} ILIKE ? ESCAPE '\\'")
            params.extend(column_params)
            params.append(_like_pattern(value))
        if query.text:
            for word in query.text.split():
                clauses.append(
                    "(\"event.original\" ILIKE ? ESCAPE '\\' OR message ILIKE ? ESCAPE '\\')"
                )
                pattern = "%" + _like_pattern(word) + "%"
                params.extend([pattern, pattern])
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def search(self, query: SearchQuery) -> list[Event]:
        where, params = self._where(query)
        sql = f"SELECT * FROM events{where} ORDER BY {_TS} DESC LIMIT ?"
        table = self._cursor().sql(sql, params=[*params, max(0, query.limit)]).to_arrow_table()
        return list(arrow_to_events(table))

    def aggregate(
        self,
        group_by: Sequence[str],
        query: SearchQuery | None = None,
        *,
        interval: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        where, where_params = self._where(query or SearchQuery())
        selects: list[str] = []
        select_params: list[Any] = []
        for i, name in enumerate(group_by):
            column, column_params = field_sql(name)
            selects.append(f"{column} AS g{i}")
            select_params.extend(column_params)
        if interval is not None:
            if interval <= 0:
                raise StoreError("the time bin must be longer than zero")
            selects.append(f"(epoch_ns({_TS}) // ?) * ? AS bin")
            select_params.extend([interval, interval])
        keys = [f"g{i}" for i in range(len(group_by))] + (["bin"] if interval else [])
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        order = "bin, n DESC" if interval else "n DESC"
        sql = (
            f"SELECT {', '.join([*selects, 'count(*) AS n'])} FROM events{where}{group} "
            f"ORDER BY {order} LIMIT ?"
        )
        rows = self._cursor().execute(sql, [*select_params, *where_params, limit]).fetchall()
        out: list[dict[str, Any]] = []
        for row in rows:
            item: dict[str, Any] = {name: row[i] for i, name in enumerate(group_by)}
            if interval is not None:
                item["@timestamp"] = row[len(group_by)]
            item["count"] = row[-1]
            out.append(item)
        return out

    def get(self, event_id: str) -> Event | None:
        found = self.get_many([event_id])
        return found[0] if found else None

    def get_many(self, event_ids: Sequence[str]) -> list[Event]:
        if not event_ids:
            return []
        table = (
            self._cursor()
            .sql(
                'SELECT * FROM events WHERE "event.id" IN (SELECT unnest(?))',
                params=[list(event_ids)],
            )
            .to_arrow_table()
        )
        return list(arrow_to_events(table))

    def stats(self) -> StoreStats:
        cur = self._cursor()
        hot = cur.execute(
            f"SELECT CAST({_TS} AS DATE) AS d, count(*) FROM events_hot GROUP BY d ORDER BY d"
        ).fetchall()
        cold = cur.execute(
            "SELECT day, sum(rows), sum(bytes) FROM event_partitions GROUP BY day ORDER BY day"
        ).fetchall()
        partitions = [Partition(str(d), int(n), "hot") for d, n in hot] + [
            Partition(str(d), int(n), "parquet", int(b)) for d, n, b in cold
        ]
        partitions.sort(key=lambda p: (p.day, p.location))
        total, first, last = cur.execute(
            f"SELECT count(*), min(epoch_ns({_TS})), max(epoch_ns({_TS})) FROM events"
        ).fetchone() or (0, None, None)
        (letters,) = cur.execute("SELECT count(*) FROM dead_letters").fetchone() or (0,)
        return StoreStats(int(total), first, last, partitions, int(letters))

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = (
            self._cursor()
            .execute(
                "SELECT epoch_ns(received), source, location, reason, raw, raw_size "
                "FROM dead_letters ORDER BY received DESC LIMIT ?",
                [limit],
            )
            .fetchall()
        )
        return [
            DeadLetter(source=s, reason=r, raw=raw, location=loc, received=int(t), raw_size=n)
            for t, s, loc, r, raw, n in rows
        ]

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self._cursor().sql(sql, params=list(params) or None).to_arrow_table()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on this store's database, for components that keep tables beside events."""
        return self._cursor()

    def set_threads(self, threads: int | None) -> None:
        """DuckDB's worker threads from now on (``None``: DuckDB's default, one a core)."""
        if threads is None:
            self._con.execute("RESET threads")
        else:
            self._con.execute(f"SET threads = {int(threads)}")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
