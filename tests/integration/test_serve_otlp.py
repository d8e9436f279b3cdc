"""OTLP/HTTP logs and traces: the OpenTelemetry SDK's exporters, and hand-made JSON."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from .serving import TOKEN, ServerThread, serving

BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def otlp(data_dir: Path) -> ServerThread:
    with serving(data_dir, sources=[{"type": "otlp"}]) as server:
        yield server


def x(name: str) -> str:
    """SQL for a field kept in the ``extra`` JSON column."""
    return f"json_extract_string(extra, '$.\"{name}\"')"


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


RESOURCE = {"attributes": [_attr("service.name", "checkout"), _attr("host.name", "node-7")]}


def test_json_logs_and_spans(otlp: ServerThread) -> None:
    logs = {
        "resourceLogs": [
            {
                "resource": RESOURCE,
                "scopeLogs": [
                    {
                        "scope": {"name": "app.logger", "version": "1.2"},
                        "logRecords": [
                            {
                                "timeUnixNano": "1714557600000000123",
                                "severityNumber": 17,
                                "severityText": "ERROR",
                                "body": {"stringValue": "payment failed"},
                                "attributes": [
                                    _attr("user.name", "eve"),
                                    _attr("http.status", 502),
                                ],
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                            },
                            {
                                "observedTimeUnixNano": "1714557601000000000",
                                "body": {"kvlistValue": {"values": [_attr("order", "o-1")]}},
                            },
                        ],
                    }
                ],
            }
        ]
    }
    answer = httpx.post(
        otlp.url + "/v1/logs",
        content=orjson.dumps(logs),
        headers={**BEARER, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200 and answer.json() == {}
    spans = {
        "resourceSpans": [
            {
                "resource": RESOURCE,
                "scopeSpans": [
                    {
                        "scope": {"name": "openai.instrumentation"},
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "aaa19b7ec3c1b174",
                                "parentSpanId": "eee19b7ec3c1b174",
                                "name": "chat gpt-4o",
                                "kind": 3,
                                "startTimeUnixNano": "1714557600100000000",
                                "endTimeUnixNano": "1714557601100000000",
                                "attributes": [
                                    _attr("gen_ai.operation.name", "chat"),
                                    _attr("gen_ai.system", "openai"),
                                    _attr("gen_ai.usage.input_tokens", 42),
                                ],
                                "status": {"code": 2, "message": "rate limited"},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    answer = httpx.post(
        otlp.url + "/v1/traces",
        content=orjson.dumps(spans),
        headers={**BEARER, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    rows = otlp.rows(
        f'SELECT message, "log.level" AS level, "user.name" AS u, {x("trace.id")} AS t, '
        f'{x("service.name")} AS svc, "host.name" AS host, "@timestamp" AS ts, '
        '"event.outcome" AS outcome, "event.action" AS action, extra FROM events'
    )
    assert len(rows) == 3
    log_row = next(r for r in rows if r["message"] == "payment failed")
    assert log_row["level"] == "error" and log_row["u"] == "eve"
    assert log_row["t"] == "5b8efff798038103d269b633813fc60c"
    assert log_row["svc"] == "checkout" and log_row["host"] == "node-7"
    extra = orjson.loads(log_row["extra"])
    assert extra["http.status"] == 502 and extra["otel.scope.name"] == "app.logger"
    kv_row = next(r for r in rows if r["message"] is None and r["action"] != "chat")
    assert orjson.loads(kv_row["extra"])["body.order"] == "o-1"
    span_row = next(r for r in rows if r["action"] == "chat")
    assert span_row["outcome"] == "failure"
    span_extra = orjson.loads(span_row["extra"])
    assert span_extra["gen_ai.provider.name"] == "openai"
    assert span_extra["parent.id"] == "eee19b7ec3c1b174"


def test_sdk_exporters_protobuf(otlp: ServerThread) -> None:
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    resource = Resource.create({"service.name": "agent-svc"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=otlp.url + "/v1/traces", headers=BEARER))
    )
    tracer = tracer_provider.get_tracer("heron.test")
    with tracer.start_as_current_span("invoke_agent planner") as span:
        span.set_attribute("gen_ai.operation.name", "invoke_agent")
        span.set_attribute("gen_ai.agent.name", "planner")
        with tracer.start_as_current_span("execute_tool search") as child:
            child.set_attribute("gen_ai.operation.name", "execute_tool")
            child.set_attribute("gen_ai.tool.name", "web_search")
    tracer_provider.shutdown()

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=otlp.url + "/v1/logs", headers=BEARER))
    )
    logger = logger_provider.get_logger("heron.test.otlp")
    logger.emit(
        severity_number=SeverityNumber.WARN,
        severity_text="WARN",
        body="disk almost full on sda1",
        attributes={"device": "sda1"},
    )
    logger.emit(
        severity_number=SeverityNumber.INFO,
        event_name="gen_ai.client.inference.operation.details",
        body={"gen_ai.output.type": "text"},
        attributes={"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"},
    )
    logger_provider.shutdown()

    rows = otlp.rows(
        f'SELECT message, "log.level" AS level, {x("service.name")} AS svc, '
        f'{x("trace.id")} AS t, {x("span.id")} AS s, "event.action" AS action '
        "FROM events"
    )
    actions = {r["action"] for r in rows}
    assert {"invoke_agent", "execute_tool"} <= actions
    spans = [r for r in rows if r["action"] in ("invoke_agent", "execute_tool")]
    assert all(len(r["t"]) == 32 and len(r["s"]) == 16 for r in spans)  # hex, not base64
    assert len({r["t"] for r in spans}) == 1
    log_row = next(r for r in rows if r["message"] == "disk almost full on sda1")
    assert log_row["level"] == "warn"
    assert log_row["svc"] == "agent-svc"
    # The GenAI event went to the GenAI parser.
    assert "chat" in actions


def test_bad_requests(otlp: ServerThread) -> None:
    protobuf = {**BEARER, "Content-Type": "application/x-protobuf"}
    answer = httpx.post(otlp.url + "/v1/logs", content=b"\xff\xff\xff garbage", headers=protobuf)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/x-protobuf"
    answer = httpx.post(
        otlp.url + "/v1/traces",
        content=b"{not json",
        headers={**BEARER, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400 and "cannot decode" in answer.json()["message"]
    answer = httpx.post(
        otlp.url + "/v1/logs", content=b"{}", headers={**BEARER, "Content-Type": "text/plain"}
    )
    assert answer.status_code == 415
    answer = httpx.post(
        otlp.url + "/v1/logs", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 401 and answer.json() == {"code": 16, "message": "unauthorized"}
    # A span without times is rejected by the parser: reported as a partial success.
    spans = {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "no times"}]}]}]}
    answer = httpx.post(
        otlp.url + "/v1/traces",
        content=orjson.dumps(spans),
        headers={**BEARER, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    assert answer.json()["partialSuccess"]["rejectedSpans"] == 1
    assert otlp.source_count("otlp", "failed") == 1
