"""Per-group window state of one correlation rule, advanced in event-time order.

Matches reach a ``CorrelationWindow`` in any order and wait in ``pending``; the engine
then moves the *frontier* forward (the newest event time seen, less the lateness
bound) and every pending match older than the frontier is applied in event-time
order: (timestamp, position of its rule, event ids). Applying in that fixed order is
what makes the result independent of arrival order, as long as nothing arrives behind
the frontier (such matches are late: counted and dropped by the engine).

Windows are inclusive: two events exactly ``timespan`` apart are in one window.
A rising condition (``gt``/``gte``, and every temporal rule) is decided at the event
that meets it; the window then starts afresh. Other conditions (``lt``, ``lte``,
``eq``, ``neq`` on counts) are decided when the window that opened at a group's
first event closes, ``timespan`` later.
"""

from __future__ import annotations

import bisect
import heapq
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from heron.detect.correlate.rules import CorrelationRule, CorrelationType, evaluate

__all__ = [
    "Contribution",
    "CorrelationWindow",
    "Firing",
    "GroupKey",
    "GroupState",
    "WindowChanges",
    "application_order",
]

GroupKey = tuple[str, ...]
#: Matches applied between two prunings when merging runs from disk.
MERGE_STEP = 10_000
#: Removed groups remembered for the next save before it rewrites all groups instead.
MAX_TRACKED_REMOVALS = 100_000


class Contribution(NamedTuple):
    """One rule match that feeds a correlation: a single event, or a correlation's firing.

    A named tuple, not a dataclass: a bulk load makes one per match and correlation it
    feeds, and a tuple is the cheapest immutable record to build.
    """

    ts: int
    step: int  # position of its rule in the correlation's ``rule_ids``
    event_ids: tuple[str, ...]
    value: str | None  # value_count: the counted field's value
    entities: dict[str, str]

    def to_json(self) -> list[Any]:
        return [self.ts, self.step, list(self.event_ids), self.value, self.entities]

    @classmethod
    def from_json(cls, data: list[Any]) -> Contribution:
        ts, step, ids, value, entities = data
        return cls(int(ts), int(step), tuple(ids), value, dict(entities))


def application_order(item: tuple[GroupKey, Contribution]) -> tuple[Any, ...]:
    """The order pending matches are applied in: event time, rule position, event ids."""
    group, c = item
    return (c.ts, c.step, c.event_ids, group)


def _pending_ts(item: tuple[GroupKey, Contribution]) -> int:
    return item[1].ts


@dataclass(frozen=True, slots=True)
class Firing:
    """A correlation met for a group: at ``ts``, on these contributions."""

    group: GroupKey
    ts: int
    contributions: tuple[Contribution, ...]


@dataclass(slots=True)
class Chain:
    """A partial ``temporal_ordered`` sequence: steps 0..k seen in order since ``start``."""

    start: int
    parts: tuple[Contribution, ...]


@dataclass(slots=True)
class GroupState:
    """What one group has in its window."""

    window: list[Contribution] = field(default_factory=list)
    opened: int | None = None  # start of the window of a close-decided condition
    chains: list[Chain | None] = field(default_factory=list)
    last: int = 0  # newest match applied

    def empty(self) -> bool:
        return not self.window and self.opened is None and not any(self.chains)

    def to_json(self) -> dict[str, Any]:
        return {
            "last": self.last,
            "window": [c.to_json() for c in self.window],
            "opened": self.opened,
            "chains": [
                None if ch is None else [ch.start, [c.to_json() for c in ch.parts]]
                for ch in self.chains
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupState:
        chains: list[Chain | None] = []
        for item in data.get("chains", []):
            if item is None:
                chains.append(None)
            else:
                chains.append(
                    Chain(int(item[0]), tuple(Contribution.from_json(c) for c in item[1]))
                )
        return cls(
            window=[Contribution.from_json(c) for c in data.get("window", [])],
            opened=data.get("opened"),
            chains=chains,
            last=int(data.get("last") or 0),
        )


class CorrelationWindow:
    """The state of one correlation rule over all its groups.

    Groups are kept in the order they were last touched (event-time order, since matches
    are applied in that order), so the ones whose window has run out are at the front
    and pruning costs nothing for the groups still active. Changes since the last save
    are tracked so that saving writes only them.
    """

    def __init__(self, rule: CorrelationRule) -> None:
        self.rule = rule
        self.groups: OrderedDict[GroupKey, GroupState] = OrderedDict()
        self.pending: list[tuple[GroupKey, Contribution]] = []
        threshold = rule.threshold
        counting = rule.type in (CorrelationType.EVENT_COUNT, CorrelationType.VALUE_COUNT)
        self.decide_at_close = counting and threshold is not None and not threshold.rising
        # (window end, group) of open close-decided windows; stale entries are skipped.
        self._closing: list[tuple[int, GroupKey]] = []
        self.changes = WindowChanges()

    # -- feeding and advancing ------------------------------------------------------

    def add(self, group: GroupKey, contribution: Contribution) -> None:
        self.pending.append((group, contribution))
        self.changes.new_pending.append((group, contribution))

    def advance(
        self,
        frontier: int,
        *,
        final: bool = False,
        spilled: Sequence[Iterator[tuple[GroupKey, Contribution]]] = (),
    ) -> list[Firing]:
        """Apply every pending match older than ``frontier``; ``final`` closes all windows.

        ``spilled``: more pending matches, each reader in application order (runs a
        bulk load wrote to disk); they are merged in as they are read.
        """
        # Sorted in application order, the ready matches are a prefix; what stays
        # behind is sorted already, so the next sort mostly merges the new matches in.
        self.pending.sort(key=application_order)
        if spilled:
            return self._advance_merged(frontier, final, spilled)
        if final:
            ready, self.pending = self.pending, []
        else:
            cut = bisect.bisect_left(self.pending, frontier, key=_pending_ts)
            ready, self.pending = self.pending[:cut], self.pending[cut:]
        firings = self._apply_all(ready)
        firings.extend(self._move_to(frontier, final))
        return firings

    def _advance_merged(
        self,
        frontier: int,
        final: bool,
        spilled: Sequence[Iterator[tuple[GroupKey, Contribution]]],
    ) -> list[Firing]:
        firings: list[Firing] = []
        memory, self.pending = self.pending, []
        in_memory = {id(item) for item in memory}
        batch: list[tuple[GroupKey, Contribution]] = []
        later: list[tuple[GroupKey, Contribution]] = []
        for item in heapq.merge(memory, *spilled, key=application_order):
            ts = item[1].ts
            if not final and ts >= frontier:
                later.append(item)
                continue
            if len(batch) >= MERGE_STEP and ts > batch[-1][1].ts:
                # Every match applied so far is older than this one: what an advance to
                # its time would do, so windows that ended close and idle groups go now
                # (memory stays bounded however long the merged runs are).
                firings.extend(self._apply_all(batch))
                batch = []
                if self.decide_at_close:
                    firings.extend(self._close_due(ts, False))
                self._prune(ts)
            batch.append(item)
        firings.extend(self._apply_all(batch))
        self.pending = later
        # Spilled matches left out of ``changes`` (see the engine's ``_spill``): those
        # still pending must reach the next save.
        self.changes.new_pending.extend(item for item in later if id(item) not in in_memory)
        firings.extend(self._move_to(frontier, final))
        return firings

    def _apply_all(self, ready: list[tuple[GroupKey, Contribution]]) -> list[Firing]:
        firings: list[Firing] = []
        for group, contribution in ready:
            state = self.groups.get(group)
            if state is None:
                state = self.groups[group] = GroupState()
                self.changes.create(group)
            else:
                self.groups.move_to_end(group)
                self.changes.touch(group)
            state.last = max(state.last, contribution.ts)
            firings.extend(self._apply(group, state, contribution))
        return firings

    def _move_to(self, frontier: int, final: bool) -> list[Firing]:
        """Close what ended before ``frontier`` and forget idle groups (``final``: all)."""
        firings: list[Firing] = []
        if self.decide_at_close:
            firings.extend(self._close_due(frontier, final))
        if final:
            self.groups.clear()
            self._closing.clear()
            self.changes.cleared = True
        else:
            self._prune(frontier)
            self.changes.processed_below = frontier
        return firings

    def _close_due(self, frontier: int, final: bool) -> Iterator[Firing]:
        span = self.rule.timespan_ns
        if final:
            due = sorted(self._closing)
            self._closing.clear()
        else:
            due = []
            while self._closing and self._closing[0][0] < frontier:
                due.append(heapq.heappop(self._closing))
        for end, group in due:
            state = self.groups.get(group)
            if state is None or state.opened is None or state.opened + span != end:
                continue  # closed already, by a later match of the group
            self.changes.touch(group)
            firing = self._close(group, state)
            if firing is not None:
                yield firing

    def _prune(self, frontier: int) -> None:
        # A match at or after the frontier looks back at most one timespan, so a group
        # last touched before that has nothing left that could ever count.
        horizon = frontier - self.rule.timespan_ns
        while self.groups:
            group, state = next(iter(self.groups.items()))
            if state.last >= horizon:
                break
            del self.groups[group]
            self.changes.remove(group)

    # -- one match ------------------------------------------------------------------

    def _apply(self, group: GroupKey, state: GroupState, c: Contribution) -> list[Firing]:
        rule = self.rule
        if rule.type is CorrelationType.VALUE_COUNT and c.value is None:
            return []  # nothing to count: the field is absent in this event
        if rule.type is CorrelationType.TEMPORAL_ORDERED:
            return self._apply_ordered(group, state, c)
        out: list[Firing] = []
        span = rule.timespan_ns
        if self.decide_at_close:
            if state.opened is not None and c.ts > state.opened + span:
                closed = self._close(group, state)
                if closed is not None:
                    out.append(closed)
            if state.opened is None:
                state.opened = c.ts
                heapq.heappush(self._closing, (c.ts + span, group))
            state.window.append(c)
            return out
        state.window.append(c)
        if state.window[0].ts < c.ts - span:
            state.window = [x for x in state.window if x.ts >= c.ts - span]
        if self._met(state.window):
            out.append(Firing(group, c.ts, tuple(state.window)))
            state.window = []
        return out

    def _measure(self, window: list[Contribution]) -> int:
        if self.rule.type is CorrelationType.EVENT_COUNT:
            return len(window)
        if self.rule.type is CorrelationType.VALUE_COUNT:
            return len({c.value for c in window})
        return len({c.step for c in window})

    def _met(self, window: list[Contribution]) -> bool:
        rule = self.rule
        if rule.expression is not None:
            present = {rule.rule_ids[c.step] for c in window}
            return evaluate(rule.expression, present)
        return rule.threshold is not None and rule.threshold.holds(self._measure(window))

    def _close(self, group: GroupKey, state: GroupState) -> Firing | None:
        opened = state.opened
        window = state.window
        state.opened = None
        state.window = []
        if opened is None or not window or not self._met(window):
            return None
        return Firing(group, opened + self.rule.timespan_ns, tuple(window))

    def _apply_ordered(self, group: GroupKey, state: GroupState, c: Contribution) -> list[Firing]:
        # chains[k] is the sequence ending at step k with the latest start: the latest
        # start leaves the most time for the remaining steps.
        steps = len(self.rule.rule_ids)
        if len(state.chains) != steps:
            state.chains = [None] * steps
        span = self.rule.timespan_ns
        k = c.step
        candidate: Chain | None = None
        if k == 0:
            candidate = Chain(c.ts, (c,))
        else:
            before = state.chains[k - 1]
            if (
                before is not None
                and c.ts - before.start <= span
                and not set(c.event_ids) & {i for p in before.parts for i in p.event_ids}
            ):
                candidate = Chain(before.start, (*before.parts, c))
        if candidate is None:
            return []
        if k == steps - 1:
            state.chains = [None] * steps
            return [Firing(group, c.ts, candidate.parts)]
        current = state.chains[k]
        if current is None or candidate.start >= current.start:
            state.chains[k] = candidate
        return []

    # -- persistence ----------------------------------------------------------------

    def restore(
        self,
        groups: dict[GroupKey, GroupState],
        pending: list[tuple[GroupKey, Contribution]],
    ) -> None:
        """Load saved groups (in their saved order) and pending matches."""
        self.groups = OrderedDict(sorted(groups.items(), key=lambda item: item[1].last))
        self.pending = list(pending)
        span = self.rule.timespan_ns
        self._closing = [
            (state.opened + span, group)
            for group, state in self.groups.items()
            if state.opened is not None
        ]
        heapq.heapify(self._closing)
        self.changes = WindowChanges()


@dataclass(slots=True)
class WindowChanges:
    """What changed in a window since it was last saved."""

    dirty: set[GroupKey] = field(default_factory=set)
    removed: set[GroupKey] = field(default_factory=set)
    #: Groups made since the last save that the saved state does not hold: one that
    #: goes again before the next save is nothing to delete there. (A bulk load's
    #: final flush makes and prunes about a hundred thousand such groups.)
    created: set[GroupKey] = field(default_factory=set)
    new_pending: list[tuple[GroupKey, Contribution]] = field(default_factory=list)
    #: Pending matches older than this were applied (saved ones can go).
    processed_below: int | None = None
    #: Everything went (a final flush).
    cleared: bool = False
    #: Too many groups changed to track one by one (a long bulk load between two
    #: saves): the next save writes every group anew.
    rewrite: bool = False

    def touch(self, group: GroupKey) -> None:
        if not self.rewrite:
            self.dirty.add(group)
            self.removed.discard(group)

    def create(self, group: GroupKey) -> None:
        """A group made in memory; saved before only if its removal is still pending."""
        if not self.rewrite and group not in self.removed:
            self.created.add(group)
        self.touch(group)

    def remove(self, group: GroupKey) -> None:
        if self.rewrite:
            return
        self.dirty.discard(group)
        if group in self.created:
            self.created.discard(group)
            return
        self.removed.add(group)
        if len(self.removed) > MAX_TRACKED_REMOVALS:
            self.rewrite = True
            self.removed.clear()
            self.dirty.clear()
            self.created.clear()

    def __bool__(self) -> bool:
        return bool(
            self.dirty
            or self.removed
            or self.new_pending
            or self.processed_below is not None
            or self.cleared
            or self.rewrite
        )
