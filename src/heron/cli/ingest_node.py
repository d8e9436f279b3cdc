"""``heron ingest`` while ``heron serve`` runs: the files go to the node, not the store.

A running node holds the data directory (DuckDB takes one writer process), so the
command sends each file to the node's ``POST /api/ingest`` over its control socket
(``heron.control``), streamed, and prints the same summary as a load of its own.
The node parses, detects and stores them with its own rules and settings; options
that would change those are refused rather than silently ignored.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

import click
import httpx

from heron.cli.node import error_of, node_client
from heron.pipeline import IngestSummary
from heron.sources.file import STDIN

__all__ = ["ingest_through_node"]

#: Bytes read from a file per piece of the request body.
SEND_BYTES = 1 << 20
#: Files sent at once.
IN_FLIGHT = 64


def _pieces(stream: IO[bytes], sent: Callable[[int], None]) -> Iterator[bytes]:
    while piece := stream.read(SEND_BYTES):
        sent(len(piece))
        yield piece


def ingest_through_node(
    socket_path: Path,
    data_dir: Path,
    files: list[Path],
    fmt: str,
    progress: Callable[[int, int], None],
) -> IngestSummary:
    """Send ``files`` (``-``: standard input) to the node; the summary of what it stored.

    A few files are in flight at once: each is answered only once it is committed, so
    one at a time would leave the node idle between small files. A file the node
    refuses, or a node that stops half way, ends the command with an error that says
    what was stored.
    """
    started = time.perf_counter()
    summary = IngestSummary()
    summary.messages.append(
        f"a node serves {data_dir}: the files went to it (its rules and settings apply)"
    )
    failure: click.ClickException | None = None
    with node_client(socket_path) as client, ThreadPoolExecutor(IN_FLIGHT) as senders:
        sending: deque[Future[dict[str, Any]]] = deque()
        queued = iter(files)
        while failure is None or sending:
            while failure is None and len(sending) < IN_FLIGHT:
                path = next(queued, None)
                if path is None:
                    break
                sending.append(senders.submit(_send, client, path, fmt, data_dir, progress))
            if not sending:
                break
            try:
                result = sending.popleft().result()
            except click.ClickException as exc:
                failure = failure or exc
                continue
            summary.files += 1
            summary.events += int(result["events"])
            summary.failed += int(result["failed"])
            summary.messages.extend(str(m) for m in result.get("messages", []))
            progress(0, int(result["events"]))
    if failure is not None:
        raise click.ClickException(f"{failure.message}; {_stored_so_far(summary)}")
    summary.seconds = time.perf_counter() - started
    return summary


def _send(
    client: httpx.Client,
    path: Path,
    fmt: str,
    data_dir: Path,
    progress: Callable[[int, int], None],
) -> dict[str, Any]:
    """One file to the node; its answer, once it is stored."""
    name = STDIN if path == Path(STDIN) else str(path)
    try:
        with open(path, "rb") if name != STDIN else nullcontext(sys.stdin.buffer) as stream:
            response = client.post(
                "/api/ingest",
                params={"name": name, "format": fmt},
                content=_pieces(stream, lambda n: progress(n, 0)),
            )
    except OSError as exc:
        raise click.ClickException(f"cannot read {name}: {exc}") from exc
    except httpx.TransportError as exc:
        raise click.ClickException(
            f"the node serving {data_dir} did not answer for {name} ({exc})"
        ) from exc
    if response.status_code != 200:
        raise click.ClickException(
            f"the node refused {name} (HTTP {response.status_code}: {error_of(response)})"
        )
    answer: dict[str, Any] = response.json()
    return answer


def _stored_so_far(summary: IngestSummary) -> str:
    if not summary.files:
        return "nothing else of this load was stored"
    return (
        f"{summary.files} other file(s) are stored "
        f"({summary.events:,} events, {summary.failed:,} failed)"
    )
