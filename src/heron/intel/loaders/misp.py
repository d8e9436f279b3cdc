"""MISP events (``{"Event": …}``, lists of them, REST search results) and MISP feeds.

A MISP feed is a folder (or its URL) with ``manifest.json`` and one ``<uuid>.json`` per
event. Attributes of the types Heron matches become indicators; ``to_ids`` says whether
a match raises an alert; the event's threat level gives the severity; ``tlp:*`` tags
give the TLP. Attributes of other types (``text``, ``regkey``, ``yara`` …) are context,
not indicators: they are counted in one note per event rather than refused one by one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from heron.intel.errors import IndicatorError, IntelFormatError
from heron.intel.indicator import make_indicator
from heron.intel.loaders.base import LoadOptions, LoadResult, parse_time_value

__all__ = ["looks_like_misp", "parse_misp", "parse_misp_feed"]

#: MISP attribute type → (type hint, which part of a ``a|b`` value).
_TYPES: dict[str, tuple[str, int]] = {
    "ip-src": ("ip", 0),
    "ip-dst": ("ip", 0),
    "ip-src|port": ("ip", 0),
    "ip-dst|port": ("ip", 0),
    "domain": ("domain", 0),
    "hostname": ("domain", 0),
    "hostname|port": ("domain", 0),
    "domain|ip": ("domain", 0),
    "url": ("url", 0),
    "md5": ("md5", 0),
    "sha1": ("sha1", 0),
    "sha256": ("sha256", 0),
    "filename|md5": ("md5", 1),
    "filename|sha1": ("sha1", 1),
    "filename|sha256": ("sha256", 1),
    "email": ("email", 0),
    "email-src": ("email", 0),
    "email-dst": ("email", 0),
}
# threat_level_id: 1 high, 2 medium, 3 low, 4 undefined.
_SEVERITY = {"1": "high", "2": "medium", "3": "low"}


def looks_like_misp(doc: Any) -> bool:
    if isinstance(doc, dict):
        return "Event" in doc or (
            isinstance(doc.get("response"), list) and looks_like_misp(doc["response"])
        )
    if isinstance(doc, list) and doc:
        return isinstance(doc[0], dict) and "Event" in doc[0]
    return False


def _events(doc: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("response"), list):
        doc = doc["response"]
    items = doc if isinstance(doc, list) else [doc]
    events = []
    for item in items:
        event = item.get("Event") if isinstance(item, dict) else None
        if not isinstance(event, dict):
            raise IntelFormatError("expected MISP events ({'Event': {...}})", where=where)
        events.append(event)
    return events


def _tag_names(holder: dict[str, Any]) -> list[str]:
    tags = holder.get("Tag") or []
    return [str(t["name"]) for t in tags if isinstance(t, dict) and t.get("name")]


def parse_misp(doc: Any, options: LoadOptions, *, where: str, source: str) -> LoadResult:
    """Indicators from MISP event JSON."""
    result = LoadResult(where, "misp")
    for event in _events(doc, where):
        _event(event, options, source, result)
    return result


def _event(event: dict[str, Any], options: LoadOptions, source: str, result: LoadResult) -> None:
    uuid = str(event.get("uuid") or event.get("id") or "?")
    org = event.get("Orgc") if isinstance(event.get("Orgc"), dict) else {}
    provider = options.source or (org or {}).get("name") or source
    event_tags = _tag_names(event)
    severity = _SEVERITY.get(str(event.get("threat_level_id", "")))
    attributes: list[tuple[dict[str, Any], str]] = []
    for attr in event.get("Attribute") or []:
        attributes.append((attr, f"event {uuid}"))
    for obj in event.get("Object") or []:
        if isinstance(obj, dict):
            for attr in obj.get("Attribute") or []:
                attributes.append((attr, f"event {uuid} object {obj.get('name', '?')}"))
    other: Counter[str] = Counter()
    for attr, at in attributes:
        if not isinstance(attr, dict):
            result.refuse("attribute is not an object", at)
            continue
        if attr.get("deleted") in (True, "1", 1):
            continue
        kind = str(attr.get("type", ""))
        mapped = _TYPES.get(kind)
        if mapped is None:
            other[kind] += 1
            continue
        hint, part = mapped
        raw = str(attr.get("value", ""))
        pieces = raw.split("|")
        value = pieces[part] if part < len(pieces) else ""
        place = f"{at} attribute {attr.get('uuid') or attr.get('id') or '?'}"
        try:
            tags = tuple(dict.fromkeys([*event_tags, *_tag_names(attr)]))
            tlp = next((t[4:] for t in tags if t.lower().startswith("tlp:")), None)
            last = parse_time_value(attr.get("last_seen")) or parse_time_value(
                attr.get("timestamp")
            )
            result.indicators.append(
                make_indicator(
                    hint,
                    value,
                    provider,
                    confidence=options.confidence,
                    severity=severity,
                    alert=_to_ids(attr.get("to_ids"), options.alert),
                    first_seen=parse_time_value(attr.get("first_seen")),
                    last_seen=last,
                    tags=tuple(t for t in tags if not t.lower().startswith("tlp:")),
                    tlp=tlp,
                    description=str(attr.get("comment") or event.get("info") or "")[:500] or None,
                    reference=f"misp:{uuid}",
                )
            )
        except IndicatorError as exc:
            result.refuse(f"{kind} attribute: {exc.reason}", place)
        except ValueError as exc:
            result.refuse(f"{kind} attribute: {exc}", place)
        if kind == "domain|ip" and len(pieces) == 2:
            try:
                result.indicators.append(
                    make_indicator(
                        "ip",
                        pieces[1],
                        provider,
                        confidence=options.confidence,
                        severity=severity,
                        alert=_to_ids(attr.get("to_ids"), options.alert),
                        reference=f"misp:{uuid}",
                    )
                )
            except IndicatorError as exc:
                result.refuse(f"{kind} attribute: {exc.reason}", place)
    if other:
        listed = ", ".join(f"{k} ×{n}" for k, n in other.most_common(5))
        result.refuse(
            f"{sum(other.values())} attributes of types Heron does not match skipped ({listed})",
            f"event {uuid}",
        )


def _to_ids(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value in (True, 1, "1", "true", "True")


def parse_misp_feed(folder: Path, options: LoadOptions, *, source: str) -> LoadResult:
    """Every event a MISP feed folder's ``manifest.json`` lists."""
    where = str(folder)
    manifest_path = folder / "manifest.json"
    try:
        manifest = orjson.loads(manifest_path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise IntelFormatError(f"cannot read the MISP feed manifest: {exc}", where=where) from None
    if not isinstance(manifest, dict):
        raise IntelFormatError("manifest.json is not an object of event UUIDs", where=where)
    result = LoadResult(where, "misp-feed")
    for uuid in manifest:
        path = folder / f"{uuid}.json"
        try:
            doc = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            # A whole event file is unreadable: the feed is inconsistent, load nothing.
            raise IntelFormatError(f"cannot read event {uuid}: {exc}", where=str(path)) from None
        result.extend(parse_misp(doc, options, where=str(path), source=source))
    return result
