"""What ``heron ingest`` remembers of an input file (``heron.store.ledger``): its
content fingerprint, its size and the hash of its head; and whether it can be read on
from an offset when it has grown."""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from heron.sources.file import GZIP_MAGIC, detect_file_format, line_kind

__all__ = ["FileIdentity", "file_fingerprint", "file_identity", "resumable", "unfinished_tail"]

#: Bytes read from each end of a file for its fingerprint.
_FINGERPRINT_SPAN = 64 * 1024


def _identify_gzip(path: Path, length: int | None) -> tuple[str, int, str | None]:
    """The identity of a gzip file's content: a log compressed by rotation is the log
    read before (the whole stream is read once; a damaged one raises OSError)."""
    keep = 2 * _FINGERPRINT_SPAN
    first, last, size = b"", b"", 0
    try:
        with gzip.open(path, "rb") as stream:
            while length is None or size < length:
                want = 1 << 20 if length is None else min(1 << 20, length - size)
                piece = stream.read(want)
                if not piece:
                    break
                if len(first) < _FINGERPRINT_SPAN:
                    first += piece[: _FINGERPRINT_SPAN - len(first)]
                last = (last + piece)[-keep:]
                size += len(piece)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise OSError(f"{path}: {exc}") from exc
    if length is not None and size < length:
        raise OSError(f"{path}: shorter than {length} bytes")
    digest = hashlib.sha256()
    digest.update(size.to_bytes(8, "big"))
    digest.update(first)
    if size > _FINGERPRINT_SPAN:
        begin = max(_FINGERPRINT_SPAN, size - _FINGERPRINT_SPAN)
        digest.update(last[len(last) - (size - begin) :])
    head = hashlib.sha256(first).hexdigest() if len(first) == _FINGERPRINT_SPAN else None
    return digest.hexdigest(), size, head


def _identify(path: Path, length: int | None) -> tuple[str, int, str | None]:
    """Fingerprint, size and head hash, from one open and the two 64 KiB reads."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        if f.read(2) == GZIP_MAGIC:
            return _identify_gzip(path, length)
        size = f.seek(0, io.SEEK_END) if length is None else length
        f.seek(0)
        first = f.read(min(size, _FINGERPRINT_SPAN))
        digest.update(size.to_bytes(8, "big"))
        digest.update(first)
        if size > _FINGERPRINT_SPAN:
            begin = max(_FINGERPRINT_SPAN, size - _FINGERPRINT_SPAN)
            f.seek(begin)
            digest.update(f.read(size - begin))
    head = hashlib.sha256(first).hexdigest() if len(first) == _FINGERPRINT_SPAN else None
    return digest.hexdigest(), size, head


def file_fingerprint(path: Path, length: int | None = None) -> str:
    """A file's identity by content: SHA-256 of its size, its first and last 64 KiB.

    Equal for a copy under another name, different once a byte near either end or the
    size changes (a log that grew); cheap however large the file (128 KiB read). A
    gzip file is known by what it holds (its size, its first and last 64 KiB
    decompressed), so a log compressed by rotation is the log read before.
    ``length``: the fingerprint the file had when it was that long (a log that grew
    since has it still).
    """
    return _identify(path, length)[0]


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What ``heron ingest`` remembers of an input file (``heron.store.ledger``)."""

    fingerprint: str  # ``file_fingerprint``
    size: int
    #: SHA-256 of the first 64 KiB of a file at least that long: the same log after it
    #: grew, or under its rotated name.
    head: str | None


def file_identity(path: Path, length: int | None = None) -> FileIdentity:
    """The file's identity, or that of its first ``length`` bytes."""
    return FileIdentity(*_identify(path, length))


def unfinished_tail(path: Path, begin: int, end: int, limit: int) -> int:
    """The bytes after the last newline in ``[begin, end)`` of a plain file: a last line
    still being written (0 when a newline ends the range). A tail longer than ``limit``
    counts as none: a line that long is a dead letter however it ends.
    """
    position = end
    floor = max(begin, end - limit - 1)
    with path.open("rb") as f:
        while position > floor:
            step = min(1 << 16, position - floor)
            f.seek(position - step)
            block = f.read(step)
            found = block.rfind(b"\n")
            if found >= 0:
                return end - (position - step + found + 1)
            position -= step
    return end - begin if floor == begin else 0


def resumable(path: Path, fmt: str = "auto") -> bool:
    """Whether the file can be read from an offset: a plain (not gzip) line file."""
    with path.open("rb") as f:
        if f.read(2) == GZIP_MAGIC:
            return False
    return line_kind(detect_file_format(path) if fmt == "auto" else fmt)
