"""Ingest tokens: what HTTP sources accept as credentials, compared in constant time.

Tokens come from the configuration (``tokens:``, or a source's own list), else from
``HERON_INGEST_TOKEN``, else one is generated on first start and kept in
``<data-dir>/secrets/ingest-token`` (mode 0600). Tokens are never logged; a failed
check says only "unauthorized".
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["IngestTokens", "credential_candidates", "ensure_ingest_token"]

TOKEN_FILE = Path("secrets") / "ingest-token"


class IngestTokens:
    """A set of accepted tokens."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = [t.encode("utf-8") for t in tokens if t]

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def accepts(self, candidates: Iterable[str]) -> bool:
        """Whether any candidate equals any token; every comparison runs, whatever matches."""
        ok = False
        for candidate in candidates:
            given = candidate.encode("utf-8", errors="surrogateescape")
            for token in self._tokens:
                ok |= hmac.compare_digest(given, token)
        return ok


def credential_candidates(authorization: str | None, schemes: Iterable[str]) -> list[str]:
    """The secrets an ``Authorization`` header offers under the allowed schemes.

    ``Splunk T``, ``Bearer T``: T. ``Basic base64(user:T)``: T (the password).
    ``ApiKey base64(id:T)`` or ``ApiKey T``: both T and the whole text (Elasticsearch
    clients send the id and key joined by a colon, base64-encoded).
    """
    if not authorization:
        return []
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    allowed = {s.lower() for s in schemes}
    if not value or scheme not in allowed:
        return []
    if scheme in ("splunk", "bearer"):
        return [value]
    decoded = _b64(value)
    if scheme == "basic":
        if decoded is None or ":" not in decoded:
            return []
        return [decoded.partition(":")[2]]
    if scheme == "apikey":
        found = [value]
        if decoded is not None:
            found.append(decoded)
            if ":" in decoded:
                found.append(decoded.partition(":")[2])
        return found
    return []


def _b64(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def ensure_ingest_token(data_dir: Path) -> tuple[str, bool]:
    """The data directory's generated token, and whether it was created just now."""
    path = data_dir / TOKEN_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    token = secrets.token_urlsafe(32)
    # Created with 0600 from the start: the token is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token, True
