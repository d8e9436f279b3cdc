"""A skip index for free-text search: a trigram Bloom filter per block of appended events.

Scanning the raw text of 10M events takes 1-2 s here, so ``search "needle"`` asks this
index first. Each appended batch is cut into blocks of ``BLOCK_ROWS`` events; a block
keeps its time span and a Bloom filter of the trigrams of its lower-cased
``event.original`` and ``message``, lower-cased as DuckDB's ``lower`` does, because that is
how the search compares them. The filters are computed from the appended Arrow table
itself: ASCII text (nearly all log text) is lower-cased by Arrow, which for ASCII is
exactly DuckDB's ``lower``; only rows with other characters are lower-cased by DuckDB.
A needle can be in a block only if all its trigrams are in the block's filter, so the
search reads only the time spans of the candidate blocks (DuckDB skips the other row
groups by their @timestamp statistics, in the database and in Parquet files alike).

The index is keyed by time, not row id, so moving days to Parquet and deleting old days
leave it correct (a block whose events are gone only widens a scan). It is used only
while it is complete: created on an empty store, and maintained in the same transaction
as every append.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["BLOCK_ROWS", "TextIndex", "candidate_spans", "index_batch", "init_index"]

BLOCK_ROWS = 8192
TABLE = "text_blocks"
STATE = "text_index_state"
#: Above this share of candidate blocks a plain scan is as fast; the index is not used.
MAX_CANDIDATE_SHARE = 0.5
_GOLDEN = np.uint32(2654435761)  # Knuth's multiplicative hash
_TEXT_COLUMNS = ("event.original", "message")


@dataclass(frozen=True, slots=True)
class TextIndex:
    """The candidate time spans for a needle, or None when the index cannot tell."""

    spans: list[tuple[int, int]] | None


def init_index(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the index tables; the index is complete only if the store has no events yet."""
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
        "first_ts TIMESTAMP_NS, last_ts TIMESTAMP_NS, rows INTEGER, bloom BLOB)"
    )
    exists = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [STATE]
    ).fetchall()[0]
    if exists and exists[0]:
        return
    cur.execute(f"CREATE TABLE {STATE} (complete BOOLEAN)")
    (hot,) = cur.execute("SELECT count(*) FROM events_hot").fetchall()[0] or (0,)
    (cold,) = cur.execute("SELECT count(*) FROM event_partitions").fetchall()[0] or (0,)
    cur.execute(f"INSERT INTO {STATE} VALUES (?)", [hot == 0 and cold == 0])


def _bits_for(rows: int) -> int:
    # About 8 bits per event, a power of two between 2^10 and 2^16.
    return 1 << max(10, min(16, (rows * 8 - 1).bit_length()))


def _positions(data: np.ndarray, bits: int) -> np.ndarray:
    """The filter bit of every trigram of ``data`` (bytes): (b0<<16 | b1<<8 | b2), hashed."""
    if data.size < 3:
        return np.empty(0, dtype=np.uint32)
    # Each trigram is read as the top three bytes of a big-endian word at its offset (one
    # zero byte pads the last word): the same values as shifting and or-ing three
    # widened copies of the text, in half the time.
    padded = np.empty(data.size + 1, dtype=np.uint8)
    padded[:-1] = data
    padded[-1] = 0
    words = np.ndarray((data.size - 2,), dtype=">u4", buffer=padded, strides=(1,))
    hashed = (words >> np.uint32(8)).astype(np.uint32, copy=False)
    hashed *= _GOLDEN
    hashed >>= np.uint32(32 - (bits.bit_length() - 1))
    return hashed


#: Text bytes hashed per pass. numpy's temporaries take 4 and 8 bytes per text byte:
#: for a whole batch (9 MB of EVTX records) they were mapped fresh and faulted in on
#: every commit; at this size they are reused from the heap, and marking a batch took
#: half the time.
_SLICE_BYTES = 1 << 18


def _mark_trigrams(present: np.ndarray, data: np.ndarray) -> None:
    """Set the filter bit of every trigram of ``data`` (bytes) in ``present``."""
    bits = present.size
    # Consecutive slices overlap by two bytes, so every trigram starts in exactly one.
    for start in range(0, max(1, data.size - 2), _SLICE_BYTES):
        # Indexing with intp, not uint32, halves numpy's cost of setting the bits.
        present[_positions(data[start : start + _SLICE_BYTES + 2], bits).astype(np.intp)] = True


def _text_bytes(array: pa.Array) -> np.ndarray:
    array = array.cast(pa.large_string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset :][: len(array) + 1]
    data = array.buffers()[2]
    if data is None or len(offsets) == 0:
        return np.empty(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]


def _lowered_parts(
    cur: duckdb.DuckDBPyConnection, columns: list[pa.ChunkedArray]
) -> list[pa.Array]:
    """The columns' text lower-cased as DuckDB does, in parts (the Bloom filter needs
    every trigram of every row, not the rows in order or apart)."""
    parts: list[pa.Array] = []
    others: list[pa.Array] = []
    for column in columns:
        array = column.combine_chunks()
        if not pa.types.is_string(array.type):
            array = array.cast(pa.string())
        # For ASCII, Arrow's ascii_lower and DuckDB's lower agree byte for byte; rows
        # with other characters are lower-cased by DuckDB (Arrow's utf8_lower follows
        # a newer Unicode than DuckDB's and differs on some letters).
        ascii_rows = pc.string_is_ascii(array)
        if pc.all(ascii_rows).as_py() is not False:  # every row ASCII (or null)
            parts.append(pc.ascii_lower(array))
            continue
        plain = pc.filter(array, ascii_rows, null_selection_behavior="drop")
        if len(plain):
            parts.append(pc.ascii_lower(plain))
        others.append(pc.filter(array, pc.invert(ascii_rows), null_selection_behavior="drop"))
    if others:
        cur.register("_heron_text", pa.table({"t": pa.concat_arrays(others)}))
        try:
            lowered = cur.sql("SELECT lower(t) FROM _heron_text").to_arrow_table()
        finally:
            cur.unregister("_heron_text")
        parts.append(lowered.column(0).combine_chunks())
    return parts


def index_batch(cur: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    """Index the events of ``table`` (being appended in ``cur``'s transaction).

    Returns the blocks written. A batch without timestamps cannot be indexed: the index
    is then marked incomplete, and searches scan.
    """
    if "@timestamp" not in table.column_names:
        cur.execute(f"UPDATE {STATE} SET complete = false")
        return 0
    names = [name for name in _TEXT_COLUMNS if name in table.column_names]
    rows: list[tuple[int, int, int, bytes]] = []
    for start in range(0, table.num_rows, BLOCK_ROWS):
        block = table.slice(start, BLOCK_ROWS)
        stamps = block.column("@timestamp").cast(pa.timestamp("ns")).cast(pa.int64())
        span = pc.min_max(stamps)
        first, last = span["min"].as_py(), span["max"].as_py()
        if first is None:
            continue
        bits = _bits_for(block.num_rows)
        present = np.zeros(bits, dtype=bool)
        for part in _lowered_parts(cur, [block.column(name) for name in names]):
            _mark_trigrams(present, _text_bytes(part))
        rows.append((first, last, block.num_rows, np.packbits(present).tobytes()))
    if rows:
        cur.executemany(
            f"INSERT INTO {TABLE} VALUES (make_timestamp_ns(?), make_timestamp_ns(?), ?, ?)",
            rows,
        )
    return len(rows)


def candidate_spans(cur: duckdb.DuckDBPyConnection, needle: str) -> TextIndex:
    """The time spans of blocks that may contain ``needle`` (ignoring case), merged."""
    state = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN (?, ?)",
        [TABLE, STATE],
    ).fetchall()[0]
    if not state or state[0] != 2:
        return TextIndex(None)
    complete = cur.execute(f"SELECT bool_and(complete) FROM {STATE}").fetchall()[0]
    if not complete or not complete[0]:
        return TextIndex(None)
    (lowered,) = cur.execute("SELECT lower(?)", [needle]).fetchall()[0] or ("",)
    data = np.frombuffer(str(lowered).encode("utf-8"), dtype=np.uint8)
    if data.size < 3:
        return TextIndex(None)
    blocks = cur.execute(
        f"SELECT epoch_ns(first_ts), epoch_ns(last_ts), bloom FROM {TABLE}"
    ).fetchall()
    if not blocks:
        return TextIndex([])
    hits: list[tuple[int, int]] = []
    cache: dict[int, np.ndarray] = {}
    for first, last, bloom in blocks:
        bits = len(bloom) * 8
        if bits not in cache:
            cache[bits] = _positions(data, bits)
        positions = cache[bits]
        packed = np.frombuffer(bloom, dtype=np.uint8)
        # Bit p of a packbits array is bit (7 - p % 8) of byte p // 8.
        if np.all((packed[positions >> 3] >> (7 - (positions & 7))) & 1):
            hits.append((int(first), int(last)))
    if len(hits) > MAX_CANDIDATE_SHARE * len(blocks):
        return TextIndex(None)
    hits.sort()
    merged: list[tuple[int, int]] = []
    for first, last in hits:
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return TextIndex(merged)
