"""Files on the node's own machine, named by a caller on its control socket.

``heron ingest`` run beside ``heron serve`` names its files by path; the caller is
the node's own OS user (``heron.control``), so the node reads them where they are,
with the load plan of a load of its own (``heron.sources.loadplan``): files ingested
before are named (left out with ``--skip-ingested``), logs that grew are read on from
where the last load ended, and each file read to its end is noted in the ledger once
its last records are committed. Records go through the node's one intake queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from heron.model.timeutil import now_ns
from heron.pipeline import IngestSummary
from heron.sources.file import RawChunk
from heron.sources.loadplan import file_identities, plan_load
from heron.sources.upload import (
    finish_correlation,
    load_correlation,
    submit_chunks,
    upload_runtime,
)

__all__ = ["ingest_local_files"]


async def ingest_local_files(
    state: Any, files: list[tuple[Path, str]], fmt: str, skip_ingested: bool
) -> IngestSummary:
    """Read ``files`` (path, name shown as ``log.file.path``) into the node; the summary
    once everything is committed and the ledger notes the files read to their end."""
    started = time.perf_counter()
    node = state.node
    runtime = upload_runtime(state.collector)
    paths = [path for path, _ in files]
    names = {path: name for path, name in files}
    ids = await asyncio.to_thread(file_identities, paths)
    plan = await asyncio.to_thread(
        plan_load, node.store, paths, ids, skip_ingested, fmt, runtime.max_line_bytes
    )
    summary = IngestSummary(messages=list(plan.notes))
    chunks: Iterator[RawChunk] = state.collector.pipeline.file_chunks(
        plan.files, fmt, runtime.max_line_bytes, summary, plan.spans, names
    )
    correlation = load_correlation(node)
    committed, failure = await submit_chunks(runtime, chunks, correlation)
    done: list[str] = []
    for outcome, completes in committed:
        summary.detections += outcome.detections
        summary.events += outcome.events
        summary.failed += sum(len(letters) for letters in outcome.dead_letters)
        done.extend(completes)
    # The files whose every record is stored, noted even when a later commit failed.
    entries = [plan.ledger_entry(path, ids[path]) for p in done if (path := Path(p)) in ids]
    if entries:
        await asyncio.to_thread(node.store.record_ingested, entries, now_ns())
    # After the ledger: the events are stored whatever becomes of their correlations.
    summary.detections += await asyncio.to_thread(
        finish_correlation, node, correlation, failure is None
    )
    if failure is not None:
        raise failure
    summary.seconds = time.perf_counter() - started
    return summary
