"""Suricata EVE JSON (``eve.json``): alert, dns, http, tls, flow, fileinfo, anomaly and more.

Every EVE key is kept flattened under ``suricata.eve.`` (``suricata.eve.alert.signature_id``,
``suricata.eve.dns.rrname``); lists of objects (DNS answers) are kept as JSON text. ECS
fields come from the documented EVE keys. Both DNS layouts are read: EVE version 2
(``dns.rrname``, ``dns.type``) and version 3 of Suricata 7+ (``dns.queries[]``).
``event.dataset`` is ``suricata.<event_type>`` so DNS events also reach Sigma ``dns``
rules. A syslog header in front of the JSON (EVE sent over syslog) is allowed.
"""

from __future__ import annotations

from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.envelope import unwrap
from heron.parsers.fields import as_int, is_ip, put, put_int, transport
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value

__all__ = ["PREFIX", "SuricataEveParser", "load_json_object"]

PREFIX = "suricata.eve."
_CATEGORIES = {
    "alert": ["intrusion_detection", "network"],
    "anomaly": ["intrusion_detection", "network"],
    "drop": ["intrusion_detection", "network"],
    "fileinfo": ["file", "network"],
    "http": ["network", "web"],
}


def load_json_object(raw: str, ctx: ParseContext, parser: str) -> tuple[dict[str, Any], Event]:
    """The JSON object of a line (a syslog header before ``{`` allowed) and the header."""
    text = raw.strip()
    header: Event = {}
    if not text.startswith("{"):
        brace = raw.find("{")
        if brace < 0:
            raise ParseError("no JSON object in the record", parser=parser)
        header, text = unwrap(raw, brace, ctx, parser)
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc}", parser=parser) from None
    if not isinstance(doc, dict):
        raise ParseError(f"expected a JSON object, got {type(doc).__name__}", parser=parser)
    return doc, header


def _obj(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _flow(event: Event, flow: dict[str, Any]) -> None:
    pairs = (
        ("source.packets", "pkts_toserver"),
        ("destination.packets", "pkts_toclient"),
        ("source.bytes", "bytes_toserver"),
        ("destination.bytes", "bytes_toclient"),
    )
    for name, key in pairs:
        put_int(event, name, flow.get(key))
    for total, a, b in (
        ("network.packets", "source.packets", "destination.packets"),
        ("network.bytes", "source.bytes", "destination.bytes"),
    ):
        if a in event and b in event:
            event[total] = event[a] + event[b]
    start, end = parse_time_value(flow.get("start")), parse_time_value(flow.get("end"))
    if start is not None:
        event["event.start"] = start
    if end is not None:
        event["event.end"] = end
        if start is not None and end >= start:
            event["event.duration"] = end - start
    put(event, "event.reason", flow.get("reason"))


def _dns(event: Event, dns: dict[str, Any]) -> None:
    query = dns
    queries = dns.get("queries")
    if isinstance(queries, list) and queries and isinstance(queries[0], dict):
        query = queries[0]  # EVE v3: dns.queries[]
    put(event, "dns.question.name", query.get("rrname") or dns.get("rrname"))
    put(event, "dns.question.type", query.get("rrtype") or dns.get("rrtype"))
    put(event, "dns.response_code", dns.get("rcode"))
    put(event, "dns.type", dns.get("type"))
    if "id" in dns:
        event["dns.id"] = str(dns["id"])
    resolved: list[str] = []
    answers = dns.get("answers")
    if isinstance(answers, list):
        resolved = [
            a["rdata"] for a in answers if isinstance(a, dict) and is_ip(str(a.get("rdata")))
        ]
    grouped = dns.get("grouped")
    if isinstance(grouped, dict):
        for rrtype in ("A", "AAAA"):
            values = grouped.get(rrtype)
            if isinstance(values, list):
                resolved.extend(v for v in values if isinstance(v, str) and is_ip(v))
    if resolved:
        event["dns.resolved_ip"] = list(dict.fromkeys(resolved))  # answers and grouped repeat


def _http(event: Event, http: dict[str, Any]) -> None:
    put(event, "url.domain", http.get("hostname"))
    url = http.get("url")
    if isinstance(url, str) and url:
        event["url.original"] = url
        path, question, query = url.partition("?")
        event["url.path"] = path
        if question:
            event["url.query"] = query
    put_int(event, "url.port", http.get("http_port"))
    put(event, "http.request.method", http.get("http_method"))
    put(event, "http.request.referrer", http.get("http_refer"))
    put(event, "user_agent.original", http.get("http_user_agent"))
    put(event, "http.response.mime_type", http.get("http_content_type"))
    put_int(event, "http.response.body.bytes", http.get("length"))
    status = as_int(http.get("status"))
    if status is not None:
        event["http.response.status_code"] = status
        event["event.outcome"] = "failure" if status >= 400 else "success"
    protocol = http.get("protocol")
    if isinstance(protocol, str) and protocol.startswith("HTTP/"):
        event["http.version"] = protocol[5:]


def _tls(event: Event, tls: dict[str, Any]) -> None:
    sni = tls.get("sni")
    if isinstance(sni, str) and sni:
        event["tls.client.server_name"] = sni
        event["destination.domain"] = sni
    version = tls.get("version")
    if isinstance(version, str) and " " in version:
        proto, _, number = version.partition(" ")
        event["tls.version_protocol"] = proto.lower()
        event["tls.version"] = number
    put(event, "tls.server.subject", tls.get("subject"))
    put(event, "tls.server.issuer", tls.get("issuerdn"))
    put(event, "tls.server.x509.serial_number", tls.get("serial"))
    fingerprint = tls.get("fingerprint")
    if isinstance(fingerprint, str) and fingerprint:
        event["tls.server.hash.sha1"] = fingerprint.replace(":", "").upper()
    for name, key in (("tls.server.not_before", "notbefore"), ("tls.server.not_after", "notafter")):
        put(event, name, tls.get(key))
    put(event, "tls.client.ja3", _obj(tls, "ja3").get("hash"))
    put(event, "tls.server.ja3s", _obj(tls, "ja3s").get("hash"))


def _fileinfo(event: Event, info: dict[str, Any]) -> None:
    name = info.get("filename")
    if isinstance(name, str) and name:
        event["file.path"] = name
        event["file.name"] = name.rpartition("/")[2] or name
    put_int(event, "file.size", info.get("size"))
    for algorithm in ("md5", "sha1", "sha256"):
        put(event, f"file.hash.{algorithm}", info.get(algorithm))


def _alert(event: Event, alert: dict[str, Any]) -> None:
    event["event.kind"] = "alert"
    if "signature_id" in alert:
        event["rule.id"] = str(alert["signature_id"])
    put(event, "rule.name", alert.get("signature"))
    put(event, "rule.category", alert.get("category"))
    put(event, "message", alert.get("signature"))
    put_int(event, "event.severity", alert.get("severity"))
    action = alert.get("action")
    put(event, "event.action", action)
    if action == "blocked":
        event["event.type"] = ["denied"]
    elif action == "allowed":
        event["event.type"] = ["allowed"]


class SuricataEveParser:
    """One EVE record."""

    name = "suricata"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        doc, header = load_json_object(raw, ctx, self.name)
        kind = doc.get("event_type")
        if not isinstance(kind, str) or not kind:
            raise ParseError("not a Suricata EVE record: no event_type", parser=self.name)
        flat = flatten_json(doc, max_depth=ctx.max_json_depth, parser=self.name)
        event: Event = {PREFIX + key: value for key, value in flat.items()}
        if "host.name" in header:
            event["observer.hostname"] = header["host.name"]
        stamp = parse_time_value(doc.get("timestamp"))
        event["@timestamp"] = stamp if stamp is not None else header.get("@timestamp", ctx.received)
        event["event.module"] = "suricata"
        event["event.dataset"] = f"suricata.{kind}"
        event["event.kind"] = "event"
        event["event.category"] = list(_CATEGORIES.get(kind, ["network"]))
        event["observer.vendor"] = "OISF"
        event["observer.product"] = "Suricata"
        event["observer.type"] = "ids"
        put(event, "observer.name", doc.get("host"))
        put(event, "observer.ingress.interface.name", doc.get("in_iface"))
        put(event, "source.ip", doc.get("src_ip"))
        put_int(event, "source.port", doc.get("src_port"))
        put(event, "destination.ip", doc.get("dest_ip"))
        put_int(event, "destination.port", doc.get("dest_port"))
        put(event, "network.transport", transport(doc.get("proto")))
        app_proto = doc.get("app_proto")
        if isinstance(app_proto, str) and app_proto not in ("failed", "unknown"):
            event["network.protocol"] = app_proto.lower()
        put(event, "network.community_id", doc.get("community_id"))
        put(event, "network.direction", doc.get("direction"))
        _flow(event, _obj(doc, "flow"))
        if kind == "alert":
            _alert(event, _obj(doc, "alert"))
        if kind == "dns" or "dns" in doc:
            _dns(event, _obj(doc, "dns"))
        if "http" in doc:
            _http(event, _obj(doc, "http"))
            if kind == "alert":  # the HTTP status says nothing of how the alert ended
                event.pop("event.outcome", None)
        if "tls" in doc:
            _tls(event, _obj(doc, "tls"))
        if kind == "fileinfo":
            _fileinfo(event, _obj(doc, "fileinfo"))
        if kind == "anomaly":
            anomaly = _obj(doc, "anomaly")
            put(event, "event.action", anomaly.get("event"))
            put(event, "message", anomaly.get("event"))
        if kind == "flow":
            event["event.type"] = ["connection", "end"]
        elif "event.type" not in event:
            event["event.type"] = ["protocol"] if kind in ("dns", "http", "tls") else ["info"]
        coerce_core_fields(event)
        return event
