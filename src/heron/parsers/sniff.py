"""Which vendor format a record is, from its first characters (for ``--format auto``).

Cheap substring checks only, on the head of the record: this runs once per line before
any parser. A record no check recognises gets None, and the generic formats (``json``,
``syslog``) take it. Checks are ordered so that the more specific wins: a Wazuh-wrapped
Office 365 record is JSON too, and a FortiGate line is also ``key=value``.
"""

from __future__ import annotations

from heron.parsers.apache_error import is_apache_error

__all__ = ["sniff_vendor_format"]

_HEAD = 4096
_ASA_TAGS = ("%ASA-", "%FTD-", "%PIX-", "%FWSM-")
_CLOUDTRAIL_FIRST = ('{"eventVersion"', '{ "eventVersion"')
_PANOS_TYPES = (",TRAFFIC,", ",THREAT,", ",SYSTEM,", ",CONFIG,", ",GLOBALPROTECT,")


def _json_format(head: str) -> str | None:
    # A CloudTrail record on its own line (a shipper forwarding ``Records`` one by one):
    # AWS writes ``eventVersion`` first. A record wrapped by another tool (Wazuh's
    # ``{"integration": "aws", ...}``) does not start so and stays generic JSON.
    if head.startswith(_CLOUDTRAIL_FIRST) and '"eventSource"' in head:
        return "cloudtrail"
    if '"event_type"' in head and ('"src_ip"' in head or '"flow_id"' in head):
        return "suricata"
    if '"protoPayload"' in head:
        return "gcp_audit"
    if '"eventType"' in head and '"actor"' in head:
        return "okta"
    if '"integration":"office365"' in head or ('"Workload"' in head and '"Operation"' in head):
        return "o365"
    if '"operationName"' in head and ('"resourceId"' in head or '"category"' in head):
        return "azure"
    if '"id.orig_h"' in head or ('"_path"' in head and '"uid"' in head):
        return "zeek"
    if "gen_ai." in head and ('"startTimeUnixNano"' in head or '"timeUnixNano"' in head):
        return "otel_genai"
    return None


def _is_access_log(head: str) -> bool:
    if head.startswith("["):
        # Apache's ssl_request_log: ``[time] client TLSv1.2 CIPHER "request" bytes``.
        close_at = head.find("] ")
        stamp = head[1:close_at] if close_at > 0 else ""
        if stamp.count("/") == 2 and stamp.count(":") >= 3 and '"' in head[close_at:]:
            return True
    open_at = head.find(" [")
    if open_at < 0 and not head.startswith("["):
        return False
    close_at = head.find('] "', max(open_at, 0))
    if close_at < 0:
        return False
    stamp = head[(open_at + 2 if open_at >= 0 else 1) : close_at]
    return stamp.count("/") == 2 and stamp.count(":") >= 3


def sniff_vendor_format(record: str) -> str | None:
    """The vendor format name of ``record``, or None if no vendor format claims it."""
    head = record[:_HEAD].lstrip()
    if not head:
        return None
    brace = head.find("{")
    if brace == 0 or (0 < brace < 200 and head.endswith("}")):
        return _json_format(head[brace:])
    front = head[:200]
    # The one-character guards skip the tag loops for the plain syslog lines that
    # make up most input (this runs once per record).
    if "%" in front and any(tag in front for tag in _ASA_TAGS):
        return "cisco_asa"
    if "logid=" in head and "devid=" in head:
        return "fortigate"
    if "," in front and any(kind in front for kind in _PANOS_TYPES):
        from heron.parsers.panos import record_start

        if record_start(head) >= 0:
            return "panos"
    if head[0] == "[" and is_apache_error(head):
        return "apache_error"
    if _is_access_log(head):
        return "web_access"
    return None
