"""The files ``heron ingest`` has read to the end, by content (``file_fingerprint``).

A table in the store's database; a file's row is written after the commit that stores
its last events, so a load killed later still knows it (``--skip-ingested``). A row
also keeps the file's size and a hash of its first 64 KiB, so a log that has grown
since (at its path, or under a rotated name) is known by its earlier rows
(``earlier_rows``): what was read of it need not be read again. A log whose last line
was still unfinished has that line left out of its row (``held``: the bytes after
``size`` that were left for the next load).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import duckdb
import pyarrow as pa

__all__ = [
    "IngestedFile",
    "LedgerEntry",
    "earlier_rows",
    "ingested_before",
    "init_ledger",
    "record_ingested",
]


class IngestedFile(NamedTuple):
    """An input file ``heron ingest`` read to the end before."""

    fingerprint: str
    path: str
    size: int
    first_ingested: int  # ns
    last_ingested: int  # ns
    times: int
    held: int = 0  # bytes after ``size`` left unread: an unfinished last line


class LedgerEntry(NamedTuple):
    """A file read to the end: what ``record_ingested`` notes."""

    fingerprint: str
    path: str
    size: int
    head: str | None  # SHA-256 of the first 64 KiB (files at least that long)
    held: int = 0  # bytes after ``size`` left unread: an unfinished last line


def init_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS ingested_files (fingerprint VARCHAR PRIMARY KEY, "
        "path VARCHAR, size BIGINT, first_ingested TIMESTAMP_NS, "
        "last_ingested TIMESTAMP_NS, times INTEGER, head VARCHAR, held BIGINT)"
    )
    # A data directory from before heads were kept: its rows still find equal files.
    con.execute("ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS head VARCHAR")
    con.execute("ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS held BIGINT")


def ingested_before(
    cur: duckdb.DuckDBPyConnection, fingerprints: Sequence[str]
) -> dict[str, IngestedFile]:
    """Which of these file fingerprints were read before, and when."""
    if not fingerprints:
        return {}
    rows = cur.execute(
        "SELECT fingerprint, path, size, epoch_ns(first_ingested), "
        "epoch_ns(last_ingested), times, coalesce(held, 0) FROM ingested_files "
        "WHERE fingerprint IN (SELECT unnest(?))",
        [list(fingerprints)],
    ).fetchall()
    return {row[0]: IngestedFile(*row) for row in rows}


def earlier_rows(
    cur: duckdb.DuckDBPyConnection, paths: Sequence[str], heads: Sequence[str]
) -> list[tuple[IngestedFile, str | None]]:
    """Rows (and heads) of files read before at one of ``paths``, or with one of
    ``heads``: the earlier states of logs that may have grown since."""
    if not paths and not heads:
        return []
    rows = cur.execute(
        "SELECT fingerprint, path, size, epoch_ns(first_ingested), "
        "epoch_ns(last_ingested), times, coalesce(held, 0), head FROM ingested_files "
        "WHERE path IN (SELECT unnest(?)) OR head IN (SELECT unnest(?))",
        [list(paths), list(heads)],
    ).fetchall()
    return [(IngestedFile(*row[:7]), row[7]) for row in rows]


def record_ingested(cur: duckdb.DuckDBPyConnection, files: Sequence[LedgerEntry], at: int) -> None:
    """Note files read to the end, at ``at`` (ns)."""
    if not files:
        return
    # One statement over an Arrow table: executemany upserts row by row, which cost
    # half a second for a folder of 277 EVTX files. A copy read twice counts once.
    latest = {entry.fingerprint: entry for entry in files}
    table = pa.table(
        {
            "fingerprint": pa.array(list(latest), pa.string()),
            "path": pa.array([e.path for e in latest.values()], pa.string()),
            "size": pa.array([e.size for e in latest.values()], pa.int64()),
            "head": pa.array([e.head for e in latest.values()], pa.string()),
            "held": pa.array([e.held for e in latest.values()], pa.int64()),
        }
    )
    cur.register("_heron_files", table)
    try:
        cur.execute(
            "INSERT INTO ingested_files SELECT fingerprint, path, size, "
            "make_timestamp_ns(?), make_timestamp_ns(?), 1, head, held FROM _heron_files "
            "ON CONFLICT (fingerprint) DO UPDATE SET path = excluded.path, head = excluded.head, "
            "held = excluded.held, last_ingested = excluded.last_ingested, "
            "times = ingested_files.times + 1",
            [at, at],
        )
    finally:
        cur.unregister("_heron_files")
