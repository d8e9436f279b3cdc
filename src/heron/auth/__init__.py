"""Authentication: users, sessions, API tokens with scopes, and who a request is."""

from __future__ import annotations

from heron.auth.errors import AccountError, AuthError, LoginFailed, TooManyAttempts
from heron.auth.principal import ROLES, SCOPES, Principal, expand_scopes
from heron.auth.store import AuthStore, RateLimits, Session, TokenInfo, UserInfo

__all__ = [
    "ROLES",
    "SCOPES",
    "AccountError",
    "AuthError",
    "AuthStore",
    "LoginFailed",
    "Principal",
    "RateLimits",
    "Session",
    "TokenInfo",
    "TooManyAttempts",
    "UserInfo",
    "expand_scopes",
]
