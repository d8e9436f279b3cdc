"""Golden files of the vendor formats: raw records in ``tests/golden/<format>/``, the
expected ECS (and Heron-derived) fields of each record in ``<case>.expected.json``.

Each expected object lists the fields the parser must produce with exactly these values
(``null``: must be absent); vendor fields kept under their own names are checked by the
per-format tests. Times are compared as RFC 3339 text. Regenerate a file only after
checking every changed value by hand: ``HERON_GOLDEN_WRITE=1 pytest <this file>``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from heron.model.event import validate_event
from heron.model.timeutil import format_ns
from heron.parsers import get_parser
from heron.parsers.azure import iter_azure_records
from heron.parsers.base import ParseContext
from heron.parsers.w3c import W3cReader
from heron.parsers.zeek import iter_zeek_tsv_records

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
FORMATS = (
    "kv", "fortigate", "cisco_asa", "panos", "apache_access", "apache_error", "nginx_access",
    "suricata", "zeek", "azure", "gcp_audit", "okta", "o365", "otel_genai", "iis",
)  # fmt: skip
# The top-level names whose fields the golden files pin (ECS sets and Heron's own).
ROOTS = frozenset(
    [
        "@timestamp",
        "event",
        "source",
        "destination",
        "network",
        "user",
        "url",
        "http",
        "user_agent",
        "rule",
        "observer",
        "cloud",
        "client",
        "dns",
        "tls",
        "file",
        "log",
        "message",
        "host",
        "service",
        "trace",
        "span",
        "parent",
        "error",
        "gen_ai",
        "mcp",
        "heron",
        "cisco",
        "panw",
        "azure",
        "gcp",
        "group",
        "organization",
        "otel",
    ]
)
TIME_FIELDS = frozenset({"@timestamp", "event.start", "event.end"})
# Received 2024-06-01T00:00:00Z: year-less lines of 2024 read as 2024.
CTX_RECEIVED = 1_717_200_000_000_000_000


def _records(path: Path) -> Iterator[str]:
    text = path.read_text(encoding="utf-8")
    if path.parent.name == "zeek" and path.suffix == ".log":
        yield from iter_zeek_tsv_records(text.splitlines())
    elif path.parent.name == "azure" and text.lstrip().startswith('{"records"'):
        yield from iter_azure_records(text.encode())
    elif path.parent.name == "iis":
        reader = W3cReader()
        for line in text.splitlines():
            record = reader.feed(line)
            if record is not None:
                yield orjson.dumps(record).decode()
    else:
        yield from (line for line in text.splitlines() if line.strip())


def _cases() -> list[Any]:
    cases = []
    for fmt in FORMATS:
        for path in sorted((GOLDEN / fmt).glob("*")):
            if path.is_file() and not path.name.endswith(".expected.json"):
                cases.append(pytest.param(fmt, path, id=f"{fmt}/{path.name}"))
    return cases


def _pinned(event: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in sorted(event.items()):
        if value is not None and key.split(".", 1)[0] in ROOTS:
            out[key] = format_ns(value) if key in TIME_FIELDS else value
    return out


def test_every_vendor_format_has_golden_files() -> None:
    for fmt in FORMATS:
        inputs = [p for p in (GOLDEN / fmt).glob("*") if not p.name.endswith(".expected.json")]
        assert inputs, f"no golden input for {fmt}"


@pytest.mark.parametrize(("fmt", "path"), _cases())
def test_golden(fmt: str, path: Path) -> None:
    parser = get_parser(fmt)
    ctx = ParseContext(source=str(path), received=CTX_RECEIVED)
    events = []
    for raw in _records(path):
        event = parser.parse(raw, ctx)
        validate_event(event)
        events.append(_pinned(event))
    expected_path = path.with_name(path.name + ".expected.json")
    if os.environ.get("HERON_GOLDEN_WRITE") == "1":
        expected_path.write_text(json.dumps(events, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert len(events) == len(expected), "one expected object per record"
    for number, (got, want) in enumerate(zip(events, expected, strict=True), start=1):
        for key, value in want.items():
            if value is None:
                assert key not in got, f"record {number}: {key} should be absent"
            else:
                assert got.get(key) == value, f"record {number}: {key}"
