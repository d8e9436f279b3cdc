"""EVTX reading, Windows parsing and ECS normalization throughput on EVTX-ATTACK-SAMPLES.

Prints one JSON object:
  {"files", "records",
   "library": {"records_json/threads=N": records_per_s, "records/threads=N": …},
   "reader_records_per_s", "parse_records_per_s", "normalize_records_per_s",
   "parse_and_normalize_records_per_s", "with_category"}

Each figure is the best of ``--repeat`` runs (the machine may be shared).
Usage: python benchmarks/evtx_normalize.py [--repeat 3] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import evtx

from heron.normalize import normalize
from heron.parsers.base import ParseContext
from heron.parsers.windows import WindowsEventParser
from heron.sources.evtx import iter_evtx_records

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "evtx" / "EVTX-ATTACK-SAMPLES"


def best_rate(count: int, run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.evtx"))
    if not files:
        raise SystemExit(f"no EVTX files under {args.corpus}")

    def library(method: str, threads: int) -> None:
        for path in files:
            for _ in getattr(evtx.PyEvtxParser(str(path), number_of_threads=threads), method)():
                pass

    records = [r for path in files for r, _ in iter_evtx_records(path) if r is not None]
    count = len(records)
    result: dict[str, object] = {"files": len(files), "records": count}
    result["library"] = {
        f"{method}/threads={threads}": round(
            best_rate(count, lambda m=method, t=threads: library(m, t), args.repeat)
        )
        for method in ("records_json", "records")
        for threads in (0, 1, 2)
    }
    result["reader_records_per_s"] = round(
        best_rate(count, lambda: [x for p in files for x in iter_evtx_records(p)], args.repeat)
    )
    windows = WindowsEventParser()
    ctx = ParseContext(received=1)
    result["parse_records_per_s"] = round(
        best_rate(count, lambda: [windows.parse(r, ctx) for r in records], args.repeat)
    )
    parsed = [windows.parse(r, ctx) for r in records]
    result["normalize_records_per_s"] = round(
        best_rate(count, lambda: [normalize(dict(e)) for e in parsed], args.repeat)
    )
    result["parse_and_normalize_records_per_s"] = round(
        best_rate(count, lambda: [normalize(windows.parse(r, ctx)) for r in records], args.repeat)
    )
    result["with_category"] = sum(
        1 for r in records if normalize(windows.parse(r, ctx)).get("event.category")
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
