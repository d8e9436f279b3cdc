"""Ingest a simulation's files in event-time order, as one stream would deliver them.

``heron ingest DIR`` reads the files one after another; each spans the whole period,
so by the time the second file is read, event time has moved to the end of the period
and the correlation engine drops every match of the later files as late (its lateness
bound is minutes). A live node gets the sources interleaved in time. ``replay`` gives
the same order from files: it reads every file with Heron's readers, parses each record
once to learn its time, and then sends the raw records, merged by time, through the
full pipeline (parse, normalize, enrich, detect, store) in chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from heron.model.deadletter import DeadLetter
from heron.parsers import ParseContext
from heron.pipeline import IngestSummary, Pipeline, transform
from heron.sources.file import RawChunk, is_simulation_labels, iter_files, read_file

__all__ = ["replay_files"]

CHUNK = 5000


def _timed_records(path: Path, dead: list[DeadLetter]) -> list[tuple[int, str, str, str]]:
    """(time, format, record, file) of every record of one file that parses."""
    out: list[tuple[int, str, str, str]] = []
    for chunk in read_file(path, "auto"):
        result = transform(chunk, ParseContext(source=str(path)))
        dead.extend(result.dead_letters)
        # transform keeps the raw record of each event in event.original, in order.
        for event in result.events:
            out.append(
                (int(event["@timestamp"]), chunk.format, str(event["event.original"]), str(path))
            )
    return out


def replay_files(
    paths: list[Path], pipeline: Pipeline, progress: Callable[[int], None] | None = None
) -> IngestSummary:
    """Every record under ``paths`` through ``pipeline`` in time order."""
    summary = IngestSummary()
    timed: list[tuple[int, str, str, str]] = []
    dead: list[DeadLetter] = []
    for path in iter_files(paths):
        if is_simulation_labels(path):
            continue
        summary.files += 1
        timed.extend(_timed_records(path, dead))
    # Records no parser takes are kept as dead letters, as ``heron ingest`` keeps them.
    pipeline.store.add_dead_letters(dead)
    summary.failed += len(dead)
    timed.sort(key=lambda t: t[0])
    i = 0
    while i < len(timed):
        fmt = timed[i][1]
        j = i
        while j < len(timed) and j - i < CHUNK and timed[j][1] == fmt:
            j += 1
        part = timed[i:j]
        chunk = RawChunk(
            source=part[0][3] if len({p[3] for p in part}) == 1 else "simulation",
            format=fmt,
            records=[p[2] for p in part],
            locations=[f"t={p[0]}" for p in part],
        )
        chunk.record_sources = [p[3] for p in part]
        result = pipeline.run_chunk(chunk)
        summary.events += result.event_count
        summary.failed += len(result.dead_letters)
        summary.detections += len(result.detections)
        if progress is not None:
            progress(result.event_count)
        i = j
    return summary
