"""Syslog stream framing (RFC 6587): LF and octet counting, limits, errors, resync."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from heron.sources.framing import FrameError, SyslogFramer, datagram_record

MSG1 = "<34>Oct 11 22:14:15 host su[1]: one"
MSG2 = "<34>Oct 11 22:14:16 host su[1]: two"


def frame_all(
    mode: str, pieces: list[bytes], limit: int = 1024
) -> tuple[list[str], list[FrameError]]:
    framer = SyslogFramer(mode, limit)  # type: ignore[arg-type]
    records: list[str] = []
    errors: list[FrameError] = []
    for piece in pieces:
        framer.feed(piece, records, errors)
    framer.close(records, errors)
    return records, errors


def octet(msg: str) -> bytes:
    data = msg.encode()
    return str(len(data)).encode() + b" " + data


def test_lf_frames_split_anywhere() -> None:
    data = f"{MSG1}\n{MSG2}\r\n\n".encode()
    for cut in range(len(data)):
        records, errors = frame_all("lf", [data[:cut], data[cut:]])
        assert records == [MSG1, MSG2] and not errors


def test_octet_frames_split_anywhere() -> None:
    data = octet(MSG1) + octet(MSG2)
    for cut in range(len(data)):
        records, errors = frame_all("octet", [data[:cut], data[cut:]])
        assert records == [MSG1, MSG2], cut
        assert not errors


def test_auto_decides_per_connection() -> None:
    assert frame_all("auto", [octet(MSG1) + octet(MSG2)])[0] == [MSG1, MSG2]
    assert frame_all("auto", [f"{MSG1}\n{MSG2}\n".encode()])[0] == [MSG1, MSG2]
    # Digits first, then the space arrives later: still octet counting.
    data = octet(MSG1)
    assert frame_all("auto", [data[:1], data[1:2], data[2:]])[0] == [MSG1]
    # A line starting with an ISO date is not a length.
    line = "2024-01-02T03:04:05Z host app: x"
    assert frame_all("auto", [line.encode() + b"\n"])[0] == [line]


def test_last_lf_frame_without_newline_counts() -> None:
    assert frame_all("lf", [MSG1.encode()])[0] == [MSG1]


def test_bom_at_frame_start_is_removed() -> None:
    records, errors = frame_all("lf", [b"\xef\xbb\xbf" + MSG1.encode() + b"\n"])
    assert records == [MSG1] and not errors
    records, errors = frame_all("octet", [octet("\ufeff" + MSG1)])
    assert records == [MSG1] and not errors


def test_overlong_lf_frame_is_reported_and_skipped_without_holding_it() -> None:
    big = b"<13>" + b"x" * 5000
    pieces = [MSG1.encode() + b"\n" + big[:100]] + [big[i : i + 700] for i in range(100, 5004, 700)]
    pieces.append(b"\n" + MSG2.encode() + b"\n")
    framer = SyslogFramer("lf", 1024)
    records: list[str] = []
    errors: list[FrameError] = []
    for piece in pieces:
        framer.feed(piece, records, errors)
        assert len(framer._buf) <= 1024 + 700  # never holds the long frame
    framer.close(records, errors)
    assert records == [MSG1, MSG2]
    assert len(errors) == 1
    assert "longer than the limit of 1024 bytes (5004 bytes)" in errors[0].reason
    assert errors[0].size == 5004


def test_overlong_octet_frame_is_skipped_by_its_count() -> None:
    big = "<13>" + "y" * 3000
    records, errors = frame_all(
        "octet", [octet(MSG1) + octet(big)[:500], octet(big)[500:] + octet(MSG2)]
    )
    assert records == [MSG1, MSG2]
    assert len(errors) == 1 and "3004 bytes" in errors[0].reason


def test_bad_length_resyncs_at_next_frame() -> None:
    records, errors = frame_all("octet", [octet(MSG1) + b"abc <13>junk " + octet(MSG2)])
    assert records == [MSG1, MSG2]
    assert len(errors) == 1
    assert "expected a frame length and a space" in errors[0].reason
    assert errors[0].raw == b"abc <13>junk "


def test_count_too_small_leaves_a_reported_tail_and_resyncs() -> None:
    data = MSG1.encode()
    wrong = b"20 " + data  # the real length is longer
    records, errors = frame_all("octet", [wrong + octet(MSG2)])
    assert records == [MSG1[:20], MSG2]
    assert len(errors) == 1 and errors[0].raw == data[20:]


def test_count_too_large_swallows_into_next_and_resyncs() -> None:
    third = "<34>Oct 11 22:14:17 host su[1]: three"
    data = octet(MSG1).replace(str(len(MSG1)).encode(), str(len(MSG1) + 10).encode(), 1)
    records, errors = frame_all("octet", [data + octet(MSG2) + octet(third)])
    assert records[0].startswith(MSG1) and records[-1] == third
    assert len(errors) == 1


def test_zero_or_huge_length_prefixes_are_errors() -> None:
    records, errors = frame_all("octet", [b"0 " + octet(MSG1)])
    assert records == [MSG1] and len(errors) == 1
    records, errors = frame_all("octet", [b"12345678901 x\n" + octet(MSG1)])
    assert records == [MSG1] and len(errors) == 1


def test_cut_octet_frame_at_close_is_an_error() -> None:
    records, errors = frame_all("octet", [octet(MSG1)[:-5]])
    assert records == [] and "closed inside an octet-counted frame" in errors[0].reason


def test_invalid_utf8_is_reported_per_frame() -> None:
    records, errors = frame_all("lf", [MSG1.encode() + b"\n<13>bad \xff\xfe\n" + MSG2.encode()])
    assert records == [MSG1, MSG2]
    assert len(errors) == 1 and "invalid UTF-8" in errors[0].reason


def test_datagram_record() -> None:
    errors: list[FrameError] = []
    assert datagram_record(MSG1.encode() + b"\n\x00", 100, errors) == MSG1
    assert datagram_record(b"\xef\xbb\xbf" + MSG1.encode(), 100, errors) == MSG1
    assert datagram_record(b"x" * 200, 100, errors) is None
    assert datagram_record(b"   ", 100, errors) is None
    assert len(errors) == 1 and "datagram longer" in errors[0].reason


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\ufeff"),
            min_size=1,
            max_size=60,
        ).filter(lambda s: not s.isspace()),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.integers(min_value=1, max_value=40), max_size=10),
)
def test_any_split_gives_the_same_frames(messages: list[str], cuts: list[int]) -> None:
    for mode, data in (
        ("lf", b"".join(m.encode() + b"\n" for m in messages)),
        ("octet", b"".join(octet(m) for m in messages)),
    ):
        pieces, rest = [], data
        for cut in cuts:
            pieces.append(rest[:cut])
            rest = rest[cut:]
        pieces.append(rest)
        records, errors = frame_all(mode, pieces, limit=4096)
        assert not errors
        assert records == messages
