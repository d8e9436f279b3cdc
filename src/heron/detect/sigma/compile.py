"""pySigma rule objects → Heron's compiled rules (``heron.detect.sigma.ir``).

The detection's condition tree (pySigma already resolved ``1 of selection_*``,
``all of them``, value lists and the ``all`` modifier into AND/OR/NOT) is walked once;
every leaf value becomes one or more value tests (``modifiers.value_tests``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
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
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaDetections, SigmaLogSource, SigmaRule, SigmaRuleBase
from sigma.rule.base import SigmaYAMLLoader

from heron.detect.sigma.cache import FileEntry
from heron.detect.sigma.decide import compile_predicate
from heron.detect.sigma.ir import (
    And,
    CompiledRule,
    CorrelationSpec,
    FilterSpec,
    Leaf,
    LoadError,
    LogSource,
    Node,
    Not,
    Or,
)
from heron.detect.sigma.modifiers import ValueCompileError, value_tests
from heron.detect.sigma.predicates import PredicateError

__all__ = [
    "RuleCompileError",
    "compile_correlation",
    "compile_file",
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


def _doc_id(docs: list[object]) -> str | None:
    """The id of a file's only rule document (pySigma raises some errors without it)."""
    ids = [str(d["id"]) for d in docs if isinstance(d, dict) and d.get("id") is not None]
    return ids[0] if len(ids) == 1 else None


def compile_file(
    data: bytes, path: str, placeholders: Mapping[str, Sequence[str]] | None = None
) -> FileEntry:
    """Parse and compile one rule file's bytes; every problem becomes a ``LoadError``."""
    entry = FileEntry()
    values = placeholders or {}
    docs: list[object] = []
    try:
        docs = list(yaml.load_all(data.decode("utf-8"), Loader=SigmaYAMLLoader))
        collection = SigmaCollection.from_dicts(
            docs,  # type: ignore[arg-type]
            collect_errors=True,
            source=SigmaRuleLocation(Path(path)),
            collect_filters=True,
            resolve_references=False,
        )
    except UnicodeDecodeError as exc:
        entry.errors.append(LoadError(path, None, f"not UTF-8 text: {exc}"))
        return entry
    except yaml.YAMLError as exc:
        entry.errors.append(LoadError(path, None, f"invalid YAML: {exc}"))
        return entry
    except SigmaError as exc:
        entry.errors.append(LoadError(path, _doc_id(docs), f"invalid Sigma: {exc}"))
        return entry
    except Exception as exc:  # a pySigma bug on odd input must not stop loading
        entry.errors.append(LoadError(path, None, f"{type(exc).__name__}: {exc}"))
        return entry
    owned: set[int] = set()
    items: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = [
        *collection.rules,
        *collection.filters,
    ]
    for index, rule in enumerate(items):
        owned.update(id(e) for e in rule.errors)
        rule_id = rule_identity(rule, path, index)
        try:
            if isinstance(rule, SigmaCorrelationRule):
                entry.correlations.append(compile_correlation(rule, path, index))
            elif isinstance(rule, SigmaFilter):
                spec = compile_filter(rule, path, index, values)
                compile_predicate(spec.condition)
                entry.filters.append(spec)
            else:
                compiled = compile_rule(rule, path, index, values)
                compile_predicate(compiled.condition)
                entry.rules.append(compiled)
        except (RuleCompileError, PredicateError) as exc:
            entry.errors.append(LoadError(path, rule_id, str(exc)))
        except Exception as exc:  # reported against the rule; loading goes on
            entry.errors.append(LoadError(path, rule_id, f"{type(exc).__name__}: {exc}"))
    for error in collection.errors:
        if id(error) not in owned:
            entry.errors.append(LoadError(path, None, str(error)))
    return entry
