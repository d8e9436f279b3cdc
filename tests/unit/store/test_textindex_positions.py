"""The text index's filter bits: the formula that filters already on disk were built with."""

from __future__ import annotations

import numpy as np
import pytest

from heron.store.textindex import _GOLDEN, _SLICE_BYTES, _mark_trigrams, _positions


def _reference(data: np.ndarray, bits: int) -> np.ndarray:
    """Knuth's multiplicative hash of (b0<<16 | b1<<8 | b2), top log2(bits) bits."""
    if data.size < 3:
        return np.empty(0, dtype=np.uint32)
    d = data.astype(np.uint32)
    trigrams = (d[:-2] << 16) | (d[1:-1] << 8) | d[2:]
    return (trigrams * _GOLDEN) >> np.uint32(32 - (bits.bit_length() - 1))


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 64, 4097, 100_001])
@pytest.mark.parametrize("bits", [1 << 10, 1 << 13, 1 << 16])
def test_positions_match_the_stored_formula(size: int, bits: int) -> None:
    data = np.random.default_rng(size + bits).integers(0, 256, size=size, dtype=np.uint8)
    found = _positions(data, bits)
    assert found.dtype == np.uint32
    assert np.array_equal(found, _reference(data, bits))
    assert found.size == max(0, size - 2) and (found.size == 0 or int(found.max()) < bits)


def test_a_slice_of_a_larger_buffer_is_read_from_its_own_start() -> None:
    # Text bytes come as views into Arrow buffers, at any offset.
    buffer = np.frombuffer(b"xxABCDEFyy", dtype=np.uint8)
    assert np.array_equal(_positions(buffer[2:8], 1 << 12), _reference(buffer[2:8], 1 << 12))


@pytest.mark.parametrize(
    "size",
    [
        0,
        2,
        3,
        _SLICE_BYTES - 1,
        _SLICE_BYTES,
        _SLICE_BYTES + 1,
        _SLICE_BYTES + 2,
        _SLICE_BYTES + 3,
        2 * _SLICE_BYTES + 2,
        2 * _SLICE_BYTES + 7,
    ],
)
def test_marking_in_slices_sets_the_bits_of_every_trigram(size: int) -> None:
    # Slices overlap so that trigrams across their borders are marked too: the bits
    # are those of the whole text hashed at once (in a filter wide enough that a missed
    # trigram's bit is not set by another one).
    bits = 1 << 24
    data = np.random.default_rng(size).integers(0, 256, size=size, dtype=np.uint8)
    present = np.zeros(bits, dtype=bool)
    _mark_trigrams(present, data)
    expected = np.zeros(bits, dtype=bool)
    expected[_reference(data, bits).astype(np.intp)] = True
    assert np.array_equal(present, expected)
