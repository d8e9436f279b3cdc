"""Who is asking: a user or an API token, and the scopes that follow from its role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LOCAL_SCOPE", "ROLES", "SCOPES", "Principal", "expand_scopes"]

#: Every role a user may hold, and every scope a token may carry.
SCOPES = ("ingest", "read", "analyst", "admin")
#: Held only by callers on the node's control socket (its OS user, or root): routes
#: that trust the caller as the machine's owner. No user or token can be given it.
LOCAL_SCOPE = "local"
ROLES = SCOPES

# admin ⊇ analyst ⊇ read; ingest stands apart (admin may ingest too).
_IMPLIES: dict[str, frozenset[str]] = {
    "ingest": frozenset({"ingest"}),
    "read": frozenset({"read"}),
    "analyst": frozenset({"analyst", "read"}),
    "admin": frozenset({"admin", "analyst", "read", "ingest"}),
}


def expand_scopes(
    granted: frozenset[str] | set[str] | tuple[str, ...] | list[str],
) -> frozenset[str]:
    """Every scope implied by ``granted`` (unknown names are dropped)."""
    out: set[str] = set()
    for scope in granted:
        out |= _IMPLIES.get(scope, frozenset())
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    name: str  # user name, token name, or OS user (a caller on the control socket)
    kind: Literal["user", "token", "local"]
    scopes: frozenset[str]  # expanded: an analyst has {"read", "analyst"}
    session_id: str | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def actor(self) -> str:
        """The name the audit log records: ``alice``, ``token:ci-export``, ``local:root``."""
        return self.name if self.kind == "user" else f"{self.kind}:{self.name}"
