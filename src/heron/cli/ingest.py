"""``heron ingest``: files and folders through the full pipeline."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, timedelta, timezone
from pathlib import Path

import click
import orjson

from heron.cli.options import data_dir_option
from heron.errors import HeronError
from heron.model.timeutil import now_ns
from heron.parsers import FORMATS, ParseContext
from heron.pipeline import IngestSummary, Pipeline
from heron.sources.file import DEFAULT_MAX_LINE_BYTES, STDIN, WHOLE, iter_files
from heron.sources.loadplan import file_identities, plan_load

__all__ = ["SPOOL_KEEP_S", "ingest"]

#: Age after which a standard-input spool file left by a killed load is removed.
SPOOL_KEEP_S = 7 * 86400


def _parse_tz(text: str) -> timezone:
    if text.upper() in ("UTC", "Z"):
        return UTC
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").replace(":", "")
    if not digits.isdigit() or len(digits) != 4:
        raise click.BadParameter(f"use UTC or an offset like +02:00, not {text!r}")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


@contextmanager
def _progress(total: int, shown: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal, fed (bytes read, events) as a load goes; elsewhere
    nothing (rich is then not even imported: a scripted load starts sooner)."""
    if not shown:
        yield lambda nbytes, events: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        TextColumn("{task.fields[events]:>10,} events"),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True, soft_wrap=True),
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=total or None, events=0)
        counted = 0

        def advance(nbytes: int, events: int) -> None:
            nonlocal counted
            counted += events
            progress.update(task, advance=nbytes, events=counted)

        yield advance


@contextmanager
def _spooled_stdin(data_dir: Path) -> Iterator[Path]:
    """Standard input in a file under the data directory while the load runs: every
    reader (format detection, EVTX, whole documents) then reads it as a file, and
    memory stays flat however much is piped in."""
    folder = data_dir / "spool"
    folder.mkdir(parents=True, exist_ok=True)
    # A spool left by a load that was killed: gone once it is surely no one's.
    for left in folder.glob("stdin-*"):
        with suppress(OSError):
            if left.stat().st_mtime < time.time() - SPOOL_KEEP_S:
                left.unlink()
    fd, name = tempfile.mkstemp(dir=folder, prefix="stdin-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        yield path
    finally:
        path.unlink(missing_ok=True)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *sorted(FORMATS)]),
    default="auto",
    show_default=True,
    help="Input format; auto detects it from content (per line for text files).",
)
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Sigma rule files or folders (repeatable); default: the built-in pack.",
)
@click.option("--no-detect", is_flag=True, help="Store events without running detection.")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON summary line.")
@click.option("--year", type=int, default=None, help="Year for syslog lines that carry none.")
@click.option(
    "--timezone",
    "tz",
    default="UTC",
    show_default=True,
    help="Zone for syslog lines that carry none (UTC or +HH:MM).",
)
@click.option(
    "--max-line-bytes",
    type=int,
    default=DEFAULT_MAX_LINE_BYTES,
    show_default=True,
    help="Longer lines go to the dead-letter record.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes (default: one per core for inputs over 16 MiB; 0: none).",
)
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Inside folders, take only files whose name matches (repeatable, e.g. '*.evtx').",
)
@click.option(
    "--skip-ingested",
    is_flag=True,
    help=(
        "Leave out files this data directory has ingested before (same content); read "
        "logs that grew since from where the last load ended."
    ),
)
@data_dir_option
def ingest(
    paths: tuple[Path, ...],
    fmt: str,
    rule_paths: tuple[Path, ...],
    no_detect: bool,
    as_json: bool,
    year: int | None,
    tz: str,
    max_line_bytes: int,
    workers: int | None,
    include: tuple[str, ...],
    skip_ingested: bool,
    data_dir: str,
) -> None:
    """Ingest files and folders (EVTX, Windows event XML, NDJSON, syslog, the systemd
    journal, CEF, LEEF, CloudTrail, auditd, vendor formats); '-' reads standard input.

    While 'heron serve' runs on the data directory, the files go to that node, which
    parses, detects and stores them with its own rules and settings.
    """
    # The reported time is the command's: opening the node (rules, enrichment data),
    # the load, and what ends it (held correlations, old days to Parquet, the close).
    started = time.perf_counter()
    from heron.gctune import tune_for_bulk
    from heron.runtime import (
        WorkerPool,
        input_weight,
        open_node,
        start_fork_server,
        worker_count,
    )

    context = ParseContext(year=year, timezone=_parse_tz(tz))
    from heron.control import running_node_socket

    node_socket = running_node_socket(Path(data_dir))
    if node_socket is not None:
        changed = {
            "--rules": bool(rule_paths),
            "--no-detect": no_detect,
            "--workers": workers is not None,
            "--year": year is not None,
            "--timezone": tz.upper() not in ("UTC", "Z"),
            "--max-line-bytes": max_line_bytes != DEFAULT_MAX_LINE_BYTES,
        }
        given = [option for option, used in changed.items() if used]
        _through_node(
            node_socket, Path(data_dir), paths, include, fmt, skip_ingested, as_json, started, given
        )
        return
    try:
        with ExitStack() as stack:
            names: dict[Path, str] = {}
            if Path(STDIN) in paths:
                spool = stack.enter_context(_spooled_stdin(Path(data_dir)))
                names[spool] = STDIN
                paths = tuple(spool if p == Path(STDIN) else p for p in paths)
            files = list(iter_files(list(paths), include))
            if worker_count(input_weight(files), workers):
                start_fork_server()  # its imports run beside the node's opening
            # Fingerprints are file reads and hashing, outside the GIL: taken while the
            # node opens (rule loading is Python), they cost the command next to nothing.
            hasher = stack.enter_context(ThreadPoolExecutor(1, "heron-fingerprint"))
            fingerprinting = hasher.submit(file_identities, [f for f in files if f not in names])
            node = stack.enter_context(
                open_node(
                    Path(data_dir),
                    rule_paths=list(rule_paths) or None,
                    detect=not no_detect,
                    bulk=True,
                )
            )
            ids = fingerprinting.result()
            plan = plan_load(node.store, files, ids, skip_ingested, fmt, max_line_bytes)
            files, notes = plan.files, plan.notes
            total = sum(
                (end if end is not None else f.stat().st_size) - begin
                for f in files
                for begin, end in [plan.spans.get(f, WHOLE)]
            )
            correlation = node.detector.correlation if node.detector is not None else None
            late_before = 0
            if correlation is not None:
                # Files are read one after another, not interleaved in event time:
                # correlations run over the whole input when it ends (finish_ingest).
                correlation.hold = True
                late_before = correlation.stats().late
            tune_for_bulk()
            pipeline = Pipeline(
                node.store,
                detector=node.detector,
                alerts=node.alerts,
                enrichers=node.enrichers,
                context=context,
            )
            with _progress(total, not as_json and sys.stderr.isatty()) as advance:
                # Workers pay for themselves from tens of thousands of records (each
                # loads the rules and enrichment data first).
                count = worker_count(input_weight(files), workers)
                pool = (
                    WorkerPool(node.worker_spec(context), count, node.detector) if count else None
                )
                store = node.store

                def remember(done: list[str]) -> None:
                    # Files read to the end, their events committed: a run killed later
                    # still knows them (--skip-ingested then resumes at the next file).
                    entries = [
                        plan.ledger_entry(path, ids[path]) for p in done if (path := Path(p)) in ids
                    ]
                    store.record_ingested(entries, now_ns())

                try:
                    summary = pipeline.ingest_files(
                        files,
                        fmt=fmt,
                        max_line_bytes=max_line_bytes,
                        progress=advance,
                        transformer=pool,
                        stored=remember,
                        spans=plan.spans,
                        names=names,
                    )
                finally:
                    if pool is not None:
                        pool.close()
            summary.detections += node.finish_ingest()
            summary.messages[:0] = notes
            late = correlation.stats().late - late_before if correlation is not None else 0
            if late > 0:
                summary.messages.append(
                    f"correlation skipped {late:,} matches (counted once per correlation "
                    "they feed) older than what it had already processed in this data "
                    "directory ('heron rules backtest RULE --since …' runs a rule over "
                    "stored events)"
                )
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    summary.seconds = time.perf_counter() - started
    _report(summary, as_json)


def _report(summary: IngestSummary, as_json: bool) -> None:
    for message in summary.messages:
        click.echo(f"{click.style('note:', fg='yellow')} {message}", err=True)
    if as_json:
        click.echo(
            orjson.dumps(
                {
                    "events": summary.events,
                    "failed": summary.failed,
                    "seconds": round(summary.seconds, 3),
                }
            ).decode()
        )
        return
    click.echo(
        f"{summary.events:,} events from {summary.files} file(s) in {summary.seconds:.2f} s "
        f"({summary.rate:,.0f} events/s); {summary.failed:,} failed "
        f"(dead letters: 'heron deadletters'); {summary.detections:,} detections",
        err=True,
    )


def _through_node(
    node_socket: Path,
    data_dir: Path,
    paths: tuple[Path, ...],
    include: tuple[str, ...],
    fmt: str,
    skip_ingested: bool,
    as_json: bool,
    started: float,
    refused: list[str],
) -> None:
    """The load handed to the node that serves ``data_dir`` (``heron.cli.ingest_node``)."""
    from heron.cli.ingest_node import ingest_through_node

    if refused:
        raise click.ClickException(
            f"a node serves {data_dir} and ingests with its own rules and settings, so "
            f"{', '.join(refused)} cannot be used now: leave it out, or stop the node first"
        )
    try:
        files = [f for p in paths for f in ([p] if p == Path(STDIN) else iter_files([p], include))]
        total = sum(f.stat().st_size for f in files if f != Path(STDIN))
        with _progress(total, not as_json and sys.stderr.isatty()) as advance:
            summary = ingest_through_node(node_socket, data_dir, files, fmt, skip_ingested, advance)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    summary.seconds = time.perf_counter() - started
    _report(summary, as_json)
