"""Parsers, one format a module, and the registry that names them.

The registry is an explicit table (no import-time registration): a format name, as
used by ``--format`` and in configuration, maps to the class that parses it. Classes are
imported on first use so that starting Heron does not import every format.
"""

from __future__ import annotations

import importlib
from functools import cache

from heron.errors import ConfigError
from heron.parsers.base import ParseContext, Parser
from heron.parsers.sniff import sniff_vendor_format

__all__ = ["FORMATS", "LINE_FORMATS", "ParseContext", "Parser", "detect_line_format", "get_parser"]

#: format name → "module:Class"
FORMATS: dict[str, str] = {
    "syslog": "heron.parsers.syslog:SyslogParser",
    "rfc3164": "heron.parsers.rfc3164:Rfc3164Parser",
    "rfc5424": "heron.parsers.rfc5424:Rfc5424Parser",
    "cef": "heron.parsers.cef:CefParser",
    "leef": "heron.parsers.leef:LeefParser",
    "auditd": "heron.parsers.auditd:AuditdParser",
    "json": "heron.parsers.json:JsonParser",
    "evtx": "heron.parsers.windows:WindowsEventParser",
    "windows_xml": "heron.parsers.winxml:WindowsXmlParser",
    "cloudtrail": "heron.parsers.cloudtrail:CloudTrailParser",
    "kv": "heron.parsers.kv:KvParser",
    "fortigate": "heron.parsers.fortigate:FortiGateParser",
    "cisco_asa": "heron.parsers.cisco_asa:CiscoAsaParser",
    "panos": "heron.parsers.panos:PanOsParser",
    "apache_access": "heron.parsers.web_access:ApacheAccessParser",
    "apache_error": "heron.parsers.apache_error:ApacheErrorParser",
    "iis": "heron.parsers.w3c:W3cParser",
    "nginx_access": "heron.parsers.web_access:NginxAccessParser",
    "web_access": "heron.parsers.web_access:WebAccessParser",
    "suricata": "heron.parsers.suricata:SuricataEveParser",
    "zeek": "heron.parsers.zeek:ZeekParser",
    "azure": "heron.parsers.azure:AzureParser",
    "gcp_audit": "heron.parsers.gcp:GcpAuditParser",
    "okta": "heron.parsers.okta:OktaParser",
    "o365": "heron.parsers.o365:Office365Parser",
    "otel_genai": "heron.parsers.otel_genai:OtelGenAiParser",
}

#: Formats read line by line from a file (the others have their own file readers).
LINE_FORMATS = frozenset(
    {"syslog", "rfc3164", "rfc5424", "cef", "leef", "auditd", "json", "windows_xml"}
)
# Vendor formats of one record a line (Zeek TSV and Azure {"records": [...]} files need
# their readers: heron.parsers.zeek.iter_zeek_tsv_records, heron.parsers.azure.iter_azure_records).
LINE_FORMATS |= {
    "kv", "fortigate", "cisco_asa", "panos", "apache_access", "apache_error", "nginx_access",
    "web_access", "suricata", "zeek", "azure", "gcp_audit", "okta", "o365", "otel_genai",
}  # fmt: skip


@cache
def get_parser(name: str) -> Parser:
    """The parser for a format name; ``ConfigError`` for an unknown one."""
    try:
        target = FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ConfigError(f"unknown format {name!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    parser: Parser = getattr(importlib.import_module(module_name), class_name)()
    return parser


def detect_line_format(line: str) -> str:
    """The format of one text line, from its first characters."""
    head = line.lstrip()[:8]
    if head.startswith("CEF:"):
        return "cef"
    if head.startswith("LEEF:"):
        return "leef"
    if head.startswith(("type=", "node=")):
        return "auditd"
    if head.startswith(("<Event", "<?xml")):
        return "windows_xml"
    return sniff_vendor_format(line) or ("json" if head.startswith("{") else "syslog")
