"""Batches of events → (event index, rule) matches, through routing, prefilter, predicates.

Rules are grouped by log source. An event's signature picks the groups that apply
(memoized), each group's index names the candidate rules, and only those candidates
run their exact predicate. A predicate that raises on an odd event is counted against
its rule (``rule_errors``) and the batch goes on: nothing is silently skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.detect.sigma.adapters import ADAPTERS, IDENTITY
from heron.detect.sigma.decide import (
    compile_predicate,
    evaluation_cost,
    memoized,
    referenced_fields,
)
from heron.detect.sigma.index import GroupIndex, rule_slots
from heron.detect.sigma.indexcache import GroupIndexStore
from heron.detect.sigma.ir import CompiledRule, LogSource
from heron.detect.sigma.logsource import Signature, route_for, signature, windows_categories
from heron.detect.sigma.predicates import Pred, PredicateError
from heron.detect.sigma.view import EventView

__all__ = ["Match", "RuleErrors", "SigmaMatcher", "rule_predicate"]

Match = tuple[int, CompiledRule]

#: Signatures remembered before the route memo is cleared (bounds memory on odd input).
_MAX_ROUTES = 50_000
#: Rules at least this costly to decide (regexes, ``?`` wildcards) that read at most
#: this many fields remember their result per distinct field values.
_MEMO_MIN_COST = 8.0
_MEMO_MAX_FIELDS = 3


@dataclass(slots=True)
class RuleErrors:
    """Predicate failures of one rule: how many, and the last reason."""

    count: int = 0
    last_reason: str = ""


def rule_predicate(rule: CompiledRule) -> Pred:
    """The rule's exact test; costly ones that read few fields remember their results.

    Raises ``PredicateError`` when a test cannot be built (RE2 rejects a pattern).
    """
    pred = compile_predicate(rule.condition)
    if evaluation_cost(rule.condition) >= _MEMO_MIN_COST:
        fields = referenced_fields(rule.condition)
        if fields is not None and len(fields) <= _MEMO_MAX_FIELDS:
            pred = memoized(pred, fields)
    return pred


class _Group:
    __slots__ = ("_index", "logsource", "positions", "preds")

    def __init__(
        self, logsource: LogSource, positions: list[int], preds: list[Pred | None]
    ) -> None:
        self.logsource = logsource
        self.positions = positions  # rule positions in the matcher, by group position
        self.preds = preds  # None: built when the rule is first a candidate
        self._index: GroupIndex | None = None

    def index(self, rules: Sequence[CompiledRule], store: GroupIndexStore | None) -> GroupIndex:
        # Built (or read back) on first use: a rule set loads without paying for groups
        # never routed to.
        if self._index is None:
            found = store.get(self.logsource, self.positions) if store is not None else None
            if found is None:
                found = GroupIndex([rule_slots(rules[p].condition) for p in self.positions])
                if store is not None:
                    store.put(self.logsource, self.positions, found)
            self._index = found
        return self._index


class SigmaMatcher:
    """Matches batches of flat events against compiled single-event rules."""

    def __init__(
        self,
        rules: Sequence[CompiledRule],
        checked: bool = False,
        indexes: GroupIndexStore | None = None,
    ) -> None:
        """``checked``: every rule's predicate is known to build (``load_rules`` built
        each one when it compiled the file), so each is built on first use: a start-up
        does not pay for the thousands of rules no event ever makes a candidate. A
        predicate that fails to build then is counted in ``rule_errors``.

        ``indexes``: where the prefilter indexes of exactly ``rules`` are kept
        (``LoadedRules.index_store``); they are read from there, or built and stored.
        """
        self.rules: list[CompiledRule] = []
        self._checked = checked
        #: Rules whose predicate could not be built: (rule, reason).
        self.build_errors: list[tuple[CompiledRule, str]] = []
        groups: dict[LogSource, tuple[list[int], list[Pred | None]]] = {}
        for rule in rules:
            pred: Pred | None = None
            if not checked:
                try:
                    pred = rule_predicate(rule)
                except PredicateError as exc:
                    self.build_errors.append((rule, str(exc)))
                    continue
            pos = len(self.rules)
            self.rules.append(rule)
            positions, preds = groups.setdefault(rule.logsource, ([], []))
            positions.append(pos)
            preds.append(pred)
        self._groups = [_Group(ls, pos, preds) for ls, (pos, preds) in groups.items()]
        # Positions in a stored index are those of ``rules``: none may have been left out.
        self._indexes = indexes if not self.build_errors else None
        self._routes: dict[Signature, tuple[tuple[_Group, str], ...]] = {}
        #: rule id → predicate failures on events of odd shape.
        self.rule_errors: dict[str, RuleErrors] = {}
        #: Events that could not be routed at all (not a mapping, unhashable fields …).
        self.event_errors = 0
        self.last_event_error = ""

    def _resolve(self, sig: Signature) -> tuple[tuple[_Group, str], ...]:
        routes = []
        groups = self._groups
        categories = windows_categories(sig)
        if categories is not None:
            # Most groups are categories this event cannot have: not asked at all.
            groups = [
                g
                for g in groups
                if g.logsource.category is None or g.logsource.category in categories
            ]
        for group in groups:
            route = route_for(group.logsource, sig)
            if route is not None:
                group.index(self.rules, self._indexes)
                routes.append((group, route.adapter))
        if len(self._routes) >= _MAX_ROUTES:
            self._routes.clear()
        resolved = self._routes[sig] = tuple(routes)
        return resolved

    def __reduce__(
        self,
    ) -> tuple[type[SigmaMatcher], tuple[list[CompiledRule], bool, GroupIndexStore | None]]:
        # Predicates are closures: a copy (e.g. sent to a worker process) is rebuilt from
        # the compiled rules, with fresh counters and memos.
        return (SigmaMatcher, (self.rules, self._checked, self._indexes))

    def prepare(self) -> None:
        """Build every group's index and predicate now, not on first use (steady latency)."""
        for group in self._groups:
            group.index(self.rules, self._indexes)
            preds = group.preds
            for gpos, pred in enumerate(preds):
                if pred is None:
                    try:
                        preds[gpos] = rule_predicate(self.rules[group.positions[gpos]])
                    except PredicateError as exc:
                        self._fail(self.rules[group.positions[gpos]], exc)

    def routed_groups(self, event: Mapping[str, Any]) -> list[LogSource]:
        """The log sources an event is routed to (for diagnostics and tests)."""
        sig = signature(event)
        routes = self._routes.get(sig) or self._resolve(sig)
        return [group.logsource for group, _ in routes]

    def _fail(self, rule: CompiledRule, exc: Exception) -> None:
        stats = self.rule_errors.get(rule.id)
        if stats is None:
            stats = self.rule_errors[rule.id] = RuleErrors()
        stats.count += 1
        stats.last_reason = f"{type(exc).__name__}: {exc}"

    def match_batch(self, events: Sequence[Mapping[str, Any]]) -> list[Match]:
        """Every (event index, rule) pair where the rule matches the event, in event order."""
        return self._match(events, indexed=True)

    def match_batch_unindexed(self, events: Sequence[Mapping[str, Any]]) -> list[Match]:
        """``match_batch`` without the prefilter: every routed rule decides every event.

        Slow; it exists to check that the prefilter never drops a match.
        """
        return self._match(events, indexed=False)

    def _match(self, events: Sequence[Mapping[str, Any]], *, indexed: bool) -> list[Match]:
        out: list[Match] = []
        rules = self.rules
        memo = self._routes
        for i, event in enumerate(events):
            try:
                sig = signature(event)
                routes = memo.get(sig)
            except Exception as exc:  # an odd event must not stop the batch: counted instead
                self.event_errors += 1
                self.last_event_error = f"event {i}: {type(exc).__name__}: {exc}"
                continue
            if routes is None:
                routes = self._resolve(sig)
            if not routes:
                continue
            plain: EventView | None = None
            adapted: dict[str, EventView | None] | None = None
            for group, adapter in routes:
                view: EventView | None
                if adapter == IDENTITY:
                    if plain is None:
                        plain = EventView(event)
                    view = plain
                else:
                    if adapted is None:
                        adapted = {}
                    if adapter in adapted:
                        view = adapted[adapter]
                    else:
                        fields = ADAPTERS[adapter](event)
                        view = adapted[adapter] = None if fields is None else EventView(fields)
                    if view is None:
                        continue
                index = group._index or group.index(rules, self._indexes)
                preds, positions = group.preds, group.positions
                try:
                    candidates = index.candidates(view) if indexed else range(len(preds))
                except Exception as exc:  # counted per event, the batch goes on
                    self.event_errors += 1
                    self.last_event_error = f"event {i}: {type(exc).__name__}: {exc}"
                    continue
                for gpos in candidates:
                    pred = preds[gpos]
                    try:
                        if pred is None:
                            pred = preds[gpos] = rule_predicate(rules[positions[gpos]])
                        hit = pred(view)
                    except Exception as exc:  # counted against the rule, never a silent miss
                        self._fail(rules[positions[gpos]], exc)
                        continue
                    if hit:
                        out.append((i, rules[positions[gpos]]))
        return out
