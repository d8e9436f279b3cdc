"""Reading EVTX files record by record, including damaged ones (cut, corrupt, not EVTX)."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from heron.sources.evtx import iter_evtx_records

HEADER, CHUNK = 4096, 65536
SAMPLES = "evtx/EVTX-ATTACK-SAMPLES"


def _multi_chunk_file(corpora: Path) -> Path:
    """The first corpus file with at least three chunks of records."""
    for path in sorted((corpora / SAMPLES).rglob("*.evtx")):
        if path.stat().st_size >= HEADER + 3 * CHUNK:
            records = [r for r, _ in iter_evtx_records(path) if r]
            if len(records) > 300:
                return path
    pytest.skip("no EVTX file of three chunks in the corpus")


def _read(path: Path) -> tuple[list[str], list[str]]:
    records, errors = [], []
    for record, error in iter_evtx_records(path):
        if record is not None:
            records.append(record)
        if error is not None:
            errors.append(error)
    return records, errors


@pytest.fixture(scope="module")
def sample(corpora: Path) -> tuple[Path, bytes, list[str]]:
    path = _multi_chunk_file(corpora)
    data = path.read_bytes()
    records, errors = _read(path)
    assert errors == []
    return path, data, records


@pytest.mark.parametrize("cut", [HEADER + CHUNK + 30_000, HEADER + 2 * CHUNK + 50_000])
def test_a_file_cut_inside_a_chunk_gives_its_whole_records_and_says_so(
    sample: tuple[Path, bytes, list[str]], tmp_path: Path, cut: int
) -> None:
    _, data, full = sample
    damaged = tmp_path / "cut.evtx"
    damaged.write_bytes(data[:cut])
    records, errors = _read(damaged)
    # Exactly a prefix of the whole file: no half record parsed into garbage.
    assert records == full[: len(records)]
    # ... and longer than what the whole chunks before the cut hold.
    border = tmp_path / "border.evtx"
    border.write_bytes(data[: HEADER + (cut - HEADER) // CHUNK * CHUNK])
    assert len(records) > len(_read(border)[0])
    assert any("truncated" in e and "the record cut" in e for e in errors)
    for record in records:
        assert orjson.loads(record)["Event"]["System"]["Provider"]


def test_a_file_cut_at_a_chunk_border_reports_the_missing_chunks(
    sample: tuple[Path, bytes, list[str]], tmp_path: Path
) -> None:
    _, data, full = sample
    damaged = tmp_path / "border.evtx"
    damaged.write_bytes(data[: HEADER + CHUNK])
    records, errors = _read(damaged)
    assert records == full[: len(records)]
    assert any("header lists" in e for e in errors)


def test_a_corrupt_record_header_gives_an_error_item_and_reading_goes_on(
    sample: tuple[Path, bytes, list[str]], tmp_path: Path
) -> None:
    _, data, full = sample
    # Damage the header magic of the fifth record of the second chunk. (Damage inside a
    # record's values is not detectable: it reads as other values, not as an error.)
    position = HEADER + CHUNK + 512
    for _ in range(5):
        position = data.index(b"\x2a\x2a\x00\x00", position + 1)
    broken = bytearray(data)
    broken[position : position + 4] = b"AAAA"
    damaged = tmp_path / "corrupt.evtx"
    damaged.write_bytes(bytes(broken))
    records, errors = _read(damaged)
    assert len(errors) == 1 and "unreadable EVTX data" in errors[0]
    assert set(records) <= set(full)
    assert len(full) // 2 < len(records) < len(full)
    assert records[-1] == full[-1]  # chunks after the damage are still read


def test_a_bad_chunk_header_skips_that_chunk_only(
    sample: tuple[Path, bytes, list[str]], tmp_path: Path
) -> None:
    _, data, full = sample
    broken = bytearray(data)
    broken[HEADER + CHUNK : HEADER + CHUNK + 8] = b"XXXXXXXX"
    damaged = tmp_path / "chunk.evtx"
    damaged.write_bytes(bytes(broken))
    records, errors = _read(damaged)
    assert len(errors) == 1 and "chunk" in errors[0]
    assert records[-1] == full[-1]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"hello" * 100, "not an EVTX file"),
        (b"ElfFile\x00" + b"\x00" * 100, "truncated inside its header"),
        (b"", "not an EVTX file"),
    ],
)
def test_files_that_are_not_evtx_give_one_error(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "x.evtx"
    path.write_bytes(content)
    items = list(iter_evtx_records(path))
    assert len(items) == 1 and items[0][0] is None and reason in (items[0][1] or "")


def test_a_missing_file_gives_one_error(tmp_path: Path) -> None:
    items = list(iter_evtx_records(tmp_path / "absent.evtx"))
    assert items[0][0] is None and "cannot read" in (items[0][1] or "")


def test_whole_corpus_reads_without_errors(corpora: Path) -> None:
    files = sorted((corpora / SAMPLES).rglob("*.evtx"))
    if not files:
        pytest.skip("EVTX-ATTACK-SAMPLES not in the corpus")
    started = time.perf_counter()
    records = errors = 0
    for path in files:
        for record, error in iter_evtx_records(path):
            records += record is not None
            errors += error is not None
    seconds = time.perf_counter() - started
    print(
        f"\nEVTX reader: {len(files)} files, {records} records, {errors} errors, "
        f"{records / seconds:,.0f} records/s"
    )
    assert len(files) == 277
    assert records == 8255
    assert errors == 0
