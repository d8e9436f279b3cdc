"""Palo Alto Networks PAN-OS syslog in the default CSV layout (PAN-OS 10.x / 11.x).

A record is ``FUTURE_USE,Receive Time,Serial Number,Type,Subtype,…`` with the columns
of its type (TRAFFIC, THREAT, SYSTEM, CONFIG, GLOBALPROTECT) in the order of the
PAN-OS "Syslog Field Descriptions". Columns are kept under PAN-OS's own field names
(``src``, ``dst``, ``rule``, ``srcuser``, ``threatid``, ``misc`` …, the names used in
custom log formats); FUTURE_USE columns are dropped and columns past the documented
ones are kept in order in ``panos.unnamed_fields``. Later PAN-OS releases only append
columns, so older and newer layouts read the same way.

Times in the record are the firewall's local time without a zone: they are read in
``ParseContext.timezone``; ``high_res_timestamp`` (ISO with zone) wins when present.
``event.module`` is ``paloalto`` (the Sigma product name) and ``event.dataset``
``paloalto.<type>``.
"""

from __future__ import annotations

import csv

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.envelope import unwrap
from heron.parsers.fields import as_int, is_ip, put, put_int, transport
from heron.parsers.json import coerce_core_fields, parse_time_value
from heron.parsers.syslog_time import TimeFieldError, iso_to_ns

__all__ = ["LAYOUTS", "PanOsParser", "record_start"]

_F = ""  # FUTURE_USE: a column the layout skips
_HEAD = ("_", "receive_time", "serial", "type", "subtype", _F, "time_generated")
_SESSION = (
    "src", "dst", "natsrc", "natdst", "rule", "srcuser", "dstuser", "app", "vsys", "from",
    "to", "inbound_if", "outbound_if", "logset", _F, "sessionid", "repeatcnt", "sport",
    "dport", "natsport", "natdport", "flags", "proto", "action",
)  # fmt: skip
_DG = ("dg_hier_level_1", "dg_hier_level_2", "dg_hier_level_3", "dg_hier_level_4")
_DEVICE_ID = (
    "category", "profile", "model", "vendor", "osfamily", "osversion", "host", "mac",
)  # fmt: skip

LAYOUTS: dict[str, tuple[str, ...]] = {
    "TRAFFIC": (
        *_HEAD, *_SESSION,
        "bytes", "bytes_sent", "bytes_received", "packets", "start", "elapsed", "category",
        _F, "seqno", "actionflags", "srcloc", "dstloc", _F, "pkts_sent", "pkts_received",
        "session_end_reason", *_DG, "vsys_name", "device_name", "action_source", "src_uuid",
        "dst_uuid", "tunnelid", "monitortag", "parent_session_id", "parent_start_time",
        "tunnel", "assoc_id", "chunks", "chunks_sent", "chunks_received", "rule_uuid",
        "http2_connection", "link_change_count", "policy_id", "link_switches",
        "sdwan_cluster", "sdwan_device_type", "sdwan_cluster_type", "sdwan_site",
        "dynusergroup_name", "xff_ip", *(f"src_{n}" for n in _DEVICE_ID),
        *(f"dst_{n}" for n in _DEVICE_ID), "container_id", "pod_namespace", "pod_name",
        "src_edl", "dst_edl", "hostid", "serialnumber", "src_dag", "dst_dag",
        "session_owner", "high_res_timestamp",
    ),
    "THREAT": (
        *_HEAD, *_SESSION,
        "misc", "threatid", "category", "severity", "direction", "seqno", "actionflags",
        "srcloc", "dstloc", _F, "contenttype", "pcap_id", "filedigest", "cloud", "url_idx",
        "user_agent", "filetype", "xff", "referer", "sender", "subject", "recipient",
        "reportid", *_DG, "vsys_name", "device_name", _F, "src_uuid", "dst_uuid",
        "http_method", "tunnel_id", "monitortag", "parent_session_id", "parent_start_time",
        "tunnel", "thr_category", "contentver", _F, "assoc_id", "ppid", "http_headers",
        "url_category_list", "rule_uuid", "http2_connection", "dynusergroup_name", "xff_ip",
        *(f"src_{n}" for n in _DEVICE_ID), *(f"dst_{n}" for n in _DEVICE_ID),
        "container_id", "pod_namespace", "pod_name", "src_edl", "dst_edl", "hostid",
        "serialnumber", "domain_edl", "src_dag", "dst_dag", "partial_hash",
        "high_res_timestamp", "reason", "justification",
    ),
    "SYSTEM": (
        *_HEAD,
        "vsys", "eventid", "object", _F, _F, "module", "severity", "opaque", "seqno",
        "actionflags", *_DG, "vsys_name", "device_name",
    ),
    "CONFIG": (
        *_HEAD,
        "host", "vsys", "cmd", "admin", "client", "result", "path", "before_change_detail",
        "after_change_detail", "seqno", "actionflags", *_DG, "vsys_name", "device_name",
    ),
    "GLOBALPROTECT": (
        *_HEAD,
        "vsys", "eventid", "stage", "auth_method", "tunnel_type", "srcuser", "srcregion",
        "machinename", "public_ip", "public_ipv6", "private_ip", "private_ipv6", "hostid",
        "serialnumber", "client_ver", "client_os", "client_os_ver", "repeatcnt", "reason",
        "error", "opaque", "status", "location", "login_duration", "connect_method",
        "error_code", "portal", "seqno", "actionflags", "high_res_timestamp",
        "selection_type", "response_time", "priority", "attempted_gateways", "gateway",
        *_DG, "vsys_name", "device_name", "vsys_id",
    ),
}  # fmt: skip
# CONFIG records sent without the change details (the default on many releases).
_CONFIG_SHORT = tuple(n for n in LAYOUTS["CONFIG"] if "change_detail" not in n)
_ALLOW = frozenset({"allow", "alert", "continue", "override"})
_SEVERITY = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_THREAT_CATEGORIES = {
    "url": ["network", "web"],
    "file": ["network", "file"],
    "data": ["network"],
    "virus": ["malware", "intrusion_detection", "network"],
    "wildfire-virus": ["malware", "intrusion_detection", "network"],
    "wildfire": ["malware", "network"],
}
_NO_ADDRESS = frozenset({"0.0.0.0", "::"})


def _local_time(text: str, ctx: ParseContext) -> int | None:
    if len(text) < 19 or text[4:5] != "/" or text[7:8] != "/":
        return None
    try:
        return iso_to_ns(text[:4] + "-" + text[5:7] + "-" + text[8:], ctx.timezone)
    except TimeFieldError:
        return None


def record_start(raw: str) -> int:
    """Where the CSV record starts: the ``1,YYYY/MM/DD`` after any syslog header."""
    comma = raw.find(",")
    if comma < 0:
        return -1
    start = raw.rfind(" ", 0, comma) + 1
    head = raw[start:comma]
    date = raw[comma + 1 : comma + 11]
    if head.isdigit() and date[4:5] == "/" and date[7:8] == "/" and date[:4].isdigit():
        return start
    return -1


def _location(event: Event, side: str, text: str) -> None:
    """``US`` or ``United States``; private ranges (``10.0.0.0-10.255.255.255``) are no place."""
    if len(text) == 2 and text.isalpha() and text.isupper():
        event[f"{side}.geo.country_iso_code"] = text
    elif text and not any(c.isdigit() for c in text):
        event[f"{side}.geo.country_name"] = text


def _split_user(event: Event, prefix: str, text: str) -> None:
    domain, sep, name = text.rpartition("\\")
    event[f"{prefix}user.name"] = name if sep else text
    if sep and domain:
        event[f"{prefix}user.domain"] = domain


class PanOsParser:
    """One PAN-OS CSV record, bare or behind a syslog header."""

    name = "panos"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        start = record_start(raw)
        if start < 0:
            raise ParseError(
                "not a PAN-OS CSV record: expected 'N,YYYY/MM/DD hh:mm:ss,serial,TYPE,...'",
                parser=self.name,
            )
        header, body = unwrap(raw, start, ctx, self.name)
        try:
            columns = next(csv.reader([body], strict=True))
        except (csv.Error, StopIteration) as exc:
            raise ParseError(f"malformed CSV: {exc}", parser=self.name) from None
        if len(columns) < 7:
            raise ParseError(f"only {len(columns)} columns", parser=self.name)
        kind = columns[3].upper()
        layout = LAYOUTS.get(kind)
        if layout is None:
            layout = _HEAD
        elif kind == "CONFIG" and len(columns) > 15 and columns[15].startswith("0x"):
            layout = _CONFIG_SHORT
        event: Event = {"observer.hostname": header["host.name"]} if "host.name" in header else {}
        for name, value in zip(layout, columns, strict=False):
            if name and name != "_" and value != "":
                event[name] = value
        if len(columns) > len(layout):
            event["panos.unnamed_fields"] = columns[len(layout) :]
        for name in ("log.syslog.priority", "log.syslog.severity.code"):
            if name in header:
                event[name] = header[name]
        stamp = parse_time_value(event.get("high_res_timestamp"))
        if stamp is None:
            stamp = _local_time(columns[6], ctx) or _local_time(columns[1], ctx)
        event["@timestamp"] = stamp or header.get("@timestamp") or ctx.received
        event["event.module"] = "paloalto"
        event["event.dataset"] = f"paloalto.{kind.lower()}"
        event["event.kind"] = "event"
        event["observer.vendor"] = "Palo Alto Networks"
        event["observer.product"] = "PAN-OS"
        event["observer.type"] = "firewall"
        put(event, "observer.serial_number", event.get("serial"))
        put(event, "observer.name", event.get("device_name"))
        if kind in ("TRAFFIC", "THREAT"):
            self._session(event, kind)
        elif kind == "SYSTEM":
            self._system(event)
        elif kind == "CONFIG":
            self._config(event)
        elif kind == "GLOBALPROTECT":
            self._globalprotect(event)
        coerce_core_fields(event)
        return event

    @staticmethod
    def _session(event: Event, kind: str) -> None:
        # NAT columns repeat the original value when only the other side is translated.
        for side, key, nat in (("source", "src", "natsrc"), ("destination", "dst", "natdst")):
            put(event, f"{side}.ip", event.get(key))
            if event.get(nat) not in (None, event.get(key), *_NO_ADDRESS):
                event[f"{side}.nat.ip"] = event[nat]
        put_int(event, "source.port", event.get("sport"))
        put_int(event, "destination.port", event.get("dport"))
        for side, key in (("source", "natsport"), ("destination", "natdport")):
            port = as_int(event.get(key))
            if port and port != event.get(f"{side}.port"):
                event[f"{side}.nat.port"] = port
        put(event, "network.transport", transport(event.get("proto")))
        put(event, "network.application", event.get("app"))
        put(event, "rule.name", event.get("rule"))
        put(event, "rule.uuid", event.get("rule_uuid"))
        put(event, "observer.ingress.zone", event.get("from"))
        put(event, "observer.egress.zone", event.get("to"))
        put(event, "observer.ingress.interface.name", event.get("inbound_if"))
        put(event, "observer.egress.interface.name", event.get("outbound_if"))
        for side, key in (("source", "srcloc"), ("destination", "dstloc")):
            _location(event, side, str(event.get(key, "")))
        if event.get("srcuser"):
            _split_user(event, "source.", event["srcuser"])
            _split_user(event, "", event["srcuser"])
        if event.get("dstuser"):
            _split_user(event, "destination.", event["dstuser"])
        action = str(event.get("action", "")).lower()
        put(event, "event.action", action or None)
        allowed = action in _ALLOW
        if action:
            event["event.outcome"] = "success" if allowed else "failure"
        subtype = str(event.get("subtype", "")).lower()
        if kind == "TRAFFIC":
            event["event.category"] = ["network"]
            types = {"start": ["connection", "start"], "end": ["connection", "end"]}
            event["event.type"] = types.get(subtype, ["connection"])
            if not allowed:
                event["event.type"] = ["connection", "denied"]
            for name, key in (
                ("network.bytes", "bytes"),
                ("source.bytes", "bytes_sent"),
                ("destination.bytes", "bytes_received"),
                ("network.packets", "packets"),
                ("source.packets", "pkts_sent"),
                ("destination.packets", "pkts_received"),
            ):
                put_int(event, name, event.get(key))
            elapsed = as_int(event.get("elapsed"))
            if elapsed is not None:
                event["event.duration"] = elapsed * 1_000_000_000
            put(event, "event.reason", event.get("session_end_reason"))
            return
        PanOsParser._threat(event, subtype, allowed)

    @staticmethod
    def _threat(event: Event, subtype: str, allowed: bool) -> None:
        event["event.category"] = list(
            _THREAT_CATEGORIES.get(subtype, ["intrusion_detection", "network"])
        )
        event["event.type"] = ["allowed" if allowed else "denied"]
        if subtype != "url":
            event["event.kind"] = "alert"
        threat = str(event.get("threatid", ""))
        name, paren, number = threat.rpartition("(")
        if paren and number.endswith(")"):
            put(event, "panw.panos.threat.name", name.strip() or None)
            put(event, "panw.panos.threat.id", number[:-1] or None)
            put(event, "rule.id", number[:-1] or None)
        elif threat:
            event["panw.panos.threat.name"] = threat
        put(event, "panw.panos.threat.category", event.get("thr_category"))
        severity = str(event.get("severity", "")).lower()
        if severity in _SEVERITY:
            event["log.level"] = severity
            event["event.severity"] = _SEVERITY[severity]
        misc = event.get("misc")
        if misc:
            if subtype == "url":
                event["url.original"] = misc
            elif subtype in ("file", "virus", "wildfire", "wildfire-virus"):
                event["file.name"] = misc
        put(event, "file.hash.sha256", event.get("filedigest"))
        put(event, "user_agent.original", event.get("user_agent"))
        method = event.get("http_method")
        put(event, "http.request.method", method.upper() if isinstance(method, str) else None)
        put(event, "http.request.referrer", event.get("referer"))
        put(event, "network.direction", event.get("direction"))

    @staticmethod
    def _system(event: Event) -> None:
        eventid = str(event.get("eventid", ""))
        put(event, "event.action", eventid or None)
        put(event, "message", event.get("opaque"))
        severity = str(event.get("severity", "")).lower()
        if severity in _SEVERITY:
            event["log.level"] = severity
            event["event.severity"] = _SEVERITY[severity]
        opaque = str(event.get("opaque", ""))
        client = opaque.partition("From: ")[2].split(" ")[0].rstrip(".")
        if is_ip(client):
            event["source.ip"] = client
        user = opaque.partition("for user '")[2].partition("'")[0]
        put(event, "user.name", user or None)
        if eventid.startswith("auth-") or str(event.get("subtype")) in ("auth", "userid"):
            event["event.category"] = ["authentication"]
            if "fail" in eventid:
                event["event.outcome"] = "failure"
            elif "success" in eventid:
                event["event.outcome"] = "success"

    @staticmethod
    def _config(event: Event) -> None:
        put(event, "event.action", event.get("cmd"))
        put(event, "user.name", event.get("admin"))
        host = str(event.get("host", ""))
        if is_ip(host):
            event["source.ip"] = host
        event["event.category"] = ["configuration"]
        event["event.type"] = ["change"]
        result = str(event.get("result", "")).lower()
        if result in ("succeeded", "submitted"):
            event["event.outcome"] = "success"
        elif result == "failed":
            event["event.outcome"] = "failure"

    @staticmethod
    def _globalprotect(event: Event) -> None:
        eventid = str(event.get("eventid", ""))
        put(event, "event.action", eventid or None)
        if event.get("srcuser"):
            _split_user(event, "", event["srcuser"])
            _split_user(event, "source.", event["srcuser"])
        public = event.get("public_ip") or event.get("public_ipv6")
        if public and public not in _NO_ADDRESS:
            event["source.ip"] = public
        put(event, "host.name", event.get("machinename"))
        put(event, "message", event.get("opaque"))
        put(event, "event.reason", event.get("reason") or event.get("error"))
        status = str(event.get("status", "")).lower()
        if status in ("success", "failure"):
            event["event.outcome"] = status
        auth = "auth" in eventid or event.get("stage") in ("login", "logout")
        event["event.category"] = ["authentication"] if auth else ["network", "session"]
        if event.get("login_duration") and (seconds := as_int(event["login_duration"])):
            event["event.duration"] = seconds * 1_000_000_000
