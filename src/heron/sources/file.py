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
from typing import Any, BinaryIO

from heron.errors import ConfigError, HeronError, ParseError
from heron.model.deadletter import RAW_KEEP_BYTES, DeadLetter
from heron.model.timeutil import now_ns
from heron.parsers import FORMATS, LINE_FORMATS
from heron.sources.headed import HEADED_KINDS, Headed, directives_before, headed_kind

__all__ = [
    "BLOCK_BYTES",
    "DEFAULT_CHUNK_RECORDS",
    "DEFAULT_MAX_LINE_BYTES",
    "GZIP_MAGIC",
    "STDIN",
    "WHOLE",
    "RawChunk",
    "Span",
    "detect_file_format",
    "iter_files",
    "line_kind",
    "read_file",
    "split_lines",
]

DEFAULT_CHUNK_RECORDS = 4096
#: The source name of records read from standard input (``heron ingest -``).
STDIN = "-"
#: Bytes of whole lines read at once; a block goes to a worker unsplit.
BLOCK_BYTES = 2 * 1024 * 1024
#: Smaller blocks (small files) are split where they are read, to be merged.
MERGE_BLOCK_BYTES = 256 * 1024
DEFAULT_MAX_LINE_BYTES = 1024 * 1024
# A whole-document format (CloudTrail) is read at once: refuse absurd sizes up front.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

_EVTX_MAGIC = b"ElfFile\x00"
GZIP_MAGIC = b"\x1f\x8b"
_CLOUDTRAIL_HEAD = re.compile(rb'^\s*\{\s*"Records"\s*:\s*\[')
_AZURE_HEAD = re.compile(rb'^\s*\{\s*"records"\s*:\s*\[')
_BOM = b"\xef\xbb\xbf"
# Windows events as XML: an export (<?xml …?><Events>…) or bare <Event> elements.
_XML_DOCUMENT_HEAD = re.compile(rb"^\s*<(\?xml|Events?[\s>])")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


#: The bytes of a file to read: from an offset, to an offset (None: its end).
Span = tuple[int, int | None]
WHOLE: Span = (0, None)


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
    # Set when a parser is given something other than the text read (a W3C or Zeek TSV
    # line becomes a record through its file's header): each record's line, kept as
    # ``event.original`` and in its dead letter.
    originals: list[str] | None = None
    # Files whose last records are in this chunk (or before it): read to the end once it
    # is stored (``ChunkMerger.complete``).
    completes: list[str] = field(default_factory=list)
    # Whole lines not split yet (``read_file(..., blocks=True)``): ``unpack`` splits them
    # where the chunk is transformed, so the reading process does no work per line.
    block: bytes | None = None
    first_line: int = 0  # the number of the block's first line
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES

    def unpack(self) -> None:
        """Split the block into records (and dead letters); nothing without a block."""
        if self.block is not None:
            block, self.block = self.block, None
            split_lines(self, block)


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


def line_kind(kind: str) -> bool:
    """Whether files of this kind are read as lines (so can be read from an offset)."""
    return kind in LINE_FORMATS or kind == "auto" or kind in HEADED_KINDS


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
    if head == GZIP_MAGIC:
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
    stream, underlying = _open_maybe_gzip(path)
    try:
        head = stream.read(4096)
    except (OSError, EOFError) as exc:
        raise ParseError(f"cannot read {path}: {exc}", parser="file") from exc
    finally:
        stream.close()
        underlying.close()
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if _CLOUDTRAIL_HEAD.match(head):
        return "cloudtrail"
    if _AZURE_HEAD.match(head):
        return "azure_records"
    headed = headed_kind(head)
    if headed == "zeek_tsv" or (headed == "iis" and b"#Fields:" in head):
        return headed
    if _XML_DOCUMENT_HEAD.match(head):
        return "windows_xml"
    if head[:2] in _UTF16_BOMS:
        text = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
        if _XML_DOCUMENT_HEAD.match(text):
            return "windows_xml"
    return "auto"


def read_file(
    path: Path,
    fmt: str = "auto",
    *,
    chunk_records: int = DEFAULT_CHUNK_RECORDS,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    blocks: bool = False,
    span: Span = WHOLE,
) -> Iterator[RawChunk]:
    """Chunks of raw records from one file. ``fmt`` forces a format ("auto" detects).

    ``blocks``: chunks of line files hold blocks of lines not split yet, for the
    pipeline to split where it transforms them (``RawChunk.unpack``). ``span``: the
    bytes to read of a plain line file (see ``resumable``); others are read whole.
    """
    if fmt != "auto" and fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}")
    if path.stat().st_size == 0:
        return
    kind = detect_file_format(path) if fmt == "auto" else fmt
    if span != WHOLE and not line_kind(kind):
        raise ConfigError(f"{path}: a {kind} file is read whole, not from an offset")
    if kind == "evtx":
        yield from _read_evtx(path, chunk_records)
    elif kind == "cloudtrail":
        from heron.parsers.cloudtrail import iter_cloudtrail_records

        yield from _read_document(path, "cloudtrail", iter_cloudtrail_records, chunk_records)
    elif kind == "azure_records":
        from heron.parsers.azure import iter_azure_records

        yield from _read_document(path, "azure", iter_azure_records, chunk_records)
    elif kind == "windows_xml":
        yield from _read_windows_xml(path, chunk_records)
    elif kind in HEADED_KINDS:
        yield from _read_headed(path, kind, chunk_records, max_line_bytes, span)
    elif kind in LINE_FORMATS or kind == "auto":
        if blocks:
            yield from _read_blocks(path, kind, max_line_bytes, span)
        else:
            yield from _read_lines(path, kind, chunk_records, max_line_bytes, span)
    else:
        raise ConfigError(f"format {kind!r} cannot be read from a file")


def _read_lines(
    path: Path, fmt: str, chunk_records: int, max_line_bytes: int, span: Span = WHOLE
) -> Iterator[RawChunk]:
    """Line chunks of at most ``chunk_records`` records, split here."""
    chunk = RawChunk(str(path), fmt)
    for block in _read_blocks(path, fmt, max_line_bytes, span):
        block.unpack()
        chunk.dead_letters.extend(block.dead_letters)
        chunk.bytes_read += block.bytes_read
        for record, location in zip(block.records, block.locations, strict=True):
            chunk.records.append(record)
            chunk.locations.append(location)
            if len(chunk.records) >= chunk_records:
                yield chunk
                chunk = RawChunk(str(path), fmt)
    if chunk.records or chunk.dead_letters or chunk.bytes_read:
        yield chunk


class _Window(io.RawIOBase):
    """A plain file up to ``end``: the bytes a bounded read may see."""

    def __init__(self, f: BinaryIO, end: int) -> None:
        self._f, self._end = f, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._end - self._f.tell())
        if want <= 0:
            return 0
        data = self._f.read(want)
        buffer[: len(data)] = data
        return len(data)


def _line_start_before(f: BinaryIO, offset: int) -> tuple[int, int]:
    """Where to read on in a file read before up to ``offset``, and that line's number:
    ``offset`` itself when a newline ends what was read, else the start of the line it
    cut (that line is read again, whole)."""
    f.seek(0)
    lines, last_newline, position = 0, -1, 0
    while position < offset:
        block = f.read(min(1 << 20, offset - position))
        if not block:
            break
        lines += block.count(b"\n")
        found = block.rfind(b"\n")
        if found >= 0:
            last_newline = position + found
        position += len(block)
    start = last_newline + 1
    return start, lines + 1


def _open_span(path: Path, span: Span) -> tuple[BinaryIO, BinaryIO, int, int]:
    """The stream of a line file from ``span``'s start (moved back to a line start) to
    its end, the file under it, the first line's number and offset."""
    begin, end = span
    if begin == 0 and end is None:
        stream, underlying = _open_maybe_gzip(path)
        return stream, underlying, 1, 0
    f = path.open("rb")
    if f.read(2) == GZIP_MAGIC:
        f.close()
        raise ConfigError(f"{path}: a gzip file is read whole, not from an offset")
    offset, line_no = _line_start_before(f, begin) if begin else (0, 1)
    f.seek(offset)
    limit = end if end is not None else f.seek(0, io.SEEK_END)
    f.seek(offset)
    return _Window(f, limit), f, line_no, offset  # type: ignore[return-value]


def _read_blocks(
    path: Path, fmt: str, max_line_bytes: int, span: Span = WHOLE
) -> Iterator[RawChunk]:
    """Chunks holding blocks of whole lines, not split (``RawChunk.unpack`` splits them).

    The file is read ``BLOCK_BYTES`` at a time and cut after its last newline. A line
    longer than ``max_line_bytes`` is never held whole: once the unfinished line
    reaches the limit, the rest of it is skipped and it becomes a dead letter here.
    ``span``: only those bytes (a file read before up to its start, and seen up to
    its end when the load began; a plain file, not gzip).
    """
    source = str(path)
    stream, underlying, line_no, reported = _open_span(path, span)
    reader: BinaryIO = (
        io.BufferedReader(stream, buffer_size=1 << 20)  # type: ignore[type-var]
        if not isinstance(stream, io.BufferedReader)
        else stream
    )
    size = max(BLOCK_BYTES, max_line_bytes + 1)
    carry = b""  # an unfinished line
    dead: list[DeadLetter] = []
    try:
        while True:
            try:
                data = reader.read(size)
            except (OSError, EOFError) as exc:  # a truncated or corrupt gzip stream
                reason = f"cannot read further: {exc}"
                dead.append(DeadLetter.of(source, reason, b"", f"line {line_no}", now_ns()))
                carry = b""
                break
            if not data:
                break
            buf = carry + data if carry else data
            cut = buf.rfind(b"\n") + 1
            whole, carry = buf[:cut], buf[cut:]
            if whole:
                position = underlying.tell()
                yield RawChunk(
                    source,
                    fmt,
                    dead_letters=dead,
                    bytes_read=position - reported,
                    block=whole,
                    first_line=line_no,
                    max_line_bytes=max_line_bytes,
                )
                reported, dead = position, []
                line_no += whole.count(b"\n")
            if len(carry) > max_line_bytes:
                total = len(carry) + _skip_rest_of_line(reader)
                dead.append(_overlong(source, carry, total, line_no, max_line_bytes))
                line_no += 1
                carry = b""
    finally:
        reader.close()
        underlying.close()  # a GzipFile leaves the file it reads open
    end = span[1] if span[1] is not None else path.stat().st_size
    final = RawChunk(source, fmt, dead_letters=dead, bytes_read=max(0, end - reported))
    if carry:  # the last line, without a newline
        final.block, final.first_line, final.max_line_bytes = carry, line_no, max_line_bytes
    if final.block is not None or final.dead_letters or final.bytes_read:
        yield final


def _overlong(source: str, head: bytes, size: int, line_no: int, limit: int) -> DeadLetter:
    return DeadLetter(
        source,
        f"line longer than the limit of {limit} bytes ({size} bytes)",
        head[:RAW_KEEP_BYTES].decode("utf-8", errors="backslashreplace"),
        f"line {line_no}",
        now_ns(),
        size,
    )


#: Whitespace as ``bytes.strip`` sees it: a line of only these is blank.
_ASCII_SPACE = " \t\n\r\x0b\x0c"


def split_lines(chunk: RawChunk, block: bytes) -> None:
    """The lines of ``block`` into ``chunk``'s records; bad ones into its dead letters.

    Blank lines are skipped (and counted); a line over ``chunk.max_line_bytes`` (its
    bytes before the newline) and a line that is not UTF-8 become dead letters.
    """
    if chunk.first_line == 1 and block.startswith(_BOM):
        block = block[len(_BOM) :]
    limit = chunk.max_line_bytes
    records, locations = chunk.records, chunk.locations
    number = chunk.first_line
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        # The common case: the whole block is valid UTF-8.
        lines = text.split("\n")
        last = len(lines) - 1  # the piece after the last newline ("" if the block ends so)
        for k, line in enumerate(lines):
            # 4 bytes at most per character: only long lines need their bytes counted.
            if len(line) * 4 > limit and len(line.encode("utf-8")) > limit:
                raw = line.encode("utf-8")
                size = len(raw) + (k < last)  # with its newline, as the reader counts
                chunk.dead_letters.append(_overlong(chunk.source, raw, size, number + k, limit))
                continue
            line = line.rstrip("\r\n")
            if line.strip(_ASCII_SPACE):
                records.append(line)
                locations.append(f"line {number + k}")
        return
    pieces = block.split(b"\n")
    last = len(pieces) - 1
    for k, raw in enumerate(pieces):
        number = chunk.first_line + k
        if len(raw) > limit:
            size = len(raw) + (k < last)
            chunk.dead_letters.append(_overlong(chunk.source, raw, size, number, limit))
            continue
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            records.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            chunk.dead_letters.append(
                DeadLetter.of(
                    chunk.source,
                    f"invalid UTF-8 at byte {exc.start}",
                    raw,
                    f"line {number}",
                    now_ns(),
                )
            )
            continue
        locations.append(f"line {number}")


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


def _read_windows_xml(path: Path, chunk_records: int) -> Iterator[RawChunk]:
    """The ``<Event>`` elements of an XML file, cut out of its text as it is read: an
    Event Viewer export, or elements one a line or run together (``wevtutil qe /f:xml``).
    UTF-16 (with its byte order mark, as Windows tools often write) or UTF-8."""
    from heron.parsers.winxml import iter_windows_xml_events

    source = str(path)
    stream, underlying = _open_maybe_gzip(path)
    chunk = RawChunk(source, "windows_xml")
    number = 0
    try:
        # A buffered file and a GzipFile can both look ahead without consuming.
        utf16 = stream.peek(2)[:2] in _UTF16_BOMS  # type: ignore[attr-defined]
        text = io.TextIOWrapper(
            stream, encoding="utf-16" if utf16 else "utf-8-sig", errors="replace"
        )
        pieces = iter(lambda: text.read(1 << 20), "")
        for number, record in enumerate(iter_windows_xml_events(pieces), start=1):
            chunk.records.append(record)
            chunk.locations.append(f"event {number}")
            if len(chunk.records) >= chunk_records:
                yield chunk
                chunk = RawChunk(source, "windows_xml")
    except (ParseError, OSError, EOFError) as exc:
        reason = exc.reason if isinstance(exc, ParseError) else f"cannot read further: {exc}"
        chunk.dead_letters.append(
            DeadLetter.of(source, reason, b"", f"after event {number}", now_ns())
        )
    else:
        if number == 0:  # XML, but not Windows events: say so rather than load nothing
            reason = "no Windows <Event> element in this XML document"
            chunk.dead_letters.append(DeadLetter.of(source, reason, b"", "file", now_ns()))
    finally:
        stream.close()
        underlying.close()
    chunk.bytes_read = path.stat().st_size
    yield chunk


def _read_headed(
    path: Path, kind: str, chunk_records: int, max_line_bytes: int, span: Span = WHOLE
) -> Iterator[RawChunk]:
    """Lines read through their file's header (Zeek TSV, W3C): see ``headed``."""
    directives: list[str] = []
    if span[0]:
        with path.open("rb") as f:
            directives = directives_before(f.fileno(), span[0])
    headed = Headed(kind, str(path), directives)
    for chunk in _read_lines(path, headed.format, chunk_records, max_line_bytes, span):
        headed.convert(chunk, now_ns())
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
