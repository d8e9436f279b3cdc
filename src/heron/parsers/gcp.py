"""Google Cloud audit logs: a ``LogEntry`` whose ``protoPayload`` is an ``AuditLog``.

Every key is kept flattened under its own name (``protoPayload.methodName``,
``protoPayload.authenticationInfo.principalEmail``, ``resource.labels.project_id``)
down to ``FLAT_DEPTH`` levels. Entries exported through Pub/Sub arrive wrapped as
``{"data": {...}}``: they keep the ``data.`` prefix (SigmaHQ rules use both spellings)
and are read through it. ``gcp.audit.method_name`` repeats ``methodName`` (the name
other SigmaHQ GCP rules use), and ``protoPayload.authorizationInfo.permission`` /
``.granted`` / ``.resource`` list the checks of ``authorizationInfo`` so rules can match
one permission.
"""

from __future__ import annotations

from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.fields import is_ip, put
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value

__all__ = ["FLAT_DEPTH", "GcpAuditParser"]

FLAT_DEPTH = 5
_AUDIT_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"
_LOG_KINDS = {
    "activity": "activity",
    "data_access": "data_access",
    "system_event": "system_event",
    "policy": "policy",
}


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class GcpAuditParser:
    """One Cloud Audit Logs entry (``LogEntry`` JSON)."""

    name = "gcp_audit"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc}", parser=self.name) from None
        if not isinstance(doc, dict):
            raise ParseError("a LogEntry must be a JSON object", parser=self.name)
        entry = doc
        prefix = ""
        if "protoPayload" not in doc and isinstance(doc.get("data"), dict):
            entry, prefix = doc["data"], "data."
        payload = _obj(entry.get("protoPayload"))
        if not payload:
            raise ParseError("not a GCP audit log entry: no protoPayload", parser=self.name)
        event = flatten_json(
            doc, max_depth=ctx.max_json_depth, parser=self.name, flat_depth=FLAT_DEPTH
        )
        checks = [c for c in payload.get("authorizationInfo") or [] if isinstance(c, dict)]
        if checks:
            base = f"{prefix}protoPayload.authorizationInfo."
            event[base + "permission"] = [str(c.get("permission", "")) for c in checks]
            event[base + "resource"] = [str(c.get("resource", "")) for c in checks]
            event[base + "granted"] = [c.get("granted") is True for c in checks]
        stamp = parse_time_value(entry.get("timestamp")) or parse_time_value(
            entry.get("receiveTimestamp")
        )
        event["@timestamp"] = stamp if stamp is not None else ctx.received
        event["event.module"] = "gcp"
        event["event.dataset"] = "gcp.audit"
        event["event.kind"] = "event"
        event["cloud.provider"] = "gcp"
        method = payload.get("methodName")
        put(event, "event.action", method)
        put(event, "gcp.audit.method_name", method)
        put(event, "event.provider", payload.get("serviceName"))
        if payload.get("@type") not in (None, _AUDIT_TYPE):
            event["gcp.audit.type"] = payload["@type"]
        log_name = str(entry.get("logName", ""))
        kind = log_name.rpartition("%2F")[2] or log_name.rpartition("/")[2]
        if kind in _LOG_KINDS:
            event["gcp.audit.log_kind"] = _LOG_KINDS[kind]
        status = _obj(payload.get("status"))
        code = status.get("code")
        event["event.outcome"] = "success" if code in (None, 0) else "failure"
        put(event, "event.reason", status.get("message"))
        auth = _obj(payload.get("authenticationInfo"))
        email = auth.get("principalEmail")
        if isinstance(email, str) and email:
            event["user.email"] = email
            event["user.name"] = email
            event["user.domain"] = email.rpartition("@")[2] if "@" in email else None
            if event["user.domain"] is None:
                del event["user.domain"]
        put(event, "user.id", auth.get("principalSubject"))
        request_meta = _obj(payload.get("requestMetadata"))
        caller = request_meta.get("callerIp")
        if isinstance(caller, str) and is_ip(caller):
            event["source.ip"] = caller
        put(event, "user_agent.original", request_meta.get("callerSuppliedUserAgent"))
        labels = _obj(_obj(entry.get("resource")).get("labels"))
        put(event, "cloud.project.id", labels.get("project_id"))
        put(event, "cloud.availability_zone", labels.get("zone"))
        put(event, "cloud.region", labels.get("region") or labels.get("location"))
        put(event, "gcp.audit.resource_name", payload.get("resourceName"))
        severity = entry.get("severity")
        put(event, "log.level", severity.lower() if isinstance(severity, str) else None)
        coerce_core_fields(event)
        return event
