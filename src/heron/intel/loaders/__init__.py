"""Indicator loaders, one module per format, and the choice of format from content.

``load_path`` reads a file (STIX bundle, MISP JSON, CSV or plain list, told apart by
what is in it) or a MISP feed folder; ``load_url`` fetches one over HTTP(S). Each gives
a ``LoadResult``: the good indicators and a reason for each one refused. An input that
cannot be read at all raises ``IntelFormatError`` (or ``FeedError`` for a fetch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from heron.gctune import collector_paused
from heron.intel.errors import FeedError, IntelFormatError
from heron.intel.loaders.base import LoadOptions, LoadResult, decode_text
from heron.intel.loaders.csv import looks_like_csv, parse_csv
from heron.intel.loaders.misp import looks_like_misp, parse_misp, parse_misp_feed
from heron.intel.loaders.plain import parse_plain
from heron.intel.loaders.stix import looks_like_stix, parse_stix

__all__ = [
    "FORMATS",
    "LoadOptions",
    "LoadResult",
    "detect_format",
    "load_path",
    "load_url",
    "parse_bytes",
]

FORMATS = ("auto", "stix", "misp", "csv", "plain")


def _json(data: bytes, where: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise IntelFormatError(f"invalid JSON: {exc}", where=where) from None


def detect_format(data: bytes, where: str = "") -> str:
    """``stix``, ``misp``, ``csv`` or ``plain``, from what the content looks like."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        doc = _json(data, where)
        if looks_like_stix(doc):
            return "stix"
        if looks_like_misp(doc):
            return "misp"
        raise IntelFormatError(
            "JSON that is neither a STIX 2.1 bundle nor MISP events", where=where
        )
    text = decode_text(data[:65536], where) if len(data) > 65536 else decode_text(data, where)
    return "csv" if looks_like_csv(text) else "plain"


def parse_bytes(
    data: bytes, options: LoadOptions, *, where: str, source: str, fmt: str = "auto"
) -> LoadResult:
    """Indicators from the bytes of one input, in ``fmt`` (or the format detected)."""
    if fmt not in FORMATS:
        raise IntelFormatError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})", where=where)
    with collector_paused():
        kind = detect_format(data, where) if fmt == "auto" else fmt
        if kind in ("stix", "misp"):
            doc = _json(data, where)
            if kind == "stix":
                result = parse_stix(doc, options, where=where, source=source)
            else:
                result = parse_misp(doc, options, where=where, source=source)
        elif kind == "csv":
            result = parse_csv(decode_text(data, where), options, where=where, source=source)
        else:
            result = parse_plain(decode_text(data, where), options, where=where, source=source)
        return result.finish(options)


def load_path(path: Path, options: LoadOptions, *, fmt: str = "auto") -> LoadResult:
    """Indicators from a file, or from a MISP feed folder (one with ``manifest.json``)."""
    where = str(path)
    source = options.source or (path.name if path.is_dir() else path.stem)
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise IntelFormatError("a folder must be a MISP feed (with manifest.json)", where=where)
        with collector_paused():
            return parse_misp_feed(path, options, source=source).finish(options)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IntelFormatError(f"cannot read: {exc.strerror or exc}", where=where) from None
    return parse_bytes(data, options, where=where, source=source, fmt=fmt)


def load_url(
    url: str,
    options: LoadOptions,
    *,
    fmt: str = "auto",
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Indicators from a file served over HTTP(S) (a CSV export, a STIX bundle …)."""
    import requests

    try:
        response = requests.get(url, timeout=timeout, headers=headers or {})
    except requests.Timeout:
        raise FeedError(f"no answer within {timeout:g} s", where=url) from None
    except requests.RequestException as exc:
        raise FeedError(f"request failed: {exc}", where=url) from None
    if response.status_code != 200:
        raise FeedError(f"HTTP {response.status_code} {response.reason}", where=url)
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    source = options.source or Path(name).stem or url
    return parse_bytes(response.content, options, where=url, source=source, fmt=fmt)
