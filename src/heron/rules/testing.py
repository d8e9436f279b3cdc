"""Detections as code: rule test files, run on a virtual clock.

A test file holds one test per YAML document::

    name: six failures then admin success
    rule: ../authentication.yml          # a path or a list, relative to the test file
    events:                              # inline flat events ...
      - {"@timestamp": "2026-03-01T10:00:00Z", EventID: 4625, Channel: Security}
    events_file: attack.jsonl            # ... or JSON lines / an .evtx file
    expect:
      - rule: Brute Force Followed By Admin Logon (Windows)   # id, name or title
        count: 1                         # detections of that rule
      - rule: failed_logon_burst
        events: [0, 1, 2, 3, 4, 5]       # indexes of the events its detections name
    placeholders:                        # values for rules that expand %name% (optional)
      admins: [root, "svc_*"]

Time is event time only: events are replayed in ``@timestamp`` order and every window
is closed at the end, so correlations work on old data exactly as they would live.
Counts include rules that raise no alert of their own (``generate: false`` inputs),
so each step of a correlation can be tested.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from heron.detect.base import Detection
from heron.detect.engine import engine_from_loaded, single_detection
from heron.detect.sigma.load import load_rules
from heron.errors import HeronError
from heron.model.event import Event
from heron.model.timeutil import NS_PER_S, parse_timestamp

__all__ = [
    "Expectation",
    "RuleTest",
    "RuleTestError",
    "TestOutcome",
    "load_events_file",
    "load_test_file",
    "run_rule_test",
]

#: Virtual start time for events written without a timestamp (one second apart).
_DEFAULT_START = parse_timestamp("2026-01-01T00:00:00Z")


class RuleTestError(HeronError):
    """A test file that cannot be read or run; names the file and the test."""


@dataclass(frozen=True, slots=True)
class Expectation:
    rule: str
    count: int | None = None
    events: tuple[int, ...] | None = None


@dataclass(slots=True)
class RuleTest:
    name: str
    path: Path
    rule_paths: list[Path]
    events: list[Event]
    expect: list[Expectation]
    normalize: bool = True
    #: Values of the %name% placeholders the rules expand (``heron rules placeholders``).
    placeholders: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class TestOutcome:
    """One test's result: passed, and what did not hold."""

    test: RuleTest
    failures: list[str] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _timestamp(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise RuleTestError(f"{where}: @timestamp must be a time, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise RuleTestError(f"{where}: {exc}") from None
    if hasattr(value, "isoformat"):  # YAML turns unquoted times into datetimes
        return parse_timestamp(value.isoformat())
    raise RuleTestError(f"{where}: @timestamp must be ISO 8601 text or int ns")


def _prepare(raw: Any, index: int, where: str) -> Event:
    if not isinstance(raw, Mapping):
        raise RuleTestError(f"{where}: event {index} is not a mapping")
    event: Event = {str(k): v for k, v in raw.items()}
    if "@timestamp" in event:
        event["@timestamp"] = _timestamp(event["@timestamp"], f"{where}: event {index}")
    else:
        event["@timestamp"] = _DEFAULT_START + index * NS_PER_S
    event.setdefault("event.id", f"event-{index}")
    return event


def load_events_file(path: Path) -> list[Event]:
    """Events from JSON lines (one flat object a line) or a Windows ``.evtx`` file."""
    if path.suffix.lower() == ".evtx":
        from heron.parsers.base import ParseContext
        from heron.parsers.windows import WindowsEventParser
        from heron.sources.evtx import iter_evtx_records

        parser = WindowsEventParser()
        ctx = ParseContext(source=str(path))
        out: list[Event] = []
        for record, error in iter_evtx_records(path):
            if record is None:
                raise RuleTestError(f"{path}: {error}")
            out.append(parser.parse(record, ctx))
        return out
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RuleTestError(f"cannot read {path}: {exc}") from exc
    events: list[Event] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise RuleTestError(f"{path}:{n}: not JSON: {exc}") from None
        if not isinstance(item, dict):
            raise RuleTestError(f"{path}:{n}: not a JSON object")
        events.append(item)
    return events


def _expectations(raw: Any, where: str) -> list[Expectation]:
    if not isinstance(raw, list) or not raw:
        raise RuleTestError(f"{where}: 'expect' must be a non-empty list")
    out: list[Expectation] = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("rule"), str):
            raise RuleTestError(f"{where}: each expectation needs 'rule' (id, name or title)")
        count = item.get("count")
        events = item.get("events")
        if count is None and events is None:
            raise RuleTestError(f"{where}: expectation for {item['rule']!r} needs count or events")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise RuleTestError(f"{where}: count must be an integer")
        if events is not None and (
            not isinstance(events, list) or not all(isinstance(i, int) for i in events)
        ):
            raise RuleTestError(f"{where}: events must be a list of event indexes")
        out.append(
            Expectation(item["rule"], count, tuple(sorted(events)) if events is not None else None)
        )
    return out


def _paths(raw: Any, base: Path, where: str) -> list[Path]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise RuleTestError(f"{where}: 'rule' must be a path or a list of paths")
    return [(base / p).resolve() for p in items]


def load_test_file(path: Path) -> list[RuleTest]:
    """The tests in one file (one per YAML document)."""
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (OSError, yaml.YAMLError) as exc:
        raise RuleTestError(f"cannot read {path}: {exc}") from exc
    tests: list[RuleTest] = []
    for n, doc in enumerate(docs, 1):
        where = f"{path} (test {n})"
        if not isinstance(doc, Mapping):
            raise RuleTestError(f"{where}: a test is a mapping with rule, events and expect")
        name = str(doc.get("name") or f"{path.stem} #{n}")
        where = f"{path} ({name})"
        rule_paths = _paths(doc.get("rule"), path.parent, where)
        raw_events: list[Any] = []
        if "events" in doc:
            if not isinstance(doc["events"], list):
                raise RuleTestError(f"{where}: 'events' must be a list")
            raw_events.extend(doc["events"])
        if "events_file" in doc:
            raw_events.extend(load_events_file((path.parent / str(doc["events_file"])).resolve()))
        if not raw_events:
            raise RuleTestError(f"{where}: no events (give 'events' or 'events_file')")
        events = [_prepare(e, i, where) for i, e in enumerate(raw_events)]
        tests.append(
            RuleTest(
                name=name,
                path=path,
                rule_paths=rule_paths,
                events=events,
                expect=_expectations(doc.get("expect"), where),
                normalize=bool(doc.get("normalize", True)),
                placeholders=_placeholders(doc.get("placeholders"), where),
            )
        )
    return tests


def _placeholders(raw: Any, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(v, list) and all(isinstance(x, str | int) for x in v) for v in raw.values()
    ):
        raise RuleTestError(f"{where}: 'placeholders' maps names to lists of values")
    return {str(name): [str(x) for x in values] for name, values in raw.items()}


def find_test_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Files named directly, and the test files in folders: a rule pack's folder holds
    its Sigma rules beside (or above) their tests, and only the tests are run."""
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
            yield from (p for p in found if not _is_sigma_file(p))
        else:
            yield path


def _is_sigma_file(path: Path) -> bool:
    """A rule file (``detection`` or ``correlation`` at the top); unreadable files are
    kept, so that loading them reports why."""
    try:
        first = next(iter(yaml.safe_load_all(path.read_text(encoding="utf-8"))), None)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(first, Mapping) and ("detection" in first or "correlation" in first)


def replay(
    test: RuleTest, cache_dir: Path | None = None
) -> tuple[list[Detection], dict[str, set[str]]]:
    """Every detection of the test's rules on its events, and each rule's names.

    Rules that raise no alert of their own are included, so each step can be checked.
    """
    loaded = load_rules(test.rule_paths, cache_dir, placeholders=test.placeholders)
    engine, errors = engine_from_loaded(loaded, lateness_ns=0)
    if errors:
        shown = "; ".join(f"{e.path} [{e.rule_id or '-'}]: {e.reason}" for e in errors[:3])
        raise RuleTestError(f"{test.path} ({test.name}): rules failed to load: {shown}")
    names: dict[str, set[str]] = {}
    for rule in loaded.rules:
        names[rule.id] = {rule.id, rule.title, *([rule.name] if rule.name else [])}
    for corr in loaded.correlations:
        names[corr.id] = {corr.id, corr.title, *([corr.name] if corr.name else [])}
    events = [dict(e) for e in test.events]
    if test.normalize:
        from heron.normalize import normalize

        for event in events:
            normalize(event)
    # The virtual clock: event time only, in order; the end of the events ends time.
    events.sort(key=lambda e: e["@timestamp"])
    found = [single_detection(rule, events[i]) for i, rule in engine.detectors.match_batch(events)]
    if engine.correlation is not None:
        feeding = engine.correlation.input_rule_ids
        found.extend(engine.correlation.detect(events, [d for d in found if d.rule_id in feeding]))
        found.extend(engine.correlation.flush(final=True))
    return found, names


def run_rule_test(test: RuleTest, cache_dir: Path | None = None) -> TestOutcome:
    """Run one test; its outcome lists every expectation that did not hold."""
    detections, names = replay(test, cache_dir)
    outcome = TestOutcome(test, detections=detections)
    index = {e["event.id"]: i for i, e in enumerate(test.events)}
    for exp in test.expect:
        ids = {rid for rid, known in names.items() if exp.rule in known}
        if not ids:
            outcome.failures.append(f"{exp.rule!r}: no such rule among {len(names)} loaded")
            continue
        hits = [d for d in detections if d.rule_id in ids]
        if exp.count is not None and len(hits) != exp.count:
            outcome.failures.append(
                f"{exp.rule!r}: expected {exp.count} detections, got {len(hits)}"
            )
        if exp.events is not None:
            got = tuple(sorted({index[i] for d in hits for i in d.event_ids if i in index}))
            if got != exp.events:
                outcome.failures.append(
                    f"{exp.rule!r}: expected events {list(exp.events)}, got {list(got)}"
                )
    return outcome
