"""A single node's components, opened together and closed together, and the worker pool
that runs the CPU-heavy stages on every core."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from heron.detect.base import Detection, Detector
from heron.enrich.base import Enricher
from heron.model.event import Event
from heron.model.timeutil import NS_PER_S, now_ns
from heron.parsers import ParseContext
from heron.pipeline import AlertSink, ChunkResult, transform
from heron.sources.file import RawChunk
from heron.store.duckdb import DuckDBStore

if TYPE_CHECKING:
    from heron.detect.engine import DetectionEngine

__all__ = ["HOT_DAYS", "Node", "WorkerPool", "WorkerSpec", "open_node", "worker_count"]

#: Days of events kept in the database before they move to Parquet files.
HOT_DAYS = 2
#: Inputs smaller than this are ingested in-process: starting workers costs more.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


@dataclass
class Node:
    """The store, detection and enrichment of one Heron node."""

    data_dir: Path
    store: DuckDBStore
    detector: DetectionEngine | None = None
    alerts: AlertSink | None = None
    enrichers: list[Enricher] = field(default_factory=list)
    rule_paths: tuple[Path, ...] | None = None

    def worker_spec(self, context: ParseContext) -> WorkerSpec:
        """What a worker process needs to build the same stateless stages."""
        return WorkerSpec(self.data_dir, self.rule_paths, self.detector is not None, context)

    def finish_ingest(self) -> None:
        """Housekeeping after a bulk load: pending correlations, old days to Parquet."""
        if self.detector is not None and self.alerts is not None:
            self.alerts.add(self.detector.flush())
        self.store.compact(now_ns() - HOT_DAYS * 86400 * NS_PER_S)


@contextmanager
def open_node(
    data_dir: Path,
    *,
    rule_paths: Sequence[Path] | None = None,
    detect: bool = True,
) -> Iterator[Node]:
    """Open the store and build the detection engine (built-in rules unless ``rule_paths``)."""
    from heron.enrich.build import build_enrichers, build_intel_detector

    store = DuckDBStore(data_dir)
    try:
        node = Node(data_dir, store, rule_paths=tuple(rule_paths) if rule_paths else None)
        if detect:
            from heron.alerts.store import AlertStore
            from heron.detect.engine import build_detection_engine

            node.detector = build_detection_engine(rule_paths, data_dir)
            node.detector.extra.append(build_intel_detector())
            node.alerts = AlertStore(store)
        node.enrichers = build_enrichers(data_dir)
        yield node
    finally:
        store.close()


def worker_count(total_bytes: int, requested: int | None = None) -> int:
    """Worker processes for an input of this size: 0 means transform in-process."""
    if requested is not None:
        return max(0, requested)
    if total_bytes < PARALLEL_MIN_BYTES:
        return 0
    return os.cpu_count() or 1


# -- worker processes -------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """Picklable recipe for a worker's stages (each worker builds its own)."""

    data_dir: Path
    rule_paths: tuple[Path, ...] | None
    detect: bool
    context: ParseContext


class _MatchOnly:
    """Single-event detection only: correlation state lives in the parent process."""

    def __init__(self, engine: DetectionEngine) -> None:
        self.engine = engine

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        return self.engine.match(events)


@dataclass
class _WorkerState:
    spec: WorkerSpec
    detector: Detector | None
    enrichers: list[Enricher]


_STATE: _WorkerState | None = None


def _init_worker(spec: WorkerSpec) -> None:
    global _STATE
    from heron.enrich.build import build_enrichers, build_intel_detector

    detector: Detector | None = None
    if spec.detect:
        from heron.detect.engine import build_detection_engine

        engine = build_detection_engine(spec.rule_paths, spec.data_dir, persist=False)
        engine.extra.append(build_intel_detector())
        detector = _MatchOnly(engine)
    # Enrichers read snapshot files, not the database the parent holds.
    _STATE = _WorkerState(spec, detector, build_enrichers(spec.data_dir))


def _work(chunk: RawChunk) -> ChunkResult:
    state = _STATE
    if state is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker used before its initializer ran")
    base = state.spec.context
    ctx = ParseContext(
        source=chunk.source,
        received=now_ns(),
        year=base.year,
        timezone=base.timezone,
        max_json_depth=base.max_json_depth,
    )
    result = transform(chunk, ctx, enrichers=state.enrichers, detector=state.detector)
    # Send back only the events detections name: correlation needs their fields, and
    # everything else travels once, as the Arrow table.
    wanted = {eid for d in result.detections for eid in d.event_ids}
    result.events = [e for e in result.events if e.get("event.id") in wanted] if wanted else []
    return result


class WorkerPool:
    """``transform`` in worker processes, results in input order, a bounded number in flight."""

    def __init__(self, spec: WorkerSpec, workers: int, engine: DetectionEngine | None) -> None:
        self.workers = workers
        self.engine = engine
        # forkserver: workers start from a clean process, not a fork of one holding a
        # DuckDB connection and Arrow thread pools.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_init_worker,
            initargs=(spec,),
        )

    def transform_all(self, chunks: Iterable[RawChunk]) -> Iterator[tuple[RawChunk, ChunkResult]]:
        window: deque[tuple[RawChunk, Future[ChunkResult]]] = deque()
        for chunk in chunks:
            window.append((chunk, self._pool.submit(_work, chunk)))
            if len(window) >= 2 * self.workers:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()

    def finish_detections(self, result: ChunkResult) -> list[Detection]:
        if self.engine is None:
            return result.detections
        return self.engine.correlate(result.events, result.detections, newest=result.newest)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
