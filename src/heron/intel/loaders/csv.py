"""CSV indicator lists: a header names the columns, each row is one indicator.

Column names are matched loosely (``value``/``indicator``/``ioc``, ``type``, ``source``,
``confidence``, ``first_seen``, ``expires``/``valid_until``, ``tags`` …), and the
abuse.ch exports are read as published: their header is the last ``#`` comment line
(``# first_seen_utc,dst_ip,dst_port,…``). A column named after a type (``ip``,
``domain``, ``url``, ``sha256`` …) holds values of that type. A bad row is refused with
its line number; the other rows load.
"""

from __future__ import annotations

import csv
from typing import Any

from heron.intel.errors import IndicatorError, IntelFormatError
from heron.intel.indicator import make_indicator
from heron.intel.loaders.base import LoadOptions, LoadResult, parse_time_value

__all__ = ["looks_like_csv", "parse_csv"]

_ROLES: dict[str, str] = {
    "value": "value",
    "indicator": "value",
    "ioc": "value",
    "ioc_value": "value",
    "observable": "value",
    "type": "type",
    "indicator_type": "type",
    "ioc_type": "type",
    "kind": "type",
    "source": "source",
    "provider": "source",
    "feed": "source",
    "confidence": "confidence",
    "confidence_level": "confidence",
    "score": "confidence",
    "severity": "severity",
    "level": "severity",
    "alert": "alert",
    "to_ids": "alert",
    "first_seen": "first_seen",
    "first_seen_utc": "first_seen",
    "firstseen": "first_seen",
    "dateadded": "first_seen",
    "date_added": "first_seen",
    "last_seen": "last_seen",
    "last_seen_utc": "last_seen",
    "lastseen": "last_seen",
    "last_online": "last_seen",
    "expires": "expires",
    "expiry": "expires",
    "expiration": "expires",
    "valid_until": "expires",
    "tags": "tags",
    "tag": "tags",
    "labels": "tags",
    "tlp": "tlp",
    "description": "description",
    "comment": "description",
    "threat": "description",
    "malware": "description",
    "malware_printable": "description",
    "reference": "reference",
    "urlhaus_link": "reference",
    "link": "reference",
}
#: Columns whose name is the type of the values they hold.
_TYPED_COLUMNS: dict[str, str] = {
    "ip": "ip",
    "ip_address": "ip",
    "dst_ip": "ip",
    "src_ip": "ip",
    "ipv4": "ipv4",
    "ipv6": "ipv6",
    "cidr": "cidr",
    "network": "cidr",
    "domain": "domain",
    "hostname": "domain",
    "url": "url",
    "md5": "md5",
    "md5_hash": "md5",
    "sha1": "sha1",
    "sha1_hash": "sha1",
    "sha256": "sha256",
    "sha256_hash": "sha256",
    "email": "email",
}
#: ThreatFox's type names.
_TYPE_NAMES = {"ip:port": "ip", "md5_hash": "md5", "sha1_hash": "sha1", "sha256_hash": "sha256"}
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f", ""})


def _norm(name: str) -> str:
    return name.strip().strip('"').strip().lower().replace(" ", "_").replace("-", "_")


def _header(cells: list[str]) -> dict[str, Any] | None:
    """Column positions by role, or ``None`` if these cells are no header."""
    roles: dict[str, int] = {}
    typed: list[tuple[int, str]] = []
    for at, cell in enumerate(cells):
        name = _norm(cell)
        if name in _ROLES and _ROLES[name] not in roles:
            roles[_ROLES[name]] = at
        elif name in _TYPED_COLUMNS:
            typed.append((at, _TYPED_COLUMNS[name]))
    if "value" not in roles and not typed:
        return None
    return {"roles": roles, "typed": typed, "width": len(cells)}


def looks_like_csv(text: str) -> bool:
    """Whether the text starts with a header of indicator columns."""
    for line in text.splitlines()[:50]:
        stripped = line.strip()
        if not stripped:
            continue
        candidate = stripped.lstrip("#").strip()
        if "," in candidate or ";" in candidate or "\t" in candidate:
            dialect = _sniff(candidate)
            cells = next(csv.reader([candidate], dialect), [])
            if _header(cells) is not None:
                return True
        if not stripped.startswith("#"):
            return False
    return False


def _sniff(line: str) -> type[csv.Dialect]:
    """A dialect whose delimiter is the most frequent of ``, ; tab |`` in the header line."""
    delimiter = max(",;\t|", key=line.count)

    class _Dialect(csv.excel):
        pass

    _Dialect.delimiter = delimiter
    _Dialect.skipinitialspace = True  # ThreatFox writes '", "' between cells
    return _Dialect


def _flag(text: str, default: bool) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return default if value == "" else False
    raise ValueError(f"not a yes/no value: {text!r}")


def _split_tags(text: str) -> tuple[str, ...]:
    for sep in (";", "|", ","):
        if sep in text:
            return tuple(t.strip() for t in text.split(sep) if t.strip())
    return (text.strip(),) if text.strip() else ()


def parse_csv(text: str, options: LoadOptions, *, where: str, source: str) -> LoadResult:
    """Indicators from CSV text with a header row (possibly a ``#`` comment line)."""
    result = LoadResult(where, "csv")
    lines = text.splitlines()
    header: dict[str, Any] | None = None
    start = 0
    dialect: type[csv.Dialect] = csv.excel
    for at, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        candidate = stripped.lstrip("#").strip()
        dialect = _sniff(candidate)
        found = _header(next(csv.reader([candidate], dialect), []))
        if found is not None:
            header, start = found, at + 1
            if not stripped.startswith("#"):
                break
            continue  # a later comment line may be the real header
        if not stripped.startswith("#"):
            break
    if header is None:
        raise IntelFormatError("no header row naming an indicator column", where=where)
    roles: dict[str, int] = header["roles"]
    typed: list[tuple[int, str]] = header["typed"]
    rows = csv.reader((ln for ln in lines[start:]), dialect)
    number = start
    for cells in rows:
        number += 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if cells[0].lstrip().startswith("#"):
            continue
        place = f"{number}"
        if len(cells) < header["width"]:
            result.refuse(f"row has {len(cells)} columns, the header {header['width']}", place)
            continue
        try:
            common = _attributes(cells, roles, options, source)
        except (ValueError, IndicatorError) as exc:
            result.refuse(str(getattr(exc, "reason", exc)), place)
            continue
        pairs: list[tuple[str | None, str]] = []
        if "value" in roles:
            hint = cells[roles["type"]].strip() if "type" in roles else None
            pairs.append(
                (_TYPE_NAMES.get((hint or "").lower(), hint) or None, cells[roles["value"]])
            )
        pairs.extend((kind, cells[col]) for col, kind in typed if cells[col].strip())
        if not pairs:
            result.refuse("no indicator value in the row", place)
            continue
        for hint, value in pairs:
            if hint == "ip" and value.count(":") == 1 and "." in value:
                value = value.rsplit(":", 1)[0]  # ip:port
            try:
                result.indicators.append(make_indicator(hint, value, **common))
            except IndicatorError as exc:
                result.refuse(exc.reason, place)
    return result


def _attributes(
    cells: list[str], roles: dict[str, int], options: LoadOptions, source: str
) -> dict[str, Any]:
    def cell(role: str) -> str:
        return cells[roles[role]].strip() if role in roles else ""

    confidence: int | None = options.confidence
    if cell("confidence"):
        try:
            confidence = int(float(cell("confidence")))
        except ValueError:
            raise ValueError(f"confidence is not a number: {cell('confidence')!r}") from None
    times: dict[str, int | None] = {}
    for role in ("first_seen", "last_seen", "expires"):
        try:
            times[role] = parse_time_value(cell(role))
        except ValueError:
            raise ValueError(f"{role} is not a time: {cell(role)!r}") from None
    return {
        "source": cell("source") or source,
        "confidence": confidence,
        "severity": cell("severity") or None,
        "alert": _flag(cell("alert"), options.alert),
        "first_seen": times["first_seen"],
        "last_seen": times["last_seen"],
        "expires": times["expires"],
        "tags": _split_tags(cell("tags")),
        "tlp": cell("tlp") or None,
        "description": cell("description") or None,
        "reference": cell("reference") or None,
    }
