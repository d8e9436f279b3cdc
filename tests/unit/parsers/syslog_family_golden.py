"""Golden-file helpers shared by the syslog-family parser and Linux normalizer tests.

A golden case is ``tests/golden/<format>/<name>.log`` (one raw record a line) and
``<name>.log.expected.json``: one entry a line, either the whole event (times as RFC
3339 text, keys sorted) or ``{"error": "<ParseError reason>"}``. Regenerate only
after checking every changed value by hand: ``HERON_GOLDEN_WRITE=1 pytest <test file>``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from heron.errors import ParseError
from heron.model.event import Event, validate_event
from heron.model.timeutil import format_ns, parse_timestamp
from heron.parsers.base import ParseContext

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
TIME_FIELDS = frozenset({"@timestamp", "event.start", "event.end", "event.created"})
# Received 2024-01-05T10:00:00Z, so year-less lines cross the new-year boundary.
CONTEXT = ParseContext(source="golden", received=parse_timestamp("2024-01-05T10:00:00Z"))


def render(event: Event) -> dict[str, Any]:
    """The event as JSON-ready data: times as RFC 3339 text, keys sorted."""
    return {
        key: format_ns(value) if key in TIME_FIELDS and isinstance(value, int) else value
        for key, value in sorted(event.items())
    }


def run_lines(path: Path, parse: Callable[[str], Event]) -> list[dict[str, Any]]:
    """Each line of ``path`` parsed: a rendered event or the ParseError reason."""
    results: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        try:
            event = parse(line)
        except ParseError as exc:
            results.append({"error": exc.reason})
            continue
        validate_event(event)
        results.append(render(event))
    return results


def check_golden(path: Path, actual: list[dict[str, Any]]) -> None:
    """Compare with (or, under HERON_GOLDEN_WRITE=1, write) ``<path>.expected.json``."""
    expected_path = path.with_name(path.name + ".expected.json")
    if os.environ.get("HERON_GOLDEN_WRITE") == "1":
        text = json.dumps(actual, indent=1, ensure_ascii=False)
        expected_path.write_text(text + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert len(actual) == len(expected), (
        f"{path.name}: {len(actual)} records, expected {len(expected)}"
    )
    for number, (got, want) in enumerate(zip(actual, expected, strict=True), start=1):
        assert got == want, f"{path.name} record {number}"
