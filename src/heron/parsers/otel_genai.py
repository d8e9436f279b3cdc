"""AI-agent telemetry: OpenTelemetry GenAI spans and GenAI events (OTLP log records).

Input is one JSON object (the OTLP receiver extracts it, with its resource and scope):

* a span: ``{"traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano",
  "endTimeUnixNano", "attributes", "status", "events", "resource", "scope",
  "schemaUrl"}``;
* a log record: ``{"timeUnixNano", "observedTimeUnixNano", "severityText", "eventName",
  "body", "attributes", "traceId", "spanId", "resource", "schemaUrl"}`` whose event name
  (``eventName`` or the ``event.name`` attribute) starts with ``gen_ai.``.

``attributes`` and ``resource`` may be plain ``{name: value}`` objects or OTLP/JSON
``[{"key", "value": {"stringValue": …}}]`` lists. Attributes keep their semantic
convention names; older names are mapped to the current ones (the old key is kept
too) and the convention generation read is recorded in ``heron.gen_ai.semconv``: see
``docs/reference/genai.md`` for the versions handled and every ECS field set here.
"""

from __future__ import annotations

from typing import Any

import orjson

from heron.errors import ParseError
from heron.model.event import Event
from heron.parsers.base import ParseContext
from heron.parsers.fields import as_int, is_ip, put
from heron.parsers.json import coerce_core_fields, flatten_json, parse_time_value

__all__ = ["PROVIDER_RENAMES", "RENAMED_ATTRIBUTES", "OtelGenAiParser", "decode_attributes"]

#: Attributes renamed by the GenAI conventions: old name → current name.
RENAMED_ATTRIBUTES: dict[str, str] = {
    "gen_ai.system": "gen_ai.provider.name",  # 1.37.0
    "gen_ai.usage.prompt_tokens": "gen_ai.usage.input_tokens",  # 1.27.0
    "gen_ai.usage.completion_tokens": "gen_ai.usage.output_tokens",  # 1.27.0
    "gen_ai.openai.request.seed": "gen_ai.request.seed",
    "gen_ai.openai.request.response_format": "gen_ai.output.type",
}
#: ``gen_ai.system`` values whose ``gen_ai.provider.name`` spelling changed in 1.37.0.
PROVIDER_RENAMES: dict[str, str] = {
    "az.ai.inference": "azure.ai.inference",
    "az.ai.openai": "azure.ai.openai",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "xai": "x_ai",
}
_SPAN_KINDS = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
_NEW_MARKERS = ("gen_ai.provider.name", "gen_ai.input.messages", "gen_ai.output.messages")
_OLD_TOKEN_MARKERS = ("gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens")
_OLD_EVENTS = frozenset({"gen_ai.content.prompt", "gen_ai.content.completion"})
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
# Per-message events of 1.27-1.36, replaced by the details event in 1.37.
_MESSAGE_EVENTS = frozenset(
    {
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.assistant.message",
        "gen_ai.tool.message",
        "gen_ai.choice",
    }
)
_TYPE_BY_OPERATION = {"create_agent": ["creation"]}
_STRUCTURED = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")


def _any_value(value: Any) -> Any:
    """An OTLP/JSON ``AnyValue`` as a plain value (other values pass through)."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((kind, inner),) = value.items()
    if kind == "stringValue" or kind == "boolValue" or kind == "doubleValue":
        return inner
    if kind == "intValue":
        number = as_int(inner)
        return number if number is not None else inner
    if kind == "bytesValue":
        return inner
    if kind == "arrayValue":
        items = inner.get("values", []) if isinstance(inner, dict) else []
        return [_any_value(v) for v in items]
    if kind == "kvlistValue":
        items = inner.get("values", []) if isinstance(inner, dict) else []
        return decode_attributes(items)
    return value


def decode_attributes(value: Any) -> dict[str, Any]:
    """``{"k": v}`` or OTLP ``[{"key": k, "value": AnyValue}]`` as a plain dict."""
    if isinstance(value, dict):
        if isinstance(value.get("attributes"), list | dict) and len(value) <= 2:
            return decode_attributes(value["attributes"])  # an OTLP Resource object
        return {str(k): _any_value(v) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = _any_value(item.get("value"))
        return out
    return {}


def _hex_id(value: Any) -> str | None:
    if isinstance(value, str) and value and all(c in "0123456789abcdefABCDEF" for c in value):
        return None if set(value) == {"0"} else value.lower()
    return None


def _semconv(schema_url: Any, attrs: dict[str, Any], event_names: list[str]) -> str:
    if isinstance(schema_url, str) and "/schemas/" in schema_url:
        return schema_url.rstrip("/").rpartition("/")[2]
    if any(k in attrs for k in _NEW_MARKERS) or _DETAILS_EVENT in event_names:
        return "1.37+"
    if any(k in attrs for k in _OLD_TOKEN_MARKERS) or _OLD_EVENTS & set(event_names):
        return "1.26-"
    if "gen_ai.system" in attrs or _MESSAGE_EVENTS & set(event_names):
        return "1.27-1.36"
    return "1.27+"  # nothing here tells the generations apart


def _rename(event: Event, attrs: dict[str, Any]) -> list[str]:
    renamed: list[str] = []
    for old, new in RENAMED_ATTRIBUTES.items():
        if old in attrs and new not in attrs:
            value = attrs[old]
            if old == "gen_ai.system" and isinstance(value, str):
                value = PROVIDER_RENAMES.get(value, value)
            event[new] = value
            renamed.append(old)
    return renamed


def _keep_attributes(event: Event, attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        if isinstance(value, dict) or (isinstance(value, list) and key in _STRUCTURED):
            event[key] = orjson.dumps(value).decode()  # message arrays stay whole, as JSON
        elif isinstance(value, list) and not all(
            isinstance(v, str | int | float | bool) for v in value
        ):
            event[key] = orjson.dumps(value).decode()
        else:
            event[key] = value


def _network_and_identity(event: Event, attrs: dict[str, Any]) -> None:
    client = attrs.get("client.address")
    if isinstance(client, str) and client:
        event["source.ip" if is_ip(client) else "source.address"] = client
    put(event, "source.port", as_int(attrs.get("client.port")))
    server = attrs.get("server.address")
    if isinstance(server, str) and server:
        event["destination.address"] = server
        event["destination.ip" if is_ip(server) else "destination.domain"] = server
    put(event, "destination.port", as_int(attrs.get("server.port")))
    enduser = attrs.get("enduser.id") or attrs.get("user.id")
    if isinstance(enduser, str) and enduser:
        event["user.id"] = enduser
        event.setdefault("user.name", attrs.get("user.name") or enduser)


class OtelGenAiParser:
    """One GenAI span or GenAI event log record, as JSON text."""

    name = "otel_genai"

    def parse(self, raw: str, ctx: ParseContext) -> Event:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc}", parser=self.name) from None
        if not isinstance(doc, dict):
            raise ParseError("a span or log record must be a JSON object", parser=self.name)
        attrs = decode_attributes(doc.get("attributes"))
        resource = decode_attributes(doc.get("resource"))
        event: Event = {}
        _keep_attributes(event, resource)
        _keep_attributes(event, attrs)
        if "startTimeUnixNano" in doc or "endTimeUnixNano" in doc:
            event_names = self._span(event, doc)
        elif "timeUnixNano" in doc or "observedTimeUnixNano" in doc or "eventName" in doc:
            event_names = self._log_record(event, doc, attrs, ctx)
        else:
            raise ParseError(
                "neither a span (startTimeUnixNano) nor a log record (timeUnixNano)",
                parser=self.name,
            )
        for key, value in (("trace.id", doc.get("traceId")), ("span.id", doc.get("spanId"))):
            ident = _hex_id(value)
            if ident is not None:
                event[key] = ident
        scope = doc.get("scope")
        if isinstance(scope, dict):
            put(event, "otel.scope.name", scope.get("name"))
            put(event, "otel.scope.version", scope.get("version"))
        renamed = _rename(event, attrs)
        event["heron.gen_ai.semconv"] = _semconv(doc.get("schemaUrl"), attrs, event_names)
        if renamed:
            event["heron.gen_ai.renamed"] = renamed
        operation = event.get("gen_ai.operation.name")
        action = operation or attrs.get("mcp.method.name") or event.get("otel.event.name")
        put(event, "event.action", action or doc.get("name"))
        event["event.module"] = "otel"
        event["event.dataset"] = "gen_ai"
        event.setdefault("event.kind", "event")
        event["event.category"] = ["api"]
        event["event.type"] = list(_TYPE_BY_OPERATION.get(str(operation), ["access"]))
        _network_and_identity(event, attrs)
        if "error.type" in event:
            event["event.outcome"] = "failure"
        if "service.name" in resource:
            event["service.name"] = resource["service.name"]
        coerce_core_fields(event)
        return event

    def _span(self, event: Event, doc: dict[str, Any]) -> list[str]:
        start = parse_time_value(doc.get("startTimeUnixNano"))
        end = parse_time_value(doc.get("endTimeUnixNano"))
        if start is None and end is None:
            raise ParseError("span without a readable start or end time", parser=self.name)
        event["@timestamp"] = start if start is not None else end
        if start is not None:
            event["event.start"] = start
        if end is not None:
            event["event.end"] = end
            if start is not None and end >= start:
                event["event.duration"] = end - start
        put(event, "otel.span.name", doc.get("name"))
        kind = doc.get("kind")
        if isinstance(kind, int) and not isinstance(kind, bool):
            put(event, "otel.span.kind", _SPAN_KINDS.get(kind))
        elif isinstance(kind, str) and kind:
            event["otel.span.kind"] = kind.removeprefix("SPAN_KIND_").upper()
        parent = _hex_id(doc.get("parentSpanId"))
        if parent is not None:
            event["parent.id"] = parent
        raw_status = doc.get("status")
        status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
        code = status.get("code")
        if code in (2, "STATUS_CODE_ERROR", "ERROR"):
            event["event.outcome"] = "failure"
            put(event, "error.message", status.get("message"))
        else:
            event["event.outcome"] = "success"
        names: list[str] = []
        for item in doc.get("events") or []:
            if not isinstance(item, dict):
                continue
            name = item.get("name")
            if isinstance(name, str):
                names.append(name)
            attrs = decode_attributes(item.get("attributes"))
            if name == "exception":
                event.setdefault("error.type", attrs.get("exception.type"))
                put(event, "error.message", attrs.get("exception.message"))
                put(event, "error.stack_trace", attrs.get("exception.stacktrace"))
            elif name in _OLD_EVENTS:
                for key in ("gen_ai.prompt", "gen_ai.completion"):
                    put(event, key, attrs.get(key))
        if names:
            event["otel.span.event_names"] = names
        if event.get("error.type") is None:
            event.pop("error.type", None)
        return names

    def _log_record(
        self, event: Event, doc: dict[str, Any], attrs: dict[str, Any], ctx: ParseContext
    ) -> list[str]:
        name = doc.get("eventName") or attrs.get("event.name")
        if not isinstance(name, str) or not name.startswith("gen_ai."):
            raise ParseError(
                f"not a GenAI event: event name {name!r} does not start with gen_ai.",
                parser=self.name,
            )
        event["otel.event.name"] = name
        stamp = parse_time_value(doc.get("timeUnixNano"))
        if not stamp:  # OTLP: 0 means unknown; the collector's observed time then counts
            stamp = parse_time_value(doc.get("observedTimeUnixNano"))
        event["@timestamp"] = stamp if stamp else ctx.received
        put(
            event,
            "log.level",
            str(doc["severityText"]).lower() if doc.get("severityText") else None,
        )
        body = _any_value(doc.get("body"))
        if isinstance(body, dict):
            flat = flatten_json(body, max_depth=ctx.max_json_depth, parser=self.name, flat_depth=4)
            for key, value in flat.items():
                event["body." + key] = value
        elif isinstance(body, list):
            event["body"] = orjson.dumps(body).decode()
        elif body is not None:
            event["body"] = body
        return [name]
