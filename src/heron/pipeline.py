"""The flow of one batch: parse → normalize → enrich → validate → detect → store.

``transform`` is the pure, CPU-heavy part (no store, no shared state beyond the
components handed in) so it can run in a worker process; ``Pipeline`` is the part that
owns the store and the alert sink and commits each batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import pyarrow as pa

from heron.detect.base import Detection, Detector
from heron.enrich.base import Enricher
from heron.errors import EventValidationError, ParseError
from heron.model.deadletter import DeadLetter
from heron.model.event import Event, EventBatch, new_event_ids
from heron.model.timeutil import now_ns
from heron.normalize import normalize
from heron.parsers import ParseContext, detect_line_format, get_parser
from heron.sources.file import (
    DEFAULT_MAX_LINE_BYTES,
    STDIN,
    WHOLE,
    RawChunk,
    Span,
    is_simulation_labels,
    iter_files,
    read_file,
)
from heron.sources.merge import ChunkMerger
from heron.store.base import Store

if TYPE_CHECKING:
    from heron.detect.correlate.engine import CorrelationEngine
    from heron.detect.engine import DetectionEngine

__all__ = [
    "COMMIT_EVENTS",
    "AlertSink",
    "ChunkResult",
    "ChunkTransformer",
    "IngestSummary",
    "Pipeline",
    "named_chunks",
    "transform",
]


#: Events buffered by a bulk load between two commits (two text-index blocks). Commits
#: run beside the transform, but the last one runs alone after the last chunk: at
#: 50,000 that tail was about a second of a 99k-record EVTX load (6.5 s → 5.7-6.0 s, and
#: peak RSS 885 → 640 MiB, at 16,384).
COMMIT_EVENTS = 16_384


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
    event_count: int = 0
    newest: int | None = None  # the newest @timestamp in the chunk (event time)


def transform(
    chunk: RawChunk,
    ctx: ParseContext,
    *,
    enrichers: Sequence[Enricher] = (),
    detector: Detector | None = None,
    from_file: bool = True,
) -> ChunkResult:
    """Parse, normalize, enrich, validate and detect one chunk; bad records become dead letters."""
    chunk.unpack()
    received = ctx.received or now_ns()
    dead = list(chunk.dead_letters)
    events: list[Event] = []
    ids = new_event_ids(len(chunk.records))
    fixed = None if chunk.format == "auto" else get_parser(chunk.format)
    sources = chunk.record_sources
    originals = chunk.originals
    where: dict[str, tuple[str, str]] = {}  # event.id → (source, location), for rejects
    for i, raw in enumerate(chunk.records):
        source = sources[i] if sources is not None else chunk.source
        original = originals[i] if originals is not None else raw
        parser = fixed or get_parser(detect_line_format(raw))
        try:
            event = parser.parse(raw, ctx)
        except ParseError as exc:
            dead.append(DeadLetter.of(source, exc.reason, original, chunk.locations[i], received))
            continue
        except Exception as exc:
            reason = f"{parser.name} parser failed: {type(exc).__name__}: {exc}"
            dead.append(DeadLetter.of(source, reason, original, chunk.locations[i], received))
            continue
        normalize(event)
        event["event.id"] = ids[i]
        event["event.ingested"] = received
        event["event.original"] = original
        if from_file and source != STDIN:
            event["log.file.path"] = source
        where[ids[i]] = (source, chunk.locations[i])
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
            source, location = where.get(str(item.event.get("event.id")), (chunk.source, ""))
            dead.append(DeadLetter.of(source, item.reason, raw, location, received))
        events = batch.events
        table = batch.to_arrow() if events else None
    detections = detector.detect(events) if detector is not None and events else []
    newest = max((e["@timestamp"] for e in events), default=None)
    return ChunkResult(table, events, dead, detections, len(events), newest)


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

    def commit(self, results: Sequence[ChunkResult], *, receipt: int | None = None) -> None:
        """Store transformed chunks: dead letters, then the events in one transaction (with
        ``receipt``, the receive log's highest record among them), then the alerts, so
        no alert names a lost event and a crash can repeat dead letters, never lose them."""
        self.store.add_dead_letters([d for r in results for d in r.dead_letters])
        tables = [r.table for r in results if r.table is not None]
        if tables:
            table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
            self.store.append(table, receipt=receipt)
        elif receipt is not None:
            self.store.append(EventBatch([]), receipt=receipt)  # the receipt alone
        detections = [d for r in results for d in r.detections]
        if detections and self.alerts is not None:
            self.alerts.add(detections)

    def transform(
        self,
        chunk: RawChunk,
        *,
        from_file: bool = True,
        correlation: CorrelationEngine | None = None,
    ) -> ChunkResult:
        """``transform`` with this pipeline's components and a context for ``chunk``;
        ``correlation``: a load's own correlation engine (``DetectionEngine.
        load_correlation``), instead of the detector's."""
        ctx = ParseContext(
            source=chunk.source,
            received=now_ns(),
            year=self.context.year,
            timezone=self.context.timezone,
            max_json_depth=self.context.max_json_depth,
        )
        detector = self.detector
        if correlation is not None:
            detector = cast("DetectionEngine", detector).correlating_in(correlation)
        return transform(
            chunk, ctx, enrichers=self.enrichers, detector=detector, from_file=from_file
        )

    def run_chunk(self, chunk: RawChunk, *, from_file: bool = True) -> ChunkResult:
        """Transform and commit one chunk (durable when this returns)."""
        result = self.transform(chunk, from_file=from_file)
        self.commit([result])
        return result

    def ingest_files(
        self,
        paths: Iterable[Path],
        *,
        fmt: str = "auto",
        max_line_bytes: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        transformer: ChunkTransformer | None = None,
        stored: Callable[[list[str]], None] | None = None,
        spans: Mapping[Path, Span] | None = None,
        names: Mapping[Path, str] | None = None,
    ) -> IngestSummary:
        """Every file under ``paths`` through the pipeline; a bad file never stops the rest.

        ``transformer`` runs ``transform`` elsewhere (worker processes) and yields results
        in order; without it, chunks are transformed here. ``stored`` is called, after
        each commit, with the files read to the end whose every event it has stored.
        ``spans``: the bytes to read of some files (``read_file``), the rest whole.
        ``names``: what some files stand for (standard input spooled to a file: ``-``).
        """
        started = time.perf_counter()
        summary = IngestSummary()
        limit = max_line_bytes or DEFAULT_MAX_LINE_BYTES
        # A bulk load commits every COMMIT_EVENTS events, not every chunk: a commit is a
        # synced write, and folders of small files would otherwise pay one per file.
        pending: list[ChunkResult] = []
        pending_events = 0
        finished: list[str] = []  # files whose last chunk is pending
        chunks = self.file_chunks(paths, fmt, limit, summary, spans or {}, names or {})
        if transformer is None:
            results: Iterator[tuple[RawChunk, ChunkResult]] = (
                (chunk, self.transform(chunk)) for chunk in chunks
            )
        else:
            results = transformer.transform_all(chunks)
        # Commits run on their own thread (DuckDB releases the GIL while it writes), one
        # at a time and in order, so the next chunks are transformed meanwhile.
        with ThreadPoolExecutor(1, thread_name_prefix="heron-commit") as committer:
            writing: Future[None] | None = None
            for chunk, result in results:
                if transformer is not None:
                    result.detections = transformer.finish_detections(result)
                count = result.event_count
                result.events = []  # stored through the Arrow table; free the dicts now
                summary.events += count
                summary.failed += len(result.dead_letters)
                summary.detections += len(result.detections)
                pending.append(result)
                pending_events += count
                finished.extend(chunk.completes)
                if pending_events >= COMMIT_EVENTS:
                    if writing is not None:
                        writing.result()  # one commit in flight bounds memory
                    writing = committer.submit(self._commit_files, pending, finished, stored)
                    pending, pending_events, finished = [], 0, []
                if progress is not None:
                    progress(chunk.bytes_read, count)
            if writing is not None:
                writing.result()
        self._commit_files(pending, finished, stored)
        summary.seconds = time.perf_counter() - started
        return summary

    def _commit_files(
        self,
        results: list[ChunkResult],
        finished: list[str],
        stored: Callable[[list[str]], None] | None,
    ) -> None:
        self.commit(results)
        if stored is not None and finished:
            stored(finished)

    def file_chunks(
        self,
        paths: Iterable[Path],
        fmt: str,
        limit: int,
        summary: IngestSummary,
        spans: Mapping[Path, Span],
        names: Mapping[Path, str],
    ) -> Iterator[RawChunk]:
        merger = ChunkMerger()
        for path in iter_files(list(paths)):
            summary.files += 1
            name = names.get(path)
            if path.stat().st_size == 0:
                empty = "nothing read" if name else "empty file"
                summary.messages.append(f"{name or path}: {empty}, nothing to ingest")
                continue
            if is_simulation_labels(path):
                summary.messages.append(
                    f"{name or path}: simulation labels, not telemetry: skipped"
                )
                continue
            try:
                span = spans.get(path, WHOLE)
                chunks = read_file(path, fmt, max_line_bytes=limit, blocks=True, span=span)
                yield from merger.add_all(chunks if name is None else named_chunks(chunks, name))
            except (OSError, ParseError) as exc:
                source = name or str(path)
                reason = f"cannot read file: {exc}".replace(str(path), source)
                letter = DeadLetter.of(source, reason, b"", "file", now_ns())
                summary.messages.append(f"{source}: {letter.reason}")
                yield RawChunk(source, "auto", dead_letters=[letter])
            else:
                yield from merger.complete(str(path))
        yield from merger.flush()


def named_chunks(chunks: Iterator[RawChunk], name: str) -> Iterator[RawChunk]:
    """Chunks of a spooled stream (standard input, an upload), named as the stream,
    not as the spool file."""
    for chunk in chunks:
        chunk.source = name
        chunk.dead_letters = [replace(letter, source=name) for letter in chunk.dead_letters]
        yield chunk


class ChunkTransformer(Protocol):
    """Runs ``transform`` on chunks somewhere else (``heron.runtime.WorkerPool``)."""

    def transform_all(self, chunks: Iterable[RawChunk]) -> Iterator[tuple[RawChunk, ChunkResult]]:
        """Each chunk with its result, in the order given."""
        ...

    def finish_detections(self, result: ChunkResult) -> list[Detection]:
        """The detections of a result once the parent's stateful detection has seen it."""
        ...
