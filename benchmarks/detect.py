"""Sigma detection throughput: all SigmaHQ Windows rules over EVTX-ATTACK-SAMPLES.

Loads the SigmaHQ tree through the compiled-rule cache (cold into an empty cache, then
warm), keeps the Windows rules, parses every EVTX-ATTACK-SAMPLES record once, then times
``SigmaMatcher.match_batch`` over them in batches, several times. Each repeat uses a fresh
matcher (indexes built beforehand, value memos empty) so repeats do not profit from
having seen the same events before. Prints one JSON object:

  {"rules": {...load figures...}, "events": N, "parse_seconds": S,
   "match": {"repeats", "batch", "best_seconds", "median_seconds", "events_per_s",
             "events_per_s_cpu", "matches", "candidates_per_event"},
   "match_normalized": {"fields_per_event", "events_per_s_cpu", "matches"},
   "top_rules": [{"id", "title", "detections"}, ...]}

``events_per_s`` is wall-clock (best of the repeats); ``events_per_s_cpu`` uses process
CPU time, steadier on a shared machine; ``events_per_s_cpu_seen_before`` is a second
pass of one matcher over the same events (an upper bound: every value memo hits).
One process, one core.

The events are the Windows parser's output (the vendor fields Sigma rules name, about
28 a record). ``match_normalized`` times the same records as ``heron ingest`` hands them
to detection: normalized into ECS as well (about 55 fields), with ``event.original``,
``event.ingested`` and ``log.file.path``; keyword rules then scan twice the text.

Usage: python benchmarks/detect.py [--repeats 5] [--batch 1024] [--cache DIR] [--default-gc]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
SIGMA = CORPORA / "sigma"
EVTX_DIR = CORPORA / "evtx" / "EVTX-ATTACK-SAMPLES"
TREE = ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-dfir"]


def _load(cache: Path) -> tuple[Any, dict[str, Any]]:
    from heron.detect.sigma.load import load_rules

    paths = [SIGMA / d for d in TREE]
    cold = load_rules(paths, cache)
    warm = load_rules(paths, cache)
    windows = [r for r in warm.rules if r.logsource.product == "windows"]
    figures = {
        "files": warm.files,
        "loaded": len(warm.rules),
        "errors": len(warm.errors),
        "windows_rules": len(windows),
        "cold_seconds": round(cold.seconds, 3),
        "cold_cache_misses": cold.cache_misses,
        "warm_seconds": round(warm.seconds, 3),
        "warm_cache_hits": warm.cache_hits,
    }
    return windows, figures


def _events() -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """The parsed records, the same normalized as ingest does, and the parse time."""
    import evtx

    from heron.normalize import normalize
    from heron.parsers.base import ParseContext
    from heron.parsers.windows import WindowsEventParser

    parser = WindowsEventParser()
    started = time.perf_counter()
    events: list[dict[str, Any]] = []
    normalized: list[dict[str, Any]] = []
    for path in sorted(EVTX_DIR.rglob("*.evtx")):
        for rec in evtx.PyEvtxParser(str(path)).records_json():
            event = parser.parse(rec["data"], ParseContext())
            event["event.id"] = str(len(events))
            events.append(event)
            full = dict(event)
            normalize(full)
            full.update(
                {"event.ingested": 0, "event.original": rec["data"], "log.file.path": str(path)}
            )
            normalized.append(full)
    return events, normalized, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1024, help="events per match_batch call")
    ap.add_argument("--cache", type=Path, help="cache folder (default: a fresh temporary one)")
    ap.add_argument("--default-gc", action="store_true", help="keep CPython's collector settings")
    args = ap.parse_args()
    if not SIGMA.is_dir() or not EVTX_DIR.is_dir():
        print(json.dumps({"error": f"corpora not found under {CORPORA}"}))
        return 1

    from heron.detect.sigma.match import SigmaMatcher

    with tempfile.TemporaryDirectory(prefix="heron-rule-cache-") as tmp:
        rules, load_figures = _load(args.cache or Path(tmp))
    events, normalized, parse_seconds = _events()

    def batched(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        return [items[i : i + args.batch] for i in range(0, len(items), args.batch)]

    batches = batched(events)

    def fresh() -> tuple[SigmaMatcher, float]:
        started = time.perf_counter()
        matcher = SigmaMatcher(rules)
        matcher.prepare()
        return matcher, time.perf_counter() - started

    def run(matcher: SigmaMatcher, over: list[list[dict[str, Any]]] = batches) -> list[Any]:
        out = []
        for batch in over:
            out.extend(matcher.match_batch(batch))
        return out

    if not args.default_gc:
        # As in heron's worker processes (heron.gctune): the rule set is frozen out of
        # the collector's passes.
        from heron.gctune import tune_for_bulk

        tune_for_bulk()
    matcher, build_seconds = fresh()
    started = time.perf_counter()
    matches = run(matcher)  # first pass: also resolves each signature's routes
    first_seconds = time.perf_counter() - started
    warm_cpu = time.process_time()
    run(matcher)  # the same events again: routes and value memos all warm
    warm_cpu = time.process_time() - warm_cpu
    walls, cpus = [], []
    norm_batches = batched(normalized)
    norm_cpus, norm_matches = [], 0
    for _ in range(args.repeats):
        matcher, _ = fresh()
        wall, cpu = time.perf_counter(), time.process_time()
        run(matcher)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        other, _ = fresh()
        cpu = time.process_time()
        norm_matches = len(run(other, norm_batches))
        norm_cpus.append(time.process_time() - cpu)

    from heron.detect.sigma.adapters import ADAPTERS
    from heron.detect.sigma.logsource import signature
    from heron.detect.sigma.view import EventView

    candidates = 0
    for event in events:
        for group, adapter in matcher._routes.get(signature(event), ()):
            fields = ADAPTERS[adapter](event)
            if fields is not None and group._index is not None:
                candidates += len(group._index.candidates(EventView(fields)))

    by_rule = Counter(rule.id for _, rule in matches)
    titles = {rule.id: rule.title for _, rule in matches}
    result = {
        "rules": {**load_figures, "matcher_build_seconds": round(build_seconds, 3)},
        "note": "each repeat: fresh matcher, routes resolved in the timed pass",
        "events": len(events),
        "parse_seconds": round(parse_seconds, 3),
        "match": {
            "repeats": args.repeats,
            "batch": args.batch,
            "first_pass_seconds": round(first_seconds, 3),
            "best_seconds": round(min(walls), 4),
            "median_seconds": round(statistics.median(walls), 4),
            "events_per_s": round(len(events) / min(walls)),
            "events_per_s_cpu": round(len(events) / min(cpus)),
            "events_per_s_cpu_seen_before": round(len(events) / warm_cpu),
            "matches": len(matches),
            "rules_matched": len(by_rule),
            "candidates_per_event": round(candidates / len(events), 2),
            "rule_errors": sum(s.count for s in matcher.rule_errors.values()),
        },
        "match_normalized": {
            "fields_per_event": round(sum(map(len, normalized)) / len(normalized), 1),
            "events_per_s_cpu": round(len(normalized) / min(norm_cpus)),
            "matches": norm_matches,
        },
        "top_rules": [
            {"id": rid, "title": titles[rid], "detections": n} for rid, n in by_rule.most_common(10)
        ],
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
