"""The one bounded queue between the network sources and the pipeline, and its committer.

Sources run on the asyncio loop and hand in *submissions* (a few ``RawChunk``s of
one source). A submission waits for room when the queue is full, bounded both in
events and in bytes, so a flood slows senders down (TCP, HTTP) or is dropped and
counted (UDP) instead of growing memory. A transform thread takes what is queued, up
to a batch, and runs every chunk through ``Pipeline.transform`` — in worker processes
once a batch is big enough to pay for starting them (parse, normalize, enrich and
single-event matching there; correlation, in batch order, here); a commit thread writes
each transformed batch in one store write (synced to the WAL), while the next batch
is transformed. Only then is each submission's future resolved: an answer or an
acknowledgement given after that future resolved is about durable data. A submission
through ``submit_logged`` is durable sooner, once synced to the receive log
(``heron.receivelog``), which a restart replays.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from heron.batches import BatchNumbers
from heron.detect.base import Detection
from heron.enrich.snapshot import apply_newest
from heron.errors import HeronError
from heron.metrics import CollectorMetrics, SourceMetrics
from heron.model.deadletter import DeadLetter
from heron.model.timeutil import now_ns
from heron.pipeline import ChunkResult, Pipeline
from heron.receivelog import LoggedSubmission, ReceiveLog, encode_submission
from heron.room import Room
from heron.sources.file import RawChunk

if TYPE_CHECKING:
    from heron.detect.correlate.engine import CorrelationEngine

__all__ = ["ChunkPool", "Committed", "Intake", "IntakeClosedError", "QueueFullError"]

log = logging.getLogger(__name__)


class IntakeClosedError(HeronError):
    """The server is shutting down and takes no more data."""


class QueueFullError(HeronError):
    """No room in the queue within the time allowed."""


_WARM_SAMPLES = {
    "json": '{"message": "warm-up", "host": {"name": "heron"}}',
    "syslog": "<13>Jan  1 00:00:00 heron warm-up[1]: start",
    "auto": "<13>Jan  1 00:00:00 heron warm-up[1]: start",
}


@dataclass(slots=True)
class Committed:
    """What one submission became once its batch was committed."""

    events: int
    dead_letters: list[list[DeadLetter]]  # per chunk, in submission order
    event_ids: list[list[str]] | None = None  # per chunk, when asked for
    detections: int = 0  # stored as alerts with it


@dataclass(slots=True)
class _Unit:
    chunks: Sequence[RawChunk]
    source: SourceMetrics
    events: int
    nbytes: int
    from_file: bool
    want_ids: bool
    future: asyncio.Future[Committed] | None
    seq: int | None = None  # its record in the receive log
    correlation: CorrelationEngine | None = None  # a load's own (else the detector's)


@dataclass(slots=True)
class _Batch:
    """Units taken off the queue together, with each chunk's result or pending result."""

    units: list[_Unit]
    parts: list[list[ChunkResult | Future[ChunkResult]]]
    pool: ChunkPool | None = None  # the pool the futures came from
    seq: int = 0  # batches are numbered as they are sent to be transformed


class ChunkPool(Protocol):
    """Worker processes that transform chunks (``heron.runtime.WorkerPool``)."""

    def submit(
        self, chunk: RawChunk, *, from_file: bool = True, epoch: int = 0
    ) -> Future[ChunkResult]: ...

    def finish_detections(
        self, result: ChunkResult, *, correlation: CorrelationEngine | None = None
    ) -> list[Detection]: ...

    def close(self) -> None: ...


class Intake:
    """Bounded hand-off from sources to a pipeline thread that commits in batches."""

    def __init__(
        self,
        pipeline: Pipeline,
        metrics: CollectorMetrics,
        *,
        max_events: int = 50_000,
        max_bytes: int = 128 * 1024 * 1024,
        batch_events: int = 20_000,
        batch_wait_s: float = 0.0,
        pool_factory: Callable[[], ChunkPool] | None = None,
        pool_min_events: int = 2_000,
        receive_log: ReceiveLog | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.receive_log = receive_log
        # Set when a batch answered from the receive log failed to commit: the receipt
        # then stays where it is, so a restart stores that batch (and those after it).
        self._receipt_held = False
        self.metrics = metrics
        self.batch_events = batch_events
        self.batch_wait_s = batch_wait_s
        # Worker processes for parse → match: started on the first big batch.
        self._pool_factory = pool_factory
        self._pool: ChunkPool | None = None
        self.pool_min_events = pool_min_events
        self.room = Room(max_events, max_bytes, on_take=self._held)
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # Transformed batches waiting for the committer: two at most, so transform runs
        # at most one batch ahead of the store.
        self._transformed: queue.Queue[tuple[list[_Unit], list[list[ChunkResult]], int] | None] = (
            queue.Queue(maxsize=1)
        )
        # Every batch is sent with the context-snapshot epoch current when it is numbered,
        # and enriched from the snapshots of that epoch (see ``snapshots_changed``).
        self._numbers = BatchNumbers()
        self._applied_epoch = 0  # what this thread's own enrichers have applied
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._warm_formats: list[str] = []
        metrics.queue_depth = lambda: self.depth
        metrics.queue_capacity = (max_events, max_bytes)

    # -- life cycle -----------------------------------------------------------------

    def start(self, warm_formats: Sequence[str] = ()) -> None:
        """Start the pipeline thread; call from the running loop.

        ``warm_formats``: parsers (and the normalizers behind them) to load in the
        thread before the first batch, so the first request does not pay for imports.
        """
        self._warm_formats = list(warm_formats)
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="heron-pipeline", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        """Refuse new submissions, commit everything queued, stop the thread."""
        if self._closed:
            return
        self._closed = True
        self.room.refuse_all(lambda: IntakeClosedError("the server is shutting down"))
        self._queue.put(None)
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
            # Let the last batch's completions (posted from the thread) run.
            await asyncio.sleep(0)

    @property
    def depth(self) -> tuple[int, int]:
        """Events and bytes queued or being committed."""
        return self.room.events, self.room.nbytes

    def snapshots_changed(self, timeout: float | None = None) -> bool:
        """The node has written a newer context snapshot: apply it from the next batch on.

        Every batch numbered after this call is enriched from the newest snapshots, in
        the worker processes as here. Returns once every batch numbered before it is
        committed (False if ``timeout`` passed first), so that a search of the store from
        then on sees every event enriched from the old ones: a retro-match of new
        indicators over the store then misses nothing, and a batch is never both.
        """
        return self._numbers.new_epoch(timeout)

    def has_room(self, events: int = 1, nbytes: int = 0) -> bool:
        """Whether a submission of this size would be taken now without waiting."""
        return self.room.has_room(events, nbytes)

    # -- submitting (loop thread) ---------------------------------------------------

    async def submit(
        self,
        chunks: Sequence[RawChunk],
        source: SourceMetrics,
        *,
        nbytes: int,
        from_file: bool = False,
        want_ids: bool = False,
        track: bool = True,
        timeout: float | None = None,
        correlation: CorrelationEngine | None = None,
    ) -> asyncio.Future[Committed] | None:
        """Queue chunks, waiting for room; the future resolves once they are committed.

        ``track=False`` asks for no future (fire and forget: TCP syslog has no way to
        acknowledge). ``timeout`` bounds the wait for room (``QueueFullError``).
        ``correlation``: the correlation engine of the load these chunks belong to
        (``DetectionEngine.load_correlation``); live input leaves it out.
        """
        events = sum(len(c.records) + len(c.dead_letters) for c in chunks)
        await self._reserve(events, nbytes, timeout)
        return self._enqueue(
            chunks, source, events, nbytes, from_file, want_ids, track, correlation=correlation
        )

    def offer(self, chunks: Sequence[RawChunk], source: SourceMetrics, *, nbytes: int) -> bool:
        """Queue chunks only if there is room now (UDP); False means nothing was taken."""
        events = sum(len(c.records) + len(c.dead_letters) for c in chunks)
        if self._closed or not self.room.has_room(events, nbytes):
            return False
        self.room.take(events, nbytes)
        self._enqueue(chunks, source, events, nbytes, False, False, False)
        return True

    async def submit_logged(
        self,
        chunks: Sequence[RawChunk],
        source: SourceMetrics,
        *,
        nbytes: int,
        timeout: float | None = None,
    ) -> asyncio.Future[None]:
        """Queue chunks; the future resolves once they are durable: synced to the receive
        log, or committed when there is no log or it could not take them."""
        events = sum(len(c.records) + len(c.dead_letters) for c in chunks)
        await self._reserve(events, nbytes, timeout)
        seq, synced = None, None
        if self.receive_log is not None:
            try:
                payload = encode_submission(source.name, source.type, chunks)
            except TypeError as exc:  # not JSON: answered after commit instead
                log.warning("receive log: cannot record a submission (%s)", exc)
            else:
                seq, synced = self.receive_log.append(payload)
        # Numbered and queued in one step on the loop: the queue keeps the log's order.
        committed = self._enqueue(chunks, source, events, nbytes, False, False, True, seq)
        assert committed is not None
        durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        # Each callback reads its future's outcome even when the other already answered,
        # so no exception is left unretrieved.
        def on_committed(done: asyncio.Future[Committed]) -> None:
            error = None if done.cancelled() else done.exception()
            if durable.done():
                return
            if done.cancelled():
                durable.cancel()
            elif error is not None:
                durable.set_exception(error)
            else:
                durable.set_result(None)

        def on_synced(done: asyncio.Future[None]) -> None:
            error = None if done.cancelled() else done.exception()
            if error is None and not done.cancelled() and not durable.done():
                durable.set_result(None)
            # A failed sync leaves the answer to the commit.

        committed.add_done_callback(on_committed)
        if synced is not None:
            synced.add_done_callback(on_synced)
        return durable

    async def replay(self, submissions: Sequence[LoggedSubmission]) -> None:
        """Queue what the receive log holds past the store's receipt, before any source
        opens: the records keep their numbers, so their commits move the receipt on."""
        for item in submissions:
            metrics = self.metrics.source(item.source, item.kind)
            events = sum(len(c.records) + len(c.dead_letters) for c in item.chunks)
            nbytes = sum(len(r) for c in item.chunks for r in c.records)
            await self._reserve(events, nbytes, None)
            metrics.received += events
            self.metrics.replayed += events
            self._enqueue(item.chunks, metrics, events, nbytes, False, False, False, item.seq)

    async def _reserve(self, events: int, nbytes: int, timeout: float | None) -> None:
        if self._closed:
            raise IntakeClosedError("the server is shutting down")
        if not await self.room.reserve(events, nbytes, timeout):
            raise QueueFullError(f"no room for {events} events within {timeout} s")

    def _held(self, events: int) -> None:
        if events > self.metrics.queue_peak_events:
            self.metrics.queue_peak_events = events

    def _enqueue(
        self,
        chunks: Sequence[RawChunk],
        source: SourceMetrics,
        events: int,
        nbytes: int,
        from_file: bool,
        want_ids: bool,
        track: bool,
        seq: int | None = None,
        *,
        correlation: CorrelationEngine | None = None,
    ) -> asyncio.Future[Committed] | None:
        future: asyncio.Future[Committed] | None = None
        if track:
            future = asyncio.get_running_loop().create_future()
        unit = _Unit(chunks, source, events, nbytes, from_file, want_ids, future, seq, correlation)
        self._queue.put(unit)
        return future

    def _finish(self, outcomes: list[tuple[_Unit, Committed | BaseException]]) -> None:
        for unit, outcome in outcomes:
            self.room.release(unit.events, unit.nbytes)
            future = unit.future
            if future is None or future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    # -- committing (pipeline thread) -----------------------------------------------

    def _warm_up(self) -> None:
        # Module-level transform, without the detector: warm-up records must not
        # reach detection state or the store.
        from heron.parsers import ParseContext
        from heron.pipeline import transform

        for fmt in self._warm_formats:
            sample = _WARM_SAMPLES.get(fmt, "warm-up")
            try:
                transform(
                    RawChunk("warm-up", fmt, [sample], ["warm-up"]), ParseContext(), from_file=False
                )
            except Exception as exc:
                log.warning("loading the %s parser failed: %s", fmt, exc)

    def _run(self) -> None:
        """The transform stage: batches off the queue, transformed, handed to the committer.

        With a worker pool, up to two batches are in the workers at once: the next batch
        is gathered and sent while the previous one is transformed, and a batch is
        finished (correlated here, in order) when two are in flight or nothing else waits.
        """
        self._warm_up()
        committer = threading.Thread(target=self._commit_loop, name="heron-commit", daemon=True)
        committer.start()
        inflight: deque[_Batch] = deque()
        try:
            while True:
                if inflight:
                    try:
                        unit = self._queue.get_nowait()
                    except queue.Empty:
                        self._finish_batch(inflight.popleft())
                        continue
                else:
                    unit = self._queue.get()
                if unit is None:
                    break
                batch, stop = self._gather(unit)
                inflight.append(self._start_batch(batch))
                if len(inflight) >= 2:
                    self._finish_batch(inflight.popleft())
                if stop:
                    break
            while inflight:
                self._finish_batch(inflight.popleft())
        finally:
            self._transformed.put(None)
            committer.join()
            if self._pool is not None:
                self._pool.close()

    def _gather(self, unit: _Unit) -> tuple[list[_Unit], bool]:
        """A batch starting with ``unit``: what else is queued, up to ``batch_events``."""
        batch = [unit]
        count = unit.events
        deadline = time.monotonic() + self.batch_wait_s
        while count < self.batch_events:
            try:
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    more = self._queue.get(timeout=remaining)
                else:
                    more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                return batch, True
            batch.append(more)
            count += more.events
        return batch, False

    def _start_batch(self, batch: list[_Unit]) -> _Batch:
        """Send the batch's chunks to the workers, or transform them here."""
        started = time.perf_counter()
        seq, epoch = self._numbers.send()
        if epoch != self._applied_epoch:
            apply_newest(self.pipeline.enrichers)
            self._applied_epoch = epoch
        count = sum(u.events for u in batch)
        pool = self._pool
        if pool is None and self._pool_factory is not None and count >= self.pool_min_events:
            # Workers start on the first batch big enough to pay for them, so a quiet
            # collector (and every small test) never spawns them.
            try:
                pool = self._pool = self._pool_factory()
            except Exception as exc:
                log.error("starting the worker pool failed, transforming in-process: %s", exc)
                self._pool_factory = None
        sent_to = pool  # kept even if the pool breaks half-way: its results need finishing
        per_unit: list[list[ChunkResult | Future[ChunkResult]]] = []
        for unit in batch:
            parts: list[ChunkResult | Future[ChunkResult]] = []
            for chunk in unit.chunks:
                if pool is not None:
                    try:
                        parts.append(pool.submit(chunk, from_file=unit.from_file, epoch=epoch))
                        continue
                    except Exception as exc:  # a broken pool: carry on without it
                        log.error("worker pool failed, transforming in-process: %s", exc)
                        self._drop_pool()
                        pool = None
                parts.append(self._transform_chunk(chunk, unit.from_file, unit.correlation))
            per_unit.append(parts)
        self.metrics.transform_seconds += time.perf_counter() - started
        return _Batch(batch, per_unit, sent_to, seq)

    def _finish_batch(self, item: _Batch) -> None:
        """Wait for the batch's worker results, correlate them here, hand it to the committer."""
        started = time.perf_counter()
        per_unit: list[list[ChunkResult]] = []
        for unit, parts in zip(item.units, item.parts, strict=True):
            results: list[ChunkResult] = []
            for chunk, part in zip(unit.chunks, parts, strict=True):
                if not isinstance(part, Future):
                    results.append(part)
                    continue
                try:
                    result = part.result()
                except BrokenProcessPool as exc:
                    log.error("a worker process died, transforming in-process: %s", exc)
                    self._drop_pool()
                    results.append(self._transform_chunk(chunk, unit.from_file, unit.correlation))
                    continue
                except Exception as exc:
                    results.append(self._failed_chunk(chunk, exc))
                    continue
                if item.pool is not None:
                    # Correlation state lives here; the pool's engine is this process's.
                    result.detections = item.pool.finish_detections(
                        result, correlation=unit.correlation
                    )
                result.events = []  # stored through the Arrow table; free the dicts now
                results.append(result)
            per_unit.append(results)
        self.metrics.transform_seconds += time.perf_counter() - started
        self._transformed.put((item.units, per_unit, item.seq))

    def _drop_pool(self) -> None:
        pool, self._pool, self._pool_factory = self._pool, None, None
        if pool is not None:
            try:
                pool.close()
            except Exception as exc:  # pragma: no cover - best effort on a broken pool
                log.warning("closing the worker pool failed: %s", exc)

    def _commit_loop(self) -> None:
        """The commit stage: runs beside the next batch's transform (the store's write
        releases the GIL), in batch order, so completions keep their order too."""
        while True:
            item = self._transformed.get()
            if item is None:
                return
            units, per_unit, seq = item
            try:
                self._commit(units, per_unit)
            finally:
                self._numbers.committed(seq)

    def _commit(self, batch: list[_Unit], per_unit: list[list[ChunkResult]]) -> None:
        started = time.perf_counter()
        outcomes: list[tuple[_Unit, Committed | BaseException]] = []
        logged = [u.seq for u in batch if u.seq is not None]
        receipt = max(logged) if logged and not self._receipt_held else None
        try:
            self.pipeline.commit([r for results in per_unit for r in results], receipt=receipt)
        except Exception as exc:
            self.metrics.commit_failures += 1
            log.error("commit of a batch of %d submissions failed: %s", len(batch), exc)
            if logged and not self._receipt_held:
                # Those were answered from the receive log: they stay there, and so do
                # the batches after them, until a restart stores them.
                self._receipt_held = True
                log.error(
                    "records %d-%d of the receive log were answered but not stored: "
                    "they are stored when the server restarts",
                    min(logged),
                    max(logged),
                )
            for unit in batch:
                if unit.seq is None:
                    unit.source.dropped += unit.events
                outcomes.append((unit, exc))
        else:
            if receipt is not None and self.receive_log is not None:
                self.receive_log.release(receipt)
            self.metrics.commit_seconds.observe(time.perf_counter() - started)
            self.metrics.batches_committed += 1
            for unit, results in zip(batch, per_unit, strict=True):
                stored = sum(r.table.num_rows for r in results if r.table is not None)
                found = sum(len(r.detections) for r in results)
                letters = [r.dead_letters for r in results]
                unit.source.parsed += stored
                unit.source.failed += sum(len(d) for d in letters)
                self.metrics.events_committed += stored
                ids = None
                if unit.want_ids:
                    ids = [
                        [str(i) for i in r.table.column("event.id").to_pylist()]
                        if r.table is not None
                        else []
                        for r in results
                    ]
                outcomes.append((unit, Committed(stored, letters, ids, found)))
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._finish, outcomes)

    def _transform_chunk(
        self, chunk: RawChunk, from_file: bool, correlation: CorrelationEngine | None = None
    ) -> ChunkResult:
        try:
            result = self.pipeline.transform(chunk, from_file=from_file, correlation=correlation)
        except Exception as exc:
            log.exception("pipeline failed on a chunk from %s", chunk.source)
            return self._failed_chunk(chunk, exc)
        result.events = []  # stored through the Arrow table; free the dicts now
        return result

    @staticmethod
    def _failed_chunk(chunk: RawChunk, exc: BaseException) -> ChunkResult:
        # A bug or a missing parser must not cost the rest of the batch: every record of
        # this chunk is kept as a dead letter with the reason.
        reason = f"pipeline error: {type(exc).__name__}: {exc}"
        received = now_ns()
        texts = chunk.originals if chunk.originals is not None else chunk.records
        letters = list(chunk.dead_letters) + [
            DeadLetter.of(chunk.source, reason, raw, loc, received)
            for raw, loc in zip(texts, chunk.locations, strict=False)
        ]
        return ChunkResult(None, [], letters, [])
