"""The end of a bulk load: the held correlations run while old days move to Parquet.

Real components (store, built-in rules, alert store); the load is large enough that
``finish_ingest`` moves its old days, so the two tasks do overlap.
"""

from __future__ import annotations

import json
from pathlib import Path

from heron.parsers import ParseContext
from heron.pipeline import Pipeline
from heron.runtime import COMPACT_MIN_ROWS, open_node

BURST_LINES = 8


def _write_load(folder: Path) -> list[Path]:
    auth = folder / "auth.log"
    auth.write_text(
        "".join(
            f"Jun 10 10:00:{s:02d} web01 sshd[1201]: Failed password for root "
            f"from 203.0.113.9 port {50000 + s} ssh2\n"
            for s in range(BURST_LINES)
        )
    )
    filler = folder / "old.ndjson"
    with filler.open("w") as out:
        for i in range(COMPACT_MIN_ROWS):
            stamp = f"2025-06-{11 + i % 3:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
            out.write(json.dumps({"@timestamp": stamp, "message": f"old line {i}"}) + "\n")
    return [auth, filler]


def test_old_days_move_to_parquet_while_the_held_correlations_finish(tmp_path: Path) -> None:
    files = _write_load(tmp_path)
    data_dir = tmp_path / "data"
    with open_node(data_dir, bulk=True) as node:
        assert node.detector is not None and node.detector.correlation is not None
        assert node.alerts is not None
        node.detector.correlation.hold = True  # as 'heron ingest' does
        pipeline = Pipeline(
            node.store,
            detector=node.detector,
            alerts=node.alerts,
            enrichers=node.enrichers,
            context=ParseContext(year=2025),
        )
        summary = pipeline.ingest_files(files)
        assert (summary.events, summary.failed) == (COMPACT_MIN_ROWS + BURST_LINES, 0)
        assert node.alerts.list(text="Failed Logon Burst") == []  # held until the end

        assert node.finish_ingest() >= 1

        stats = node.store.stats()
        assert {p.location for p in stats.partitions} == {"parquet"}
        assert stats.events == COMPACT_MIN_ROWS + BURST_LINES
        (burst,) = node.alerts.list(text="Failed Logon Burst")
        assert burst.entities.get("source.ip") == "203.0.113.9"
