"""The receive log on real files: numbering, replay past a receipt, torn and damaged
records, segment rotation and release."""

from __future__ import annotations

import asyncio
from pathlib import Path

from heron.model.deadletter import DeadLetter
from heron.receivelog import ReceiveLog, decode_submission, encode_submission
from heron.sources.file import RawChunk


def _chunks(marker: str) -> list[RawChunk]:
    letter = DeadLetter("hec", "event field is required", '{"x": 1}', "event 1", 17, 8)
    return [
        RawChunk("hec", "json", [f'{{"message": "{marker}"}}', "ünïcode ✓"], ["event 0", "2"]),
        RawChunk("hec", "json", dead_letters=[letter]),
    ]


def _write(directory: Path, markers: list[str], *, committed: int = 0, **kw: int) -> list[int]:
    """Append one record per marker, wait until each is synced, close; their numbers."""

    async def main() -> list[int]:
        log = ReceiveLog(directory, **kw)
        log.recover(committed)
        log.start(asyncio.get_running_loop())
        try:
            appended = [log.append(encode_submission("hec", "hec", _chunks(m))) for m in markers]
            await asyncio.gather(*(future for _, future in appended))
            return [seq for seq, _ in appended]
        finally:
            log.close()

    return asyncio.run(main())


def _markers(directory: Path, committed: int = 0) -> list[tuple[int, str]]:
    found = ReceiveLog(directory).recover(committed)
    return [(item.seq, item.chunks[0].records[0]) for item in found]


def test_a_record_reads_back_whole() -> None:
    payload = encode_submission("hec-main", "hec", _chunks("a"))
    item = decode_submission(7, payload)
    assert (item.seq, item.source, item.kind) == (7, "hec-main", "hec")
    assert item.chunks == _chunks("a")


def test_records_past_the_receipt_come_back_in_order(tmp_path: Path) -> None:
    assert _write(tmp_path, ["a", "b", "c", "d"]) == [1, 2, 3, 4]
    assert [seq for seq, _ in _markers(tmp_path)] == [1, 2, 3, 4]
    assert _markers(tmp_path, committed=2) == [
        (3, '{"message": "c"}'),
        (4, '{"message": "d"}'),
    ]
    # Numbering goes on after what the files hold, even below the store's receipt.
    assert _write(tmp_path, ["e"], committed=2) == [5]
    assert _write(tmp_path, ["f"], committed=9) == [10]


def test_segments_wholly_stored_are_deleted(tmp_path: Path) -> None:
    _write(tmp_path, ["a", "b"])
    _write(tmp_path, ["c"])
    log = ReceiveLog(tmp_path)
    assert len(log.segments) == 2
    assert [item.seq for item in log.recover(2)] == [3]
    assert len(log.segments) == 1  # the first held nothing past the receipt
    assert ReceiveLog(tmp_path).recover(3) == []
    assert ReceiveLog(tmp_path).segments == []


def test_a_torn_tail_is_ignored_and_writing_goes_on(tmp_path: Path) -> None:
    _write(tmp_path, ["a", "b", "c"])
    (segment,) = ReceiveLog(tmp_path).segments
    data = segment.read_bytes()
    segment.write_bytes(data[:-5])  # the last record cut short, as by a crash mid-write
    assert [seq for seq, _ in _markers(tmp_path)] == [1, 2]
    # New records go to a new segment: nothing is ever appended after a torn one.
    assert _write(tmp_path, ["d"]) == [3]
    assert [m for _, m in _markers(tmp_path)] == [
        '{"message": "a"}',
        '{"message": "b"}',
        '{"message": "d"}',
    ]


def test_a_damaged_record_ends_its_segment(tmp_path: Path) -> None:
    _write(tmp_path, ["a", "b", "c"])
    (segment,) = ReceiveLog(tmp_path).segments
    data = bytearray(segment.read_bytes())
    at = data.index(b'\\"b\\"')  # inside the second record's payload
    data[at] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert [seq for seq, _ in _markers(tmp_path)] == [1]


def test_release_deletes_closed_segments_up_to_the_receipt(tmp_path: Path) -> None:
    async def main() -> None:
        log = ReceiveLog(tmp_path, segment_bytes=1)  # every write starts a new segment
        log.recover(0)
        log.start(asyncio.get_running_loop())
        try:
            for marker in "abcd":
                _, synced = log.append(encode_submission("hec", "hec", _chunks(marker)))
                await synced
            assert len(log.segments) == 4
            log.release(2)
            assert len(log.segments) == 2
            log.release(4)  # the segment being written stays until it is closed
            assert len(log.segments) == 1
        finally:
            log.close()

    asyncio.run(main())
    assert ReceiveLog(tmp_path).recover(4) == []
