"""Small files' chunks joined into full ones, each record keeping its file."""

from __future__ import annotations

from collections.abc import Iterator

from heron.sources.file import DEFAULT_CHUNK_RECORDS, MERGE_BLOCK_BYTES, RawChunk

__all__ = ["ChunkMerger"]


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
        if chunk.block is not None and len(chunk.block) < MERGE_BLOCK_BYTES:
            chunk.unpack()
        if chunk.block is not None or len(chunk.records) >= self.target:
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
        if held.originals is not None or chunk.originals is not None:
            if held.originals is None:
                held.originals = list(held.records)
            held.originals.extend(chunk.originals if chunk.originals is not None else chunk.records)
        held.records.extend(chunk.records)
        held.locations.extend(chunk.locations)
        held.dead_letters.extend(chunk.dead_letters)
        held.bytes_read += chunk.bytes_read
        held.completes.extend(chunk.completes)
        if len(held.records) >= self.target:
            yield from self.flush()

    def complete(self, source: str) -> Iterator[RawChunk]:
        """Note that file ``source`` has given all its chunks: the held chunk carries the
        note, or (its last chunk gone already) an empty chunk that follows it."""
        if self._held is not None:
            self._held.completes.append(source)
        else:
            yield RawChunk(source, "auto", completes=[source])

    def flush(self) -> Iterator[RawChunk]:
        """The held chunk, if any."""
        if self._held is not None:
            held, self._held = self._held, None
            yield held
