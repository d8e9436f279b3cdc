"""Hand-written Sigma rules and events for the Sigma engine's unit tests."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from heron.detect.sigma.cache import FileEntry
from heron.detect.sigma.load import compile_file
from heron.detect.sigma.match import SigmaMatcher

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def rule_yaml(
    detection: str,
    logsource: str = "product: windows\n    category: process_creation",
    rule_id: str = "00000000-0000-0000-0000-000000000001",
    title: str = "test rule",
) -> str:
    """A complete rule document around a ``detection:`` body (indented 4 spaces)."""
    body = textwrap.indent(textwrap.dedent(detection).strip("\n"), "    ")
    return (
        f"title: {title}\n"
        f"id: {rule_id}\n"
        "status: test\n"
        "level: high\n"
        f"logsource:\n    {logsource}\n"
        f"detection:\n{body}\n"
    )


def compile_text(text: str, placeholders: Mapping[str, Sequence[str]] | None = None) -> FileEntry:
    return compile_file(text.encode(), "test.yml", placeholders)


def matcher(detection: str, **kw: Any) -> SigmaMatcher:
    placeholders = kw.pop("placeholders", None)
    entry = compile_text(rule_yaml(detection, **kw), placeholders)
    assert not entry.errors, entry.errors
    assert len(entry.rules) == 1
    return SigmaMatcher(entry.rules)


def proc(**fields: Any) -> dict[str, Any]:
    """A Sysmon process-creation event with the given EventData fields."""
    return {"Channel": SYSMON, "EventID": 1, **fields}


def hits(m: SigmaMatcher, events: Sequence[Mapping[str, Any]]) -> list[bool]:
    """For each event, whether the (single) rule matched it."""
    found = {i for i, _ in m.match_batch(events)}
    return [i in found for i in range(len(events))]


def check(detection: str, events: Sequence[Mapping[str, Any]], **kw: Any) -> list[bool]:
    return hits(matcher(detection, **kw), events)
