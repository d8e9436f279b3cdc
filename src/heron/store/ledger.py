"""The files ``heron ingest`` has read to the end, by content (``file_fingerprint``).

A table in the store's database; a file's row is written after the commit that stores
its last events, so a load killed later still knows it (``--skip-ingested``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import duckdb
import pyarrow as pa

__all__ = ["IngestedFile", "ingested_before", "init_ledger", "record_ingested"]


class IngestedFile(NamedTuple):
    """An input file ``heron ingest`` read to the end before."""

    fingerprint: str
    path: str
    size: int
    first_ingested: int  # ns
    last_ingested: int  # ns
    times: int


def init_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS ingested_files (fingerprint VARCHAR PRIMARY KEY, "
        "path VARCHAR, size BIGINT, first_ingested TIMESTAMP_NS, "
        "last_ingested TIMESTAMP_NS, times INTEGER)"
    )


def ingested_before(
    cur: duckdb.DuckDBPyConnection, fingerprints: Sequence[str]
) -> dict[str, IngestedFile]:
    """Which of these file fingerprints were read before, and when."""
    if not fingerprints:
        return {}
    rows = cur.execute(
        "SELECT fingerprint, path, size, epoch_ns(first_ingested), "
        "epoch_ns(last_ingested), times FROM ingested_files "
        "WHERE fingerprint IN (SELECT unnest(?))",
        [list(fingerprints)],
    ).fetchall()
    return {row[0]: IngestedFile(*row) for row in rows}


def record_ingested(
    cur: duckdb.DuckDBPyConnection, files: Sequence[tuple[str, str, int]], at: int
) -> None:
    """Note files read to the end: (fingerprint, path, size), at ``at`` (ns)."""
    if not files:
        return
    # One statement over an Arrow table: executemany upserts row by row, which cost
    # half a second for a folder of 277 EVTX files. A copy read twice counts once.
    latest = {fp: (path, size) for fp, path, size in files}
    table = pa.table(
        {
            "fingerprint": pa.array(list(latest), pa.string()),
            "path": pa.array([p for p, _ in latest.values()], pa.string()),
            "size": pa.array([n for _, n in latest.values()], pa.int64()),
        }
    )
    cur.register("_heron_files", table)
    try:
        cur.execute(
            "INSERT INTO ingested_files SELECT fingerprint, path, size, "
            "make_timestamp_ns(?), make_timestamp_ns(?), 1 FROM _heron_files "
            "ON CONFLICT (fingerprint) DO UPDATE SET path = excluded.path, "
            "last_ingested = excluded.last_ingested, times = ingested_files.times + 1",
            [at, at],
        )
    finally:
        cur.unregister("_heron_files")
