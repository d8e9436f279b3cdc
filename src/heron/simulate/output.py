"""Writing a simulation to files for ``heron ingest``: one file a source, and labels.json."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from heron.model.timeutil import format_ns
from heron.simulate.chains import CHAINS
from heron.simulate.generate import Simulation
from heron.simulate.records import SOURCES, Record

__all__ = ["LABELS_FORMAT", "build_labels", "write_files"]

LABELS_FORMAT = "heron-simulate-labels/1"


def _event_label(record: Record) -> dict[str, Any]:
    return {"source": record.source, "time": format_ns(record.time_ns), "marker": record.marker}


def build_labels(sim: Simulation) -> dict[str, Any]:
    """The ground truth of a simulation as a JSON-ready mapping (see docs/reference/simulate.md)."""
    by_step: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for record in sim.records:
        if record.chain is not None and record.step is not None:
            by_step[(record.chain, record.step)].append(record)
    chains = []
    for spec in CHAINS:
        steps = []
        times: list[int] = []
        for step in spec.steps:
            records = by_step.get((spec.id, step.name), [])
            times.extend(r.time_ns for r in records)
            steps.append(
                {
                    "name": step.name,
                    "techniques": list(step.techniques),
                    "description": step.description,
                    "events": [_event_label(r) for r in records],
                }
            )
        if not times:
            continue
        chains.append(
            {
                "id": spec.id,
                "name": spec.name,
                "techniques": list(spec.techniques),
                "start": format_ns(min(times)),
                "end": format_ns(max(times)),
                "steps": steps,
            }
        )
    cfg = sim.config
    return {
        "format": LABELS_FORMAT,
        "seed": cfg.seed,
        "days": cfg.days,
        "users": cfg.users,
        "hosts": cfg.hosts,
        "scale": cfg.scale,
        "start": format_ns(cfg.start_ns),
        "end": format_ns(cfg.start_ns + cfg.days * 86_400 * 1_000_000_000),
        "files": {name: s.filename for name, s in SOURCES.items()},
        "events": len(sim.records),
        "chains": chains,
    }


def write_files(sim: Simulation, out: Path) -> dict[str, int]:
    """Write every source's file and ``labels.json`` under ``out``; records per file."""
    out.mkdir(parents=True, exist_ok=True)
    grouped: dict[str, list[str]] = defaultdict(list)
    for record in sim.records:
        grouped[record.source].append(record.text)
    counts: dict[str, int] = {}
    for name, source in SOURCES.items():
        lines = grouped.get(name, [])
        path = out / source.filename
        if name == "cloudtrail":
            # CloudTrail delivers whole JSON documents: {"Records": [...]}.
            body = '{"Records":[' + ",".join(lines) + "]}\n"
            path.write_text(body, encoding="utf-8")
        else:
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        counts[source.filename] = len(lines)
    labels = build_labels(sim)
    (out / "labels.json").write_bytes(orjson.dumps(labels, option=orjson.OPT_INDENT_2) + b"\n")
    return counts
