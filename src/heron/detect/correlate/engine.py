"""The correlation engine: single-event detections in, correlation detections out.

Event time drives everything. The *watermark* is the newest ``@timestamp`` seen; the
*frontier* trails it by the lateness bound, and every match older than the frontier is
applied to the windows in event-time order (``window.py``). A match that arrives
behind the frontier is late: the windows already moved past it, so it is dropped from
correlation and counted (``stats()``), never silently lost. ``flush()`` says the input
has ended for now and applies everything pending.

Correlations may feed correlations (Sigma's chained rules): a firing becomes a match of
the correlations that name it, with its group-by values as fields. State is saved
after every batch and loaded at start, so windows survive a restart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.detect.base import Detection
from heron.detect.correlate.rules import CorrelationRule, CorrelationRuleError, CorrelationType
from heron.detect.correlate.spill import SpilledRuns
from heron.detect.correlate.state import CorrelationStateFile, SavedState
from heron.detect.correlate.window import (
    Contribution,
    CorrelationWindow,
    Firing,
    WindowChanges,
    application_order,
)
from heron.detect.sigma.fieldmap import ECS_FALLBACK, ENTITY_FIELDS, entities_of
from heron.model.event import Event
from heron.model.timeutil import NS_PER_S

__all__ = [
    "DEFAULT_LATENESS_NS",
    "HOLD_LIMIT",
    "CorrelationEngine",
    "CorrelationStats",
]

#: How far behind the newest event a match may arrive and still be correlated in order.
DEFAULT_LATENESS_NS = 300 * NS_PER_S
#: Most matches a bulk load holds for correlation (about 70 MB).
HOLD_LIMIT = 100_000

# Windows logs write "-" for an empty value (IpAddress of a local logon).
_EMPTY = ("", "-")
_REVERSE_FALLBACK: dict[str, tuple[str, ...]] = {}
for _vendor, _ecs in ECS_FALLBACK.items():
    _REVERSE_FALLBACK[_ecs] = (*_REVERSE_FALLBACK.get(_ecs, ()), _vendor)
for _ecs, _vendors in ENTITY_FIELDS.items():
    _REVERSE_FALLBACK[_ecs] = tuple(
        dict.fromkeys((*_vendors, *_REVERSE_FALLBACK.get(_ecs, ()))).keys()
    )


def _scalar_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [t for t in (_scalar_text(v) for v in value) if t is not None]
        return ",".join(items) or None
    if isinstance(value, dict):
        return None
    text = str(value)
    return None if text in _EMPTY else text


def _first_text(event: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    """The first usable value of ``names`` (a field and its vendor/ECS twins) as text.

    Absent, empty and ``-`` values are None: Sigma requires a group-by field to exist,
    so an event without it does not contribute to the correlation.
    """
    for name in names:
        value = event.get(name)
        if value is None:
            continue
        if value.__class__ is str:  # the common case, without the type dispatch
            if value not in _EMPTY:
                return value
            continue
        text = _scalar_text(value)
        if text is not None:
            return text
    return None


def _twins(name: str) -> tuple[str, ...]:
    """``name`` and the fields read in its place when it is absent, in that order."""
    twin = ECS_FALLBACK.get(name)
    names = (name, *((twin,) if twin is not None else ()), *_REVERSE_FALLBACK.get(name, ()))
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class _Target:
    """One correlation a rule feeds, with the fields its matches are read from."""

    window: CorrelationWindow
    step: int
    group_fields: tuple[tuple[str, ...], ...]  # per group-by name: the field and its twins
    value_fields: tuple[tuple[str, ...], ...]  # value_count only: the counted fields

    @classmethod
    def of(cls, window: CorrelationWindow, step: int, rule_id: str) -> _Target:
        rule = window.rule
        counted = rule.value_fields if rule.type is CorrelationType.VALUE_COUNT else ()
        return cls(
            window,
            step,
            tuple(_twins(rule.group_field(n, rule_id)) for n in rule.group_by),
            tuple(_twins(rule.group_field(n, rule_id)) for n in counted),
        )


@dataclass(frozen=True, slots=True)
class CorrelationStats:
    """Counters: late matches dropped, matches without group-by values, state held."""

    watermark: int | None
    frontier: int | None
    late: int
    late_by_rule: dict[str, int]
    ungrouped: int
    pending: int
    groups: int
    spilled: int = 0  # held matches a bulk load wrote to disk (see ``hold``)


class CorrelationEngine:
    """Runs correlation rules over the single-event detections of each batch."""

    def __init__(
        self,
        rules: Sequence[CorrelationRule],
        *,
        lateness_ns: int = DEFAULT_LATENESS_NS,
        state_file: CorrelationStateFile | None = None,
        spill_parent: Path | None = None,
    ) -> None:
        """``spill_parent``: where held matches past ``hold_limit`` go when there is no
        ``state_file`` (beside it otherwise); without either they stay in memory."""
        if lateness_ns < 0:
            raise ValueError("the lateness bound cannot be negative")
        self.rules = _dependency_order(rules)
        self.lateness_ns = lateness_ns
        self.state_file = state_file
        self.windows: dict[str, CorrelationWindow] = {
            r.id: CorrelationWindow(r) for r in self.rules
        }
        # rule id → (correlation id, step) for every correlation the rule feeds.
        self.feeds: dict[str, list[tuple[str, int]]] = {}
        for rule in self.rules:
            for step, rid in enumerate(rule.rule_ids):
                self.feeds.setdefault(rid, []).append((rule.id, step))
        # rule id → what each correlation it feeds reads from its matches, resolved once.
        self._targets: dict[str, list[_Target]] = {
            rid: [_Target.of(self.windows[cid], step, rid) for cid, step in feeds]
            for rid, feeds in self.feeds.items()
        }
        self.watermark: int | None = None
        self.frontier: int | None = None
        # A bulk load (``heron ingest``) holds every match until ``flush``: files read one
        # after another each span the whole period, so the first file would carry event
        # time past every match of the next ones, and they would all be late. Held
        # matches are saved at ``flush``, not after every batch: a load that crashes
        # keeps its events but not the correlations it held (``rules backtest`` redoes
        # them). Past ``hold_limit`` held matches, they are written to disk as sorted
        # runs (``spill.py``) and merged back in at ``flush``.
        self.hold = False
        self.hold_limit = HOLD_LIMIT
        if state_file is not None:
            spill_parent = state_file.path.parent
        if spill_parent is not None:
            SpilledRuns.sweep(spill_parent)
        self._spilled = SpilledRuns(spill_parent)
        self.late: Counter[str] = Counter()
        self.ungrouped = 0
        self._dirty = False
        # Correlations whose saved state is of an older definition: cleared on next save.
        self._reset: set[str] = set()
        if state_file is not None:
            saved = state_file.load()
            if saved is not None:
                self.restore(saved)

    # -- what the rule set says -----------------------------------------------------

    @property
    def hidden_rule_ids(self) -> frozenset[str]:
        """Rules whose own matches raise no alert: used only by ``generate: false`` correlations."""
        shown: set[str] = set()
        used: set[str] = set()
        for rule in self.rules:
            for rid in rule.rule_ids:
                used.add(rid)
                if rule.generate:
                    shown.add(rid)
        return frozenset(used - shown)

    @property
    def input_rule_ids(self) -> frozenset[str]:
        """Every rule id some correlation reads."""
        return frozenset(self.feeds)

    @property
    def fields_read(self) -> frozenset[str]:
        """Every event field correlation may read from a match's event (entities too)."""
        names: set[str] = {"@timestamp", "event.id"}
        for targets in self._targets.values():
            for target in targets:
                for group in (*target.group_fields, *target.value_fields):
                    names.update(group)
        for ecs, vendor in ENTITY_FIELDS.items():
            names.add(ecs)
            names.update(vendor)
        return frozenset(names)

    # -- the batch path -------------------------------------------------------------

    def detect(
        self,
        events: Sequence[Event],
        base: Sequence[Detection],
        *,
        newest: int | None = None,
    ) -> list[Detection]:
        """Correlation detections that this batch completes; saves state afterwards.

        ``newest``: the batch's newest event time when ``events`` holds only the events
        that ``base`` names (the rest of the batch still moves event time on).
        """
        by_id: dict[str, Event] = {}
        if self.watermark is not None and (newest is None or newest < self.watermark):
            newest = self.watermark
        for event in events:
            ts = event.get("@timestamp")
            if isinstance(ts, int) and (newest is None or ts > newest):
                newest = ts
            eid = event.get("event.id")
            if isinstance(eid, str):
                by_id[eid] = event
        for det in base:
            if det.rule_id not in self.feeds:
                continue
            if newest is None or det.timestamp > newest:
                newest = det.timestamp
            self._feed(det, by_id.get(det.event_ids[0]) if len(det.event_ids) == 1 else None)
        if newest != self.watermark:
            self.watermark = newest
            self._dirty = True
        if self.hold:
            if self._held() > self.hold_limit:
                self._spill()
            return []
        out: list[Detection] = []
        if newest is not None:
            out = self._advance(newest - self.lateness_ns, final=False)
        self.save()
        return out

    def _held(self) -> int:
        return sum(len(w.pending) for w in self.windows.values())

    def _spill(self) -> None:
        """Write every window's held matches to disk, sorted, and forget them here."""
        for rule_id, window in self.windows.items():
            if window.pending:
                window.pending.sort(key=application_order)
                self._spilled.write(rule_id, window.pending)
                window.pending = []
                # Unsaved: held matches are saved only at flush, applied by then.
                window.changes.new_pending = []

    def flush(self, *, final: bool = False) -> list[Detection]:
        """Apply every pending match: the input has ended for now.

        The frontier moves up to the watermark, so matches older than the newest event
        seen are late from then on. ``final`` also closes windows still open (a test run
        or retro-hunt, where no more events will come) and forgets all state.
        """
        out: list[Detection] = []
        if self.watermark is not None:
            out = self._advance(self.watermark + 1, final=final)
        self.save()
        return out

    def discard(self) -> None:
        """Forget the matches held (a load that failed): their runs on disk go too."""
        for window in self.windows.values():
            window.pending = []
        self._spilled.close()

    def _feed(self, det: Detection, event: Mapping[str, Any] | None) -> None:
        fields: Mapping[str, Any] = event if event is not None else {**det.entities, **det.group}
        entities = dict(det.entities) if det.entities or event is None else entities_of(fields)
        for target in self._targets[det.rule_id]:
            values: list[str] = []
            for names in target.group_fields:
                text = _first_text(fields, names)
                if text is None:
                    break
                values.append(text)
            else:
                value: str | None = None
                if target.value_fields:
                    parts = [_first_text(fields, names) for names in target.value_fields]
                    if None in parts:
                        continue
                    value = "\x1f".join(parts)  # type: ignore[arg-type]
                if self.frontier is not None and det.timestamp < self.frontier:
                    self.late[target.window.rule.id] += 1
                    self._dirty = True
                    continue
                target.window.add(
                    tuple(values),
                    Contribution(det.timestamp, target.step, det.event_ids, value, entities),
                )
                self._dirty = True
                continue
            self.ungrouped += 1

    def _advance(self, frontier: int, *, final: bool) -> list[Detection]:
        if not final and self.frontier is not None and frontier <= self.frontier:
            return []
        out: list[Detection] = []
        spilled = self._spilled
        for rule in self.rules:  # children before the correlations they feed
            runs = spilled.take(rule.id) if spilled else []
            firings = self.windows[rule.id].advance(frontier, final=final, spilled=runs)
            for firing in firings:
                detection = self._detection(rule, firing)
                out.append(detection)
                if rule.id in self.feeds:
                    self._feed(detection, None)
        if spilled.folder is not None and not spilled:
            spilled.close()  # every run was merged in
        if self.frontier is None or frontier > self.frontier:
            self.frontier = frontier
        if out or final:
            self._dirty = True
        return out

    def _detection(self, rule: CorrelationRule, firing: Firing) -> Detection:
        ids = tuple(dict.fromkeys(i for c in firing.contributions for i in c.event_ids))
        group = dict(zip(rule.group_by, firing.group, strict=True))
        entities = _agreed_entities(c.entities for c in firing.contributions)
        for name, value in group.items():
            if name in ENTITY_FIELDS:
                entities[name] = value
        return Detection(
            rule_id=rule.id,
            rule_name=rule.title,
            level=rule.level,
            timestamp=firing.ts,
            event_ids=ids,
            tags=rule.tags,
            entities=entities,
            group=group,
        )

    # -- state ----------------------------------------------------------------------

    def stats(self) -> CorrelationStats:
        return CorrelationStats(
            watermark=self.watermark,
            frontier=self.frontier,
            late=sum(self.late.values()),
            late_by_rule=dict(self.late),
            ungrouped=self.ungrouped,
            pending=sum(len(w.pending) for w in self.windows.values()),
            groups=sum(len(w.groups) for w in self.windows.values()),
            spilled=self._spilled.written,
        )

    def restore(self, saved: SavedState) -> None:
        """Load saved state; windows of rules that changed since start afresh."""
        meta = saved.meta
        self.watermark = meta.get("watermark")
        self.frontier = meta.get("frontier")
        self.late = Counter({str(k): int(v) for k, v in (meta.get("late") or {}).items()})
        self.ungrouped = int(meta.get("ungrouped") or 0)
        for rid, window in self.windows.items():
            stored = saved.windows.get(rid)
            if stored is None:
                continue
            if stored.fingerprint != window.rule.fingerprint:
                self._reset.add(rid)
                continue
            window.restore(stored.groups, stored.pending)

    def save(self) -> None:
        """Write what changed since the last save (one transaction)."""
        if self.state_file is None:
            for window in self.windows.values():
                window.changes = WindowChanges()
            return
        changes = {
            rid: (w.rule.fingerprint, w.changes, w.groups, rid in self._reset)
            for rid, w in self.windows.items()
            if w.changes or rid in self._reset
        }
        if not changes and not self._dirty:
            return
        meta = {
            "watermark": self.watermark,
            "frontier": self.frontier,
            "late": dict(self.late),
            "ungrouped": self.ungrouped,
        }
        self.state_file.save(meta, changes)
        for window in self.windows.values():
            window.changes = WindowChanges()
        self._reset.clear()
        self._dirty = False


def _agreed_entities(items: Iterable[dict[str, str]]) -> dict[str, str]:
    """Entity values every contribution that has the field agrees on."""
    seen: dict[str, str | None] = {}
    for entities in items:
        for name, value in entities.items():
            if name not in seen:
                seen[name] = value
            elif seen[name] != value:
                seen[name] = None
    return {k: v for k, v in seen.items() if v is not None}


def _dependency_order(rules: Sequence[CorrelationRule]) -> list[CorrelationRule]:
    """Correlations ordered so each comes after every correlation it reads."""
    by_id = {r.id: r for r in rules}
    done: dict[str, CorrelationRule] = {}
    visiting: set[str] = set()

    def visit(rule: CorrelationRule) -> None:
        if rule.id in done:
            return
        if rule.id in visiting:
            raise CorrelationRuleError(rule.id, "correlation rules refer to each other in a cycle")
        visiting.add(rule.id)
        for rid in rule.rule_ids:
            child = by_id.get(rid)
            if child is not None:
                visit(child)
        visiting.discard(rule.id)
        done[rule.id] = rule

    for rule in rules:
        visit(rule)
    return list(done.values())
