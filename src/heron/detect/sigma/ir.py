"""The compiled form of Sigma rules: plain, picklable data, no pySigma objects.

A rule's detection becomes a tree of ``And`` / ``Or`` / ``Not`` over ``Leaf`` nodes; a
leaf tests one field (or, for keyword searches, every value) with one value test. This
is what the cache stores and what ``heron.detect.sigma.predicates`` turns into
callables, so unpickling it must be cheap (small slotted dataclasses and tuples) and
nothing in it may depend on how pySigma happens to represent a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "COMPILER_VERSION",
    "QMARK",
    "STAR",
    "And",
    "BoolTest",
    "CidrTest",
    "CompareTest",
    "CompiledRule",
    "CorrelationSpec",
    "ExistsTest",
    "FieldRefTest",
    "FilterSpec",
    "Leaf",
    "LoadError",
    "LogSource",
    "Node",
    "Not",
    "NullTest",
    "NumberTest",
    "Or",
    "RegexTest",
    "StringTest",
    "Test",
    "TimePartTest",
]

#: Bump when the compiled form or its meaning changes: cached rules of another
#: version are compiled again.
COMPILER_VERSION = "sigma-ir-6"


class _Positional:
    """Pickled as ``cls(*fields)``: a slotted dataclass's default ``__setstate__`` looks
    up its fields on every object, which made loading thousands of cached rules slow."""

    __slots__: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return (type(self), tuple([getattr(self, name) for name in self.__slots__]))


#: Wildcard tokens in ``StringTest.tokens`` (literal parts are ``str``).
STAR = 0
QMARK = 1


@dataclass(frozen=True, slots=True)
class StringTest(_Positional):
    """A Sigma string: literal parts and wildcards, compared case-insensitively unless cased.

    ``tokens`` holds literals (already lowercased when not ``cased``) and the ints
    ``STAR`` (``*``) and ``QMARK`` (``?``); escaped wildcards are plain literal text.
    """

    tokens: tuple[str | int, ...]
    cased: bool = False


@dataclass(frozen=True, slots=True)
class NumberTest(_Positional):
    """A number: equal to an int/float value or to a string holding that number."""

    value: int | float


@dataclass(frozen=True, slots=True)
class BoolTest(_Positional):
    value: bool


@dataclass(frozen=True, slots=True)
class NullTest(_Positional):
    """``field: null``: the field is absent or empty."""


@dataclass(frozen=True, slots=True)
class ExistsTest(_Positional):
    """``field|exists: true/false``."""

    exists: bool


@dataclass(frozen=True, slots=True)
class RegexTest(_Positional):
    """``|re``: an RE2 pattern searched in the value; ``flags`` is a subset of ``"ims"``."""

    pattern: str
    flags: str = ""


@dataclass(frozen=True, slots=True)
class CidrTest(_Positional):
    """``|cidr``: the value is an IP address inside ``network`` (IPv4 or IPv6)."""

    network: str


@dataclass(frozen=True, slots=True)
class CompareTest(_Positional):
    """``|lt`` ``|lte`` ``|gt`` ``|gte`` (and pySigma's ``|neq``) against a number."""

    op: str  # lt | lte | gt | gte | neq
    value: int | float


@dataclass(frozen=True, slots=True)
class FieldRefTest(_Positional):
    """``|fieldref``: the value equals (or starts/ends with, or contains) another field's."""

    other: str
    mode: str  # eq | prefix | suffix | contains


@dataclass(frozen=True, slots=True)
class TimePartTest(_Positional):
    """``|minute`` ``|hour`` ``|day`` ``|week`` ``|month`` ``|year`` of a timestamp value."""

    part: str
    value: int


Test = (
    StringTest
    | NumberTest
    | BoolTest
    | NullTest
    | ExistsTest
    | RegexTest
    | CidrTest
    | CompareTest
    | FieldRefTest
    | TimePartTest
)


@dataclass(frozen=True, slots=True)
class Leaf(_Positional):
    """One test on one field; ``field`` None is a keyword search over all values."""

    field: str | None
    test: Test


@dataclass(frozen=True, slots=True)
class And(_Positional):
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or(_Positional):
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not(_Positional):
    child: Node


Node = Leaf | And | Or | Not


@dataclass(frozen=True, slots=True)
class LogSource(_Positional):
    product: str | None = None
    category: str | None = None
    service: str | None = None

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.as_dict().items()]
        return " ".join(parts) or "(empty)"

    def as_dict(self) -> dict[str, str]:
        out = {}
        for key in ("product", "category", "service"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class CompiledRule(_Positional):
    """A single-event Sigma rule, compiled; ``condition`` is the whole detection."""

    id: str
    title: str
    condition: Node
    logsource: LogSource
    filename: str
    name: str | None = None
    level: str | None = None
    status: str | None = None
    description: str | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    date: str | None = None
    modified: str | None = None
    #: False when a correlation rule with ``generate: false`` uses this rule: its
    #: matches feed the correlation but raise no alert of their own.
    output: bool = True

    @property
    def display_name(self) -> str:
        return self.title or self.name or self.id


@dataclass(frozen=True, slots=True)
class CorrelationSpec(_Positional):
    """A Sigma correlation rule, as the correlation engine needs it.

    ``rules`` are the referenced rule ids or names as written; ``rule_ids`` the ids they
    resolved to in the loaded set (same order). ``condition`` is the Sigma condition
    mapping (``{"gte": 5}``, optionally ``"field"``), or for extended temporal
    conditions ``{"expression": "..."}``.
    """

    id: str
    title: str
    type: str  # event_count | value_count | temporal | temporal_ordered | ...
    rules: tuple[str, ...]
    timespan: int  # seconds
    timespan_spec: str
    condition: dict[str, object]
    filename: str
    name: str | None = None
    group_by: tuple[str, ...] = ()
    generate: bool = False
    level: str | None = None
    status: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    #: alias → {rule id or name → field name in that rule's events}
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    rule_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterSpec(_Positional):
    """A Sigma filter (meta-rule): ``condition`` is ANDed into the rules it names."""

    id: str
    title: str
    rules: tuple[str, ...] | None  # None: every rule of the log source
    logsource: LogSource
    condition: Node
    filename: str


class LoadError(NamedTuple):
    """A rule file or rule that could not be loaded: where, which rule, and why."""

    path: str
    rule_id: str | None
    reason: str
