"""Reading part of a file: a log read before up to an offset, and as long as it was then."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from heron.errors import ConfigError
from heron.parsers.base import ParseContext
from heron.pipeline import transform
from heron.sources.file import read_file
from heron.sources.identity import file_fingerprint, file_identity, resumable, unfinished_tail


def _lines(path: Path, n: int) -> list[str]:
    lines = [f"line number {i} " + "x" * (i % 7) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return lines


def _read(path: Path, span: tuple[int, int | None]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for chunk in read_file(path, span=span):
        out.extend(zip(chunk.locations, chunk.records, strict=True))
    return out


def _offset(lines: list[str], k: int) -> int:
    return sum(len(line) + 1 for line in lines[:k])


def test_from_a_line_start_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    lines = _lines(path, 50)
    got = _read(path, (_offset(lines, 20), None))
    assert got == [(f"line {k + 1}", lines[k]) for k in range(20, 50)]


def test_a_start_inside_a_line_reads_that_line_whole(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    lines = _lines(path, 50)
    got = _read(path, (_offset(lines, 20) + 5, None))
    assert got[0] == ("line 21", lines[20]) and len(got) == 30


def test_an_end_leaves_out_what_was_written_after_it(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    lines = _lines(path, 50)
    assert _read(path, (0, _offset(lines, 10))) == [(f"line {k + 1}", lines[k]) for k in range(10)]
    # Cut inside a line: the part there was then, as a last line without its newline.
    got = _read(path, (_offset(lines, 10), _offset(lines, 12) + 4))
    assert got == [("line 11", lines[10]), ("line 12", lines[11]), ("line 13", lines[12][:4])]


def test_a_w3c_log_read_on_uses_the_header_before_the_start(tmp_path: Path) -> None:
    path = tmp_path / "u_ex1.log"
    head = "#Software: Microsoft Internet Information Services 10.0\n"
    first = head + "#Fields: date time cs-method cs-uri-stem sc-status\n"
    first += "2026-11-27 10:00:01 GET /a.aspx 200\n"
    second = head + "#Fields: date time cs-uri-stem sc-status c-ip\n"
    second += "2026-11-27 11:00:01 /b.aspx 404 203.0.113.9\n"
    path.write_text(first + second)
    # Read before up to the end of the first block: on from there, through the second.
    (chunk,) = read_file(path, span=(len(first.encode()), None))
    events = transform(chunk, ParseContext()).events
    assert [(e["url.path"], e["source.ip"]) for e in events] == [("/b.aspx", "203.0.113.9")]
    assert events[0]["event.original"] == "2026-11-27 11:00:01 /b.aspx 404 203.0.113.9"


def test_files_read_whole_refuse_a_span(tmp_path: Path, corpora: Path) -> None:
    packed = tmp_path / "app.log.gz"
    packed.write_bytes(gzip.compress(b"one\ntwo\n"))
    assert not resumable(packed)
    with pytest.raises(ConfigError, match="read whole"):
        list(read_file(packed, span=(4, None)))
    evtx = next((corpora / "evtx").rglob("*.evtx"), None)
    if evtx is None:
        pytest.skip("no EVTX file in the corpus")
    assert not resumable(evtx)
    with pytest.raises(ConfigError, match="read whole"):
        list(read_file(evtx, span=(0, 100)))


@pytest.mark.parametrize("size", [10, 70_000, 300_000])
def test_the_fingerprint_of_a_file_when_it_was_shorter(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * ((size + 5000) // 256 + 2)
    grown, then = tmp_path / "grown", tmp_path / "then"
    grown.write_bytes(data[: size + 5000])
    then.write_bytes(data[:size])
    assert file_fingerprint(grown, size) == file_fingerprint(then)
    assert file_fingerprint(grown) != file_fingerprint(then)


@pytest.mark.parametrize("size", [10, 70_000, 300_000])
def test_a_gzip_file_is_known_by_what_it_holds(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * ((size + 5000) // 256 + 2)
    plain, packed = tmp_path / "app.log.1", tmp_path / "app.log.2.gz"
    plain.write_bytes(data[:size])
    packed.write_bytes(gzip.compress(data[: size + 5000]))
    assert file_fingerprint(packed, size) == file_fingerprint(plain)
    assert file_identity(packed).size == size + 5000
    assert file_identity(packed).head == file_identity(plain).head
    broken = tmp_path / "cut.gz"
    broken.write_bytes(packed.read_bytes()[:40])
    with pytest.raises(OSError):
        file_identity(broken)


@pytest.mark.parametrize("tail", [0, 1, 30, 70_000, 200_000])
def test_the_unfinished_last_line_of_a_span(tmp_path: Path, tail: int) -> None:
    # Lines of a file well over the 64 KiB read back at a time, then ``tail`` bytes
    # without a newline.
    path = tmp_path / "app.log"
    body = b"".join(b"line %d\n" % i for i in range(20_000))
    path.write_bytes(body + b"y" * tail)
    end = len(body) + tail
    assert unfinished_tail(path, 0, end, 1 << 20) == tail
    # What lies before the span is not looked at: a span of the unfinished line alone.
    assert unfinished_tail(path, len(body), end, 1 << 20) == tail
    assert unfinished_tail(path, 0, len(body), 1 << 20) == 0  # up to a newline
    # Longer than a line may be: a dead letter however it ends, so nothing is held.
    assert unfinished_tail(path, 0, end, 100) == (tail if tail <= 100 else 0)
