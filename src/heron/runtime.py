"""A single node's components, opened together and closed together, and the worker pool
that runs the CPU-heavy stages on every core."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from multiprocessing import forkserver
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from heron.detect.base import Detection, Detector
from heron.enrich.base import Enricher
from heron.enrich.snapshot import apply_newest
from heron.gctune import tune_for_bulk
from heron.housekeeping import COMPACT_MIN_ROWS, HOT_DAYS, keep_in_shape
from heron.model.event import Event
from heron.model.timeutil import now_ns
from heron.parsers import ParseContext
from heron.pipeline import ChunkResult, transform
from heron.processes import alive
from heron.shmtable import SharedTable, owner_tag, sweep
from heron.sources.file import RawChunk
from heron.store.duckdb import BULK_CHECKPOINT_WAL, CHECKPOINT_WAL, DuckDBStore

if TYPE_CHECKING:
    from heron.alerts.settings import AlertSettings
    from heron.alerts.store import AlertStore
    from heron.detect.correlate.engine import CorrelationEngine
    from heron.detect.engine import DetectionEngine

__all__ = [
    "COMPACT_MIN_ROWS",
    "HOT_DAYS",
    "Node",
    "WorkerPool",
    "WorkerSpec",
    "open_node",
    "start_fork_server",
    "worker_count",
]

log = logging.getLogger(__name__)

#: Inputs smaller than this are ingested in-process: starting workers costs more.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


@dataclass
class Node:
    """The store, detection and enrichment of one Heron node."""

    data_dir: Path
    store: DuckDBStore
    detector: DetectionEngine | None = None
    alerts: AlertStore | None = None
    enrichers: list[Enricher] = field(default_factory=list)
    rule_paths: tuple[Path, ...] | None = None

    def worker_spec(self, context: ParseContext) -> WorkerSpec:
        """What a worker process needs to build the same stateless stages."""
        return WorkerSpec(self.data_dir, self.rule_paths, self.detector is not None, context)

    def finish_ingest(self) -> int:
        """Housekeeping after a bulk load: pending correlations, old days to Parquet.

        Returns the detections the pending correlations made."""
        # Old days move (a DuckDB COPY, outside the GIL) while the held correlations run
        # here; their alerts are stored once the move is done.
        detections: list[Detection] = []
        self.store.set_threads(None)
        with ThreadPoolExecutor(1, thread_name_prefix="heron-compact") as housekeeping:
            moving = housekeeping.submit(self._compact_old_days)
            if self.detector is not None and self.alerts is not None:
                detections = self.detector.flush()
            moving.result()
        if self.alerts is not None:
            self.alerts.add(detections)
        return len(detections)

    def _compact_old_days(self) -> None:
        # A few thousand old events spread over many days would become as many tiny
        # Parquet files (the EVTX samples: 8,255 events, 210 days, 1.3 s of writing);
        # they stay in the hot table until enough gather or 'heron retention' runs.
        try:
            keep_in_shape(self.store, keep_ns=None, min_rows=COMPACT_MIN_ROWS)
        except (duckdb.Error, OSError, pa.ArrowException) as exc:
            # Housekeeping only: the load is committed, and the days stay searchable.
            log.warning(
                "old days stay in the hot table (moving them to Parquet failed: %s); "
                "'heron retention' moves them later",
                exc,
            )


@contextmanager
def open_node(
    data_dir: Path,
    *,
    rule_paths: Sequence[Path] | None = None,
    detect: bool = True,
    alert_settings: AlertSettings | None = None,
    bulk: bool = False,
) -> Iterator[Node]:
    """Open the store and build the detection engine (built-in rules unless ``rule_paths``);
    ``alert_settings`` sets the alert grouping window and entity risk; ``bulk``: the
    store is opened for a bulk load (checkpoints less often)."""
    from heron.enrich.build import build_enrichers, build_intel_detector

    store = DuckDBStore(data_dir, checkpoint_wal=BULK_CHECKPOINT_WAL if bulk else CHECKPOINT_WAL)
    if bulk:
        # A bulk load's appends run beside the processes that transform, which use the
        # cores: a second DuckDB thread per insert only added coordination (EVTX rows:
        # 7.8-8.1 CPU-us a row single-threaded, 10.1-13.6 with two). finish_ingest
        # gives DuckDB the cores back for the housekeeping.
        store.set_threads(1)
    try:
        node = Node(data_dir, store, rule_paths=tuple(rule_paths) if rule_paths else None)
        if detect:
            from heron.alerts.settings import AlertSettings
            from heron.alerts.store import AlertStore
            from heron.detect.engine import build_detection_engine
            from heron.detect.rulestate import disabled_rule_ids, rule_paths_with_uploads

            # What analysts uploaded or switched off through the API counts here too.
            paths = rule_paths_with_uploads(rule_paths, data_dir)
            node.detector = build_detection_engine(paths, data_dir)
            node.detector.set_disabled(disabled_rule_ids(data_dir))
            node.detector.extra.append(build_intel_detector())
            node.alerts = AlertStore.from_settings(store, alert_settings or AlertSettings())
        node.enrichers = build_enrichers(data_dir)
        yield node
    finally:
        store.close()


#: An EVTX record is about 3 KB of file for the work of a ~200-byte text line.
_EVTX_BYTES_PER_TEXT_BYTE = 16


def input_weight(files: Sequence[Path]) -> int:
    """The size of an input in bytes of text lines: what ``worker_count`` compares."""
    total = 0
    for path in files:
        size = path.stat().st_size
        total += size // _EVTX_BYTES_PER_TEXT_BYTE if path.suffix.lower() == ".evtx" else size
    return total


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
    owner_pid: int = field(default_factory=os.getpid)  # workers exit when it is gone
    # Names the shared-memory files of this pool's results (``heron.shmtable``).
    table_owner: str = field(default_factory=owner_tag)


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
    generation: int = 0  # of the parent's rule set this detector was built from
    epoch: int = 0  # of the parent's context snapshots the enrichers have applied
    fields_read: frozenset[str] = frozenset()  # what the parent's correlation reads


_STATE: _WorkerState | None = None


def _exit_with_owner(owner: int) -> None:
    # A worker blocks on its task queue, whose write end it holds itself: if the process
    # that owns the pool dies (SIGKILL), nothing would ever wake it, and the fork server
    # does not always notice either. Leave then, and take the fork server along.
    while True:
        time.sleep(0.5)
        if not alive(owner):
            server = os.getppid()
            if server not in (owner, 1):
                with contextlib.suppress(OSError):
                    os.kill(server, signal.SIGTERM)
            os._exit(0)


def _init_worker(spec: WorkerSpec) -> None:
    global _STATE
    threading.Thread(
        target=_exit_with_owner, args=(spec.owner_pid,), name="heron-orphan-watch", daemon=True
    ).start()
    from heron.enrich.build import build_enrichers

    detector = _build_matcher(spec) if spec.detect else None
    # Enrichers read snapshot files, not the database the parent holds.
    _STATE = _WorkerState(spec, detector, build_enrichers(spec.data_dir))
    _STATE.fields_read = _fields_read(detector)
    tune_for_bulk()


def _build_matcher(spec: WorkerSpec) -> Detector:
    from heron.detect.engine import build_detection_engine
    from heron.detect.rulestate import rule_paths_with_uploads
    from heron.enrich.build import build_intel_detector

    paths = rule_paths_with_uploads(spec.rule_paths, spec.data_dir)
    engine = build_detection_engine(paths, spec.data_dir, persist=False)
    engine.extra.append(build_intel_detector())
    return _MatchOnly(engine)


def _fields_read(detector: Detector | None) -> frozenset[str]:
    engine = detector.engine if isinstance(detector, _MatchOnly) else None
    if engine is None or engine.correlation is None:
        return frozenset({"@timestamp", "event.id"})
    return engine.correlation.fields_read


def _work(
    chunk: RawChunk, from_file: bool = True, generation: int = 0, epoch: int = 0
) -> ChunkResult:
    state = _STATE
    if state is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker used before its initializer ran")
    if epoch != state.epoch:
        # The parent wrote a newer indicator, asset or identity snapshot (Intake.
        # snapshots_changed): apply it before this chunk, not at the next timed check.
        apply_newest(state.enrichers)
        state.epoch = epoch
    if state.detector is not None and generation != state.generation:
        # Rules were uploaded or switched since this worker built its matcher.
        state.detector = _build_matcher(state.spec)
        state.generation = generation
        state.fields_read = _fields_read(state.detector)
    base = state.spec.context
    ctx = ParseContext(
        source=chunk.source,
        received=now_ns(),
        year=base.year,
        timezone=base.timezone,
        max_json_depth=base.max_json_depth,
    )
    result = transform(
        chunk, ctx, enrichers=state.enrichers, detector=state.detector, from_file=from_file
    )
    # Send back only the events detections name, and of those only the fields that
    # correlation reads: everything else travels once, as the Arrow table.
    wanted = {eid for d in result.detections for eid in d.event_ids}
    keep = state.fields_read
    result.events = (
        [{k: e[k] for k in keep if k in e} for e in result.events if e.get("event.id") in wanted]
        if wanted
        else []
    )
    if result.table is not None:
        # The table goes through shared memory: only its file name is pickled.
        result.table = SharedTable(result.table, state.spec.table_owner)
    # Detections travel as plain tuples: pickling a slotted dataclass looks up its fields
    # for every object, which cost the parent more than the detections' own data.
    result.detections = [_pack(d) for d in result.detections]  # type: ignore[misc]
    return result


_DETECTION_FIELDS = tuple(f.name for f in fields(Detection))


def _pack(detection: Detection) -> tuple[object, ...]:
    return tuple(getattr(detection, name) for name in _DETECTION_FIELDS)


def _unpack(detections: Sequence[Detection | tuple[Any, ...]]) -> list[Detection]:
    return [d if isinstance(d, Detection) else Detection(*d) for d in detections]


_PRELOAD = (
    "heron.pipeline",
    "heron.detect.engine",
    "heron.enrich.build",
    "heron.parsers.syslog",
    "heron.parsers.json",
    "heron.normalize",
)


def _fork_context() -> Any:
    # forkserver: workers start from a clean process, not a fork of one holding a DuckDB
    # connection and Arrow thread pools; the pipeline's modules are imported once in the
    # fork server, not once per worker.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_PRELOAD))
    return context


def start_fork_server() -> None:
    """Start the fork server workers are made from, now: it imports the pipeline's modules
    (about 0.4 CPU-s) in its own process while this one goes on (opening the node),
    instead of after, when the pool's first worker is asked for."""
    _fork_context()
    forkserver.ensure_running()


class WorkerPool:
    """``transform`` in worker processes, results in input order, a bounded number in flight."""

    def __init__(self, spec: WorkerSpec, workers: int, engine: DetectionEngine | None) -> None:
        self.workers = workers
        self.engine = engine
        self._table_owner = spec.table_owner
        sweep()  # result files of pools whose process was killed
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_fork_context(),
            initializer=_init_worker,
            initargs=(spec,),
        )

    def submit(
        self, chunk: RawChunk, *, from_file: bool = True, epoch: int = 0
    ) -> Future[ChunkResult]:
        """Transform one chunk in a worker; its detections still need ``finish_detections``.

        ``epoch``: the parent's context-snapshot epoch; a worker that applied an older
        one applies the newest snapshots first."""
        return self._pool.submit(_work, chunk, from_file, self._generation(), epoch)

    def transform_all(self, chunks: Iterable[RawChunk]) -> Iterator[tuple[RawChunk, ChunkResult]]:
        window: deque[tuple[RawChunk, Future[ChunkResult]]] = deque()
        for chunk in chunks:
            window.append((chunk, self._pool.submit(_work, chunk, True, self._generation())))
            # Deep enough that the workers keep busy while the parent commits.
            if len(window) >= 4 * self.workers:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()

    def _generation(self) -> int:
        return self.engine.generation if self.engine is not None else 0

    def finish_detections(
        self, result: ChunkResult, *, correlation: CorrelationEngine | None = None
    ) -> list[Detection]:
        """The worker's detections, correlated here (in ``correlation``: a load's own)."""
        detections = _unpack(result.detections)
        if self.engine is None:
            return detections
        return self.engine.correlate(
            result.events, detections, newest=result.newest, correlation=correlation
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        sweep(self._table_owner)  # results written for futures nobody collected

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
