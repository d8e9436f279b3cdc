"""The ingested-files ledger: rows found by fingerprint, by path and by head."""

from __future__ import annotations

from pathlib import Path

import duckdb

from heron.store.duckdb import DuckDBStore
from heron.store.ledger import LedgerEntry


def test_a_ledger_from_before_heads_were_kept_gains_them_and_held_lines(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    DuckDBStore(data).close()
    with duckdb.connect(str(data / "heron.duckdb")) as con:
        con.execute("DROP TABLE ingested_files")
        con.execute(
            "CREATE TABLE ingested_files (fingerprint VARCHAR PRIMARY KEY, path VARCHAR, "
            "size BIGINT, first_ingested TIMESTAMP_NS, last_ingested TIMESTAMP_NS, "
            "times INTEGER)"
        )
        con.execute(
            "INSERT INTO ingested_files VALUES ('old', '/var/log/a.log', 10, "
            "make_timestamp_ns(1), make_timestamp_ns(1), 1)"
        )
    store = DuckDBStore(data)
    try:
        assert set(store.ingested_before(["old"])) == {"old"}
        assert store.ingested_before(["old"])["old"].held == 0
        store.record_ingested([LedgerEntry("new", "/var/log/b.log", 20, "h" * 64, 7)], 2)
        store.record_ingested([LedgerEntry("old", "/var/log/a.log", 10, "g" * 64)], 3)
        found = {
            (row.fingerprint, head)
            for row, head in store.earlier_ingested(["/var/log/a.log"], ["h" * 64])
        }
        assert found == {("old", "g" * 64), ("new", "h" * 64)}
        assert store.ingested_before(["old"])["old"].times == 2
        assert store.ingested_before(["new"])["new"].held == 7
        # A later load of the same bytes that read the held line too: nothing held now.
        store.record_ingested([LedgerEntry("new", "/var/log/b.log", 20, "h" * 64)], 4)
        assert store.ingested_before(["new"])["new"].held == 0
    finally:
        store.close()
