"""The prefilter: which rules of a group can possibly match an event.

For every rule a *trigger set* is derived from its condition: a set of cheap facts
(field equals / starts with / ends with / contains a literal, or is present) at least
one of which holds for every event the rule matches. AND keeps the cheapest child's
set, OR unites its children's, NOT and unindexable tests give none (the rule is then
checked on every routed event). Per field, exact literals go into a dict and the
others into one Aho-Corasick automaton over lowercased text, so finding candidates
costs one dict lookup and one automaton pass per event field the group reads; the
candidates are then decided exactly by their predicates.

The prefilter may only over-approximate: a trigger is a necessary condition of the
rule, never its truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import ahocorasick

from heron.detect.sigma.fieldmap import ECS_FALLBACK
from heron.detect.sigma.ir import (
    QMARK,
    STAR,
    And,
    BoolTest,
    CidrTest,
    CompareTest,
    ExistsTest,
    FieldRefTest,
    Leaf,
    Node,
    Not,
    NumberTest,
    Or,
    RegexTest,
    StringTest,
    TimePartTest,
)
from heron.detect.sigma.literals import required_literals
from heron.detect.sigma.view import EventView

__all__ = ["GroupIndex", "Trigger", "rule_slots", "rule_triggers", "screen_grams"]

EXACT, PREFIX, SUFFIX, CONTAINS, PRESENT, NUMBER = range(6)

#: (field or None for keywords, kind, lowercased literal)
Trigger = tuple[str | None, int, str]

_BASE_COST = {EXACT: 0.3, NUMBER: 0.5, PREFIX: 1.0, SUFFIX: 1.0, CONTAINS: 2.0}

#: Fields with few distinct values: an exact value on them says little about an event.
_LOW_CARDINALITY = frozenset(
    {
        "EventID",
        "Channel",
        "Provider_Name",
        "IntegrityLevel",
        "LogonType",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "Initiated",
        "Signed",
        "SignatureStatus",
        "Protocol",
        "EventType",
        "ObjectType",
        "AccessMask",
        "Status",
        "TerminalSessionId",
        "User",
        "event.outcome",
        "event.action",
        "eventSource",
    }
)

#: A second AND-ed trigger set is only worth its bookkeeping when it is this rare.
_SECOND_SLOT_MAX_COST = 0.5


def _cost(trigger: Trigger) -> float:
    """A rough chance that the trigger fires on a routed event: longer literals are rarer."""
    fld, kind, text = trigger
    if kind == PRESENT:
        return 1.0
    if fld is None:
        return 5.0  # keyword triggers make every routed event's values be scanned
    if kind in (EXACT, NUMBER) and fld in _LOW_CARDINALITY:
        return 0.5
    return min(1.0, _BASE_COST[kind] / max(1, len(text)) ** 2)


def _set_cost(triggers: frozenset[Trigger]) -> float:
    return sum(_cost(t) for t in triggers)


def _string_trigger(fld: str | None, test: StringTest) -> Trigger | None:
    tokens = tuple(t.lower() if isinstance(t, str) and test.cased else t for t in test.tokens)
    n = len(tokens)
    if n == 0:
        return None if fld is None else (fld, EXACT, "")
    literals = [t for t in tokens if isinstance(t, str)]
    if not literals:
        return None if fld is None else (fld, PRESENT, "")
    if fld is not None:
        if n == 1:
            return (fld, EXACT, str(tokens[0]))
        if n == 2 and tokens[1] == STAR and isinstance(tokens[0], str):
            return (fld, PREFIX, tokens[0])
        if n == 2 and tokens[0] == STAR and isinstance(tokens[1], str):
            return (fld, SUFFIX, tokens[1])
    longest = max(literals, key=len)
    if fld is not None and QMARK not in tokens:
        if tokens[0] == longest:
            return (fld, PREFIX, longest)
        if tokens[-1] == longest:
            return (fld, SUFFIX, longest)
    return (fld, CONTAINS, longest)


def _leaf_triggers(leaf: Leaf) -> frozenset[Trigger] | None:
    test, fld = leaf.test, leaf.field
    if isinstance(test, StringTest):
        trigger = _string_trigger(fld, test)
        if trigger is None or (fld is None and "\0" in trigger[2]):
            return None  # keyword literals are found in the NUL-joined values
        return frozenset({trigger})
    if isinstance(test, RegexTest):
        literals = required_literals(test.pattern)
        if literals is not None and (fld is not None or not any("\0" in t for t in literals)):
            return frozenset((fld, CONTAINS, lit) for lit in literals)
        return None if fld is None else frozenset({(fld, PRESENT, "")})
    if fld is None:
        return None
    if isinstance(test, NumberTest):
        if isinstance(test.value, int):
            return frozenset({(fld, NUMBER, str(test.value))})
        return frozenset({(fld, PRESENT, "")})
    if isinstance(test, ExistsTest):
        return frozenset({(fld, PRESENT, "")}) if test.exists else None
    if isinstance(test, (BoolTest, CidrTest, CompareTest, FieldRefTest, TimePartTest)):
        return frozenset({(fld, PRESENT, "")})
    return None  # NullTest: true exactly when the field is absent


def rule_triggers(node: Node) -> frozenset[Trigger] | None:
    """A set of triggers one of which holds whenever ``node`` does; None if there is none."""
    if isinstance(node, Leaf):
        return _leaf_triggers(node)
    if isinstance(node, Not):
        return None
    if isinstance(node, Or):
        out: set[Trigger] = set()
        for child in node.children:
            sub = rule_triggers(child)
            if sub is None:
                return None
            out |= sub
        return frozenset(out)
    if isinstance(node, And):
        slots = rule_slots(node)
        return slots[0] if slots else None
    return None


def rule_slots(node: Node) -> list[frozenset[Trigger]]:
    """Trigger sets that must *all* fire (one trigger each) for ``node`` to hold.

    For an AND, the cheapest child's set and, when it is rare enough to pay for
    itself, the second cheapest; otherwise the single set of ``rule_triggers``.
    An empty list: the rule cannot be prefiltered.
    """
    if isinstance(node, And):
        scored: list[tuple[float, int, frozenset[Trigger]]] = []
        for child in node.children:
            sub = rule_triggers(child)
            if sub is not None:
                scored.append((_set_cost(sub), len(scored), sub))
        scored.sort()
        if not scored:
            return []
        slots = [scored[0][2]]
        if len(scored) > 1 and scored[1][0] <= _SECOND_SLOT_MAX_COST:
            slots.append(scored[1][2])
        return slots
    single = rule_triggers(node)
    return [] if single is None else [single]


#: Characters that the text of a number or boolean value can hold.
_NUMERIC_TEXT = frozenset("0123456789+-.eEinfatrulsINFATRULS")


def screen_grams(literals: Sequence[str], *, max_grams: int = 6) -> tuple[str, ...]:
    """A few short substrings, one of which every literal contains (empty: not worth it).

    Checking them first lets an event without any of them skip the per-literal scans:
    Mimikatz' twenty keywords share ``::``, ``kiwi`` and a handful more.
    """
    if len(literals) <= max_grams:
        return ()
    uncovered = set(literals)
    grams: list[str] = []
    while uncovered:
        counts: dict[str, int] = {}
        for lit in uncovered:
            seen = {lit[i : i + n] for n in (2, 3, 4) for i in range(len(lit) - n + 1)}
            for gram in seen:
                counts[gram] = counts.get(gram, 0) + 1
        if not counts:
            return ()  # a one-character literal: no screen
        best = max(counts, key=lambda g: (counts[g], len(g), g))
        grams.append(best)
        uncovered = {lit for lit in uncovered if best not in lit}
        if len(grams) > max_grams:
            return ()
    return tuple(grams)


def _number_key(text: str) -> str | None:
    """Decimal text of a number written in decimal or hex, for NUMBER triggers."""
    text = text.strip()
    if not text:
        return None
    try:
        return str(int(text, 10))
    except ValueError:
        pass
    if text[:2] == "0x":
        try:
            return str(int(text, 16))
        except ValueError:
            return None
    return None


@dataclass(slots=True)
class _FieldBuild:
    exact: dict[str, set[int]] = field(default_factory=dict)
    patterns: dict[str, tuple[set[int], set[int], set[int]]] = field(default_factory=dict)
    present: set[int] = field(default_factory=set)
    numeric: bool = False


#: Values remembered per field (value → trigger keys) before the memo starts over, and
#: the longest value remembered: field values repeat (the same binaries, the same
#: command lines), so most events skip the automaton altogether.
_MEMO_ENTRIES = 4096
_MEMO_MAX_LEN = 1024


@dataclass(slots=True)
class _FieldIndex:
    exact: dict[str, tuple[int, ...]] | None
    automaton: ahocorasick.Automaton | None
    present: tuple[int, ...]
    numeric: bool
    memo: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def keys(self, raw: str) -> tuple[int, ...]:
        """The keys of the triggers that fire on one value (memoized by the value as given)."""
        found = self.memo.get(raw)
        if found is not None:
            return found
        s = raw.lower()
        out: set[int] = set(self.present)
        exact = self.exact
        if exact is not None:
            hit = exact.get(s)
            if hit is not None:
                out.update(hit)
            elif self.numeric:
                key = _number_key(s)
                if key is not None:
                    hit = exact.get(key)
                    if hit is not None:
                        out.update(hit)
        auto = self.automaton
        if auto is not None:
            last = len(s) - 1
            for end, (lit_last, contains, prefix, suffix) in auto.iter(s):
                if contains:
                    out.update(contains)
                if prefix and end == lit_last:
                    out.update(prefix)
                if suffix and end == last:
                    out.update(suffix)
        keys = tuple(out)
        if len(raw) <= _MEMO_MAX_LEN:
            if len(self.memo) >= _MEMO_ENTRIES:
                self.memo.clear()
            self.memo[raw] = keys
        return keys


def _automaton(
    patterns: dict[str, tuple[set[int], set[int], set[int]]],
) -> ahocorasick.Automaton | None:
    if not patterns:
        return None
    auto = ahocorasick.Automaton()
    for text, (contains, prefix, suffix) in patterns.items():
        entry = (
            len(text) - 1,
            tuple(sorted(contains)),
            tuple(sorted(prefix)),
            tuple(sorted(suffix)),
        )
        auto.add_word(text, entry)
    auto.make_automaton()
    return auto


def _field_index(build: _FieldBuild) -> _FieldIndex:
    return _FieldIndex(
        {k: tuple(sorted(v)) for k, v in build.exact.items()} or None,
        _automaton(build.patterns),
        tuple(sorted(build.present)),
        build.numeric,
    )


class GroupIndex:
    """Candidate rules (positions in the group) for an event seen through a view."""

    __slots__ = (
        "_by_ecs",
        "_by_field",
        "_field_list",
        "_keyword_screen",
        "_keywords",
        "_screen_textual",
        "_two_slots",
        "always",
        "size",
    )

    def __init__(self, slots: Sequence[Sequence[frozenset[Trigger]]]) -> None:
        """``slots[pos]``: the rule's trigger sets that must all fire (empty: always check).

        Index entries hold *keys* ``2 * pos + slot``, so one pass collects which slots
        of which rules fired.
        """
        self.size = len(slots)
        always: list[int] = []
        two: set[int] = set()
        builds: dict[str, _FieldBuild] = {}
        keyword_patterns: dict[str, tuple[set[int], set[int], set[int]]] = {}
        for pos, rule_slots_ in enumerate(slots):
            if not rule_slots_:
                always.append(pos)
                continue
            if len(rule_slots_) > 1:
                two.add(pos)
            for slot, trigger_set in enumerate(rule_slots_[:2]):
                key = 2 * pos + slot
                for fld, kind, text in trigger_set:
                    if fld is None:
                        keyword_patterns.setdefault(text, (set(), set(), set()))[0].add(key)
                        continue
                    build = builds.setdefault(fld, _FieldBuild())
                    if kind == PRESENT:
                        build.present.add(key)
                    elif kind in (EXACT, NUMBER):
                        build.exact.setdefault(text, set()).add(key)
                        build.numeric = build.numeric or kind == NUMBER
                    elif text == "":
                        build.present.add(key)  # an empty prefix/suffix/substring: any value
                    else:
                        where = {CONTAINS: 0, PREFIX: 1, SUFFIX: 2}[kind]
                        build.patterns.setdefault(text, (set(), set(), set()))[where].add(key)
        self.always = tuple(always)
        self._two_slots = frozenset(two)
        self._by_field: dict[str, _FieldIndex] = {fld: _field_index(b) for fld, b in builds.items()}
        # ECS name → the Sigma fields it stands in for when they are absent.
        by_ecs: dict[str, list[str]] = {}
        for fld in self._by_field:
            if fld in ECS_FALLBACK:
                by_ecs.setdefault(ECS_FALLBACK[fld], []).append(fld)
        self._by_ecs: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in by_ecs.items()}
        self._field_list = tuple(self._by_field.items())
        # Few keyword literals (SigmaHQ has a handful a group): str.__contains__ on the
        # joined values beats an automaton pass over them.
        self._keywords: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
            (text, tuple(sorted(keys[0]))) for text, keys in sorted(keyword_patterns.items())
        )
        self._keyword_screen = screen_grams([text for text, _ in self._keywords])
        # Numbers, booleans and lists as text are digits, signs, dots, "e", "true", "false"
        # … : a gram with a letter other than those or a ":" or "\\" cannot come from one.
        self._screen_textual = all(
            any(ch not in _NUMERIC_TEXT for ch in gram) for gram in self._keyword_screen
        )

    def candidates(self, view: EventView) -> set[int]:
        """Positions of the rules that may match; always includes the unindexed ones."""
        hits: set[int] = set()
        fields = view.fields
        scan = self._scan
        if len(self._field_list) <= len(fields):
            # Fewer fields read by the group than the event has: look each one up.
            for rule_field, index in self._field_list:
                value = fields.get(rule_field)
                if value.__class__ is str:
                    # Hot path: a text value, usually seen before (memo by raw value).
                    keys = index.memo.get(value)
                    if keys is None:
                        keys = index.keys(value)
                    if keys:
                        hits.update(keys)
                elif value is not None or rule_field in ECS_FALLBACK:
                    text = view.lower(rule_field)
                    if text is not None:
                        scan(text, index, hits)
        else:
            by_field, by_ecs = self._by_field, self._by_ecs
            for name, value in fields.items():
                if value is None:
                    continue
                found = by_field.get(name)
                if found is not None:
                    if value.__class__ is str:
                        keys = found.memo.get(value)
                        if keys is None:
                            keys = found.keys(value)
                        if keys:
                            hits.update(keys)
                    else:
                        text = view.lower(name)
                        if text is not None:
                            scan(text, found, hits)
                aliases = by_ecs.get(name)
                if aliases is not None:
                    for alias in aliases:
                        if fields.get(alias) is None:
                            text = view.lower(alias)
                            if text is not None:
                                scan(text, by_field[alias], hits)
        if self._keywords:
            screened = not self._keyword_screen
            if not screened:
                # Screen grams that no number's text can hold are looked for in the
                # text values only; the full blob is built for the events that pass.
                text = view.keyword_text_blob() if self._screen_textual else view.keyword_blob()
                for gram in self._keyword_screen:
                    if gram in text:
                        screened = True
                        break
            if screened:
                blob = view.keyword_blob()
                for literal, keys in self._keywords:
                    if literal in blob:
                        hits.update(keys)
        two = self._two_slots
        if not two:
            cand = {key >> 1 for key in hits}
        else:
            cand = set()
            for key in hits:
                pos = key >> 1
                if pos not in two or (not key & 1 and key + 1 in hits):
                    cand.add(pos)
        if self.always:
            cand.update(self.always)
        return cand

    @staticmethod
    def _scan(text: str | tuple[str, ...], index: _FieldIndex, cand: set[int]) -> None:
        """Add the keys of the triggers that fire on one field's lowercased text."""
        if text.__class__ is str:
            keys = index.keys(text)
            if keys:
                cand.update(keys)
            return
        for s in text:
            keys = index.keys(s)
            if keys:
                cand.update(keys)
