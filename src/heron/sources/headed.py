"""Lines that mean nothing without their file's header: Zeek TSV and W3C (IIS) logs.

A Zeek TSV data line is a row of a table whose columns the ``#fields`` line declared;
a W3C line, of the last ``#Fields:``. A ``Headed`` follows one file's directives and
turns each data line into the record its parser reads (JSON text), keeping the line
itself as the event's original. Both readers of files use it: ``heron ingest`` (a
whole file) and the ``tail`` source, which keeps the directives seen in its checkpoint
so a restart in the middle of a file reads on with the same columns.
"""

from __future__ import annotations

import os
import re
from codecs import BOM_UTF8
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from heron.errors import ParseError
from heron.model.deadletter import DeadLetter

if TYPE_CHECKING:
    from heron.sources.file import RawChunk

__all__ = ["HEADED_KINDS", "Headed", "directives_before", "headed_kind"]

#: File kind → the parser its records go to.
HEADED_KINDS = {"iis": "iis", "zeek_tsv": "zeek"}

# W3C extended logs (IIS): directives first, among them the #Fields: data lines need.
W3C_HEAD = re.compile(rb"^#(Software|Version|Date|Fields):")
ZEEK_TSV_HEAD = b"#separator"
#: Directive lines remembered for a checkpoint: a Zeek header is eight lines, a W3C one
#: four; only the last block matters.
_KEEP_DIRECTIVES = 16
_READ_BYTES = 1 << 20


def directives_before(fd: int, offset: int) -> list[str]:
    """The directive lines (``#…``) of a file before ``offset``, in order."""
    found: list[str] = []
    position, rest = 0, b""
    while position < offset:
        block = os.pread(fd, min(_READ_BYTES, offset - position), position)
        if not block:
            break
        position += len(block)
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        found.extend(
            line.rstrip(b"\r").removeprefix(BOM_UTF8).decode("utf-8", "replace")
            for line in lines
            if line.startswith((b"#", BOM_UTF8 + b"#"))
        )
    return found


def headed_kind(head: bytes) -> str | None:
    """``zeek_tsv`` or ``iis`` when a file starting with ``head`` is one, else None."""
    if head.startswith(ZEEK_TSV_HEAD):
        return "zeek_tsv"
    if W3C_HEAD.match(head):
        return "iis"
    return None


class _LineReader(Protocol):
    def feed(self, line: str) -> Mapping[str, Any] | None: ...


class Headed:
    """The header state of one file, and its data lines turned into records."""

    def __init__(self, kind: str, source: str, directives: list[str] | None = None) -> None:
        self.kind = kind
        self.format = HEADED_KINDS[kind]
        self._reader: _LineReader
        if kind == "iis":
            from heron.parsers.w3c import W3cReader

            self._reader = W3cReader()
        else:
            from heron.parsers.zeek import ZeekTsvReader, log_type_of

            self._reader = ZeekTsvReader(log_type_of(source))
        #: The directive lines seen (the last ones): enough to set up the same state again.
        self.directives: list[str] = []
        for line in directives or ():
            self._feed(line)

    def _feed(self, line: str) -> Mapping[str, Any] | None:
        if line.startswith("#"):
            self.directives.append(line)
            del self.directives[:-_KEEP_DIRECTIVES]
        return self._reader.feed(line)

    def convert(self, chunk: RawChunk, received: int) -> None:
        """Replace the chunk's lines by their records (as JSON text for ``self.format``),
        the lines kept as originals; directives are taken in, refused lines become dead
        letters."""
        records: list[str] = []
        locations: list[str] = []
        lines: list[str] = []
        for line, location in zip(chunk.records, chunk.locations, strict=True):
            try:
                record = self._feed(line)
            except ParseError as exc:
                chunk.dead_letters.append(
                    DeadLetter.of(chunk.source, exc.reason, line, location, received)
                )
                continue
            if record is not None:
                records.append(orjson.dumps(record).decode())
                locations.append(location)
                lines.append(line.rstrip("\r\n"))
        chunk.records, chunk.locations, chunk.originals = records, locations, lines
        chunk.format = self.format
