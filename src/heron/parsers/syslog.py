"""Any syslog line: RFC 5424 or RFC 3164 (with or without PRI), and CEF/LEEF inside.

The choice is made per line: ``<PRI>`` followed by a version digit and a space is
RFC 5424, everything else goes to the RFC 3164 parser (which also reads plain
/var/log lines and ISO timestamps). When the message body starts with ``CEF:`` or
``LEEF:`` — a device sending CEF over syslog — or is an audit record (``type=… msg=audit(…)``
as the audisp-syslog plugin forwards it) or a Windows event as XML (``<Event>…``, how
Sysmon for Linux logs), the body is parsed as such and the
syslog header fields are merged in: the body's fields win where both have one
(``dvchost`` over the syslog host), the ``log.syslog.*`` fields come from the header,
the header's program tag becomes ``log.syslog.appname`` / ``procid`` (it names the
sender, not the event's process), and the syslog time is used when the body has none.
The header's ``message`` (the CEF text itself) is dropped; ``event.original`` keeps it.
"""

from __future__ import annotations

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.auditd import AuditdParser
from heron.parsers.base import ParseContext
from heron.parsers.cef import CefParser
from heron.parsers.leef import LeefParser
from heron.parsers.rfc3164 import Rfc3164Parser
from heron.parsers.rfc5424 import Rfc5424Parser, is_rfc5424
from heron.parsers.winxml import windows_xml_event

__all__ = ["SyslogParser", "under_header"]

# Message bodies parsed by another parser: CEF, LEEF, audit records (audisp-syslog) and
# Windows event XML (Sysmon for Linux writes each event so).
_EMBEDDED = ("CEF:", "LEEF:", "type=", "node=", "<Event")


class SyslogParser:
    """Syslog lines of any flavour → flat events (see the module docstring)."""

    name = "syslog"

    def __init__(self) -> None:
        self._rfc3164 = Rfc3164Parser()
        self._rfc5424 = Rfc5424Parser()
        self._cef = CefParser()
        self._leef = LeefParser()
        self._auditd = AuditdParser()

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        if raw.startswith("<") and is_rfc5424(raw):
            header = self._rfc5424.parse(raw, ctx)
        else:
            header = self._rfc3164.parse(raw, ctx)
        message = header.get("message")
        if not isinstance(message, str) or not message.startswith(_EMBEDDED):
            return header
        try:
            if message.startswith("CEF:"):
                body = self._cef.parse_body(message[4:], ctx)
            elif message.startswith("LEEF:"):
                body = self._leef.parse_body(message[5:], ctx)
            elif "msg=audit(" in message:
                body = self._auditd.parse(message, ctx)
            elif message.startswith("<Event"):
                body = windows_xml_event(message)
            else:
                return header
        except ParseError as exc:
            raise ParseError(f"syslog header then {exc.reason}", parser=self.name) from None
        return under_header(header, body)


def under_header(header: Event, body: Event) -> Event:
    """An event parsed out of a message (CEF, an audit record, Windows XML) with the
    fields of the header that carried it (syslog's, or a journal record's): the body's
    fields win, except ``log.syslog.*``; the header's program, which names the sender
    (a relay, audisp-syslog, sysmon), becomes ``log.syslog.appname`` / ``procid``."""
    header.pop("message", None)
    name, pid = header.pop("process.name", None), header.pop("process.pid", None)
    if name is not None:
        header.setdefault("log.syslog.appname", name)
    if pid is not None:
        header.setdefault("log.syslog.procid", str(pid))
    for key, value in header.items():
        if key not in body or key.startswith("log.syslog."):
            body[key] = value
    return body
