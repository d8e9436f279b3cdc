"""What every HTTP source does the same way: bounded bodies, gzip, credentials.

A body is read with a ceiling (``max_body_bytes``): a larger ``Content-Length`` is
refused before reading, a body that grows past it while streaming is cut off, and a
gzip body is inflated with the same ceiling on its inflated size (a small bomb
cannot expand into memory). Each refusal is a ``BodyError`` with the HTTP status the
source answers with, counted per source and reason.
"""

from __future__ import annotations

import zlib

from starlette.requests import Request

from heron.metrics import SourceMetrics
from heron.sources.tokens import IngestTokens, credential_candidates

__all__ = ["BodyError", "authorized", "read_body"]


class BodyError(Exception):
    """A request body that cannot be taken; ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.kind = kind  # the metrics label: too_large, bad_gzip, bad_encoding


async def read_body(request: Request, max_bytes: int, metrics: SourceMetrics) -> bytes:
    """The request body, inflated when gzip/deflate-encoded, at most ``max_bytes`` either way."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyError(
            413, f"request body larger than the limit of {max_bytes} bytes", "too_large"
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise BodyError(415, f"unsupported content encoding {encoding!r}", "bad_encoding")
    parts: list[bytes] = []
    size = 0
    async for piece in request.stream():
        size += len(piece)
        if size > max_bytes:
            raise BodyError(
                413, f"request body larger than the limit of {max_bytes} bytes", "too_large"
            )
        parts.append(piece)
    metrics.bytes += size
    body = b"".join(parts)
    if encoding in ("gzip", "x-gzip", "deflate") and body:
        body = _inflate(body, encoding, max_bytes)
    return body


def _inflate(body: bytes, encoding: str, max_bytes: int) -> bytes:
    # wbits 47 = zlib or gzip header, auto-detected; -15 = raw deflate.
    candidates = (47,) if encoding != "deflate" else (15, -15)
    last: zlib.error | None = None
    for wbits in candidates:
        parts: list[bytes] = []
        size = 0
        rest = body
        try:
            # Concatenated gzip members (allowed by RFC 1952) are inflated one by one.
            while rest:
                inflater = zlib.decompressobj(wbits)
                out = inflater.decompress(rest, max_bytes + 1 - size)
                size += len(out)
                if size > max_bytes or inflater.unconsumed_tail:
                    raise BodyError(
                        413,
                        f"inflated body larger than the limit of {max_bytes} bytes",
                        "too_large",
                    )
                if not inflater.eof:
                    raise BodyError(400, f"{encoding} body is truncated", "bad_gzip")
                parts.append(out)
                rest = inflater.unused_data
                if wbits != 47 or not rest.startswith(b"\x1f\x8b"):
                    break
        except zlib.error as exc:
            last = exc
            continue
        return b"".join(parts)
    raise BodyError(400, f"invalid {encoding} body: {last}", "bad_gzip")


def authorized(request: Request, tokens: IngestTokens, schemes: tuple[str, ...]) -> bool:
    """Whether the request's ``Authorization`` header carries an accepted token.

    Accepted: an ingest token of the configuration, or an API token with the ``ingest``
    scope when the app holds an auth store (``app.state.auth``, see ``heron.auth``).
    """
    candidates = credential_candidates(request.headers.get("authorization"), schemes)
    if tokens.accepts(candidates):
        return True
    auth = getattr(request.app.state, "auth", None)
    return auth is not None and any(auth.accepts_ingest(c) for c in candidates)
