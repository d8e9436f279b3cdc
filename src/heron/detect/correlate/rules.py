"""Correlation rules as the correlation engine runs them.

Made from the loader's ``CorrelationSpec`` (Sigma correlation rules, spec v2): which
rules feed the correlation (resolved to ids), the window length, the group-by fields
and their per-rule aliases, and the condition as a threshold or, for ``temporal``, a
boolean expression over the rules seen in the window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import orjson

from heron.detect.sigma.ir import CorrelationSpec
from heron.errors import HeronError
from heron.model.timeutil import NS_PER_S

__all__ = [
    "CorrelationRule",
    "CorrelationRuleError",
    "CorrelationType",
    "Expression",
    "Threshold",
]


class CorrelationRuleError(HeronError):
    """A correlation rule the engine cannot run; says which rule and why."""

    def __init__(self, rule_id: str, reason: str) -> None:
        self.rule_id = rule_id
        self.reason = reason
        super().__init__(f"correlation rule {rule_id}: {reason}")


class CorrelationType(Enum):
    EVENT_COUNT = "event_count"
    VALUE_COUNT = "value_count"
    TEMPORAL = "temporal"
    TEMPORAL_ORDERED = "temporal_ordered"


_OPS = ("gt", "gte", "lt", "lte", "eq", "neq")


@dataclass(frozen=True, slots=True)
class Threshold:
    """``{gt: 5}``: how a measured number (count, distinct values, rules seen) must compare."""

    op: str
    value: float

    def holds(self, measured: float) -> bool:
        v = self.value
        if self.op == "gt":
            return measured > v
        if self.op == "gte":
            return measured >= v
        if self.op == "lt":
            return measured < v
        if self.op == "lte":
            return measured <= v
        if self.op == "eq":
            return measured == v
        return measured != v

    @property
    def rising(self) -> bool:
        """True when the condition, once met, stays met as more events come (gt, gte).

        Such conditions are decided as soon as an event meets them; the others (lt, lte,
        eq, neq) only when the window closes, since a later event could undo them.
        """
        return self.op in ("gt", "gte")


#: A temporal extended condition: a rule id, or ("and"|"or", [...]) or ("not", [x]).
Expression = str | tuple[str, tuple["Expression", ...]]


def evaluate(expr: Expression, present: frozenset[str] | set[str]) -> bool:
    """Whether the rules ``present`` in a window satisfy ``expr``."""
    if isinstance(expr, str):
        return expr in present
    op, args = expr
    if op == "and":
        return all(evaluate(a, present) for a in args)
    if op == "or":
        return any(evaluate(a, present) for a in args)
    return not evaluate(args[0], present)


def _expression(node: Any, ids: Mapping[str, str]) -> Expression:
    """A pySigma extended-condition tree as plain nested tuples."""
    # pySigma is imported only where a rule needs it: not on every start-up.
    from sigma.correlations import (
        CorrelationConditionAND,
        CorrelationConditionNOT,
        CorrelationConditionOR,
        SigmaRuleReference,
    )

    if isinstance(node, SigmaRuleReference):
        return ids.get(node.reference, node.reference)
    args = tuple(_expression(a, ids) for a in node.args)
    if isinstance(node, CorrelationConditionAND):
        return ("and", args)
    if isinstance(node, CorrelationConditionOR):
        return ("or", args)
    if isinstance(node, CorrelationConditionNOT):
        return ("not", args)
    raise TypeError(f"unexpected correlation condition element {type(node).__name__}")


@dataclass(frozen=True, slots=True)
class CorrelationRule:
    """One correlation: what feeds it, how events group and window, when it fires."""

    id: str
    title: str
    type: CorrelationType
    #: Ids of the rules (single-event or correlation) that feed this one, in order:
    #: for ``temporal_ordered`` the order events must come in.
    rule_ids: tuple[str, ...]
    timespan_ns: int
    group_by: tuple[str, ...] = ()
    #: group-by name → {feeding rule id → the field holding it in that rule's events}
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    threshold: Threshold | None = None
    #: ``value_count``: the field whose distinct values are counted.
    value_fields: tuple[str, ...] = ()
    expression: Expression | None = None
    generate: bool = False
    level: str = "medium"
    tags: tuple[str, ...] = ()
    name: str | None = None

    @property
    def fingerprint(self) -> str:
        """A hash of everything that shapes window state; saved state of another is dropped."""
        shape = {
            "type": self.type.value,
            "rules": self.rule_ids,
            "timespan": self.timespan_ns,
            "group_by": self.group_by,
            "aliases": {k: dict(v) for k, v in sorted(self.aliases.items())},
            "threshold": None
            if self.threshold is None
            else [self.threshold.op, self.threshold.value],
            "fields": self.value_fields,
            "expression": self.expression,
        }
        return hashlib.sha256(orjson.dumps(shape, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]

    def group_field(self, name: str, rule_id: str) -> str:
        """The field that holds group-by ``name`` in events of ``rule_id`` (aliases applied)."""
        mapping = self.aliases.get(name)
        if mapping is not None:
            return mapping.get(rule_id, name)
        return name

    @classmethod
    def from_spec(cls, spec: CorrelationSpec) -> CorrelationRule:
        """The runnable form of a loaded correlation rule; raises ``CorrelationRuleError``."""
        refs = tuple(spec.rules)
        ids = tuple(spec.rule_ids) if spec.rule_ids else refs
        if len(ids) != len(refs):
            raise CorrelationRuleError(spec.id, "rule references did not all resolve")
        by_ref = dict(zip(refs, ids, strict=True))
        try:
            kind = CorrelationType(spec.type)
        except ValueError:
            raise CorrelationRuleError(
                spec.id,
                f"correlation type {spec.type!r} is not supported "
                "(event_count, value_count, temporal, temporal_ordered are)",
            ) from None
        if not ids:
            raise CorrelationRuleError(spec.id, "no rules to correlate")
        if spec.timespan <= 0:
            raise CorrelationRuleError(spec.id, "timespan must be longer than zero")
        aliases = {
            alias: {by_ref.get(ref, ref): fld for ref, fld in mapping.items()}
            for alias, mapping in spec.aliases.items()
        }
        threshold, fields, expression = _condition(spec, kind, ids, by_ref)
        return cls(
            id=spec.id,
            title=spec.title or spec.name or spec.id,
            type=kind,
            rule_ids=ids,
            timespan_ns=int(spec.timespan) * NS_PER_S,
            group_by=tuple(spec.group_by),
            aliases=aliases,
            threshold=threshold,
            value_fields=fields,
            expression=expression,
            generate=spec.generate,
            level=spec.level or "medium",
            tags=tuple(spec.tags),
            name=spec.name,
        )


def _condition(
    spec: CorrelationSpec,
    kind: CorrelationType,
    ids: Sequence[str],
    by_ref: Mapping[str, str],
) -> tuple[Threshold | None, tuple[str, ...], Expression | None]:
    cond: Mapping[str, Any] = spec.condition
    if "expression" in cond:
        if kind is not CorrelationType.TEMPORAL:
            raise CorrelationRuleError(
                spec.id, "an extended (boolean) condition is only supported for temporal"
            )
        from sigma.correlations import SigmaExtendedCorrelationCondition
        from sigma.exceptions import SigmaError

        try:
            parsed = SigmaExtendedCorrelationCondition.parse(str(cond["expression"]))
        except (SigmaError, Exception) as exc:
            raise CorrelationRuleError(spec.id, f"condition expression: {exc}") from None
        return None, (), _expression(parsed, by_ref)
    ops = [op for op in _OPS if op in cond]
    if len(ops) != 1:
        if kind in (CorrelationType.TEMPORAL, CorrelationType.TEMPORAL_ORDERED) and not ops:
            return Threshold("gte", float(len(ids))), (), None
        raise CorrelationRuleError(spec.id, "condition needs exactly one of " + ", ".join(_OPS))
    op = ops[0]
    raw = cond[op]
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise CorrelationRuleError(spec.id, f"condition {op}: {raw!r} is not a number")
    threshold = Threshold(op, float(raw))
    fields: tuple[str, ...] = ()
    if kind is CorrelationType.VALUE_COUNT:
        ref = cond.get("field")
        if isinstance(ref, str) and ref:
            fields = (ref,)
        elif isinstance(ref, (list, tuple)) and ref and all(isinstance(f, str) for f in ref):
            fields = tuple(ref)
        else:
            raise CorrelationRuleError(spec.id, "value_count needs condition.field")
    if kind in (CorrelationType.TEMPORAL, CorrelationType.TEMPORAL_ORDERED):
        if not threshold.rising and op != "eq":
            raise CorrelationRuleError(
                spec.id, f"{kind.value} counts rules seen; use gt, gte or eq, not {op}"
            )
        if kind is CorrelationType.TEMPORAL_ORDERED and (
            op not in ("gte", "eq") or threshold.value != len(ids)
        ):
            # An ordered sequence is complete only when every step occurred.
            raise CorrelationRuleError(
                spec.id, "temporal_ordered fires on the whole sequence; drop the condition"
            )
    return threshold, fields, None
