"""Generated records: one line of a source's native format, with its time and labels."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SOURCES", "Record", "Source"]


@dataclass(frozen=True, slots=True)
class Source:
    """A simulated log source: its file name and how the live sender ships it."""

    name: str
    filename: str
    #: ``syslog`` (TCP line), ``hec`` (JSON event), ``otlp`` (span), ``cloudtrail``
    transport: str


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("windows", "windows-winlogbeat.ndjson", "hec"),
        Source("linux_auth", "linux-auth.log", "syslog"),
        Source("linux_audit", "linux-audit.log", "syslog"),
        Source("firewall_asa", "firewall-asa.log", "syslog"),
        Source("firewall_cef", "firewall-cef.log", "syslog"),
        Source("web", "web-access.log", "syslog"),
        Source("cloudtrail", "aws-cloudtrail.json", "hec"),
        Source("azure", "azure-signinlogs.ndjson", "hec"),
        Source("genai", "genai-spans.ndjson", "otlp"),
    )
}


@dataclass(slots=True)
class Record:
    """One raw record as it is written: ``text`` is the line (no newline).

    ``marker`` is a substring of ``text`` that no other record holds; it survives
    parsing in ``event.original`` and is how labels find the stored event.
    """

    time_ns: int
    source: str
    text: str
    marker: str = ""
    chain: str | None = None
    step: str | None = None
