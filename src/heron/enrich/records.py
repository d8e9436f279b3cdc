"""Inventory records (assets, identities) from CSV, JSON or JSON lines, on disk or over HTTP.

JSON may be a list of objects, an object with one list of objects in it (``{"assets":
[…]}``, the shape most CMDB and directory APIs answer with), or one object a line.
Column names are lower-cased with spaces and dashes as underscores, so ``Business
Unit`` and ``business-unit`` are the same column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson

from heron.errors import HeronError

__all__ = ["RecordError", "normalize_key", "parse_records", "read_records", "split_list"]


class RecordError(HeronError):
    """An inventory input that cannot be read, or one of its records; says where."""

    def __init__(self, reason: str, *, where: str = "") -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


def normalize_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def split_list(value: Any) -> list[str]:
    """A list from a JSON list or a cell such as ``a; b``, ``a,b`` or ``a|b``."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value)
    for sep in (";", "|", ","):
        if sep in text:
            return [p.strip() for p in text.split(sep) if p.strip()]
    return [text.strip()] if text.strip() else []


def _from_json(data: bytes, where: str) -> list[dict[str, Any]]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        rows = []
        for number, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise RecordError(f"invalid JSON on line {number}: {exc}", where=where) from None
        doc = rows
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise RecordError("a JSON object must hold exactly one list of records", where=where)
        doc = lists[0]
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise RecordError("expected a list of JSON objects", where=where)
    return [{normalize_key(str(k)): v for k, v in r.items()} for r in doc]


def _from_csv(text: str, where: str) -> list[dict[str, Any]]:
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    header = next(reader, None)
    if not header:
        raise RecordError("empty CSV", where=where)
    names = [normalize_key(h) for h in header]
    rows: list[dict[str, Any]] = []
    for number, cells in enumerate(reader, 2):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            rows.append({"_error": f"line {number}: {len(cells)} cells, header {len(names)}"})
            continue
        row: dict[str, Any] = {n: c.strip() for n, c in zip(names, cells, strict=True)}
        row["_line"] = number
        rows.append(row)
    return rows


def parse_records(data: bytes, where: str) -> list[dict[str, Any]]:
    """Records from bytes; a record that could not be read holds only ``_error``."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"[", b"{"):
        return _from_json(data, where)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 text (byte {exc.start})", where=where) from None
    return _from_csv(text, where)


def read_records(location: str, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Records from a file path or an http(s) URL (a CMDB or directory API)."""
    if location.startswith(("http://", "https://")):
        import requests

        try:
            response = requests.get(location, timeout=timeout)
        except requests.RequestException as exc:
            raise RecordError(f"request failed: {exc}", where=location) from None
        if response.status_code != 200:
            raise RecordError(f"HTTP {response.status_code} {response.reason}", where=location)
        return parse_records(response.content, location)
    try:
        data = Path(location).read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror or exc}", where=location) from None
    return parse_records(data, location)
