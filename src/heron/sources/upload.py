"""Files handed to a running node (``POST /api/ingest``): spooled, read, queued, committed.

The body is written to ``<data-dir>/spool/`` as it arrives, so memory stays flat
whatever its size, and is then read as ``heron ingest`` reads a file: its format
detected from content (EVTX, CloudTrail documents, gzip, line formats), bad records
kept as dead letters with their line. Chunks go through the node's one intake queue,
as every source's do, so an upload waits for room instead of crowding out live
sources. The answer comes once every chunk is committed: what it counts is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from heron.intake import Committed
from heron.model.deadletter import DeadLetter
from heron.pipeline import IngestSummary, Pipeline
from heron.processes import alive
from heron.sources.base import SourceRuntime
from heron.sources.file import RawChunk

if TYPE_CHECKING:
    from heron.collector import Collector
    from heron.detect.correlate.engine import CorrelationEngine
    from heron.runtime import Node

__all__ = [
    "MAX_UPLOADS",
    "UPLOAD_SOURCE",
    "UploadSpoolError",
    "UploadSummary",
    "UploadTooLargeError",
    "finish_correlation",
    "ingest_upload",
    "load_correlation",
    "receive_upload",
    "spool_upload",
    "submit_chunks",
]

SPOOL_PREFIX = "upload-"
#: Beside the data directory's database: uploads, and a load's held correlation matches.
SPOOL_FOLDER = "spool"
#: The name uploads are counted under in ``/metrics``.
UPLOAD_SOURCE = "upload"
#: Uploads spooled and ingested at once; more wait for a slot, their bodies unread, so
#: the spool's disk use stays bounded by MAX_UPLOADS x ``http.max_upload_bytes``.
MAX_UPLOADS = 64
#: Spooled bytes written per call: few thread hops, a small buffer.
WRITE_BYTES = 1 << 20
#: Dead letters named in an answer (all of them are stored).
SHOWN_DEAD_LETTERS = 20


class UploadTooLargeError(ValueError):
    """The body went over the upload limit."""


class UploadSpoolError(OSError):
    """The body could not be written to the spool (a full disk)."""


@dataclass(slots=True)
class UploadSummary:
    """What an upload became, once committed."""

    events: int = 0
    failed: int = 0
    detections: int = 0
    bytes: int = 0
    seconds: float = 0.0
    dead_letters: list[DeadLetter] = field(default_factory=list)  # the first few
    messages: list[str] = field(default_factory=list)


def _sweep(folder: Path) -> None:
    """Remove spools of uploads whose node is gone (the name holds its pid)."""
    for left in folder.glob(f"{SPOOL_PREFIX}*"):
        pid = left.name[len(SPOOL_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            with contextlib.suppress(OSError):
                left.unlink()


@contextlib.asynccontextmanager
async def spool_upload(
    data_dir: Path, body: AsyncIterator[bytes], max_bytes: int
) -> AsyncIterator[tuple[Path, int]]:
    """The body written to a spool file: ``(path, size)``; the file goes afterwards.

    Raises ``UploadTooLargeError`` past ``max_bytes`` (the API's limit stops it sooner).
    """
    folder = data_dir / SPOOL_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_sweep, folder)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f"{SPOOL_PREFIX}{os.getpid()}-")
    except OSError as exc:
        raise UploadSpoolError(f"cannot spool the upload: {exc.strerror or exc}") from exc
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            pending: list[bytes] = []
            held = 0
            async for part in body:
                size += len(part)
                if size > max_bytes:
                    raise UploadTooLargeError(f"upload larger than the limit of {max_bytes} bytes")
                pending.append(part)
                held += len(part)
                if held >= WRITE_BYTES:
                    await _write(out, pending)
                    pending, held = [], 0
            await _write(out, pending)
        yield path, size
    finally:
        path.unlink(missing_ok=True)


async def _write(out: BinaryIO, parts: list[bytes]) -> None:
    if not parts:
        return
    try:
        await asyncio.to_thread(out.write, b"".join(parts))
    except OSError as exc:
        raise UploadSpoolError(f"cannot spool the upload: {exc.strerror or exc}") from exc


async def submit_chunks(
    runtime: SourceRuntime,
    chunks: Iterator[RawChunk],
    correlation: CorrelationEngine | None = None,
) -> tuple[list[tuple[Committed, list[str]]], BaseException | None]:
    """Queue ``chunks`` (read in a thread: files are read there) and wait for every one;
    ``correlation``: the load's own correlation engine (``load_correlation``).

    Returns the committed ones in order, each with the files it completes, and the
    first commit that failed (commits are in order: what follows it is not stored).
    Received records are counted once committed: block chunks are split only where
    they are transformed, so their count is not known before.
    """
    waiting: list[tuple[asyncio.Future[Committed], list[str]]] = []
    try:
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            nbytes = len(chunk.block or b"") + sum(len(r) for r in chunk.records)
            runtime.metrics.bytes += nbytes
            future = await runtime.intake.submit(
                [chunk], runtime.metrics, nbytes=nbytes, from_file=True, correlation=correlation
            )
            assert future is not None
            waiting.append((future, list(chunk.completes)))
    finally:
        # Every queued chunk is waited for, even when reading failed half way: no answer
        # goes out while some of the input is still being committed.
        outcomes = await asyncio.gather(*(f for f, _ in waiting), return_exceptions=True)
    done: list[tuple[Committed, list[str]]] = []
    for outcome, (_, completes) in zip(outcomes, waiting, strict=True):
        if isinstance(outcome, BaseException):
            return done, outcome
        letters = sum(len(d) for d in outcome.dead_letters)
        runtime.metrics.received += outcome.events + letters
        done.append((outcome, completes))
    return done, None


async def ingest_upload(
    node: Node,
    runtime: SourceRuntime,
    pipeline: Pipeline,
    path: Path,
    name: str,
    fmt: str,
    size: int,
) -> UploadSummary:
    """Queue the spooled file's records, read as ``heron ingest`` reads a file
    (``Pipeline.file_chunks``), wait until all are committed, then correlate them.

    A commit that fails raises: the events counted so far are stored, the rest not.
    """
    started = time.perf_counter()
    summary = UploadSummary(bytes=size)
    read = IngestSummary()
    chunks = pipeline.file_chunks([path], fmt, runtime.max_line_bytes, read, {}, {path: name})
    correlation = load_correlation(node)
    done, failure = await submit_chunks(runtime, chunks, correlation)
    correlated = await asyncio.to_thread(finish_correlation, node, correlation, failure is None)
    if failure is not None:
        raise failure
    summary.messages = read.messages
    summary.detections = correlated
    for committed, _ in done:
        summary.detections += committed.detections
        summary.events += committed.events
        for letters in committed.dead_letters:
            summary.failed += len(letters)
            room = SHOWN_DEAD_LETTERS - len(summary.dead_letters)
            summary.dead_letters.extend(letters[: max(room, 0)])
    summary.seconds = time.perf_counter() - started
    return summary


def upload_runtime(collector: Collector) -> SourceRuntime:
    """What an upload is handed: the node's intake, its own counters, the limits."""
    config = collector.config
    return SourceRuntime(
        collector.intake,
        collector.metrics.source(UPLOAD_SOURCE, UPLOAD_SOURCE),
        config.limits.max_line_bytes,
        config.http.max_upload_bytes,
        config.limits.busy_timeout_s,
    )


def load_correlation(node: Node) -> CorrelationEngine | None:
    """The correlation engine of one load through the node (None without correlations).

    A load's matches are correlated on their own, held until all of it is stored, as
    ``heron ingest`` does on a store of its own: its files each span a period, often
    long before what the node's live sources have moved event time to, so in the live
    engine they would be late and dropped.
    """
    if node.detector is None:
        return None
    return node.detector.load_correlation(node.data_dir / SPOOL_FOLDER)


def finish_correlation(node: Node, correlation: CorrelationEngine | None, stored: bool) -> int:
    """Correlate a load's held matches once ``stored`` (every part committed), their
    alerts stored; a load that failed leaves them. Returns the detections."""
    if correlation is None or node.detector is None:
        return 0
    if not stored:
        correlation.discard()
        return 0
    # Every window closes: nothing of this load comes later.
    detections = node.detector.flush(final=True, correlation=correlation)
    if detections and node.alerts is not None:
        node.alerts.add(detections)
    return len(detections)


async def receive_upload(
    state: Any, body: AsyncIterator[bytes], name: str, fmt: str
) -> UploadSummary:
    """One file sent to the running node (the API's or the web UI's ``state``): a slot,
    the spool, the intake; answered once committed. Raises ``UploadTooLargeError``,
    ``UploadSpoolError`` and ``IntakeClosedError``."""
    node: Node = state.node
    runtime = upload_runtime(state.collector)
    async with (
        state.upload_slots,
        spool_upload(node.data_dir, body, runtime.max_body_bytes) as (path, size),
    ):
        return await ingest_upload(node, runtime, state.collector.pipeline, path, name, fmt, size)
