"""Whole rule trees → one callable: AND/OR/NOT over leaf predicates, made cheap.

Same-field literal leaves are folded into one test (``Image|endswith`` with twenty
values is one ``str.endswith(tuple)``), children are tried cheapest first (tests have
no side effects, so order is free and short-circuiting pays), and costly rules that
read few fields remember their result per distinct value.
"""

from __future__ import annotations

from typing import Any

from heron.detect.sigma.ir import (
    QMARK,
    STAR,
    And,
    CidrTest,
    FieldRefTest,
    Leaf,
    Node,
    Not,
    Or,
    RegexTest,
    StringTest,
    TimePartTest,
)
from heron.detect.sigma.predicates import Pred, PredicateError, leaf_predicate
from heron.detect.sigma.view import EventView

__all__ = ["compile_predicate", "evaluation_cost", "memoized", "referenced_fields"]


def _leaf_cost(leaf: Leaf) -> float:
    test = leaf.test
    if leaf.field is None:
        return 20.0
    if isinstance(test, StringTest):
        n = len(test.tokens)
        if QMARK in test.tokens:
            return 8.0
        return 1.0 if n <= 1 else 1.5 if n <= 3 else 3.0
    if isinstance(test, RegexTest):
        return 10.0
    if isinstance(test, (CidrTest, TimePartTest)):
        return 5.0
    if isinstance(test, FieldRefTest):
        return 3.0
    return 1.0


def evaluation_cost(node: Node) -> float:
    """A rough cost of deciding ``node``: AND/OR check their cheap children first."""
    if isinstance(node, Leaf):
        return _leaf_cost(node)
    if isinstance(node, Not):
        return evaluation_cost(node.child)
    return sum(evaluation_cost(child) for child in node.children)


def _shape(leaf: Leaf) -> tuple[str, str, str] | None:
    """(field, exact|prefix|suffix|contains, literal) of a plain case-insensitive leaf."""
    test, fld = leaf.test, leaf.field
    if fld is None or not isinstance(test, StringTest) or test.cased:
        return None
    tokens = test.tokens
    n = len(tokens)
    if n == 1 and isinstance(tokens[0], str):
        return (fld, "exact", tokens[0])
    if n == 2:
        first, last = tokens
        if isinstance(first, str) and last == STAR:
            return (fld, "prefix", first)
        if first == STAR and isinstance(last, str):
            return (fld, "suffix", last)
    if n == 3 and tokens[0] == STAR and tokens[2] == STAR and isinstance(tokens[1], str):
        return (fld, "contains", tokens[1])
    return None


def _any_of_values(fld: str, shape: str, literals: tuple[str, ...]) -> Pred:
    """One field against several literals of one shape, OR-ed: one lookup, one pass."""
    if shape == "exact":
        wanted = frozenset(literals)

        def exact_any(view: EventView) -> bool:
            value = view.lower(fld)
            if value.__class__ is str:
                return value in wanted
            if value is None:
                return False
            return any(v in wanted for v in value)

        return exact_any
    if shape in ("prefix", "suffix"):
        test = str.startswith if shape == "prefix" else str.endswith

        def affix_any(view: EventView) -> bool:
            value = view.lower(fld)
            if value.__class__ is str:
                return test(value, literals)
            if value is None:
                return False
            return any(test(v, literals) for v in value)

        return affix_any

    def contains_any(view: EventView) -> bool:
        value = view.lower(fld)
        if value.__class__ is str:
            for lit in literals:  # noqa: SIM110 - a plain loop is faster than any()/all() here
                if lit in value:
                    return True
            return False
        if value is None:
            return False
        return any(lit in v for v in value for lit in literals)

    return contains_any


def _all_contained(fld: str, literals: tuple[str, ...]) -> Pred:
    """``field|contains|all``: every literal in the (same) value."""

    def contains_all(view: EventView) -> bool:
        value = view.lower(fld)
        if value.__class__ is str:
            for lit in literals:  # noqa: SIM110 - a plain loop is faster than any()/all() here
                if lit not in value:
                    return False
            return True
        if value is None:
            return False
        # As separate leaves: each literal in some element of a list value.
        return all(any(lit in v for v in value) for lit in literals)

    return contains_all


def _merge_leaves(node: And | Or) -> list[Node | Pred]:
    """Children with same-field literal leaves folded into one predicate each.

    Under OR any shape folds; under AND only ``contains`` does (``|contains|all``).
    """
    groups: dict[tuple[str, str], list[str]] = {}
    rest: list[Node | Pred] = []
    for child in node.children:
        shape = _shape(child) if isinstance(child, Leaf) else None
        if shape is None or (isinstance(node, And) and shape[1] != "contains"):
            rest.append(child)
            continue
        groups.setdefault((shape[0], shape[1]), []).append(shape[2])
    for (fld, kind), literals in groups.items():
        if isinstance(node, Or):
            rest.append(_any_of_values(fld, kind, tuple(literals)))
        elif len(literals) == 1:
            rest.append(Leaf(fld, StringTest((STAR, literals[0], STAR))))
        else:
            rest.append(_all_contained(fld, tuple(literals)))
    return rest


def _cost_of(item: Node | Pred) -> float:
    return evaluation_cost(item) if isinstance(item, (Leaf, And, Or, Not)) else 1.0


def compile_predicate(node: Node) -> Pred:
    """A callable deciding whether an event (seen through a view) satisfies ``node``."""
    if isinstance(node, Leaf):
        return leaf_predicate(node)
    if isinstance(node, Not):
        inner = compile_predicate(node.child)
        return lambda view: not inner(view)
    if not isinstance(node, (And, Or)):
        raise PredicateError(f"unknown node {type(node).__name__}")
    # Tests have no side effects, so their order is free: cheapest first short-circuits.
    items = sorted(_merge_leaves(node), key=_cost_of)
    preds = tuple(
        compile_predicate(item) if isinstance(item, (Leaf, And, Or, Not)) else item
        for item in items
    )
    if len(preds) == 1:
        return preds[0]
    if isinstance(node, And):
        if len(preds) == 2:
            a, b = preds
            return lambda view: a(view) and b(view)

        def all_of(view: EventView) -> bool:
            for p in preds:  # noqa: SIM110 - a plain loop is faster than any()/all() here
                if not p(view):
                    return False
            return True

        return all_of
    if len(preds) == 2:
        a, b = preds
        return lambda view: a(view) or b(view)

    def any_of(view: EventView) -> bool:
        for p in preds:  # noqa: SIM110 - a plain loop is faster than any()/all() here
            if p(view):
                return True
        return False

    return any_of


def referenced_fields(node: Node) -> tuple[str, ...] | None:
    """Every field a tree reads (sorted); None when it has keyword leaves (reads all)."""
    found: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Leaf):
            if item.field is None:
                return None
            found.add(item.field)
            if isinstance(item.test, FieldRefTest):
                found.add(item.test.other)
        elif isinstance(item, Not):
            stack.append(item.child)
        else:
            stack.extend(item.children)
    return tuple(sorted(found))


#: Results remembered per memoized rule, and the longest text value used as a key.
_MEMO_ENTRIES = 2048
_MEMO_MAX_TEXT = 4096
#: The memo is judged every ``_MEMO_TRIAL`` lookups: when fewer than one in
#: ``_MEMO_MIN_HIT_RATIO`` hit, it is set aside for ``_MEMO_PAUSE`` decisions (a rule
#: reading values unique to each event, a command line with a fresh GUID, pays for the
#: key, the lookup and the insert on every event and never gets an answer back), then
#: tried again from empty, since what a stream repeats changes.
_MEMO_TRIAL = 512
_MEMO_MIN_HIT_RATIO = 5
_MEMO_PAUSE = 16_384


def _keeps(value: Any) -> bool:
    # Only short text (or absent) values make keys: 1, 1.0 and True are equal as dict
    # keys but not as Sigma values, and long texts would fill the memory.
    return value is None or (value.__class__ is str and len(value) <= _MEMO_MAX_TEXT)


def memoized(pred: Pred, fields: tuple[str, ...]) -> Pred:
    """``pred`` remembering its result per tuple of the values it reads.

    A predicate is a pure function of the fields it reads, and field values repeat
    (the same command lines, the same binaries), so an expensive rule (regexes) is
    decided once per distinct value. Only text (or absent) values make keys; long
    texts are not kept. A memo that rarely hits is paused (see ``_MEMO_TRIAL``).
    """
    memo: dict[Any, bool] = {}
    lookups = hits = paused = 0
    one = fields[0] if len(fields) == 1 else None
    pair = fields if len(fields) == 2 else None
    longest = _MEMO_MAX_TEXT

    def decide(view: EventView) -> bool:
        nonlocal lookups, hits, paused
        if paused:
            paused -= 1
            return pred(view)
        key: Any
        if one is not None:
            # One field (the common case): the value itself is the key.
            key = view.get(one)
            if key is not None and (key.__class__ is not str or len(key) > longest):
                return pred(view)
        elif pair is not None:
            get = view.get
            a, b = get(pair[0]), get(pair[1])
            if (a is not None and (a.__class__ is not str or len(a) > longest)) or (
                b is not None and (b.__class__ is not str or len(b) > longest)
            ):
                return pred(view)
            key = (a, b)
        else:
            key = tuple(map(view.get, fields))
            if not all(map(_keeps, key)):
                return pred(view)
        lookups += 1
        found = memo.get(key)
        if found is not None:
            hits += 1
            return found
        result = memo[key] = pred(view)
        if len(memo) > _MEMO_ENTRIES:
            memo.clear()
        if lookups >= _MEMO_TRIAL:
            if hits * _MEMO_MIN_HIT_RATIO < lookups:
                paused = _MEMO_PAUSE
                memo.clear()
            lookups = hits = 0
        return result

    return decide
