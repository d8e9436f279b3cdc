"""Alert queue speed: storing detections, paging and counting the queue, bulk triage, risk.

Stores --alerts distinct alerts (default 10k: 40 rules, 2,000 users, 300 hosts, 500
source addresses, over a week) through ``AlertStore.add`` in batches as ingest does, then
times, several repeats each, what the alert queue page and the API do. CPU time is
reported beside wall time: this machine is shared and noisy. Prints one JSON object:

  {"alerts": N, "add": {"batch": B, "detections_per_cpu_s": ..., "wall_s": ...},
   "queries_ms": {name: {"median": ..., "p95": ..., "cpu_median": ...}},
   "bulk_update_50_ms": {...}, "entities": E}

Usage: python benchmarks/alerts.py [--alerts 10000] [--repeats 30] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from heron.alerts import AlertStore
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

_S = 1_000_000_000
_START = 1_709_251_200 * _S  # 2024-03-01T00:00:00Z
_LEVELS = ("low", "medium", "medium", "high", "critical")


def _detections(count: int) -> list[Detection]:
    span = 7 * 86400 * _S
    out = []
    for i in range(count):
        out.append(
            Detection(
                rule_id=f"rule-{i % 40}",
                rule_name=f"Rule number {i % 40}",
                level=_LEVELS[i % len(_LEVELS)],
                timestamp=_START + (i * span) // count,
                event_ids=(f"e{i}",),
                tags=("attack.t1110",),
                # user varies fastest: every detection is its own alert (no grouping)
                entities={
                    "user.name": f"user{i % 2000}-{i // 2000}",
                    "host.name": f"host{i % 300}",
                    "source.ip": f"10.{(i % 500) // 250}.{(i % 250)}.7",
                },
            )
        )
    return out


def _time(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - c) * 1000)
        walls.append((time.perf_counter() - w) * 1000)
    walls.sort()
    return {
        "median": round(statistics.median(walls), 2),
        "p95": round(walls[min(len(walls) - 1, int(len(walls) * 0.95))], 2),
        "cpu_median": round(statistics.median(cpus), 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="heron-bench-alerts-")) / "data"
    with DuckDBStore(root) as store:
        alerts = AlertStore(store)
        detections = _detections(args.alerts)
        batch = 1000
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(detections), batch):
            alerts.add(detections[start : start + batch])
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        ids = [a.id for a in alerts.list(limit=50)]
        flip = iter(range(10**9))

        def bulk() -> None:
            status = "acknowledged" if next(flip) % 2 else "new"
            alerts.update(ids, actor="bench", status=status, comment="bench")

        queries = {
            "list_50": lambda: alerts.list(limit=50),
            "list_50_open_high": lambda: alerts.list(
                limit=50, status=["new", "acknowledged"], min_level="high"
            ),
            "list_50_by_risk": lambda: alerts.list(limit=50, order="risk_score"),
            "list_50_page_100": lambda: alerts.list(limit=50, offset=5000),
            "list_50_entity": lambda: alerts.list(limit=50, entity=("host", "host7")),
            "list_50_text": lambda: alerts.list(limit=50, text="number 3"),
            "count_open": lambda: alerts.count_matching(status=["new", "acknowledged"]),
            "get": lambda: alerts.get(ids[0]),
            "history": lambda: alerts.history(ids[0]),
            "risk_top_20": lambda: alerts.risk.top(limit=20),
        }
        result: dict[str, Any] = {
            "alerts": alerts.count(),
            "add": {
                "batch": batch,
                "detections_per_cpu_s": round(len(detections) / cpu),
                "wall_s": round(wall, 2),
            },
            "queries_ms": {name: _time(fn, args.repeats) for name, fn in queries.items()},
            "bulk_update_50_ms": _time(bulk, args.repeats),
            "entities": len(alerts.risk.top(limit=10**9)),
        }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()
