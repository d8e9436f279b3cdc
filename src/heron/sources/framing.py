"""Syslog frames out of a byte stream (RFC 6587): LF-terminated or octet-counted.

``auto`` decides once per connection, from its first bytes: ``LEN SP`` (digits then a
space) means octet counting, anything else LF-terminated frames (as rsyslog and
syslog-ng send by default). A frame is bounded by ``max_frame`` bytes; nothing longer
is ever held: the excess is skipped and reported.

Bad framing is reported as a ``FrameError`` (kept as a dead letter by the caller) and
the stream **resynchronises** rather than closing: after an octet-count header that is
not ``LEN SP`` (a wrong count leaves the rest of a message where the next header
should be), reading resumes at the next LF or the next place that looks like a frame
start (``LEN SP <PRI>``); the bytes in between are the error's raw text. A count that
is too large cannot be told from a long message: it takes the start of the next frame
with it, and the rest of that frame is then reported as above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from heron.model.deadletter import RAW_KEEP_BYTES

__all__ = ["FrameError", "SyslogFramer", "datagram_record"]

_BOM = "\ufeff"
_BOM_BYTES = b"\xef\xbb\xbf"
_MAX_DIGITS = 10
_FRAME_START = re.compile(rb"[1-9][0-9]{0,9} <[0-9]{1,3}>")
_OCTET_HEAD = re.compile(rb"[1-9][0-9]{0,9} ")


@dataclass(frozen=True, slots=True)
class FrameError:
    """A stretch of the stream that is not a usable frame."""

    reason: str
    raw: bytes  # at most RAW_KEEP_BYTES of it
    size: int  # its full size in bytes


def _decode(frame: bytes, errors: list[FrameError]) -> str | None:
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(
            FrameError(f"invalid UTF-8 at byte {exc.start}", frame[:RAW_KEEP_BYTES], len(frame))
        )
        return None
    if text.startswith(_BOM):
        text = text[1:]
    return text


def datagram_record(data: bytes, max_frame: int, errors: list[FrameError]) -> str | None:
    """The one message of a UDP datagram (RFC 5426), trailer and BOM removed."""
    if len(data) > max_frame:
        errors.append(
            FrameError(
                f"datagram longer than the limit of {max_frame} bytes ({len(data)} bytes)",
                data[:RAW_KEEP_BYTES],
                len(data),
            )
        )
        return None
    text = _decode(data.rstrip(b"\r\n\x00"), errors)
    if text is None or not text or text.isspace():
        return None
    return text


class SyslogFramer:
    """Incremental framing of one connection: ``feed`` bytes, get records and errors."""

    def __init__(self, mode: Literal["auto", "lf", "octet"], max_frame: int) -> None:
        self.mode: str = mode
        self.max_frame = max_frame
        self._buf = b""
        # LF mode, inside a line over the limit: its head, and how much was skipped.
        self._skip_head: bytes | None = None
        self._skip_size = 0
        # Octet mode: bytes of an over-long counted frame still to skip.
        self._skip_count = 0
        self._resyncing = False

    def feed(self, data: bytes, records: list[str], errors: list[FrameError]) -> None:
        """Append complete frames of ``data`` to ``records``, problems to ``errors``."""
        if self.mode == "auto":
            data = self._buf + data
            self._buf = b""
            probe = data.lstrip(b"\r\n")
            if not probe:
                return
            if probe[:1].isdigit() and not _OCTET_HEAD.match(probe) and len(probe) <= _MAX_DIGITS:
                self._buf = data  # only digits so far: wait for the space (or not)
                return
            self.mode = "octet" if _OCTET_HEAD.match(probe) else "lf"
        if self.mode == "lf":
            self._feed_lf(data, records, errors)
        else:
            self._feed_octet(data, records, errors)

    def close(self, records: list[str], errors: list[FrameError]) -> None:
        """End of stream: a last LF frame without its LF counts; a cut frame is an error."""
        if self.mode == "octet" and self._resyncing and self._buf:
            self._feed_octet(b"", records, errors, final=True)
        buf, self._buf = self._buf, b""
        if self._skip_head is not None:
            errors.append(self._overlong(self._skip_head, self._skip_size))
            self._skip_head = None
        elif self._skip_count:
            self._skip_count = 0
        elif self.mode == "octet" and buf.strip():
            if self._resyncing:
                errors.append(self._bad_header(buf))
            else:
                errors.append(
                    FrameError(
                        "connection closed inside an octet-counted frame "
                        f"({len(buf)} bytes left unframed)",
                        buf[:RAW_KEEP_BYTES],
                        len(buf),
                    )
                )
        elif buf.strip():
            self._lf_lines([buf], records, errors)

    # -- LF-terminated ------------------------------------------------------------------

    def _overlong(self, head: bytes, size: int) -> FrameError:
        return FrameError(
            f"frame longer than the limit of {self.max_frame} bytes ({size} bytes)", head, size
        )

    def _feed_lf(self, data: bytes, records: list[str], errors: list[FrameError]) -> None:
        if self._skip_head is not None:
            end = data.find(b"\n")
            if end < 0:
                self._skip_size += len(data)
                return
            errors.append(self._overlong(self._skip_head, self._skip_size + end))
            self._skip_head = None
            data = data[end + 1 :]
        buf = self._buf + data if self._buf else data
        cut = buf.rfind(b"\n")
        if cut < 0:
            body, tail = b"", buf
        else:
            body, tail = buf[:cut], buf[cut + 1 :]
        if body:
            self._lf_body(body, records, errors)
        if len(tail) > self.max_frame:
            self._skip_head = tail[:RAW_KEEP_BYTES]
            self._skip_size = len(tail)
            tail = b""
        self._buf = tail

    def _lf_body(self, body: bytes, records: list[str], errors: list[FrameError]) -> None:
        # The common case, a buffer of short valid lines, is decoded and split at C
        # speed; anything unusual takes the line-by-line path.
        if len(body) <= self.max_frame:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                lines = text.split("\n")
                if "\r" in text:
                    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
                if _BOM in text:
                    lines = [ln[1:] if ln.startswith(_BOM) else ln for ln in lines]
                records.extend(ln for ln in lines if ln and not ln.isspace())
                return
        self._lf_lines(body.split(b"\n"), records, errors)

    def _lf_lines(self, lines: list[bytes], records: list[str], errors: list[FrameError]) -> None:
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > self.max_frame:
                errors.append(self._overlong(line[:RAW_KEEP_BYTES], len(line)))
                continue
            text = _decode(line, errors)
            if text and not text.isspace():
                records.append(text)

    # -- octet-counted ------------------------------------------------------------------

    def _bad_header(self, raw: bytes) -> FrameError:
        shown = raw[:24]
        return FrameError(
            f"octet counting: expected a frame length and a space, found {shown!r}; "
            "skipped to the next frame",
            raw[:RAW_KEEP_BYTES],
            len(raw),
        )

    def _feed_octet(
        self, data: bytes, records: list[str], errors: list[FrameError], final: bool = False
    ) -> None:
        if self._skip_count:
            if len(data) <= self._skip_count:
                self._skip_count -= len(data)
                return
            data = data[self._skip_count :]
            self._skip_count = 0
        buf = self._buf + data if self._buf else data
        pos, size = 0, len(buf)
        while pos < size:
            if self._resyncing:
                found = self._resync_point(buf, pos, final)
                if found is None:
                    if size - pos > self.max_frame:
                        errors.append(self._bad_header(buf[pos:]))
                        pos = size
                    break
                errors.append(self._bad_header(buf[pos:found]))
                self._resyncing = False
                pos = found
                continue
            while pos < size and buf[pos] in b"\r\n":
                pos += 1
            if pos >= size:
                break
            space = buf.find(b" ", pos, pos + _MAX_DIGITS + 1)
            if space < 0:
                if size - pos > _MAX_DIGITS:
                    self._resyncing = True
                    continue
                break  # the header is still arriving
            head = buf[pos:space]
            if not head.isdigit() or head[:1] == b"0":
                self._resyncing = True
                continue
            length = int(head)
            start = space + 1
            if length > self.max_frame:
                got = min(length, size - start)
                errors.append(self._overlong(buf[start : start + min(got, RAW_KEEP_BYTES)], length))
                self._skip_count = length - got
                pos = start + got
                continue
            end = start + length
            if end > size:
                break  # the frame is still arriving
            frame = buf[start:end].rstrip(b"\r\n")
            pos = end
            text = _decode(frame, errors)
            if text and not text.isspace():
                records.append(text)
        self._buf = buf[pos:]

    @staticmethod
    def _resync_point(buf: bytes, pos: int, final: bool = False) -> int | None:
        newline = buf.find(b"\n", pos)
        match = _FRAME_START.search(buf, pos + 1, newline if newline >= 0 else len(buf))
        if match is None:
            return newline + 1 if newline >= 0 else None
        # The digits of a length may follow digits of the broken message ("port 22"
        # then "54 <13>…" reads as "2254 <13>…"). Of the digit run's suffixes, take the
        # longest whose frame ends where another frame (or LF, or the data) ends; if none
        # can be checked that way, wait for more data (until the stream ends); else the
        # shortest.
        start, space = match.start(), buf.index(b" ", match.start())
        while start > pos + 1 and buf[start - 1 : start].isdigit():
            start -= 1
        unknown: int | None = None
        for k in range(max(start, space - _MAX_DIGITS), space):
            if buf[k : k + 1] == b"0":
                continue
            end = space + 1 + int(buf[k:space])
            if end > len(buf):
                unknown = k if unknown is None else unknown
            elif (
                end == len(buf)
                or buf[end : end + 1] in (b"\n", b"\r")
                or _OCTET_HEAD.match(buf, end)
            ):
                return k
        if unknown is not None and not final:
            return None
        return space - 1 if buf[space - 1 : space] != b"0" else match.start()
