"""Sigma values, after pySigma applied their modifiers, as Heron value tests.

pySigma does the modifier arithmetic (``contains`` adds wildcards, ``windash`` and
``base64offset`` expand into alternatives, ``utf16``/``wide`` re-encode, ``re`` and
``cidr`` validate); this module turns each resulting typed value into an
``heron.detect.sigma.ir`` test with exact Sigma semantics: strings become wildcard
token sequences, lowercased unless ``cased``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from ipaddress import ip_network

from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)

from heron.detect.sigma.ir import (
    QMARK,
    STAR,
    BoolTest,
    CidrTest,
    CompareTest,
    ExistsTest,
    FieldRefTest,
    NullTest,
    NumberTest,
    RegexTest,
    StringTest,
    Test,
    TimePartTest,
)

__all__ = ["ValueCompileError", "value_tests"]

# The Sigma specification names UTF-16LE encoding both ``wide`` and ``utf16le``; pySigma
# 2.0 only knows ``wide``. Register the spec's alias so rules using it parse.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)

_COMPARE_OPS = {
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
    CompareOperators.NEQ: "neq",
}
_REGEX_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_TIME_PARTS = {
    TimestampPart.MINUTE: "minute",
    TimestampPart.HOUR: "hour",
    TimestampPart.DAY: "day",
    TimestampPart.WEEK: "week",
    TimestampPart.MONTH: "month",
    TimestampPart.YEAR: "year",
}


class ValueCompileError(Exception):
    """A detection value Heron cannot evaluate; the message says which and why."""


def _tokens(
    parts: Sequence[str | SpecialChars | Placeholder], cased: bool
) -> tuple[str | int, ...]:
    """Literal runs merged, ``**`` collapsed, literals lowercased unless cased."""
    out: list[str | int] = []
    for part in parts:
        if isinstance(part, str):
            text = part if cased else part.lower()
            if not text:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + text
            else:
                out.append(text)
        elif part is SpecialChars.WILDCARD_MULTI:
            if not (out and out[-1] == STAR):
                out.append(STAR)
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append(QMARK)
        else:  # Placeholder: resolved before this point
            raise ValueCompileError(f"unresolved placeholder %{part.name}%")
    return tuple(out)


def _expand_placeholders(
    value: SigmaString, placeholders: Mapping[str, Sequence[str]]
) -> list[SigmaString]:
    """``|expand`` values with their ``%name%`` placeholders replaced by configured values."""
    missing = sorted(
        {
            part.name
            for part in value.s
            if isinstance(part, Placeholder) and part.name not in placeholders
        }
    )
    if missing:
        names = ", ".join(f"%{name}%" for name in missing)
        raise ValueCompileError(
            f"placeholder {names} has no values: the expand modifier needs them (set "
            f"them with 'heron rules placeholders set {missing[0]} VALUE…')"
        )

    def callback(p: Placeholder) -> Iterator[str | SpecialChars | Placeholder | SigmaString]:
        for text in placeholders[p.name]:
            yield SigmaString(text)

    return value.replace_placeholders(callback)


def _string_test(value: SigmaString, keyword: bool) -> StringTest:
    cased = isinstance(value, SigmaCasedString)
    tokens = _tokens(value.s, cased)
    if keyword:
        # Keyword searches match anywhere in a value: implicit ``*`` at both ends.
        if not tokens or tokens[0] != STAR:
            tokens = (STAR, *tokens)
        if tokens[-1] != STAR:
            tokens = (*tokens, STAR)
    return StringTest(tokens, cased)


def value_tests(
    value: SigmaType,
    placeholders: Mapping[str, Sequence[str]],
    *,
    keyword: bool = False,
) -> list[Test]:
    """The tests one Sigma value stands for; more than one means any of them (OR)."""
    if isinstance(value, SigmaExpansion):
        out: list[Test] = []
        for item in value.values:
            out.extend(value_tests(item, placeholders, keyword=keyword))
        return out
    if isinstance(value, SigmaString):
        if value.contains_placeholder():
            return [
                _string_test(expanded, keyword)
                for expanded in _expand_placeholders(value, placeholders)
            ]
        return [_string_test(value, keyword)]
    if isinstance(value, SigmaTimestampPart):
        if keyword:
            raise ValueCompileError("timestamp modifiers need a field")
        return [TimePartTest(_TIME_PARTS[value.timestamp_part], int(value.number))]
    if isinstance(value, SigmaBool):  # before numbers: bool is an int in Python
        return [BoolTest(bool(value.boolean))]
    if isinstance(value, SigmaNumber):
        if keyword:
            # A number as keyword is searched as text, like any keyword.
            return [StringTest((STAR, str(value.number), STAR))]
        return [NumberTest(value.number)]
    if isinstance(value, SigmaNull):
        if keyword:
            raise ValueCompileError("null value needs a field")
        return [NullTest()]
    if isinstance(value, SigmaExists):
        return [ExistsTest(bool(value.exists))]
    if isinstance(value, SigmaRegularExpression):
        if value.contains_placeholder():
            raise ValueCompileError("placeholders in regular expressions are not supported")
        flags = "".join(sorted(_REGEX_FLAGS[f] for f in value.flags))
        return [RegexTest(value.regexp.to_plain(), flags)]
    if isinstance(value, SigmaCIDRExpression):
        if keyword:
            raise ValueCompileError("cidr needs a field")
        return [CidrTest(str(ip_network(value.cidr, strict=False)))]
    if isinstance(value, SigmaCompareExpression):
        if keyword:
            raise ValueCompileError("numeric comparison needs a field")
        return [CompareTest(_COMPARE_OPS[value.op], value.number.number)]
    if isinstance(value, SigmaFieldReference):
        if keyword:
            raise ValueCompileError("fieldref needs a field")
        mode = {
            (False, False): "eq",
            (True, False): "prefix",
            (False, True): "suffix",
            (True, True): "contains",
        }[(value.starts_with, value.ends_with)]
        return [FieldRefTest(value.field, mode)]
    raise ValueCompileError(f"unsupported value type {type(value).__name__}: {value!r}")
