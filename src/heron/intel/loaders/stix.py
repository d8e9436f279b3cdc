"""STIX 2.1 bundles: ``indicator`` objects whose pattern is a set of atomic values.

A pattern becomes indicators when it is one or more observation expressions joined by
``OR``, each holding comparisons joined by ``OR`` that test a value for equality
(``[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'evil.example']``) or a
network for containment (``[ipv4-addr:value ISSUBSET '203.0.113.0/24']``). A pattern
that needs several things to hold together (``AND``, ``FOLLOWEDBY``, qualifiers) is
not an atomic indicator and is refused with that reason.

Simple patterns are read by a small scanner here: the reference parser
(``stix2-patterns``, ANTLR) costs ~0.3 ms a pattern, which is minutes for a large
feed. It is still the judge: a pattern the scanner cannot read is handed to it, and
its syntax error is what the person sees. Objects that fail the quick property checks
are likewise handed to ``stix2`` for its verdict and message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import stix2
import stix2.exceptions
from stix2patterns.validator import run_validator

from heron.intel.errors import IndicatorError, IntelFormatError
from heron.intel.indicator import IPV4, IPV6, Indicator, make_indicator
from heron.intel.loaders.base import LoadOptions, LoadResult
from heron.model.timeutil import parse_timestamp

__all__ = ["STIX_TYPES", "looks_like_stix", "parse_stix"]

#: Object types of STIX 2.1 (SDOs, SROs, SCOs, meta objects).
STIX_TYPES = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
        "relationship",
        "sighting",
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
        "language-content",
        "marking-definition",
        "extension-definition",
        "bundle",
    }
)
#: The predefined TLP 1.0 marking definitions of STIX 2.1.
_TLP_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
_HASH_PATHS = {
    "md5": "md5",
    "sha-1": "sha1",
    "sha1": "sha1",
    "sha-256": "sha256",
    "sha256": "sha256",
}
_VALUE_PATHS = {
    "ipv4-addr:value": "ipv4",
    "ipv6-addr:value": "ipv6",
    "domain-name:value": "domain",
    "url:value": "url",
    "email-addr:value": "email",
    "email-message:from_ref.value": "email",
    "email-message:sender_ref.value": "email",
    "network-traffic:dst_ref.value": "ip",
    "network-traffic:src_ref.value": "ip",
}
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<open>\[)|(?P<close>\])|
    (?P<str>'(?:[^'\\]|\\.)*')|
    (?P<word>[A-Z]+)\b|
    (?P<op>=)|
    (?P<path>[a-z0-9_-]+:(?:[A-Za-z0-9_-]+|'(?:[^'\\]|\\.)*'|\.)+)|
    (?P<other>\S)
    )""",
    re.VERBOSE,
)


@dataclass(slots=True)
class _Comparison:
    path: str
    operator: str
    value: str


class _NotAtomic(Exception):
    """The scanner cannot read the pattern as ORed atomic comparisons."""


def _tokens(pattern: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    while at < len(pattern):
        if pattern[at:].strip() == "":
            break
        m = _TOKEN.match(pattern, at)
        if m is None or m.lastgroup is None or m.lastgroup == "other":
            raise _NotAtomic
        out.append((m.lastgroup, m.group(m.lastgroup)))
        at = m.end()
    return out


def _comparisons(pattern: str) -> list[_Comparison]:
    """The comparisons of ``[a = 'x' OR b = 'y'] OR [c ISSUBSET 'z']``; else ``_NotAtomic``."""
    tokens = _tokens(pattern)
    found: list[_Comparison] = []
    at = 0
    while True:
        if at >= len(tokens) or tokens[at][0] != "open":
            raise _NotAtomic
        at += 1
        while True:
            if at + 2 >= len(tokens) or tokens[at][0] != "path":
                raise _NotAtomic
            path, (kind, op), (vkind, literal) = tokens[at][1], tokens[at + 1], tokens[at + 2]
            if vkind != "str" or not (kind == "op" or (kind == "word" and op == "ISSUBSET")):
                raise _NotAtomic
            value = re.sub(r"\\(.)", r"\1", literal[1:-1])
            found.append(_Comparison(path, op, value))
            at += 3
            if at < len(tokens) and tokens[at] == ("word", "OR"):
                at += 1
                continue
            break
        if at >= len(tokens) or tokens[at][0] != "close":
            raise _NotAtomic
        at += 1
        if at == len(tokens):
            return found
        if tokens[at] != ("word", "OR"):
            raise _NotAtomic
        at += 1


def _explain(pattern: str) -> str:
    """Why a pattern the scanner refused is refused: the reference parser's verdict."""
    try:
        errors = run_validator(pattern, stix_version="2.1")
    except Exception as exc:  # the validator raises on some malformed input
        errors = [str(exc)]
    if errors:
        return f"invalid STIX pattern {pattern[:120]!r}: {errors[0]}"
    return (
        f"pattern {pattern[:120]!r} is valid STIX but not atomic (it needs AND, FOLLOWEDBY, "
        "a qualifier or an operator other than = and ISSUBSET); not loaded"
    )


def _type_of(path: str) -> str | None:
    simple = path.replace("'", "")
    if simple.startswith("file:hashes."):
        return _HASH_PATHS.get(simple[len("file:hashes.") :].lower())
    return _VALUE_PATHS.get(simple)


def looks_like_stix(doc: Any) -> bool:
    if isinstance(doc, dict):
        if doc.get("type") == "bundle":
            return True
        doc = doc.get("objects", [doc])
    if isinstance(doc, list):
        return any(
            isinstance(o, dict) and isinstance(o.get("id"), str) and "--" in o["id"]
            for o in doc[:20]
        )
    return False


def _objects(doc: Any, where: str) -> list[Any]:
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        objects = doc.get("objects", [])
    elif isinstance(doc, dict) and "objects" in doc:  # a TAXII envelope
        objects = doc["objects"]
    elif isinstance(doc, dict):
        objects = [doc]
    else:
        objects = doc
    if not isinstance(objects, list):
        raise IntelFormatError("a STIX bundle's 'objects' must be a list", where=where)
    return objects


def _time(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a timestamp: {value!r}")
    return parse_timestamp(value)


def _verdict(obj: dict[str, Any]) -> dict[str, Any]:
    """``stix2``'s reading of an object the quick checks doubt; its error if it refuses."""
    try:
        parsed = stix2.parse(obj, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
        raise IndicatorError(f"invalid STIX indicator: {exc}") from None
    checked: dict[str, Any] = orjson.loads(parsed.serialize())
    return checked


def _times(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int | None]]:
    """The object and its times, each parsed once; ``stix2`` judges an object they doubt."""
    names = ("created", "modified", "valid_from", "valid_until")
    required = ("id", "created", "modified", "pattern", "valid_from")
    if all(isinstance(obj.get(n), str) for n in required):
        try:
            return obj, {name: _time(obj, name) for name in names}
        except ValueError:
            pass
    checked = _verdict(obj)
    return checked, {name: _time(checked, name) for name in names}


def parse_stix(doc: Any, options: LoadOptions, *, where: str, source: str) -> LoadResult:
    """Indicators from a STIX 2.1 bundle (or envelope, or list of objects)."""
    result = LoadResult(where, "stix")
    objects = _objects(doc, where)
    names: dict[str, str] = {}  # identity id → name: the indicator's provider
    tlps = dict(_TLP_IDS)
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        if obj.get("type") == "identity" and isinstance(obj.get("name"), str):
            names[str(obj.get("id"))] = obj["name"]
        elif obj.get("type") == "marking-definition":
            tlp = _tlp_of(obj)
            if tlp:
                tlps[str(obj.get("id"))] = tlp
    for position, obj in enumerate(objects):
        at = f"object {position}"
        if not isinstance(obj, dict):
            result.refuse(f"not a STIX object: {str(obj)[:60]!r}", at)
            continue
        kind = obj.get("type")
        if not isinstance(kind, str):
            result.refuse("object without a 'type'", at)
            continue
        if isinstance(obj.get("id"), str):
            at = str(obj["id"])
        if kind != "indicator":
            if kind not in STIX_TYPES and not kind.startswith("x-"):
                result.refuse(f"unknown STIX object type {kind!r}; skipped", at)
            continue
        try:
            made = _indicator(obj, options, source, names, tlps)
        except IndicatorError as exc:
            result.refuse(exc.reason, at)
            continue
        indicators, notes, revoked = made
        for note in notes:
            result.refuse(note, at)
        (result.revoked if revoked else result.indicators).extend(indicators)
    return result


def _tlp_of(obj: dict[str, Any]) -> str | None:
    definition = obj.get("definition")
    if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
        return str(definition.get("tlp", "")).lower() or None
    name = str(obj.get("name", ""))
    if name.upper().startswith("TLP:"):
        return name[4:].lower()
    return None


def _indicator(
    obj: dict[str, Any],
    options: LoadOptions,
    source: str,
    names: dict[str, str],
    tlps: dict[str, str],
) -> tuple[list[Indicator], list[str], bool]:
    obj, times = _times(obj)
    pattern_type = obj.get("pattern_type", "stix" if "spec_version" not in obj else None)
    if pattern_type != "stix":
        raise IndicatorError(f"pattern_type {pattern_type!r} is not 'stix'; not loaded")
    pattern = obj["pattern"]
    try:
        comparisons = _comparisons(pattern)
    except _NotAtomic:
        raise IndicatorError(_explain(pattern)) from None
    valid_from, valid_until = times["valid_from"], times["valid_until"]
    if valid_until is not None and valid_from is not None and valid_until <= valid_from:
        raise IndicatorError("valid_until is not after valid_from")
    confidence = obj.get("confidence", options.confidence)
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, int)):
        raise IndicatorError(f"confidence must be an integer 0..100, got {confidence!r}")
    tags = tuple(str(t) for t in [*(obj.get("indicator_types") or []), *(obj.get("labels") or [])])
    tlp = next((tlps[r] for r in obj.get("object_marking_refs") or [] if r in tlps), None)
    description = obj.get("name") or obj.get("description")
    provider = names.get(str(obj.get("created_by_ref")), source)
    indicators: list[Indicator] = []
    notes: list[str] = []
    for comparison in comparisons:
        kind = _type_of(comparison.path)
        if kind is None:
            notes.append(f"comparison on {comparison.path} is not an atomic indicator; skipped")
            continue
        if comparison.operator == "ISSUBSET" and kind not in ("ipv4", "ipv6", "ip"):
            notes.append(f"ISSUBSET on {comparison.path}; skipped")
            continue
        try:
            ind = make_indicator(
                kind,
                comparison.value,
                provider,
                confidence=confidence,
                alert=options.alert,
                first_seen=valid_from,
                last_seen=times["modified"],
                expires=valid_until,
                tags=tags,
                tlp=tlp,
                description=str(description)[:500] if description else None,
                reference=str(obj["id"]),
            )
        except IndicatorError as exc:
            notes.append(exc.reason)
            continue
        if comparison.operator == "ISSUBSET" and ind.type not in (IPV4, IPV6):
            notes.append(f"ISSUBSET with {comparison.value!r}; skipped")
            continue
        indicators.append(ind)
    if not indicators and notes:
        raise IndicatorError("; ".join(notes))
    return indicators, notes, bool(obj.get("revoked"))
