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
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from heron.errors import ParseError
from heron.intake import Committed
from heron.model.deadletter import DeadLetter
from heron.model.timeutil import now_ns
from heron.pipeline import named_chunks
from heron.processes import alive
from heron.sources.base import SourceRuntime
from heron.sources.file import RawChunk, is_simulation_labels, read_file

if TYPE_CHECKING:
    from heron.collector import Collector
    from heron.runtime import Node

__all__ = [
    "MAX_UPLOADS",
    "UPLOAD_SOURCE",
    "UploadSpoolError",
    "UploadSummary",
    "UploadTooLargeError",
    "ingest_upload",
    "late_matches",
    "late_note",
    "receive_upload",
    "spool_upload",
]

SPOOL_PREFIX = "upload-"
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
    folder = data_dir / "spool"
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


def _chunks(path: Path, name: str, fmt: str, max_line_bytes: int) -> Generator[RawChunk]:
    """The spooled file's chunks, named as the upload; a file that cannot be read is one
    dead letter (as in ``heron ingest``)."""
    try:
        yield from named_chunks(read_file(path, fmt, max_line_bytes=max_line_bytes), name)
    except (OSError, ParseError) as exc:
        reason = f"cannot read file: {exc}".replace(str(path), name)
        letter = DeadLetter.of(name, reason, b"", "file", now_ns())
        yield RawChunk(name, "auto", dead_letters=[letter])


async def ingest_upload(
    runtime: SourceRuntime, path: Path, name: str, fmt: str, size: int
) -> UploadSummary:
    """Queue the spooled file's records and wait until all are committed.

    A commit that fails raises: the events counted so far are stored, the rest not.
    """
    started = time.perf_counter()
    summary = UploadSummary(bytes=size)
    if size == 0:
        summary.messages.append(f"{name}: empty file, nothing to ingest")
        return summary
    if await asyncio.to_thread(is_simulation_labels, path):
        summary.messages.append(f"{name}: simulation labels, not telemetry: skipped")
        return summary
    reader = _chunks(path, name, fmt, runtime.max_line_bytes)
    metrics = runtime.metrics
    waiting: list[asyncio.Future[Committed]] = []
    try:
        while (chunk := await asyncio.to_thread(next, reader, None)) is not None:
            count = len(chunk.records) + len(chunk.dead_letters)
            if not count:
                continue
            metrics.received += count
            metrics.bytes += sum(len(r) for r in chunk.records)
            future = await runtime.intake.submit(
                [chunk], metrics, nbytes=sum(len(r) for r in chunk.records), from_file=True
            )
            assert future is not None
            waiting.append(future)
    finally:
        reader.close()
        # Every queued chunk is waited for, even when reading failed half way: the
        # answer must not go out while some of the upload is still being committed.
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        summary.events += outcome.events
        for letters in outcome.dead_letters:
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


def late_matches(node: Node) -> int:
    """Correlation matches dropped as late so far (counted once per correlation fed)."""
    correlation = node.detector.correlation if node.detector is not None else None
    return correlation.stats().late if correlation is not None else 0


def late_note(node: Node, before: int) -> str | None:
    """What a load through the node should be told of the correlation matches dropped
    as late since ``before`` (``late_matches`` then); None when there were none."""
    late = late_matches(node) - before
    if late <= 0:
        return None
    # Counted over the node's whole input meanwhile, so live sources' share too.
    return (
        f"correlation skipped {late:,} matches older than what the node had already "
        "processed: correlations run in event time with a lateness bound "
        "('heron rules backtest RULE --since …' runs a rule over stored events)"
    )


async def receive_upload(
    state: Any, body: AsyncIterator[bytes], name: str, fmt: str
) -> UploadSummary:
    """One file sent to the running node (the API's or the web UI's ``state``): a slot,
    the spool, the intake; answered once committed. Raises ``UploadTooLargeError``,
    ``UploadSpoolError`` and ``IntakeClosedError``."""
    node: Node = state.node
    runtime = upload_runtime(state.collector)
    late_before = late_matches(node)
    async with (
        state.upload_slots,
        spool_upload(node.data_dir, body, runtime.max_body_bytes) as (path, size),
    ):
        summary = await ingest_upload(runtime, path, name, fmt, size)
    note = late_note(node, late_before)
    if note is not None:
        summary.messages.append(note)
    return summary
