"""Enrichment cost: ingest with and without 1M indicators loaded, in the same run.

1. Writes a mixed log corpus (the generator of benchmarks/ingest.py) and a plain list of
   ``--iocs`` indicators (IPv4/IPv6 addresses and networks, domains, URLs, SHA-256/MD5,
   emails; a few hundred of the corpus's own addresses among them, so matches happen).
2. Loads the list with ``heron intel load`` (a subprocess, as a user would; retro-match
   off) and times it.
3. Ingests the corpus in-process through the real pipeline, alternating runs whose
   enrichers are built from an empty data directory and from the one holding the
   indicators (``heron.enrich.build.build_enrichers``), each into a fresh store; the best
   of ``--repeat`` runs of each is compared (the machine is shared; the best run is the
   one least disturbed).

Also times the enrichers alone on the parsed events (``enrich_us_per_event``).

Prints one JSON object:
  {"iocs", "load": {"seconds", "wall_seconds", "cpu_seconds", "added", "refused"},
   "matcher": {"build_seconds", "rss_mib"}, "enrich_us_per_event": {"without_us",
   "with_us", "events"}, "ingest": {"events", "without_s", "with_s", "ratio",
   "events_per_s_without", "events_per_s_with", "matched_events"}, "detect",
   "goals": {…}}

Usage: python benchmarks/enrich.py [--lines 200000] [--iocs 1000000] [--repeat 2]
                                   [--no-detect] [--out bench-out/enrich]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import generate  # noqa: E402  (the sibling benchmark's corpus generator)

_IP = re.compile(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\b")


def _ipv4(rng: random.Random) -> str:
    n = rng.getrandbits(32)
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _ipv6(rng: random.Random) -> str:
    a, b, c = rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16)
    return f"2001:db8:{a:x}:{b:x}::{c:x}"


def _label(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def write_iocs(path: Path, count: int, corpus: Path, seed: int = 11) -> int:
    """A plain list of ``count`` indicators of every type; returns how many are corpus hits."""
    rng = random.Random(seed)
    hits: list[str] = []
    with corpus.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 97 == 0:
                hits.extend(_IP.findall(line)[:1])
            if len(hits) >= 300:
                break
    shares = [  # (share of the total, maker)
        # Networks as block lists publish them (DROP-style /22-/28, few of them): random
        # /16s by the ten thousand would cover a sixth of the address space.
        (0.43, lambda: _ipv4(rng)),
        (0.01, lambda: f"{_ipv4(rng)}/{rng.choice([22, 24, 24, 26, 28])}"),
        (0.02, lambda: _ipv6(rng)),
        (0.01, lambda: f"2001:db8:{rng.getrandbits(16):x}::/48"),
        (0.28, lambda: f"{_label(rng, 10)}.{rng.choice(['com', 'net', 'org', 'ru', 'xyz'])}"),
        (0.08, lambda: f"http://{_label(rng, 8)}.example/{_label(rng, 6)}.php"),
        (0.12, lambda: f"{rng.getrandbits(256):064x}"),
        (0.04, lambda: f"{rng.getrandbits(128):032x}"),
        (0.01, lambda: f"{_label(rng, 6)}@{_label(rng, 7)}.example"),
    ]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("# generated indicators for benchmarks/enrich.py\n")
        for ip in hits:
            out.write(ip + "\n")
        written += len(hits)
        for share, make in shares:
            for _ in range(int(count * share)):
                out.write(make() + "\n")
            written += int(count * share)
        while written < count:
            out.write(_ipv4(rng) + "\n")
            written += 1
    return len(hits)


def load_iocs(data_dir: Path, path: Path) -> dict[str, Any]:
    heron = shutil.which("heron", path=str(Path(sys.executable).parent)) or "heron"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [heron, "intel", "load", str(path), "--retro-days", "0", "--json",
         "--source", "bench", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"intel load failed: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "seconds": report["seconds"],
        "wall_seconds": round(wall, 3),  # with interpreter start and imports
        "cpu_seconds": round(cpu, 3),  # all threads (DuckDB's too), whole process
        "added": report["added"],
        "refused": report["refused"],
    }


class _Both:
    """Sigma detection and intel detection, as one detector (what a node runs)."""

    def __init__(self, *detectors: Any) -> None:
        self.detectors = detectors

    def detect(self, events: Any) -> list[Any]:
        return [d for det in self.detectors for d in det.detect(events)]


def ingest_once(corpus: Path, store_dir: Path, context_dir: Path, detect: bool) -> dict[str, Any]:
    from heron.alerts.store import AlertStore
    from heron.enrich.build import build_enrichers, build_intel_detector
    from heron.pipeline import Pipeline
    from heron.store.duckdb import DuckDBStore

    shutil.rmtree(store_dir, ignore_errors=True)
    enrichers = build_enrichers(context_dir)
    with DuckDBStore(store_dir) as store:
        detector: Any = None
        alerts = None
        if detect:
            from heron.detect.engine import build_detection_engine

            detector = _Both(build_detection_engine(None, store_dir), build_intel_detector())
            alerts = AlertStore(store)
        pipeline = Pipeline(store, detector=detector, alerts=alerts, enrichers=enrichers)
        summary = pipeline.ingest_files([corpus])
        (matched,) = (
            store.connection()
            .execute(
                "SELECT count(*) FROM events "
                "WHERE json_extract(extra, '$.\"threat.enrichments\"') IS NOT NULL"
            )
            .fetchall()[0]
        )
    return {"events": summary.events, "seconds": summary.seconds, "matched": int(matched)}


def enrich_cost(corpus: Path, context_dirs: dict[str, Path], rounds: int) -> dict[str, Any]:
    """Microseconds per event of the enrichers alone, per context (best of ``rounds``).

    The events are parsed and normalized once, as the pipeline does; each round enriches
    fresh copies in the pipeline's batches.
    """
    from heron.enrich.build import build_enrichers
    from heron.parsers import ParseContext
    from heron.pipeline import transform
    from heron.sources.file import read_file

    parsed: list[list[dict[str, Any]]] = []
    for chunk in read_file(corpus):
        parsed.append(transform(chunk, ParseContext(source=chunk.source)).events)
    count = sum(len(b) for b in parsed)
    out: dict[str, Any] = {}
    for name, folder in context_dirs.items():
        enrichers = build_enrichers(folder)
        best = float("inf")
        for _ in range(rounds):
            batches = [[dict(e) for e in batch] for batch in parsed]
            started = time.perf_counter()
            for batch in batches:
                for enricher in enrichers:
                    enricher.enrich(batch)
            best = min(best, time.perf_counter() - started)
        out[name] = round(best / count * 1e6, 3)
    out["events"] = count
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--iocs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-detect", action="store_true", help="ingest without detection")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "enrich")
    args = parser.parse_args()
    detect = not args.no_detect

    corpus = args.out / f"mixed-{args.lines}.log"
    if not corpus.exists():
        generate(corpus, args.lines)
    ioc_list = args.out / f"iocs-{args.iocs}.txt"
    if not ioc_list.exists():
        write_iocs(ioc_list, args.iocs, corpus)

    empty_dir = args.out / "context-empty"
    intel_dir = args.out / "context-intel"
    for folder in (empty_dir, intel_dir):
        shutil.rmtree(folder, ignore_errors=True)
    empty_dir.mkdir(parents=True)
    load = load_iocs(intel_dir, ioc_list)

    from heron.enrich.intel import IntelEnricher

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    enricher = IntelEnricher.from_data_dir(intel_dir)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    matcher = {
        "indicators": len(enricher.matcher),
        "build_seconds": round(enricher.build_seconds, 3),
        "rss_mib": round((rss_after - rss_before) / 1024, 1),
    }
    del enricher

    enrich_us = enrich_cost(
        corpus, {"without_us": empty_dir, "with_us": intel_dir}, max(2, args.repeat)
    )

    # A first, uncounted ingest warms the page cache and Python's import caches.
    ingest_once(corpus, args.out / "store-warm", empty_dir, detect)
    without: list[float] = []
    with_: list[float] = []
    events = matched = 0
    for _ in range(args.repeat):
        a = ingest_once(corpus, args.out / "store-a", empty_dir, detect)
        b = ingest_once(corpus, args.out / "store-b", intel_dir, detect)
        without.append(round(a["seconds"], 3))
        with_.append(round(b["seconds"], 3))
        events, matched = b["events"], b["matched"]
    ratio = min(with_) / min(without)
    print(
        json.dumps(
            {
                "iocs": args.iocs,
                "load": load,
                "matcher": matcher,
                "enrich_us_per_event": enrich_us,
                "ingest": {
                    "events": events,
                    "without_s": without,
                    "with_s": with_,
                    "ratio": round(ratio, 4),
                    "events_per_s_without": round(events / min(without), 1),
                    "events_per_s_with": round(events / min(with_), 1),
                    "matched_events": matched,
                },
                "detect": detect,
                "goals": {
                    "ingest_at_most_10pct_slower": ratio <= 1.10,
                    "load_1m_under_10s": load["seconds"] < 10.0,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
