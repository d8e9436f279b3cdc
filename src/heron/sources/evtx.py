"""Windows EVTX files as JSON records, one at a time, surviving damaged files.

The ``evtx`` library (pyevtx-rs) parses chunks in Rust. What it does with damage, as
measured with evtx 0.14:

- a corrupt record or chunk header raises ``RuntimeError`` from ``next()``, and the
  *same* iterator carries on with the next record or chunk when called again;
- a file cut inside a chunk is silently read up to the last *whole* chunk: the records
  of the partial chunk are dropped without an error;
- a file cut inside its 4 KiB header, or that is not EVTX at all, raises ``OSError``
  from the constructor.

So the reader here turns each ``RuntimeError`` into an error item and keeps going, and
reads a file whose size is not a whole number of chunks through a view padded with
zero bytes to the chunk boundary, the zeros starting where the first record cut by the
truncation starts: the library then reads the partial chunk's whole records (zeros end
a chunk cleanly), and the loss past the last whole record is reported. Zeroing from
the cut record rather than from the end of the file matters: a half record parses into
garbage (a provider name cut short, ``{"Event": null}``) without any error.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import evtx

__all__ = ["iter_evtx_records"]

_MAGIC = b"ElfFile\x00"
_HEADER_BYTES = 4096
_CHUNK_BYTES = 65536
_CHUNK_HEADER_BYTES = 512  # header, string table and template table
_RECORD_MAGIC = b"\x2a\x2a\x00\x00"
_RECORD_HEADER_BYTES = 24
# A guard, not an expected case: the library advances after each error, but a loop of
# errors without a record in between must end.
_MAX_ERRORS_IN_A_ROW = 1000

RecordOrError = tuple[str | None, str | None]


class _ZeroPadded(io.RawIOBase):
    """A read-only view of a file that reads as zeros from its end up to ``size``."""

    def __init__(self, raw: BinaryIO, real_size: int, size: int) -> None:
        super().__init__()
        self._raw = raw
        self._real = real_size
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(0, self._size - self._pos))
        done = 0
        if self._pos < self._real:
            self._raw.seek(self._pos)
            data = self._raw.read(min(want, self._real - self._pos))
            done = len(data)
            view[:done] = data
        view[done:want] = bytes(want - done)
        self._pos += want
        return want

    def close(self) -> None:
        self._raw.close()
        super().close()


def _chunks_claimed(header: bytes) -> int:
    """How many chunks the file header says the file holds."""
    first: int
    last: int
    count: int
    first, last = struct.unpack_from("<QQ", header, 8)
    (count,) = struct.unpack_from("<H", header, 42)
    # The count is 16 bits; the chunk numbers are indexes into the file (the log is
    # circular, so either may be the larger one).
    highest = max(first, last)
    return max(count, highest + 1) if highest < 2**32 else count


def _whole_records_end(path: Path, chunk_start: int, size: int) -> tuple[int, int]:
    """Where the whole records of the cut last chunk end, and how many there are."""
    with path.open("rb") as f:
        f.seek(chunk_start)
        chunk = f.read(size - chunk_start)
    if len(chunk) < _CHUNK_HEADER_BYTES:
        return chunk_start, 0
    offset, count = _CHUNK_HEADER_BYTES, 0
    while offset + _RECORD_HEADER_BYTES <= len(chunk):
        if chunk[offset : offset + 4] != _RECORD_MAGIC:
            break
        (length,) = struct.unpack_from("<I", chunk, offset + 4)
        if length < _RECORD_HEADER_BYTES or offset + length > len(chunk):
            break
        offset += length
        count += 1
    return chunk_start + offset, count


def iter_evtx_records(path: Path, *, threads: int = 1) -> Iterator[RecordOrError]:
    """``(record JSON text, None)`` per record, or ``(None, reason)`` per damaged part.

    Never raises for bad content: a file that is not EVTX gives one error item. Records
    are ``{"Event": {...}}`` JSON text as ``heron.parsers.windows`` expects.
    ``threads`` is the library's worker count (0 lets it choose from the cores).
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            header = f.read(_HEADER_BYTES)
    except OSError as exc:
        yield None, f"cannot read EVTX file: {exc}"
        return
    if not header.startswith(_MAGIC):
        yield None, "not an EVTX file (no ElfFile header)"
        return
    if len(header) < _HEADER_BYTES:
        yield None, f"EVTX file truncated inside its header ({size} of {_HEADER_BYTES} bytes)"
        return
    whole_chunks, partial = divmod(size - _HEADER_BYTES, _CHUNK_BYTES)
    source: str | _ZeroPadded = str(path)
    if partial:
        chunk_start = size - partial
        try:
            readable_end, kept = _whole_records_end(path, chunk_start, size)
            source = _ZeroPadded(path.open("rb"), readable_end, chunk_start + _CHUNK_BYTES)
        except OSError as exc:
            yield None, f"cannot read EVTX file: {exc}"
            return
    try:
        yield from _records(source, threads)
    finally:
        if isinstance(source, _ZeroPadded):
            source.close()
    if partial:
        yield (
            None,
            (
                f"EVTX file truncated: its last chunk has {partial} of {_CHUNK_BYTES} bytes, "
                f"{kept} whole records read from it; the record cut and any after it are lost"
            ),
        )
    claimed = _chunks_claimed(header)
    present = whole_chunks + (1 if partial else 0)
    if claimed > present:
        yield (
            None,
            (f"EVTX file truncated: the header lists {claimed} chunks, {present} are present"),
        )


def _records(source: str | _ZeroPadded, threads: int) -> Iterator[RecordOrError]:
    try:
        parser = evtx.PyEvtxParser(source, number_of_threads=threads)
        records = parser.records_json()
    except (OSError, RuntimeError, ValueError) as exc:
        yield None, f"cannot open EVTX file: {exc}"
        return
    errors_in_a_row = 0
    while True:
        try:
            # The library resumes after an error, so one loop per run of good records
            # keeps the per-record cost to the iteration itself.
            for record in records:
                errors_in_a_row = 0
                data = record.get("data") if isinstance(record, dict) else None
                if isinstance(data, str):
                    yield data, None
                else:
                    yield None, "EVTX record without JSON data"
            return
        except RuntimeError as exc:
            errors_in_a_row += 1
            yield None, f"unreadable EVTX data: {exc}"
            if errors_in_a_row >= _MAX_ERRORS_IN_A_ROW:
                yield None, f"gave up after {errors_in_a_row} unreadable EVTX parts in a row"
                return
