"""The prefilter: which rules of a group can possibly match an event.

For every rule up to two *trigger sets* are derived from its condition: sets of
cheap facts (field equals / starts with / ends with / contains a literal, or is
present) each of which has one that holds for every event the rule matches, and a
rule is a candidate when all its sets fire. An AND has the sets of all its children,
an OR the unions of its children's (see ``_necessary_sets``), NOT and unindexable
tests give none (a rule with none is checked on every routed event); the two
cheapest are kept. Per field, exact literals go into a dict and the
others into one Aho-Corasick automaton over lowercased text, so finding candidates
costs one dict lookup and one automaton pass per event field the group reads; the
candidates are then decided exactly by their predicates.

The prefilter may only over-approximate: a trigger is a necessary condition of the
rule, never its truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ahocorasick
import re2

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
from heron.detect.sigma.predicates import re2_latin1_searcher, re2_searcher
from heron.detect.sigma.view import EventView

__all__ = ["GroupIndex", "Trigger", "rule_slots", "rule_triggers"]

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

#: A second AND-ed trigger set is only worth its bookkeeping when it is this rare
#: (``benchmarks/detect.py``: 0.5 gave 2.24 candidates an event, 1.0 1.86, 2.0 1.83).
_SECOND_SLOT_MAX_COST = 1.0


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


def _necessary_sets(node: Node) -> list[frozenset[Trigger]]:
    """Trigger sets each of which has a trigger that holds whenever ``node`` does,
    cheapest first; empty when there is none.

    An AND has every set of its children. An OR has two: the union of each child's
    cheapest set, and the union of each child's second cheapest (its cheapest when it
    has one): whichever child holds, its sets fire, so each union does. The second
    keeps what an OR of ANDs says twice: ``(Image|contains A and CommandLine|contains
    B) or CommandLine|contains C`` needs A or C, and B or C.
    """
    if isinstance(node, Leaf):
        leaf = _leaf_triggers(node)
        return [] if leaf is None else [leaf]
    if isinstance(node, Not):
        return []
    if isinstance(node, Or):
        first: set[Trigger] = set()
        second: set[Trigger] = set()
        for child in node.children:
            sets = _necessary_sets(child)
            if not sets:
                return []
            first |= sets[0]
            second |= sets[1] if len(sets) > 1 else sets[0]
        found = [frozenset(first)]
        if second != first:
            found.append(frozenset(second))
        return sorted(found, key=_set_cost)
    if isinstance(node, And):
        pooled: dict[frozenset[Trigger], None] = {}
        for child in node.children:
            pooled.update(dict.fromkeys(_necessary_sets(child)))
        return sorted(pooled, key=_set_cost)
    return []


def rule_triggers(node: Node) -> frozenset[Trigger] | None:
    """A set of triggers one of which holds whenever ``node`` does; None if there is none."""
    sets = _necessary_sets(node)
    return sets[0] if sets else None


def rule_slots(node: Node) -> list[frozenset[Trigger]]:
    """Trigger sets that must *all* fire (one trigger each) for ``node`` to hold.

    The cheapest necessary set and, when it is rare enough to pay for itself, the
    second cheapest. An empty list: the rule cannot be prefiltered.
    """
    sets = _necessary_sets(node)
    if len(sets) > 1 and _set_cost(sets[1]) <= _SECOND_SLOT_MAX_COST:
        return sets[:2]
    return sets[:1]


def _number_key(text: str) -> str | None:
    """Decimal text of a whole number written in decimal, hex or as a float ("12.0"),
    for NUMBER triggers: the texts the number predicate takes for that number."""
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
    try:
        number = float(text)
    except ValueError:
        return None
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    return None


@dataclass(slots=True)
class _FieldBuild:
    exact: dict[str, set[int]] = field(default_factory=dict)
    patterns: dict[str, tuple[set[int], set[int], set[int]]] = field(default_factory=dict)
    present: set[int] = field(default_factory=set)
    numeric: bool = False


#: Values remembered per field (value → hits) before the memo starts over, and the
#: longest value remembered: field values repeat (the same binaries, the same command
#: lines), so most events skip the automaton altogether.
_MEMO_ENTRIES = 4096
_MEMO_MAX_LEN = 1024


#: What the triggers firing on one value say, as one int of three bit fields over the
#: group's n rule positions: bit ``pos`` for a single-slot rule that fired, bit
#: ``n + pos`` and bit ``2n + pos`` for the first and the second slot of a two-slot
#: rule. Gathering an event's hits is then one ``|`` per field, and the candidates are
#: ``single | (first & second)``: no set or tuple per value or per event.
Hits = int
NO_HITS: Hits = 0


class _Packer:
    """Trigger keys (``2 * pos + slot``) → ``Hits``."""

    __slots__ = ("_n", "_two")

    def __init__(self, n: int, two: frozenset[int]) -> None:
        self._n = n
        self._two = two

    def pack(self, keys: set[int] | list[int]) -> Hits:
        hits = 0
        for key in keys:
            pos = key >> 1
            if pos not in self._two:
                hits |= 1 << pos
            else:
                hits |= 1 << (pos + self._n * (1 + (key & 1)))
        return hits


#: An automaton entry: index of the literal's last character, and what the literal
#: says when contained, when a prefix, when a suffix.
_Entry = tuple[int, Hits, Hits, Hits]


@dataclass(slots=True)
class _FieldIndex:
    exact: dict[str, Hits] | None
    automaton: ahocorasick.Automaton | None
    present: Hits
    numeric: bool
    memo: dict[str, Hits] = field(default_factory=dict)

    def keys(self, raw: str) -> Hits:
        """What the triggers that fire on one value say (memoized by the value as given)."""
        found = self.memo.get(raw)
        if found is not None:
            return found
        s = raw.lower()
        out = self.present
        exact = self.exact
        if exact is not None:
            hit = exact.get(s)
            if hit is not None:
                out |= hit
            elif self.numeric:
                key = _number_key(s)
                if key is not None:
                    hit = exact.get(key)
                    if hit is not None:
                        out |= hit
        auto = self.automaton
        if auto is not None:
            last = len(s) - 1
            for end, (lit_last, contains, prefix, suffix) in auto.iter(s):
                out |= contains
                if prefix and end == lit_last:
                    out |= prefix
                if suffix and end == last:
                    out |= suffix
        if len(raw) <= _MEMO_MAX_LEN:
            if len(self.memo) >= _MEMO_ENTRIES:
                self.memo.clear()
            self.memo[raw] = out
        return out

    def scan(self, text: str | tuple[str, ...]) -> Hits:
        """What the triggers say about one field's text, or about any of its texts."""
        if text.__class__ is str:
            return self.keys(text)
        out = 0
        for s in text:
            out |= self.keys(s)
        return out


def _automaton(
    patterns: dict[str, tuple[set[int], set[int], set[int]]], packer: _Packer
) -> ahocorasick.Automaton | None:
    if not patterns:
        return None
    auto = ahocorasick.Automaton()
    for text, (contains, prefix, suffix) in patterns.items():
        entry: _Entry = (
            len(text) - 1,
            packer.pack(contains),
            packer.pack(prefix),
            packer.pack(suffix),
        )
        auto.add_word(text, entry)
    auto.make_automaton()
    return auto


def _field_index(build: _FieldBuild, packer: _Packer) -> _FieldIndex:
    return _FieldIndex(
        {k: packer.pack(v) for k, v in build.exact.items()} or None,
        _automaton(build.patterns, packer),
        packer.pack(build.present),
        build.numeric,
    )


#: Up to this many keyword literals are probed with ``in``; more, with one RE2 pattern.
_PROBE_BY_IN = 3
#: What a whole number's text is made of (see ``EventView.keyword_probe_text``).
_NUMBER_CHARS = frozenset("0123456789-")
#: Latin-1 bytes lowercased as ``str.lower`` lowercases those characters: it maps each
#: of the 256 to one character of the 256 (``tests``: checked for every one).
LATIN1_LOWER = bytes(ord(chr(code).lower()) for code in range(256))


def _latin1_probe(literals: list[str]) -> Callable[[bytes], bool]:
    """Whether a literal occurs in lowercased Latin-1 bytes (one that has a character
    beyond Latin-1 cannot: the lowercase of Latin-1 text is Latin-1)."""
    encodable = [lit.encode("latin-1") for lit in literals if max(lit) <= "\xff"]
    if not encodable:
        return lambda data: False
    return re2_latin1_searcher(b"|".join(re2.escape(lit) for lit in encodable))


class _KeywordIndex:
    """Keyword (field-less) literals, looked for in the event's keyword blob.

    The blob (an ``EventView``'s searchable values, lowercased, joined by NUL) is what
    the keyword predicates search, so the prefilter agrees with them; it is built once
    per event and shared by every group and predicate that reads it. Literals are rare
    in events: one cheap probe answers "none" for most events, and only a hit builds
    the blob and walks the automaton to learn which. The probe reads the values with
    their case: on ASCII text a case-insensitive RE2 pattern finds exactly the
    literals ``lower()`` would let through, without lowercasing; other text is
    lowercased first (``str.lower`` and RE2's case folding differ beyond ASCII: "İ"
    lowers to "i" and a combining dot): as bytes when it is Latin-1 (a "®" in a
    Windows product name is enough to leave ASCII, and ``str.lower`` on such text
    costs six times a byte table), else by ``str.lower``. Numbers are left out when no
    literal could occur in one.
    """

    __slots__ = ("_automaton", "_folded", "_latin1", "_literals", "_probe", "_with_ints")

    def __init__(
        self, patterns: dict[str, tuple[set[int], set[int], set[int]]], packer: _Packer
    ) -> None:
        automaton = _automaton(patterns, packer)
        assert automaton is not None, "a keyword index needs literals"
        self._automaton = automaton
        self._probes(sorted(patterns))

    def __getstate__(self) -> tuple[ahocorasick.Automaton, list[str]]:
        # The probes are RE2 closures: a stored index keeps the literals and rebuilds them.
        return self._automaton, self._literals

    def __setstate__(self, state: tuple[ahocorasick.Automaton, list[str]]) -> None:
        self._automaton = state[0]
        self._probes(state[1])

    def _probes(self, literals: list[str]) -> None:
        self._literals = literals
        self._with_ints = any(set(lit) <= _NUMBER_CHARS for lit in literals)
        alternation = "|".join(re2.escape(lit) for lit in literals)
        self._folded = re2_searcher("(?i)" + alternation)
        self._latin1 = _latin1_probe(literals)
        if len(literals) <= _PROBE_BY_IN:
            self._probe: Callable[[str], bool] = lambda blob: any(lit in blob for lit in literals)
        else:
            self._probe = re2_searcher(alternation)

    def hits(self, view: EventView) -> Hits:
        text = view.keyword_probe_text(self._with_ints)
        if text.isascii():
            if not self._folded(text):
                return NO_HITS
        else:
            try:
                data = text.encode("latin-1")
            except UnicodeEncodeError:
                if not self._probe(text.lower()):
                    return NO_HITS
            else:
                if not self._latin1(data.translate(LATIN1_LOWER)):
                    return NO_HITS
        out = 0
        for _end, entry in self._automaton.iter(view.keyword_blob()):
            out |= entry[1]
        return out


class GroupIndex:
    """Candidate rules (positions in the group) for an event seen through a view."""

    __slots__ = (
        "_always",
        "_by_ecs",
        "_by_field",
        "_field_list",
        "_keyword_always",
        "_keywords",
        "_low",
        "_n",
        "_names",
        "size",
    )

    def __init__(self, slots: Sequence[Sequence[frozenset[Trigger]]]) -> None:
        """``slots[pos]``: the rule's trigger sets that must all fire (empty: always check).

        Triggers are first gathered as *keys* ``2 * pos + slot``, then packed (``Hits``).
        """
        self.size = n = len(slots)
        always: list[int] = []
        two: set[int] = set()
        builds: dict[str, _FieldBuild] = {}
        keyword_patterns: dict[str, tuple[set[int], set[int], set[int]]] = {}
        keyword_always: list[int] = []
        for pos, rule_slots_ in enumerate(slots):
            if not rule_slots_:
                always.append(pos)
                continue
            if len(rule_slots_) > 1:
                two.add(pos)
            for slot, trigger_set in enumerate(rule_slots_[:2]):
                key = 2 * pos + slot
                for fld, kind, text in trigger_set:
                    if fld is None and text == "":
                        keyword_always.append(key)  # "" is in every event's values
                        continue
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
        packer = _Packer(n, frozenset(two))
        self._n = n
        self._low = (1 << n) - 1
        self._always = sum(1 << pos for pos in always)
        self._by_field: dict[str, _FieldIndex] = {
            fld: _field_index(b, packer) for fld, b in builds.items()
        }
        # ECS name → the Sigma fields it stands in for when they are absent.
        by_ecs: dict[str, list[str]] = {}
        for fld in self._by_field:
            if fld in ECS_FALLBACK:
                by_ecs.setdefault(ECS_FALLBACK[fld], []).append(fld)
        self._by_ecs: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in by_ecs.items()}
        self._names = frozenset(self._by_field) | frozenset(self._by_ecs)
        self._field_list = tuple(self._by_field.items())
        # Keyword literals: one probe of the event's keyword blob (see _KeywordIndex).
        self._keywords = _KeywordIndex(keyword_patterns, packer) if keyword_patterns else None
        self._keyword_always = packer.pack(keyword_always)

    def candidates(self, view: EventView) -> list[int]:
        """Positions of the rules that may match, ascending; always includes the
        unindexed ones."""
        acc = self._keyword_always
        fields = view.fields
        if len(self._field_list) <= len(fields):
            # Fewer fields read by the group than the event has: look each one up.
            for rule_field, index in self._field_list:
                value = fields.get(rule_field)
                if value.__class__ is str:
                    # Hot path: a text value, usually seen before (memo by raw value).
                    hits = index.memo.get(value)
                    acc |= index.keys(value) if hits is None else hits
                elif value is not None:
                    text = view.lower(rule_field)
                    if text is not None:
                        acc |= index.scan(text)
                else:
                    alt = ECS_FALLBACK.get(rule_field)
                    if alt is not None and fields.get(alt) is not None:
                        text = view.lower(rule_field)
                        if text is not None:
                            acc |= index.scan(text)
        else:
            by_field, by_ecs = self._by_field, self._by_ecs
            # Only the event's fields the group reads or falls back from (one C pass).
            for name in self._names.intersection(fields):
                value = fields[name]
                if value is None:
                    continue
                found = by_field.get(name)
                if found is not None:
                    if value.__class__ is str:
                        hits = found.memo.get(value)
                        acc |= found.keys(value) if hits is None else hits
                    else:
                        text = view.lower(name)
                        if text is not None:
                            acc |= found.scan(text)
                aliases = by_ecs.get(name)
                if aliases is not None:
                    for alias in aliases:
                        if fields.get(alias) is None:
                            text = view.lower(alias)
                            if text is not None:
                                acc |= by_field[alias].scan(text)
        if self._keywords is not None:
            acc |= self._keywords.hits(view)
        n, low = self._n, self._low
        # Single-slot rules that fired, two-slot rules both of whose slots fired.
        found_bits = (acc & low) | ((acc >> n) & (acc >> (2 * n))) | self._always
        positions: list[int] = []
        while found_bits:
            lowest = found_bits & -found_bits
            positions.append(lowest.bit_length() - 1)
            found_bits ^= lowest
        return positions
