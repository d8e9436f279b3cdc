"""What a parser is: raw text of one record in, one flat event out.

A parser turns one raw record (a line, a JSON document, an EVTX record rendered as
JSON) into a flat event dict of raw fields: vendor fields under their own names plus
the ECS fields the format itself defines (syslog header → ``host.name``,
``process.name``…). Mapping vendor meaning onto ECS (``event.outcome`` for a failed
sshd login) is the normalizer's job (``heron.normalize``).

Parsers are pure: no I/O, no clock except through ``ParseContext``; they raise
``ParseError`` with a reason a person can act on, and the pipeline dead-letters the
record. They never set ``event.id``, ``event.ingested``, ``event.original`` or
``log.file.path``: the pipeline does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timezone
from typing import Protocol

from heron.model.event import Event

__all__ = ["DEFAULT_MAX_JSON_DEPTH", "ParseContext", "Parser"]

#: Nesting deeper than this in a JSON record is refused (a dead letter), not recursed into.
DEFAULT_MAX_JSON_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser may need beyond the record: where it came from and defaults."""

    source: str = ""  # file path or network source name
    received: int = 0  # ns since the epoch; the default @timestamp when a record has none
    # Syslog RFC 3164 lines carry neither year nor zone: take them from here.
    year: int | None = None  # None: the year that puts the line closest before `received`
    timezone: timezone = field(default=UTC)
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH


class Parser(Protocol):
    """One format. ``name`` is the ``--format`` value and the config ``format``."""

    name: str

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        """The event of one raw record; raises ``heron.errors.ParseError``."""
        ...
