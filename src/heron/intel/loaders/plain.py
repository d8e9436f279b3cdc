"""Plain lists: one indicator a line, its type told by its form.

``#`` starts a comment: at the start of a line, or after a value and a space. Hosts-file blocklists
(``0.0.0.0 evil.example``) give the name, not the sink address.
"""

from __future__ import annotations

from heron.intel.errors import IndicatorError
from heron.intel.indicator import classify
from heron.intel.loaders.base import BulkIndicators, LoadOptions, LoadResult

__all__ = ["parse_plain"]

_SINKS = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1"})


def parse_plain(text: str, options: LoadOptions, *, where: str, source: str) -> LoadResult:
    """Indicators from a plain list; each bad line is refused with its line number."""
    result = LoadResult(where, "plain")
    bulk = BulkIndicators(source, options.confidence, options.alert)
    result.bulk.append(bulk)
    add_type, add_value = bulk.types.append, bulk.values.append
    for number, line in enumerate(text.splitlines(), 1):
        value = line.strip()
        if not value or value[0] == "#":
            continue
        if "#" in value:  # a trailing comment; a '#' inside a URL has no space before it
            value = value.replace("\t#", " #").split(" #", 1)[0].strip()
        if " " in value or "\t" in value:
            words = value.split()
            if len(words) == 2 and words[0] in _SINKS:
                value = words[1]
            else:
                result.refuse(
                    f"more than one value on the line: {line.strip()[:80]!r}", str(number)
                )
                continue
        try:
            kind, canonical = classify(value)
        except IndicatorError as exc:
            result.refuse(exc.reason, str(number))
            continue
        add_type(kind)
        add_value(canonical)
    return result
