"""Building correlation rules and match streams for the correlation tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from heron.detect.base import Detection
from heron.detect.correlate.engine import CorrelationEngine
from heron.detect.correlate.rules import CorrelationRule
from heron.detect.sigma.ir import CorrelationSpec

S = 1_000_000_000
T0 = 1_700_000_000 * S


def spec(
    id: str,
    type: str,
    rules: Sequence[str],
    timespan: int,
    condition: dict[str, object] | None = None,
    group_by: Sequence[str] = (),
    **kw: Any,
) -> CorrelationSpec:
    return CorrelationSpec(
        id=id,
        title=kw.pop("title", id),
        type=type,
        rules=tuple(rules),
        timespan=timespan,
        timespan_spec=f"{timespan}s",
        condition=condition or {},
        filename="test.yml",
        group_by=tuple(group_by),
        rule_ids=tuple(rules),
        **kw,
    )


def rule(*args: Any, **kw: Any) -> CorrelationRule:
    return CorrelationRule.from_spec(spec(*args, **kw))


class Match:
    """A single-event match: the event and the base rule that matched it."""

    def __init__(self, rule_id: str, ts: int, eid: str, **fields: Any) -> None:
        self.rule_id = rule_id
        self.event: dict[str, Any] = {"@timestamp": ts, "event.id": eid}
        for k, v in fields.items():
            self.event[k.replace("__", ".")] = v

    @property
    def detection(self) -> Detection:
        return Detection(
            rule_id=self.rule_id,
            rule_name=self.rule_id,
            level="low",
            timestamp=self.event["@timestamp"],
            event_ids=(self.event["event.id"],),
        )


def run(
    engine: CorrelationEngine, batches: Iterable[Sequence[Match]], *, final: bool = True
) -> list[Detection]:
    out: list[Detection] = []
    for batch in batches:
        out.extend(engine.detect([m.event for m in batch], [m.detection for m in batch]))
    out.extend(engine.flush(final=final))
    return out


def summary(
    detections: Iterable[Detection],
) -> list[tuple[str, int, tuple[str, ...], tuple[Any, ...]]]:
    """Comparable form: (rule, time, sorted event ids, group) sorted."""
    return sorted(
        (d.rule_id, d.timestamp, tuple(sorted(d.event_ids)), tuple(sorted(d.group.items())))
        for d in detections
    )
