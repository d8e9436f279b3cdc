"""Fortinet FortiGate (FortiOS) ``key=value`` logs, vendor fields and ECS.

FortiOS writes ``date=… time=… devname="…" devid="…" logid="…" type=… subtype=…``;
every pair is kept under its FortiOS name (``srcip``, ``action``, ``cfgpath`` …, the
names SigmaHQ's ``product: fortigate`` rules use) and the ECS fields are filled from
them. ``eventtime`` (seconds, microseconds or nanoseconds by FortiOS version) is read
first for ``@timestamp``; else ``date`` + ``time`` in the zone of ``tz`` (``+0100``) or
of the context. ``event.dataset`` is ``fortigate.<type>`` (``traffic``, ``event``,
``utm``) so Sigma's ``service: event`` routes by it.
"""

from __future__ import annotations

from datetime import timedelta, timezone

from heron.errors import ParseError
from heron.model.event import Event
from heron.model.timeutil import parse_timestamp
from heron.parsers.base import ParseContext
from heron.parsers.fields import as_int, put, put_int, transport
from heron.parsers.json import coerce_core_fields, parse_time_value
from heron.parsers.kv import split_kv

__all__ = ["FortiGateParser"]

_ALLOWED = frozenset({"accept", "start", "close", "timeout", "pass", "passthrough", "permit"})
_DENIED = frozenset({"deny", "block", "blocked", "drop", "dropped", "reset", "reject"})
_SUCCESS = frozenset({"success", "succeeded", "ok", "allowed"})
_FAILURE = frozenset({"failed", "failure", "fail", "denied", "error", "negotiate_error"})
# ``utm`` subtypes → ECS categories.
_UTM_CATEGORIES = {
    "ips": ["intrusion_detection", "network"],
    "anomaly": ["intrusion_detection", "network"],
    "virus": ["malware"],
    "webfilter": ["network", "web"],
    "app-ctrl": ["network"],
    "dns": ["network"],
    "dlp": ["network"],
    "waf": ["intrusion_detection", "web"],
    "ssl": ["network"],
}
_LEVELS = {  # FortiOS level → syslog severity number
    "emergency": 0,
    "alert": 1,
    "critical": 2,
    "error": 3,
    "warning": 4,
    "notice": 5,
    "information": 6,
    "debug": 7,
}


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None
    body = text.strip().replace(":", "")
    if len(body) == 5 and body[0] in "+-" and body[1:].isdigit():
        sign = 1 if body[0] == "+" else -1
        return timezone(sign * timedelta(hours=int(body[1:3]), minutes=int(body[3:5])))
    return None


def _timestamp(pairs: dict[str, str], ctx: ParseContext) -> int:
    if "eventtime" in pairs:
        ns = parse_time_value(pairs["eventtime"])
        if ns is not None:
            return ns
    date, clock = pairs.get("date"), pairs.get("time")
    if date and clock:
        tz = _zone(pairs.get("tz")) or ctx.timezone
        try:
            return parse_timestamp(f"{date}T{clock}", tz)
        except (ValueError, OverflowError):
            pass
    return ctx.received


def _category(kind: str, subtype: str, pairs: dict[str, str]) -> list[str]:
    if kind == "traffic":
        return ["network"]
    if kind == "utm":
        return list(_UTM_CATEGORIES.get(subtype, ["network"]))
    action = pairs.get("action", "").lower()
    if "login" in action or "logout" in action or "auth" in action:
        return ["authentication"]
    if pairs.get("cfgpath") or action in ("add", "edit", "delete"):
        return ["configuration"]
    if subtype == "vpn":
        return ["network"]
    return []


def _outcome(pairs: dict[str, str], action: str) -> str | None:
    status = pairs.get("status", "").lower()
    if status in _SUCCESS:
        return "success"
    if status in _FAILURE:
        return "failure"
    if action in _DENIED or action.endswith("-fail") or "fail" in action:
        return "failure"
    if action in _ALLOWED:
        return "success"
    return None


class FortiGateParser:
    """One FortiGate log record (bare, ``<PRI>``-prefixed or behind a syslog header)."""

    name = "fortigate"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        record = split_kv(raw)
        pairs = record.pairs
        if "logid" not in pairs and "devid" not in pairs:
            raise ParseError("not a FortiGate log: no logid or devid pair", parser=self.name)
        event: Event = dict(pairs)
        leading = record.leading
        if leading.startswith("<") and leading.endswith(">") and leading[1:-1].isdigit():
            event["log.syslog.priority"] = int(leading[1:-1])
        elif leading:
            event["kv.leading_text"] = leading
        event["@timestamp"] = _timestamp(pairs, ctx)
        kind = pairs.get("type", "").lower()
        subtype = pairs.get("subtype", "").lower()
        event["event.module"] = "fortigate"
        event["event.dataset"] = f"fortigate.{kind or 'log'}"
        event["observer.vendor"] = "Fortinet"
        event["observer.product"] = "FortiGate"
        event["observer.type"] = "firewall"
        put(event, "observer.name", pairs.get("devname"))
        put(event, "observer.serial_number", pairs.get("devid"))
        put(event, "observer.ingress.interface.name", pairs.get("srcintf"))
        put(event, "observer.egress.interface.name", pairs.get("dstintf"))
        put(event, "event.code", pairs.get("logid"))
        level = pairs.get("level", "").lower()
        put(event, "log.level", level or None)
        if level in _LEVELS:
            event["event.severity"] = _LEVELS[level]
        put(event, "message", pairs.get("msg") or pairs.get("logdesc"))
        put(event, "event.reason", pairs.get("reason"))
        self._network(event, pairs)
        action = pairs.get("action", "").lower()
        put(event, "event.action", action or pairs.get("logdesc"))
        outcome = _outcome(pairs, action)
        if outcome is not None:
            event["event.outcome"] = outcome
        if action in _DENIED:
            event["event.type"] = ["denied"]
        elif kind == "traffic" and action in _ALLOWED:
            event["event.type"] = ["allowed", "connection"]
        categories = _category(kind, subtype, pairs)
        if categories:
            event["event.category"] = categories
        event["event.kind"] = "event"
        if kind == "utm" and subtype in ("ips", "anomaly", "virus", "waf"):
            event["event.kind"] = "alert"
            put(event, "rule.name", pairs.get("attack") or pairs.get("virus"))
            put(event, "rule.id", pairs.get("attackid") or pairs.get("virusid"))
            put(event, "rule.reference", pairs.get("ref"))
        else:
            put(event, "rule.id", pairs.get("policyid"))
            put(event, "rule.name", pairs.get("policyname"))
            put(event, "rule.uuid", pairs.get("poluuid"))
        user = pairs.get("user") or pairs.get("unauthuser") or pairs.get("srcuser")
        put(event, "user.name", user)
        put(event, "group.name", pairs.get("group"))
        if "hostname" in pairs or "url" in pairs:
            put(event, "url.domain", pairs.get("hostname"))
            put(event, "url.original", pairs.get("url"))
        put(event, "user_agent.original", pairs.get("agent"))
        put(event, "file.name", pairs.get("filename"))
        coerce_core_fields(event)
        return event

    @staticmethod
    def _network(event: Event, pairs: dict[str, str]) -> None:
        put(event, "source.ip", pairs.get("srcip") or pairs.get("remip"))
        put_int(event, "source.port", pairs.get("srcport"))
        put(event, "source.mac", pairs.get("srcmac"))
        put(event, "destination.ip", pairs.get("dstip"))
        put_int(event, "destination.port", pairs.get("dstport"))
        put(event, "destination.mac", pairs.get("dstmac"))
        put(event, "source.nat.ip", pairs.get("transip"))
        put_int(event, "source.nat.port", pairs.get("transport"))
        put(event, "destination.nat.ip", pairs.get("tranip"))
        put_int(event, "destination.nat.port", pairs.get("tranport"))
        put_int(event, "source.bytes", pairs.get("sentbyte"))
        put_int(event, "destination.bytes", pairs.get("rcvdbyte"))
        put_int(event, "source.packets", pairs.get("sentpkt"))
        put_int(event, "destination.packets", pairs.get("rcvdpkt"))
        put(event, "source.geo.country_name", pairs.get("srccountry"))
        put(event, "destination.geo.country_name", pairs.get("dstcountry"))
        proto = transport(pairs.get("proto"))
        if proto is not None:
            event["network.transport"] = proto
            event["network.iana_number"] = pairs["proto"]
        put(event, "network.protocol", (pairs.get("service") or "").lower() or None)
        put(event, "network.application", (pairs.get("app") or "").lower() or None)
        duration = as_int(pairs.get("duration"))
        if duration is not None:
            event["event.duration"] = duration * 1_000_000_000
        sent, received = as_int(pairs.get("sentbyte")), as_int(pairs.get("rcvdbyte"))
        if sent is not None and received is not None:
            event["network.bytes"] = sent + received
