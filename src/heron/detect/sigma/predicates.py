"""Leaf tests → Python callables that decide one field of one event exactly.

Each leaf becomes a small closure over an ``EventView``; ``heron.detect.sigma.decide``
assembles them into a rule. String tests compare lowercased text (unless ``cased``)
with the cheapest exact operation for the wildcard shape: equality, ``startswith``,
``endswith``, ``in``, an ordered ``find`` walk for ``*`` globs, and RE2 only for ``?``
wildcards and ``|re``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

import re2

from heron.detect.sigma.ir import (
    QMARK,
    STAR,
    BoolTest,
    CidrTest,
    CompareTest,
    ExistsTest,
    FieldRefTest,
    Leaf,
    NullTest,
    NumberTest,
    RegexTest,
    StringTest,
    TimePartTest,
)
from heron.detect.sigma.view import EventView, Text
from heron.model.timeutil import parse_timestamp

__all__ = [
    "Pred",
    "PredicateError",
    "glob_regex",
    "leaf_predicate",
    "long_run_length",
    "re2_searcher",
    "string_matcher",
]

Pred = Callable[[EventView], bool]
TextMatch = Callable[[str], bool]


class PredicateError(Exception):
    """A compiled test cannot be built (e.g. RE2 rejects the pattern)."""


_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def _re2_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in _RE2_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\x00":
            out.append("\\x00")
        else:
            out.append(ch)
    return "".join(out)


def glob_regex(tokens: tuple[str | int, ...]) -> str:
    """An anchored RE2 pattern for a token sequence with ``?`` wildcards."""
    body = []
    for tok in tokens:
        if tok == STAR:
            body.append(".*")
        elif tok == QMARK:
            body.append(".")
        else:
            body.append(_re2_escape(str(tok)))
    return "(?s)\\A" + "".join(body) + "\\z"


def _compile_re2(pattern: str | bytes, latin1: bool = False) -> Any:
    options = re2.Options()
    options.never_capture = True  # only "does it match" is asked: no groups to track
    if latin1:
        options.encoding = re2.Options.Encoding.LATIN1
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        raise PredicateError(f"RE2 rejects {pattern!r}: {exc}") from None


def _raw_search(compiled: Any) -> tuple[Any, Any, Any] | None:
    """(compiled RE2 object, unanchored, no-match span) when the binding exposes them:
    the public ``search`` builds a match object and decodes offsets, which costs more
    than the search itself on short values."""
    raw = getattr(compiled, "_regexp", None)
    anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
    null = getattr(re2, "_NULL_SPAN", None)
    if raw is None or anchor is None or null is None or not hasattr(raw, "Match"):
        return None
    return raw, anchor, null


def re2_searcher(pattern: str) -> TextMatch:
    """A function telling whether ``pattern`` (RE2) occurs in a text."""
    compiled = _compile_re2(pattern)
    parts = _raw_search(compiled)
    if parts is None:
        search = compiled.search
        return lambda s: search(s) is not None
    raw, anchor, null = parts

    def found(s: str) -> bool:
        data = s.encode("utf-8", "surrogatepass")
        return bool(raw.Match(anchor, data, 0, len(data))[0] != null)

    return found


def re2_latin1_searcher(pattern: bytes) -> Callable[[bytes], bool]:
    """A function telling whether ``pattern`` (RE2, Latin-1) occurs in Latin-1 bytes."""
    compiled = _compile_re2(pattern, latin1=True)
    parts = _raw_search(compiled)
    if parts is None:
        search = compiled.search
        return lambda data: search(data) is not None
    raw, anchor, null = parts
    return lambda data: bool(raw.Match(anchor, data, 0, len(data))[0] != null)


def string_matcher(tokens: tuple[str | int, ...]) -> TextMatch:
    """A function deciding whether one text matches the tokens (same case as tokens)."""
    n = len(tokens)
    if n == 0:
        return lambda s: s == ""
    if QMARK in tokens:
        return re2_searcher(glob_regex(tokens))
    if n == 1:
        if tokens[0] == STAR:
            return lambda s: True
        lit = str(tokens[0])
        return lambda s: s == lit
    first, last = tokens[0], tokens[-1]
    if n == 2:
        if last == STAR:
            prefix = str(first)
            return lambda s: s.startswith(prefix)
        suffix = str(last)
        return lambda s: s.endswith(suffix)
    if n == 3 and first == STAR and last == STAR:
        sub = str(tokens[1])
        return lambda s: sub in s
    head = "" if first == STAR else str(first)
    tail = "" if last == STAR else str(last)
    mids = tuple(str(t) for t in tokens[1:-1] if t != STAR)
    if first != STAR:
        mids = tuple(str(t) for t in tokens[1:-1] if t != STAR)
    min_len = len(head) + len(tail)

    def glob(s: str) -> bool:
        if len(s) < min_len or not s.startswith(head) or not s.endswith(tail):
            return False
        pos = len(head)
        end = len(s) - len(tail)
        for mid in mids:
            i = s.find(mid, pos, end)
            if i < 0:
                return False
            pos = i + len(mid)
        return True

    return glob


def _on_text(field: str, match: TextMatch, cased: bool) -> Pred:
    def pred(view: EventView) -> bool:
        value = view.text(field) if cased else view.lower(field)
        if value.__class__ is str:
            return match(value)
        if value is None:
            return False
        return any(match(v) for v in value)

    return pred


def _string_pred(field: str | None, test: StringTest) -> Pred:
    tokens = test.tokens
    match = string_matcher(tokens)
    if field is None:
        cased = test.cased
        if (
            not cased
            and len(tokens) == 3
            and tokens[0] == STAR
            and tokens[2] == STAR
            and "\0" not in str(tokens[1])
        ):
            needle = str(tokens[1])
            return lambda view: needle in view.keyword_blob()

        def keyword(view: EventView) -> bool:
            texts = view.keyword_texts(True)
            if not cased:
                texts = tuple(t.lower() for t in texts)
            return any(match(t) for t in texts)

        return keyword
    if not test.cased and len(tokens) == 1 and tokens[0] != STAR and tokens[0] != QMARK:
        lit = tokens[0]

        def exact(view: EventView) -> bool:
            value = view.lower(field)
            if value.__class__ is str:
                return value == lit
            if value is None:
                return False
            return lit in value

        return exact
    if not test.cased and len(tokens) == 3 and tokens[0] == STAR and tokens[2] == STAR:
        sub = str(tokens[1])

        def contains(view: EventView) -> bool:
            value = view.lower(field)
            if value.__class__ is str:
                return sub in value
            if value is None:
                return False
            return any(sub in v for v in value)

        return contains
    return _on_text(field, match, test.cased)


def _number(value: Any) -> int | float | None:
    """A number from an int/float, or from text holding a decimal, hex or float number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text, 10)
        except ValueError:
            pass
        if text[:2].lower() == "0x":
            try:
                return int(text, 16)
            except ValueError:
                return None
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _values(raw: Any) -> tuple[Any, ...]:
    if isinstance(raw, (list, tuple)):
        return tuple(raw)
    return (raw,)


def _number_pred(field: str, test: NumberTest) -> Pred:
    want = test.value

    def pred(view: EventView) -> bool:
        raw = view.get(field)
        if raw is None:
            return False
        if raw.__class__ is int:
            return bool(raw == want)
        return any(_number(v) == want for v in _values(raw))

    return pred


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "neq": lambda a, b: a != b,
}


def _compare_pred(field: str, test: CompareTest) -> Pred:
    op = _COMPARE[test.op]
    want = test.value

    def pred(view: EventView) -> bool:
        raw = view.get(field)
        if raw is None:
            return False
        for v in _values(raw):
            number = _number(v)
            if number is not None and op(number, want):
                return True
        return False

    return pred


def _bool_pred(field: str, test: BoolTest) -> Pred:
    want = test.value
    want_text = "true" if want else "false"

    def pred(view: EventView) -> bool:
        for v in _values(view.get(field)):
            if isinstance(v, bool):
                if v is want:
                    return True
            elif isinstance(v, str) and v.strip().lower() == want_text:
                return True
        return False

    return pred


def _null_pred(field: str) -> Pred:
    def pred(view: EventView) -> bool:
        raw = view.get(field)
        return raw is None or raw == "" or (isinstance(raw, (list, tuple)) and not raw)

    return pred


def _exists_pred(field: str, test: ExistsTest) -> Pred:
    want = test.exists

    def pred(view: EventView) -> bool:
        return (view.get(field) is not None) is want

    return pred


#: How ``.`` may be written inside a run of any characters: ``.{N,}``, ``(.){N,}``.
_ANY_CHAR = (".", "(.)", "(?:.)")


def long_run_length(pattern: str) -> int | None:
    """N when ``pattern`` is only "a run of at least N of any character" (``.{N,}``)."""
    for dot in _ANY_CHAR:
        if pattern.startswith(dot + "{") and pattern.endswith(",}"):
            digits = pattern[len(dot) + 1 : -2]
            if digits.isdecimal() and digits.isascii():
                return int(digits)
    return None


def _long_run(n: int, dotall: bool) -> TextMatch:
    """Whether a text holds ``n`` characters in a row (not counting newlines unless
    ``dotall``), which is what ``.{n,}`` finds.

    SigmaHQ writes "an unusually long command line" this way. RE2 answers it with a
    DFA state per counted position, built on first use: about 50 ms for n = 1000,
    paid again by every new matcher (each worker). A length test gives the same answer.
    """
    if dotall:
        return lambda s: len(s) >= n
    return lambda s: len(s) >= n and any(len(line) >= n for line in s.split("\n"))


def _regex_pred(field: str | None, test: RegexTest) -> Pred:
    prefix = f"(?{test.flags})" if test.flags else ""
    run = long_run_length(test.pattern)
    if run is not None:
        search = _long_run(run, "s" in test.flags)
    else:
        search = re2_searcher(prefix + test.pattern)
    if field is None:

        def keyword(view: EventView) -> bool:
            return any(search(t) for t in view.keyword_texts(True))

        return keyword
    return _on_text(field, search, True)


@lru_cache(maxsize=8192)
def _ip(text: str) -> IPv4Address | IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    text = text.split("%", 1)[0]  # IPv6 zone id
    try:
        addr = ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _cidr_pred(field: str, test: CidrTest) -> Pred:
    network = ip_network(test.network, strict=False)

    def pred(view: EventView) -> bool:
        value = view.text(field)
        if value is None:
            return False
        for text in (value,) if isinstance(value, str) else value:
            addr = _ip(text)
            if addr is not None and addr.version == network.version and addr in network:
                return True
        return False

    return pred


def _fieldref_pred(field: str, test: FieldRefTest) -> Pred:
    other = test.other
    compare: Callable[[str, str], bool] = {
        "eq": lambda a, b: a == b,
        "prefix": lambda a, b: a.startswith(b),
        "suffix": lambda a, b: a.endswith(b),
        "contains": lambda a, b: b in a,
    }[test.mode]

    def seq(text: Text) -> tuple[str, ...]:
        if text is None:
            return ()
        return (text,) if isinstance(text, str) else text

    def pred(view: EventView) -> bool:
        mine = seq(view.lower(field))
        theirs = seq(view.lower(other))
        return any(compare(a, b) for a in mine for b in theirs)

    return pred


def _time_of(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        ns = value
    elif isinstance(value, str):
        try:
            ns = parse_timestamp(value)
        except (ValueError, TypeError):
            return None
    else:
        return None
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


_TIME_PART: dict[str, Callable[[datetime], int]] = {
    "minute": lambda d: d.minute,
    "hour": lambda d: d.hour,
    "day": lambda d: d.day,
    "week": lambda d: d.isocalendar().week,
    "month": lambda d: d.month,
    "year": lambda d: d.year,
}


def _time_part_pred(field: str, test: TimePartTest) -> Pred:
    part = _TIME_PART[test.part]
    want = test.value

    def pred(view: EventView) -> bool:
        for v in _values(view.get(field)):
            when = _time_of(v)
            if when is not None and part(when) == want:
                return True
        return False

    return pred


def leaf_predicate(leaf: Leaf) -> Pred:
    """The callable deciding one leaf test on an event."""
    test, field = leaf.test, leaf.field
    if isinstance(test, StringTest):
        return _string_pred(field, test)
    if isinstance(test, RegexTest):
        return _regex_pred(field, test)
    if field is None:
        raise PredicateError(f"{type(test).__name__} needs a field")
    if isinstance(test, NumberTest):
        return _number_pred(field, test)
    if isinstance(test, CompareTest):
        return _compare_pred(field, test)
    if isinstance(test, BoolTest):
        return _bool_pred(field, test)
    if isinstance(test, NullTest):
        return _null_pred(field)
    if isinstance(test, ExistsTest):
        return _exists_pred(field, test)
    if isinstance(test, CidrTest):
        return _cidr_pred(field, test)
    if isinstance(test, FieldRefTest):
        return _fieldref_pred(field, test)
    if isinstance(test, TimePartTest):
        return _time_part_pred(field, test)
    raise PredicateError(f"unknown test {type(test).__name__}")
