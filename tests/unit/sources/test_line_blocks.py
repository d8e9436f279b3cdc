"""Line files read in blocks (split where they are transformed) give exactly the
records, line numbers and dead letters of reading them a line at a time."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from heron.sources.file import BLOCK_BYTES, read_file

LIMIT = 64 * 1024


def _reference(data: bytes, limit: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Records and dead letters as a line-at-a-time reader sees them (written for the test)."""
    records: list[tuple[str, str]] = []
    dead: list[tuple[str, str]] = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if len(line) > limit:
            dead.append((f"line {number}", "line longer than the limit"))
            continue
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            records.append((f"line {number}", line.decode("utf-8")))
        except UnicodeDecodeError:
            dead.append((f"line {number}", "invalid UTF-8"))
    return records, dead


def _corpus(seed: int, size: int, *, invalid_utf8: bool = True) -> bytes:
    rng = random.Random(seed)
    parts = [b"\xef\xbb\xbfFirst line after a BOM\n"]
    total = 0
    while total < size:
        kind = rng.randrange(10)
        if kind == 0:
            line = b"  \t "
        elif kind == 1:
            line = "caf\u00e9 \u2603 \u00fcber \U0001f600".encode() * rng.randint(1, 40)
        elif kind == 2 and invalid_utf8:
            line = b"bad \xff\xfe utf-8 " + bytes(rng.randrange(256) for _ in range(20))
        elif kind in (2, 3):
            line = b"x" * rng.choice([LIMIT - 1, LIMIT, LIMIT + 1, 3 * LIMIT])
        elif kind == 4:
            line = b"windows line\r"
        else:
            line = b"Nov 28 10:00:00 host sshd[1]: " + b"a" * rng.randint(0, 400)
        parts.append(line + b"\n")
        total += len(line) + 1
    parts.append(b"last line without a newline")
    return b"".join(parts)


def _read(path: Path, *, blocks: bool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    records: list[tuple[str, str]] = []
    dead: list[tuple[str, str]] = []
    for chunk in read_file(path, "auto", max_line_bytes=LIMIT, blocks=blocks):
        chunk.unpack()
        records.extend(zip(chunk.locations, chunk.records, strict=True))
        for letter in chunk.dead_letters:
            reason = (
                "invalid UTF-8"
                if letter.reason.startswith("invalid UTF-8")
                else "line longer than the limit"
            )
            dead.append((letter.location, reason))
    return records, sorted(dead, key=lambda d: int(d[0].split()[1]))


@pytest.mark.parametrize("invalid_utf8", [True, False])  # blocks split as bytes, or as text
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("blocks", [True, False])
def test_blocks_agree_with_reading_line_by_line(
    tmp_path: Path, seed: int, blocks: bool, invalid_utf8: bool
) -> None:
    data = _corpus(seed, 2 * BLOCK_BYTES + 12345, invalid_utf8=invalid_utf8)
    # Lines cross block boundaries.
    path = tmp_path / "mixed.log"
    path.write_bytes(data)
    expected = _reference(data, LIMIT)
    assert _read(path, blocks=blocks) == expected


def test_gzipped_blocks_agree_and_report_progress(tmp_path: Path) -> None:
    data = _corpus(4, BLOCK_BYTES + 999)
    path = tmp_path / "mixed.log.gz"
    path.write_bytes(gzip.compress(data))
    assert _read(path, blocks=True) == _reference(data, LIMIT)
    chunks = list(read_file(path, "auto", max_line_bytes=LIMIT, blocks=True))
    assert sum(c.bytes_read for c in chunks) == path.stat().st_size


def test_a_line_longer_than_a_block_is_skipped_without_being_held(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    long_line = b"y" * (3 * BLOCK_BYTES)
    path.write_bytes(b"before\n" + long_line + b"\nafter\n")
    chunks = list(read_file(path, "auto", max_line_bytes=LIMIT, blocks=True))
    assert all(c.block is None or len(c.block) <= BLOCK_BYTES + LIMIT for c in chunks)
    records, dead = _read(path, blocks=True)
    assert records == [("line 1", "before"), ("line 3", "after")]
    assert dead == [("line 2", "line longer than the limit")]
    letter = next(d for c in chunks for d in c.dead_letters)
    assert f"({len(long_line) + 1} bytes)" in letter.reason
