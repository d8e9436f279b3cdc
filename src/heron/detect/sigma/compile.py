"""pySigma rule objects → Heron's compiled rules (``heron.detect.sigma.ir``).

The detection's condition tree (pySigma already resolved ``1 of selection_*``,
``all of them``, value lists and the ``all`` modifier into AND/OR/NOT) is walked once;
every leaf value becomes one or more value tests (``modifiers.value_tests``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
)
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.rule import SigmaDetections, SigmaLogSource, SigmaRule, SigmaRuleBase

from heron.detect.sigma.ir import (
    And,
    CompiledRule,
    CorrelationSpec,
    FilterSpec,
    Leaf,
    LogSource,
    Node,
    Not,
    Or,
)
from heron.detect.sigma.modifiers import ValueCompileError, value_tests

__all__ = [
    "RuleCompileError",
    "compile_correlation",
    "compile_filter",
    "compile_rule",
    "rule_identity",
]

Placeholders = Mapping[str, Sequence[str]]
_ConditionTree = (
    ConditionItem | ConditionFieldEqualsValueExpression | ConditionValueExpression | None
)


class RuleCompileError(Exception):
    """A rule Heron cannot turn into a matcher; ``str()`` is the reason."""


def rule_identity(rule: SigmaRuleBase, filename: str, index: int) -> str:
    """The rule's id, else its name, else ``file#n`` (every rule needs a stable id)."""
    if rule.id is not None:
        return str(rule.id)
    if rule.name:
        return rule.name
    return f"{filename}#{index}"


def _flat(kind: type[And] | type[Or], children: list[Node]) -> Node:
    out: list[Node] = []
    for child in children:
        if isinstance(child, kind):
            out.extend(child.children)
        else:
            out.append(child)
    if len(out) == 1:
        return out[0]
    return kind(tuple(out))


def _leaf(field: str | None, value: Any, placeholders: Placeholders) -> Node:
    try:
        tests = value_tests(value, placeholders, keyword=field is None)
    except ValueCompileError as exc:
        where = f"field {field!r}" if field else "keyword"
        raise RuleCompileError(f"{where}: {exc}") from None
    if not tests:
        raise RuleCompileError(f"field {field!r}: value expands to nothing")
    leaves: list[Node] = [Leaf(field, test) for test in tests]
    return _flat(Or, leaves)


def _node(cond: _ConditionTree, placeholders: Placeholders) -> Node:
    if isinstance(cond, ConditionAND):
        return _flat(And, [_node(arg, placeholders) for arg in cond.args])
    if isinstance(cond, ConditionOR):
        return _flat(Or, [_node(arg, placeholders) for arg in cond.args])
    if isinstance(cond, ConditionNOT):
        return Not(_node(cond.args[0], placeholders))
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        return _leaf(cond.field, cond.value, placeholders)
    if isinstance(cond, ConditionValueExpression):
        return _leaf(None, cond.value, placeholders)
    raise RuleCompileError(f"unexpected condition element {type(cond).__name__}")


def compile_detection(detection: SigmaDetections, placeholders: Placeholders) -> Node:
    """The whole detection as one tree: several conditions are alternatives (OR)."""
    trees: list[Node] = []
    for condition in detection.parsed_condition:
        try:
            parsed = condition.parsed
        except SigmaError as exc:
            raise RuleCompileError(f"condition {condition.condition!r}: {exc}") from None
        if parsed is None:
            raise RuleCompileError(f"condition {condition.condition!r} selects nothing")
        trees.append(_node(parsed, placeholders))
    if not trees:
        raise RuleCompileError("no condition")
    return _flat(Or, trees)


def _logsource(ls: SigmaLogSource) -> LogSource:
    def norm(value: str | None) -> str | None:
        return value.strip().lower() if isinstance(value, str) and value.strip() else None

    return LogSource(norm(ls.product), norm(ls.category), norm(ls.service))


def _name(value: object) -> str | None:
    return None if value is None else str(value)


def _date(value: object) -> str | None:
    return None if value is None else str(value)


def compile_rule(
    rule: SigmaRule, filename: str, index: int, placeholders: Placeholders
) -> CompiledRule:
    """A compiled single-event rule; ``RuleCompileError`` says why one cannot be."""
    if rule.errors:
        raise RuleCompileError("; ".join(str(e) for e in rule.errors))
    return CompiledRule(
        id=rule_identity(rule, filename, index),
        title=rule.title or "",
        condition=compile_detection(rule.detection, placeholders),
        logsource=_logsource(rule.logsource),
        filename=filename,
        name=rule.name,
        level=_name(rule.level),
        status=_name(rule.status),
        description=rule.description,
        author=rule.author,
        tags=tuple(str(t) for t in rule.tags),
        references=tuple(str(r) for r in rule.references),
        falsepositives=tuple(str(f) for f in rule.falsepositives),
        fields=tuple(str(f) for f in rule.fields),
        date=_date(rule.date),
        modified=_date(rule.modified),
    )


def _correlation_condition(rule: SigmaCorrelationRule) -> dict[str, object]:
    cond = rule.condition
    if isinstance(cond, SigmaExtendedCorrelationCondition):
        return {"expression": cond.expression}
    if isinstance(cond, SigmaCorrelationCondition):
        out: dict[str, object] = {cond.op.name.lower(): cond.count}
        if cond.fieldref is not None:
            out["field"] = cond.fieldref
        if cond.percentile is not None:
            out["percentile"] = cond.percentile
        return out
    raise RuleCompileError(f"unsupported correlation condition {type(cond).__name__}")


def compile_correlation(rule: SigmaCorrelationRule, filename: str, index: int) -> CorrelationSpec:
    """A correlation rule as plain data (its rule references resolve at load time)."""
    if rule.errors:
        raise RuleCompileError("; ".join(str(e) for e in rule.errors))
    if rule.rules is not None:
        refs = tuple(ref.reference for ref in rule.rules)
    elif isinstance(rule.condition, SigmaExtendedCorrelationCondition):
        refs = tuple(rule.condition.get_referenced_rules())
    else:
        refs = ()
    aliases = {
        alias.alias: {ref.reference: name for ref, name in alias.mapping.items()}
        for alias in rule.aliases
    }
    return CorrelationSpec(
        id=rule_identity(rule, filename, index),
        title=rule.title or "",
        type=rule.type.name.lower(),
        rules=refs,
        timespan=int(rule.timespan.seconds),
        timespan_spec=str(rule.timespan.spec),
        condition=_correlation_condition(rule),
        filename=filename,
        name=rule.name,
        group_by=tuple(rule.group_by or ()),
        generate=bool(rule.generate),
        level=_name(rule.level),
        status=_name(rule.status),
        description=rule.description,
        tags=tuple(str(t) for t in rule.tags),
        aliases=aliases,
    )


def compile_filter(
    rule: SigmaFilter, filename: str, index: int, placeholders: Placeholders
) -> FilterSpec:
    """A Sigma filter: its condition is ANDed into each rule it applies to."""
    if rule.errors:
        raise RuleCompileError("; ".join(str(e) for e in rule.errors))
    refs = rule.filter.rules
    rules = None if isinstance(refs, str) else tuple(ref.reference for ref in refs)
    return FilterSpec(
        id=rule_identity(rule, filename, index),
        title=rule.title or "",
        rules=rules,
        logsource=_logsource(rule.logsource),
        condition=compile_detection(rule.filter, placeholders),
        filename=filename,
    )
