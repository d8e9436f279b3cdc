"""systemd journal records, as ``journalctl -o json`` exports them, read like syslog lines.

On many current Linux systems the journal is the only log: sshd, sudo and su write
there, and ``/var/log/auth.log`` exists only if rsyslog is installed. A journal record
is a flat JSON object of text fields; the ones a syslog line would carry become the
syslog parser's fields, so the Linux normalization (sshd, sudo, su, PAM) and the Sigma
rules for Linux apply unchanged:

- ``MESSAGE`` → ``message`` (the journal writes a message that is not UTF-8 as an
  array of byte values: decoded, invalid bytes replaced);
- ``SYSLOG_IDENTIFIER`` (else ``_COMM``) → ``process.name``, ``_PID`` (else
  ``SYSLOG_PID``) → ``process.pid``, ``_HOSTNAME`` → ``host.name``;
- ``_SOURCE_REALTIME_TIMESTAMP`` (when the program logged), else
  ``__REALTIME_TIMESTAMP`` (when the journal received it), microseconds → ``@timestamp``;
- ``PRIORITY`` and ``SYSLOG_FACILITY`` → the ``log.syslog.*`` priority fields.

Every journal field is also kept under its own name (``_SYSTEMD_UNIT``, ``_EXE``,
``_UID`` …). A message that is a Windows event as XML (Sysmon for Linux) is read as
one, as in syslog.
"""

from __future__ import annotations

from typing import Any

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.rfc3164 import add_priority
from heron.parsers.syslog import under_header
from heron.parsers.winxml import windows_xml_event

__all__ = ["from_journald", "is_journald"]


def is_journald(record: dict[str, Any]) -> bool:
    """A journal export record: it has the journal's own receive time and a message."""
    return "__REALTIME_TIMESTAMP" in record and "MESSAGE" in record


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b <= 255 for b in value):
        return bytes(value).decode("utf-8", "replace")
    return None


def _digits(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text is not None and text.isdigit() and text.isascii() else None


def from_journald(record: dict[str, Any]) -> Event:
    """The syslog-shaped event of one journal record (its own fields kept)."""
    event: Event = dict(record)
    message = _text(record.get("MESSAGE"))
    if message is None:
        raise ParseError("a journal record whose MESSAGE is not text", parser="journald")
    event["message"] = message
    name = _text(record.get("SYSLOG_IDENTIFIER")) or _text(record.get("_COMM"))
    if name:
        event["process.name"] = name
    pid = _digits(record.get("_PID"))
    if pid is None:
        pid = _digits(record.get("SYSLOG_PID"))
    if pid is not None:
        event["process.pid"] = pid
    host = _text(record.get("_HOSTNAME"))
    if host:
        event["host.name"] = host
    for key in ("_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP"):
        micros = _digits(record.get(key))
        if micros is not None:
            event["@timestamp"] = micros * 1000
            break
    severity = _digits(record.get("PRIORITY"))
    if severity is not None and severity <= 7:
        facility = _digits(record.get("SYSLOG_FACILITY"))
        add_priority(
            event, (facility if facility is not None and facility <= 23 else 1) * 8 + severity
        )
    if message.startswith("<Event"):
        # Sysmon for Linux: the event is the XML; the journal's fields name the sender.
        return under_header(event, windows_xml_event(message))
    return event
