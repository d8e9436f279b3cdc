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
from collections.abc import Callable, Iterator
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
#: Files named in one request (the node plans and answers them together).
FILES_PER_REQUEST = 5000


def _pieces(stream: IO[bytes], sent: Callable[[int], None]) -> Iterator[bytes]:
    while piece := stream.read(SEND_BYTES):
        sent(len(piece))
        yield piece


def ingest_through_node(
    socket_path: Path,
    data_dir: Path,
    files: list[Path],
    fmt: str,
    skip_ingested: bool,
    progress: Callable[[int, int], None],
) -> IngestSummary:
    """Hand ``files`` (``-``: standard input) to the node; the summary of what it stored.

    Files are named by path (``POST /api/ingest/files``): the node reads them where
    they are, with the load plan and ledger of a load of its own. Standard input has no
    path, so its bytes are sent (``POST /api/ingest``). A refusal, or a node that stops
    half way, ends the command with an error that says what was stored.
    """
    started = time.perf_counter()
    summary = IngestSummary()
    summary.messages.append(
        f"a node serves {data_dir}: the files went to it (its rules and settings apply)"
    )
    named = [path for path in files if path != Path(STDIN)]
    with node_client(socket_path) as client:
        try:
            if len(named) < len(files):
                _add(summary, _send(client, Path(STDIN), fmt, data_dir, progress), files=1)
            for start in range(0, len(named), FILES_PER_REQUEST):
                batch = named[start : start + FILES_PER_REQUEST]
                found = _send_paths(client, batch, fmt, skip_ingested, data_dir)
                _add(summary, found, files=int(found["files"]))
                progress(sum(_size(path) for path in batch), int(found["events"]))
        except click.ClickException as exc:
            raise click.ClickException(f"{exc.message}; {_stored_so_far(summary)}") from exc
    summary.seconds = time.perf_counter() - started
    return summary


def _add(summary: IngestSummary, found: dict[str, Any], *, files: int) -> None:
    summary.files += files
    summary.events += int(found["events"])
    summary.failed += int(found["failed"])
    summary.detections += int(found.get("detections", 0))
    summary.messages.extend(str(m) for m in found.get("messages", []))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _send_paths(
    client: httpx.Client, paths: list[Path], fmt: str, skip_ingested: bool, data_dir: Path
) -> dict[str, Any]:
    """Files the node reads by path; its answer once all of them are stored."""
    body = {
        "files": [{"path": str(path.resolve()), "name": str(path)} for path in paths],
        "format": fmt,
        "skip_ingested": skip_ingested,
    }
    try:
        response = client.post("/api/ingest/files", json=body)
    except httpx.TransportError as exc:
        raise click.ClickException(f"the node serving {data_dir} did not answer ({exc})") from exc
    if response.status_code != 200:
        raise click.ClickException(
            f"the node refused the files (HTTP {response.status_code}: {error_of(response)})"
        )
    answer: dict[str, Any] = response.json()
    return answer


def _send(
    client: httpx.Client,
    path: Path,
    fmt: str,
    data_dir: Path,
    progress: Callable[[int, int], None],
) -> dict[str, Any]:
    """One stream (standard input) to the node; its answer, once it is stored."""
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
