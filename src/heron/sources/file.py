"""Files and folders as chunks of raw records, with the format found from content.

Memory stays flat whatever the input size: line files are read a bounded line at a
time and handed on in chunks; a line over the limit is cut, dead-lettered and skipped
to its end without being held whole.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from heron.errors import ConfigError, HeronError, ParseError
from heron.model.deadletter import RAW_KEEP_BYTES, DeadLetter
from heron.model.timeutil import now_ns
from heron.parsers import FORMATS, LINE_FORMATS

__all__ = [
    "DEFAULT_CHUNK_RECORDS",
    "DEFAULT_MAX_LINE_BYTES",
    "ChunkMerger",
    "RawChunk",
    "detect_file_format",
    "iter_files",
    "read_file",
]

DEFAULT_CHUNK_RECORDS = 4096
DEFAULT_MAX_LINE_BYTES = 1024 * 1024
# A whole-document format (CloudTrail) is read at once: refuse absurd sizes up front.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

_EVTX_MAGIC = b"ElfFile\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_CLOUDTRAIL_HEAD = re.compile(rb'^\s*\{\s*"Records"\s*:\s*\[')
_AZURE_HEAD = re.compile(rb'^\s*\{\s*"records"\s*:\s*\[')
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class RawChunk:
    """Raw records of one file, in order, with where each came from."""

    source: str
    format: str  # a parser name, or "auto" to choose per line
    records: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)  # "line 12", "record 7"
    dead_letters: list[DeadLetter] = field(default_factory=list)
    bytes_read: int = 0  # progress: bytes of the file consumed by this chunk
    # Set when the chunk joins records of several files (``ChunkMerger``): each one's file.
    record_sources: list[str] | None = None


class ChunkMerger:
    """Joins the small chunks of many small files into full ones.

    A batch has a fixed cost (Arrow columns, a detection pass) whatever its size; a
    folder of hundreds of small EVTX files would otherwise pay it once per file.
    """

    def __init__(self, target_records: int = DEFAULT_CHUNK_RECORDS) -> None:
        self.target = target_records
        self._held: RawChunk | None = None

    def add_all(self, chunks: Iterator[RawChunk]) -> Iterator[RawChunk]:
        """Full chunks ready to process; a small remainder is held for the next file."""
        for chunk in chunks:
            yield from self.add(chunk)

    def add(self, chunk: RawChunk) -> Iterator[RawChunk]:
        if len(chunk.records) >= self.target:
            yield from self.flush()
            yield chunk
            return
        held = self._held
        if held is not None and held.format != chunk.format:
            yield from self.flush()
            held = None
        if held is None:
            self._held = chunk
            return
        if held.record_sources is None:
            held.record_sources = [held.source] * len(held.records)
        held.record_sources.extend([chunk.source] * len(chunk.records))
        held.records.extend(chunk.records)
        held.locations.extend(chunk.locations)
        held.dead_letters.extend(chunk.dead_letters)
        held.bytes_read += chunk.bytes_read
        if len(held.records) >= self.target:
            yield from self.flush()

    def flush(self) -> Iterator[RawChunk]:
        """The held chunk, if any."""
        if self._held is not None:
            held, self._held = self._held, None
            yield held


def iter_files(paths: list[Path], include: Sequence[str] = ()) -> Iterator[Path]:
    """Every regular file under ``paths``, folders walked in sorted order, hidden files skipped.

    ``include`` (glob patterns such as ``*.evtx``) keeps only matching names inside folders;
    files named directly are always taken.
    """
    for path in paths:
        if not path.exists():
            raise ConfigError(f"no such file or folder: {path}")
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and not child.name.startswith(".")
                    and (not include or any(fnmatch.fnmatch(child.name, p) for p in include))
                ):
                    yield child
        else:
            yield path


# ``heron simulate --out DIR`` writes its ground truth beside the telemetry; a folder
# ingest must not turn that answer sheet into hundreds of dead letters.
_SIMULATION_LABELS = b'"format": "heron-simulate-labels/'


def is_simulation_labels(path: Path) -> bool:
    """Whether ``path`` is the ``labels.json`` of a Heron simulation (not telemetry)."""
    if path.suffix != ".json":
        return False
    with path.open("rb") as f:
        return _SIMULATION_LABELS in f.read(256)


def _open_maybe_gzip(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """The decompressed stream and the file under it (whose position tells progress)."""
    raw = path.open("rb")
    head = raw.read(2)
    raw.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw), raw  # type: ignore[return-value]
    return raw, raw


def detect_file_format(path: Path) -> str:
    """How to read a file, from its content.

    ``evtx``, ``cloudtrail`` and ``azure_records`` (whole JSON documents), ``zeek_tsv``
    (lines that need the file's ``#fields`` header), or ``auto`` (line formats, per line).
    """
    with path.open("rb") as f:
        if f.read(8) == _EVTX_MAGIC:
            return "evtx"
    stream, _ = _open_maybe_gzip(path)
    try:
        head = stream.read(4096)
    except (OSError, EOFError) as exc:
        raise ParseError(f"cannot read {path}: {exc}", parser="file") from exc
    finally:
        stream.close()
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if _CLOUDTRAIL_HEAD.match(head):
        return "cloudtrail"
    if _AZURE_HEAD.match(head):
        return "azure_records"
    if head.startswith(b"#separator"):
        return "zeek_tsv"
    return "auto"


def read_file(
    path: Path,
    fmt: str = "auto",
    *,
    chunk_records: int = DEFAULT_CHUNK_RECORDS,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[RawChunk]:
    """Chunks of raw records from one file. ``fmt`` forces a format ("auto" detects)."""
    if fmt != "auto" and fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}")
    if path.stat().st_size == 0:
        return
    kind = detect_file_format(path) if fmt == "auto" else fmt
    if kind == "evtx":
        yield from _read_evtx(path, chunk_records)
    elif kind == "cloudtrail":
        from heron.parsers.cloudtrail import iter_cloudtrail_records

        yield from _read_document(path, "cloudtrail", iter_cloudtrail_records, chunk_records)
    elif kind == "azure_records":
        from heron.parsers.azure import iter_azure_records

        yield from _read_document(path, "azure", iter_azure_records, chunk_records)
    elif kind == "zeek_tsv":
        yield from _read_zeek_tsv(path, chunk_records, max_line_bytes)
    elif kind in LINE_FORMATS or kind == "auto":
        yield from _read_lines(path, kind, chunk_records, max_line_bytes)
    else:
        raise ConfigError(f"format {kind!r} cannot be read from a file")


def _read_lines(
    path: Path, fmt: str, chunk_records: int, max_line_bytes: int
) -> Iterator[RawChunk]:
    source = str(path)
    stream, underlying = _open_maybe_gzip(path)
    reader: BinaryIO = (
        io.BufferedReader(stream, buffer_size=1 << 20)  # type: ignore[type-var]
        if not isinstance(stream, io.BufferedReader)
        else stream
    )
    chunk = RawChunk(source, fmt)
    line_no = 0
    reported = 0
    try:
        while True:
            try:
                line = reader.readline(max_line_bytes + 1)
            except (OSError, EOFError) as exc:  # a truncated or corrupt gzip stream
                chunk.dead_letters.append(
                    DeadLetter.of(
                        source, f"cannot read further: {exc}", b"", f"line {line_no + 1}", now_ns()
                    )
                )
                break
            if not line:
                break
            line_no += 1
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                size = len(line) + _skip_rest_of_line(reader)
                chunk.dead_letters.append(
                    DeadLetter(
                        source,
                        f"line longer than the limit of {max_line_bytes} bytes ({size} bytes)",
                        line[:RAW_KEEP_BYTES].decode("utf-8", errors="backslashreplace"),
                        f"line {line_no}",
                        now_ns(),
                        size,
                    )
                )
                continue
            if line_no == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                chunk.dead_letters.append(
                    DeadLetter.of(
                        source,
                        f"invalid UTF-8 at byte {exc.start}",
                        line,
                        f"line {line_no}",
                        now_ns(),
                    )
                )
                continue
            chunk.records.append(text)
            chunk.locations.append(f"line {line_no}")
            if len(chunk.records) >= chunk_records:
                position = underlying.tell()
                chunk.bytes_read, reported = position - reported, position
                yield chunk
                chunk = RawChunk(source, fmt)
        chunk.bytes_read = path.stat().st_size - reported
    finally:
        reader.close()
    if chunk.records or chunk.dead_letters or chunk.bytes_read:
        yield chunk


def _skip_rest_of_line(reader: BinaryIO) -> int:
    skipped = 0
    while True:
        piece = reader.readline(1 << 20)
        skipped += len(piece)
        if not piece or piece.endswith(b"\n"):
            return skipped


def _read_evtx(path: Path, chunk_records: int) -> Iterator[RawChunk]:
    from heron.sources.evtx import iter_evtx_records

    source = str(path)
    size = path.stat().st_size
    chunk = RawChunk(source, "evtx")
    for number, (record, error) in enumerate(iter_evtx_records(path), start=1):
        if error is not None:
            chunk.dead_letters.append(
                DeadLetter.of(source, error, b"", f"record {number}", now_ns())
            )
        elif record is not None:
            chunk.records.append(record)
            chunk.locations.append(f"record {number}")
        if len(chunk.records) >= chunk_records:
            yield chunk
            chunk = RawChunk(source, "evtx")
    chunk.bytes_read = size
    yield chunk


def _read_zeek_tsv(path: Path, chunk_records: int, max_line_bytes: int) -> Iterator[RawChunk]:
    # A Zeek TSV line means nothing without its file's #fields header: the reader keeps
    # that state and hands on each record as the JSON Zeek's JSON writer would write.
    from heron.parsers.zeek import ZeekTsvReader, log_type_of

    reader = ZeekTsvReader(log_type_of(str(path)))
    for chunk in _read_lines(path, "zeek", chunk_records, max_line_bytes):
        records: list[str] = []
        locations: list[str] = []
        for line, location in zip(chunk.records, chunk.locations, strict=True):
            try:
                record = reader.feed(line)
            except ParseError as exc:
                chunk.dead_letters.append(
                    DeadLetter.of(chunk.source, exc.reason, line, location, now_ns())
                )
                continue
            if record is not None:
                records.append(orjson.dumps(record).decode())
                locations.append(location)
        chunk.records, chunk.locations = records, locations
        yield chunk


def _read_document(
    path: Path, fmt: str, split: Callable[[bytes], Iterator[str]], chunk_records: int
) -> Iterator[RawChunk]:
    """Records of a whole-JSON document (CloudTrail, Azure ``{"records": [...]}``)."""
    source = str(path)
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise ConfigError(f"{path}: a {fmt} file over {MAX_DOCUMENT_BYTES} bytes")
    stream, _ = _open_maybe_gzip(path)
    chunk = RawChunk(source, fmt)
    try:
        with stream:
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
        for number, record in enumerate(split(data), start=1):
            chunk.records.append(record)
            chunk.locations.append(f"record {number}")
            if len(chunk.records) >= chunk_records:
                yield chunk
                chunk = RawChunk(source, fmt)
    except (HeronError, OSError, EOFError) as exc:
        reason = exc.reason if isinstance(exc, ParseError) else str(exc)
        chunk.dead_letters.append(DeadLetter.of(source, reason, b"", "file", now_ns()))
    chunk.bytes_read = path.stat().st_size
    yield chunk
