"""The emitter: what every generator writes through, keeping records and their labels."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from heron.simulate import formats
from heron.simulate.company import Company, Host
from heron.simulate.records import Record

__all__ = ["SEC", "Emitter"]

SEC = 1_000_000_000
_SECURITY = ("Security", "Microsoft-Windows-Security-Auditing")
_SYSMON = ("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon")


class Emitter:
    """Appends records of every source; inside ``labelled`` they belong to a chain step."""

    def __init__(self, company: Company, rng: random.Random) -> None:
        self.company = company
        self.rng = rng
        self.records: list[Record] = []
        self._chain: str | None = None
        self._step: str | None = None
        self._conn_id = rng.randint(100_000, 900_000)

    @contextmanager
    def labelled(self, chain: str, step: str) -> Iterator[None]:
        """Records emitted inside belong to ``chain``'s ``step``."""
        saved = self._chain, self._step
        self._chain, self._step = chain, step
        try:
            yield
        finally:
            self._chain, self._step = saved

    def _add(self, ns: int, source: str, text: str, marker: str) -> None:
        self.records.append(Record(ns, source, text, marker, self._chain, self._step))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex_id(self, nbytes: int) -> str:
        return f"{self.rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def connection_id(self) -> int:
        self._conn_id += 1
        return self._conn_id

    # -- Windows ---------------------------------------------------------------------

    def security(self, host: Host, ns: int, event_id: int, data: dict[str, str]) -> None:
        text, marker = formats.winlogbeat_event(host, ns, event_id, *_SECURITY, data)
        self._add(ns, "windows", text, marker)

    def log_cleared(self, host: Host, ns: int, user: str, domain: str) -> None:
        data = {"SubjectUserName": user, "SubjectDomainName": domain, "SubjectLogonId": "0x3e7a2"}
        text, marker = formats.winlogbeat_event(
            host, ns, 1102, "Security", "Microsoft-Windows-Eventlog", data, user_data=True
        )
        self._add(ns, "windows", text, marker)

    def sysmon(self, host: Host, ns: int, event_id: int, data: dict[str, str]) -> None:
        body = {"RuleName": "-", "UtcTime": formats.iso_ms(ns)[:-1].replace("T", " "), **data}
        text, marker = formats.winlogbeat_event(host, ns, event_id, *_SYSMON, body)
        self._add(ns, "windows", text, marker)

    def process_guid(self) -> str:
        u = self.uuid()
        return "{" + u + "}"

    # -- Linux -----------------------------------------------------------------------

    def auth(self, host: Host, ns: int, program: str, pid: int | None, message: str) -> None:
        line = formats.syslog_line(ns, host.name, program, pid, message)
        self._add(ns, "linux_auth", line, line)

    def audit(self, host: Host, ns: int, kind: str, body: str) -> None:
        text, marker = formats.auditd_line(host, ns, kind, body)
        self._add(ns, "linux_audit", text, marker)

    # -- network ---------------------------------------------------------------------

    def asa(self, ns: int, severity: int, message_id: str, text: str) -> None:
        line = formats.asa_line(ns, "fw-edge01", severity, message_id, text)
        self._add(ns, "firewall_asa", line, line)

    def cef(self, ns: int, ext: dict[str, object], *, deny: bool = False) -> None:
        name = "traffic:forward deny" if deny else "traffic:forward close"
        line = formats.cef_line(ns, "fw-core01", "0000000013", name, 3 if not deny else 4, ext)
        self._add(ns, "firewall_cef", line, line)

    def web(self, ns: int, **fields: Any) -> None:
        line = formats.web_access_line(ns, **fields)
        self._add(ns, "web", line, line)

    # -- cloud and agents ------------------------------------------------------------

    def cloudtrail(self, ns: int, record: dict[str, Any]) -> None:
        record = {"eventVersion": "1.09", **record, "eventTime": formats.iso_ms(ns)[:19] + "Z"}
        record.setdefault("eventID", self.uuid())
        record.setdefault("requestID", self.uuid())
        text, marker = formats.cloudtrail_record(record)
        self._add(ns, "cloudtrail", text, marker)

    def azure_signin(self, ns: int, record: dict[str, Any]) -> None:
        text = formats.json_line(record)
        self._add(ns, "azure", text, f'"id":"{record["properties"]["id"]}"')

    def span(self, span: dict[str, Any]) -> None:
        ns = int(span["startTimeUnixNano"])
        text = formats.json_line(span)
        self._add(ns, "genai", text, f'"spanId":"{span["spanId"]}"')
