"""``key=value`` records: a robust splitter, and the ``kv`` format built on it.

Appliances write ``key=value`` pairs separated by blanks, with values quoted when they
hold blanks (``msg="User login failed"``), sometimes not (``msg=User login failed
user=bob``), with escaped quotes inside quoted values and a syslog header or ``<PRI>`` in
front. One regular expression finds the pairs in one pass; blank-separated words between
two pairs belong to the unquoted value before them, so an unquoted value with blanks is
kept whole. The splitter is reused by vendor formats (``heron.parsers.fortigate``).

The ``kv`` format keeps every pair under its own key and takes ``@timestamp`` from the
usual time keys; it maps nothing else, since the meaning of a key depends on the vendor.
"""

from __future__ import annotations

import re

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.envelope import unwrap
from heron.parsers.fields import put
from heron.parsers.json import coerce_core_fields, parse_time_value
from heron.parsers.syslog_time import MONTHS

__all__ = ["KvParser", "KvRecord", "split_kv"]

# A key starts a line, follows a blank or ends a ``<PRI>``; its value is a quoted string
# (escapes allowed) or everything up to the next blank. The pattern is Heron's own, not
# from users, and has no nested quantifiers: linear on any input.
_PAIR = re.compile(
    r"""(?<![^\s>])([A-Za-z0-9_][\w.\-]*)=("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S*)""",
    re.DOTALL,
)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_TIME_KEYS = ("timestamp", "time", "ts", "eventtime", "date_time", "datetime")
MAX_PAIRS = 2000


class KvRecord:
    """The pairs of one record (in order, last duplicate wins) and the text before them."""

    __slots__ = ("leading", "pairs")

    def __init__(self, leading: str, pairs: dict[str, str]) -> None:
        self.leading = leading
        self.pairs = pairs


def split_kv(text: str, *, max_pairs: int = MAX_PAIRS) -> KvRecord:
    """The ``key=value`` pairs of ``text``; raises ``ParseError`` past ``max_pairs``."""
    record = _split_simple(text)
    if record is None:
        record = _split_general(text)
    if len(record.pairs) > max_pairs:
        raise ParseError(f"more than {max_pairs} key=value pairs", parser="kv")
    return record


def _is_key(key: str) -> bool:
    return (
        key[:1].isalnum()
        and key.isascii()
        and key.replace("_", "a").replace(".", "a").replace("-", "a").isalnum()
    )


def _split_simple(text: str) -> KvRecord | None:
    """The common case by ``str.split`` alone: pairs, double quotes without escapes.

    None when the record needs the general splitter (escapes, single quotes, words
    between pairs, quotes not right after ``=``); both give the same result otherwise.
    """
    if "\\" in text or "'" in text:
        return None
    parts = text.split('"')
    if len(parts) % 2 == 0:
        return None
    pairs: dict[str, str] = {}
    leading = ""
    pending: str | None = None
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if i % 2:
            if pending is None:
                return None
            pairs[pending] = part
            pending = None
            continue
        if i and part and not part[0].isspace():
            return None  # text glued to a closing quote
        tokens = part.split()
        for j, token in enumerate(tokens):
            if not pairs and not leading and token[0] == "<" and ">" in token:
                head, _, token = token.partition(">")
                leading = head + ">"
                if not token:
                    continue
            key, eq, value = token.partition("=")
            if not eq or not _is_key(key):
                return None
            if not value and j == len(tokens) - 1 and i < last:
                if not part.endswith("="):
                    return None
                pending = key
            else:
                pairs[key] = value
    return KvRecord(leading, pairs) if pairs and pending is None else None


def _split_general(text: str) -> KvRecord:
    pairs: dict[str, str] = {}
    leading = ""
    last_key: str | None = None  # an unquoted value that may continue over blanks
    last_start = 0
    previous_end = 0
    for match in _PAIR.finditer(text):
        start = match.start()
        # Most gaps are the one blank between pairs: only longer ones are looked at.
        if start - previous_end > 1 and not text[previous_end:start].isspace():
            if last_key is not None:
                pairs[last_key] = text[last_start:start].rstrip()
            elif not pairs:
                leading = text[previous_end:start].strip()
        key, value = match.group(1, 2)
        first = value[:1]
        if (first == '"' or first == "'") and len(value) >= 2 and value[-1] == first:
            inner = value[1:-1]
            pairs[key] = _UNESCAPE.sub(r"\1", inner) if "\\" in inner else inner
            last_key = None
        else:
            pairs[key] = value
            last_key = key
            last_start = match.start(2)
        previous_end = match.end()
    tail = text[previous_end:]
    if tail.strip():
        if last_key is not None:
            pairs[last_key] = text[last_start:].rstrip()
        elif not pairs:
            leading = tail.strip()
    return KvRecord(leading, pairs)


def timestamp_of(pairs: dict[str, str], ctx: ParseContext) -> int | None:
    """``@timestamp`` from the usual time keys, or ``date`` + ``time``; None if none reads."""
    if "date" in pairs and "time" in pairs:
        ns = parse_time_value(f"{pairs['date']}T{pairs['time']}")
        if ns is not None:
            return ns
    for key in _TIME_KEYS:
        if key in pairs:
            ns = parse_time_value(pairs[key])
            if ns is not None:
                return ns
    return None


class KvParser:
    """Blank-separated ``key=value`` pairs, each kept under its key."""

    name = "kv"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        record = split_kv(raw)
        if not record.pairs:
            raise ParseError("no key=value pairs in the record", parser=self.name)
        event: Event = dict(record.pairs)
        header: Event = {}
        if record.leading:
            event["kv.leading_text"] = record.leading
            if record.leading[:1] == "<" or record.leading[:3] in MONTHS:
                try:  # a syslog header: its host and time count when the pairs lack them
                    header, _ = unwrap(raw, -1, ctx, self.name)
                except ParseError:
                    header = {}
        put(event, "host.name", header.get("host.name"))
        stamp = timestamp_of(record.pairs, ctx)
        if stamp is None:
            stamp = header.get("@timestamp")
        event["@timestamp"] = stamp if stamp is not None else ctx.received
        coerce_core_fields(event)
        return event
