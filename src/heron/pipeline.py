"""The flow of one batch: parse → normalize → enrich → validate → detect → store.

``transform`` is the pure, CPU-heavy part (no store, no shared state beyond the
components handed in) so it can run in a worker process; ``Pipeline`` is the part that
owns the store and the alert sink and commits each batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from heron.detect.base import Detection, Detector
from heron.enrich.base import Enricher
from heron.errors import EventValidationError, ParseError
from heron.model.deadletter import DeadLetter
from heron.model.event import Event, EventBatch, new_event_ids
from heron.model.timeutil import now_ns
from heron.normalize import normalize
from heron.parsers import ParseContext, detect_line_format, get_parser
from heron.sources.file import RawChunk, iter_files, read_file
from heron.store.base import Store

__all__ = [
    "AlertSink",
    "ChunkResult",
    "IngestSummary",
    "Pipeline",
    "transform",
]


class AlertSink(Protocol):
    """Where detections go (``heron.alerts.store.AlertStore``)."""

    def add(self, detections: Sequence[Detection]) -> object: ...


@dataclass(slots=True)
class ChunkResult:
    """What one chunk became."""

    table: pa.Table | None
    events: list[Event]
    dead_letters: list[DeadLetter]
    detections: list[Detection]


def transform(
    chunk: RawChunk,
    ctx: ParseContext,
    *,
    enrichers: Sequence[Enricher] = (),
    detector: Detector | None = None,
    from_file: bool = True,
) -> ChunkResult:
    """Parse, normalize, enrich, validate and detect one chunk; bad records become dead letters."""
    received = ctx.received or now_ns()
    dead = list(chunk.dead_letters)
    events: list[Event] = []
    ids = new_event_ids(len(chunk.records))
    fixed = None if chunk.format == "auto" else get_parser(chunk.format)
    for i, raw in enumerate(chunk.records):
        parser = fixed or get_parser(detect_line_format(raw))
        try:
            event = parser.parse(raw, ctx)
        except ParseError as exc:
            dead.append(DeadLetter.of(chunk.source, exc.reason, raw, chunk.locations[i], received))
            continue
        except Exception as exc:
            reason = f"{parser.name} parser failed: {type(exc).__name__}: {exc}"
            dead.append(DeadLetter.of(chunk.source, reason, raw, chunk.locations[i], received))
            continue
        normalize(event)
        event["event.id"] = ids[i]
        event["event.ingested"] = received
        event["event.original"] = raw
        if from_file:
            event["log.file.path"] = chunk.source
        events.append(event)
    for enricher in enrichers:
        enricher.enrich(events)
    batch = EventBatch(events)
    try:
        table = batch.to_arrow() if events else None
    except (EventValidationError, pa.ArrowException, TypeError, OverflowError):
        batch, rejected = batch.split_valid()
        for item in rejected:
            raw = str(item.event.get("event.original", ""))
            dead.append(DeadLetter.of(chunk.source, item.reason, raw, "", received))
        events = batch.events
        table = batch.to_arrow() if events else None
    detections = detector.detect(events) if detector is not None and events else []
    return ChunkResult(table, events, dead, detections)


@dataclass(slots=True)
class IngestSummary:
    """Counts of one ingest run."""

    events: int = 0
    failed: int = 0
    detections: int = 0
    files: int = 0
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class Pipeline:
    """Runs chunks through ``transform`` and commits them: events, dead letters, alerts."""

    def __init__(
        self,
        store: Store,
        *,
        detector: Detector | None = None,
        alerts: AlertSink | None = None,
        enrichers: Sequence[Enricher] = (),
        context: ParseContext | None = None,
    ) -> None:
        self.store = store
        self.detector = detector
        self.alerts = alerts
        self.enrichers = list(enrichers)
        self.context = context or ParseContext()

    def commit(self, result: ChunkResult) -> None:
        """Store a transformed chunk: events first, so an alert never names a lost event."""
        if result.table is not None:
            self.store.append(result.table)
        self.store.add_dead_letters(result.dead_letters)
        if result.detections and self.alerts is not None:
            self.alerts.add(result.detections)

    def run_chunk(self, chunk: RawChunk, *, from_file: bool = True) -> ChunkResult:
        ctx = ParseContext(
            source=chunk.source,
            received=now_ns(),
            year=self.context.year,
            timezone=self.context.timezone,
            max_json_depth=self.context.max_json_depth,
        )
        result = transform(
            chunk, ctx, enrichers=self.enrichers, detector=self.detector, from_file=from_file
        )
        self.commit(result)
        return result

    def ingest_files(
        self,
        paths: Iterable[Path],
        *,
        fmt: str = "auto",
        max_line_bytes: int | None = None,
        progress: Callable[[int, ChunkResult], None] | None = None,
    ) -> IngestSummary:
        """Every file under ``paths`` through the pipeline; a bad file never stops the rest."""
        import time

        from heron.sources.file import DEFAULT_MAX_LINE_BYTES

        started = time.perf_counter()
        summary = IngestSummary()
        limit = max_line_bytes or DEFAULT_MAX_LINE_BYTES
        for path in iter_files(list(paths)):
            summary.files += 1
            if path.stat().st_size == 0:
                summary.messages.append(f"{path}: empty file, nothing to ingest")
                continue
            try:
                for chunk in read_file(path, fmt, max_line_bytes=limit):
                    result = self.run_chunk(chunk)
                    summary.events += len(result.events)
                    summary.failed += len(result.dead_letters)
                    summary.detections += len(result.detections)
                    if progress is not None:
                        progress(chunk.bytes_read, result)
            except (OSError, ParseError) as exc:
                letter = DeadLetter.of(str(path), f"cannot read file: {exc}", b"", "file", now_ns())
                self.store.add_dead_letters([letter])
                summary.failed += 1
                summary.messages.append(f"{path}: {letter.reason}")
        summary.seconds = time.perf_counter() - started
        return summary
